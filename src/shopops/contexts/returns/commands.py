from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReturnLineRequest:
    order_line_id: int
    quantity: int
    reason: str
    note: str | None = None


@dataclass(frozen=True)
class RequestReturn:
    order_id: int
    lines: tuple[ReturnLineRequest, ...]
    refund_only: bool = False
    note: str | None = None


@dataclass(frozen=True)
class LineReceipt:
    return_line_id: int
    disposition: str  # restock | write_off
    warehouse_id: int | None = None


@dataclass(frozen=True)
class ReceiveReturn:
    return_id: int
    lines: tuple[LineReceipt, ...]
