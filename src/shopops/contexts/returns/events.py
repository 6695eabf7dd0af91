from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.kernel.events import Event


@dataclass(frozen=True)
class ReturnUpdated(Event):
    """Every status change of a return request (requested, approved, ... refunded)."""

    event_type = "return.updated"
    aggregate = "return"
    id_field = "return_id"

    return_id: int
    order_id: int
    status: str
    previous_status: str | None
    refund_only: bool
    refund_id: int | None
    refund_minor: int
    lines: list[dict[str, Any]]
