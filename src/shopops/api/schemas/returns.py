"""Return request bodies. Money is a decimal string in the order's currency."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shopops.contexts import returns
from shopops.kernel.money import to_major

_REASONS = ", ".join(f"`{r}`" for r in returns.ReturnReason)


class ReturnLineCreate(BaseModel):
    order_line_id: int
    quantity: int = Field(description="At most what shipped minus what other returns claim.")
    reason: str = Field(description=f"One of {_REASONS}.", examples=["damaged"])
    note: str | None = Field(default=None, max_length=2000)


class ReturnCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": 42,
                    "lines": [{"order_line_id": 7, "quantity": 1, "reason": "size_fit"}],
                    "refund_only": False,
                    "note": "customer will drop it at the post office",
                }
            ]
        }
    )

    order_id: int
    lines: list[ReturnLineCreate] = Field(max_length=500)
    refund_only: bool = Field(
        default=False, description="Refund without the goods coming back (approve -> refund)."
    )
    note: str | None = Field(default=None, max_length=2000)


class ReturnApprove(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class ReturnReject(BaseModel):
    reason: str = Field(max_length=2000)


class LineReceiptCreate(BaseModel):
    return_line_id: int
    disposition: str = Field(description="`restock` or `write_off`.", examples=["restock"])
    warehouse_id: int | None = Field(default=None, description="Required to restock.")


class ReturnReceive(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"lines": [{"return_line_id": 3, "disposition": "restock", "warehouse_id": 1}]}
            ]
        }
    )

    lines: list[LineReceiptCreate] = Field(max_length=500)


class ReturnLineRead(BaseModel):
    id: int
    order_line_id: int
    sku: str
    quantity: int
    reason: str
    note: str | None
    disposition: str | None
    warehouse_id: int | None
    refund: str


class ReturnRead(BaseModel):
    id: int
    order_id: int
    status: str = Field(description="requested, approved, rejected, received or refunded")
    refund_only: bool
    note: str | None
    decision_note: str | None
    currency: str
    refund: str
    refund_id: int | None
    requested_by: str
    requested_at: datetime
    decided_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None
    lines: list[ReturnLineRead]

    @classmethod
    def of(cls, found: returns.ReturnDetail) -> ReturnRead:
        r, c = found.request, found.request.currency
        return cls(
            id=r.id,
            order_id=r.order_id,
            status=r.status,
            refund_only=r.refund_only,
            note=r.note,
            decision_note=r.decision_note,
            currency=c,
            refund=str(to_major(r.refund_minor, c)),
            refund_id=r.refund_id,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            decided_at=r.decided_at,
            received_at=r.received_at,
            refunded_at=r.refunded_at,
            lines=[
                ReturnLineRead(
                    id=line.id,
                    order_line_id=line.order_line_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    reason=line.reason,
                    note=line.note,
                    disposition=line.disposition,
                    warehouse_id=line.warehouse_id,
                    refund=str(to_major(line.refund_minor, c)),
                )
                for line in found.lines
            ],
        )
