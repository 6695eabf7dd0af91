from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StartPayment:
    order_id: int
    amount_minor: int
    currency: str
    method: str
    gateway: str
    idempotency_key: str


@dataclass(frozen=True)
class RequestRefund:
    payment_id: int
    order_id: int
    amount_minor: int
    reason: str
    idempotency_key: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    return_id: int | None = None
    shipping_minor: int = 0  # of ``amount_minor``: the shipping fee given back
