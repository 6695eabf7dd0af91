"""Inventory request and response bodies.

Quantities are whole units. Their range (1 to 1,000,000) is checked by the inventory
context so that one response lists every field error together with unknown SKUs.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from shopops.api.pagination import Page
from shopops.contexts import inventory

_QUANTITY: JsonDict = {"minimum": 1, "maximum": inventory.MAX_QUANTITY}
_SKU = Field(min_length=1, max_length=64, examples=["TEE-S"])
_WAREHOUSE_EXAMPLE: dict[str, Any] = {
    "code": "SH1",
    "name": "Shanghai Pudong",
    "region": "CN-SH",
    "priority": 10,
    "is_active": True,
}


def _unique_skus(lines: list[Any]) -> list[Any]:
    repeated = sorted(sku for sku, n in Counter(line.sku for line in lines).items() if n > 1)
    if repeated:
        raise ValueError(f"each SKU may appear once; repeated: {', '.join(repeated)}")
    return lines


# --- warehouses ------------------------------------------------------------------------


class WarehouseCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WAREHOUSE_EXAMPLE]})

    code: str = Field(max_length=32, description="1-32 letters, digits, '-' or '_'; upper-cased.")
    name: str = Field(max_length=200)
    region: str = Field(max_length=32, description="Used to ship from near the customer.")
    priority: int = Field(default=100, description="Lower ships first.")
    is_active: bool = True


class WarehouseUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"priority": 5}, {"is_active": False}]}
    )

    name: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=32)
    priority: int | None = None
    is_active: bool | None = None


class WarehouseRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    **_WAREHOUSE_EXAMPLE,
                    "created_at": "2026-03-01T08:00:00Z",
                    "updated_at": "2026-03-01T08:00:00Z",
                }
            ]
        },
    )

    id: int
    code: str
    name: str
    region: str
    priority: int
    is_active: bool
    created_at: datetime
    updated_at: datetime


class WarehousePage(Page[WarehouseRead]):
    pass


# --- stock levels ----------------------------------------------------------------------


class StockRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "sku": "TEE-S",
                    "warehouse_id": 1,
                    "on_hand": 40,
                    "reserved": 6,
                    "available": 34,
                    "threshold": 10,
                    "updated_at": "2026-03-01T08:00:00Z",
                }
            ]
        }
    )

    id: int
    sku: str
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand - reserved")
    threshold: int = Field(description="The SKU's low-stock alert level (0 when unset).")
    updated_at: datetime

    @classmethod
    def of(cls, level: inventory.StockLevel, threshold: int) -> StockRead:
        return cls(
            id=level.id,
            sku=level.sku,
            warehouse_id=level.warehouse_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            threshold=threshold,
            updated_at=level.updated_at,
        )


class StockPage(Page[StockRead]):
    pass


class ReceiptCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"warehouse_id": 1, "sku": "TEE-S", "quantity": 120, "reference": "PO-77"}]
        }
    )

    warehouse_id: int
    sku: str = _SKU
    quantity: int = Field(json_schema_extra=_QUANTITY)
    reason: str = Field(default="purchase receipt", min_length=1, max_length=200)
    reference: str | None = Field(default=None, max_length=100, examples=["PO-77"])


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"warehouse_id": 1, "sku": "TEE-S", "delta": -2, "reason": "damaged"}]
        }
    )

    warehouse_id: int
    sku: str = _SKU
    delta: int = Field(
        description="Signed change of on hand; not zero, at most 1,000,000 either way.",
        json_schema_extra={"minimum": -inventory.MAX_QUANTITY, "maximum": inventory.MAX_QUANTITY},
    )
    reason: str = Field(max_length=200, description="Required: why the count changed.")
    reference: str | None = Field(default=None, max_length=100)


# --- transfers and counts ---------------------------------------------------------------


class TransferLine(BaseModel):
    sku: str = _SKU
    quantity: int = Field(json_schema_extra=_QUANTITY)


class TransferCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from_warehouse_id": 1,
                    "to_warehouse_id": 2,
                    "lines": [{"sku": "TEE-S", "quantity": 10}],
                    "reason": "rebalance",
                }
            ]
        }
    )

    from_warehouse_id: int
    to_warehouse_id: int
    lines: list[TransferLine] = Field(max_length=1000)
    reason: str = Field(default="rebalance", min_length=1, max_length=200)

    _unique = field_validator("lines")(_unique_skus)


class TransferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    from_warehouse_id: int
    to_warehouse_id: int
    lines: list[TransferLine]
    reason: str
    actor: str
    created_at: datetime


class CountLine(BaseModel):
    sku: str = _SKU
    counted: int = Field(json_schema_extra={"minimum": 0, "maximum": inventory.MAX_QUANTITY})


class CycleCountCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "warehouse_id": 1,
                    "lines": [{"sku": "TEE-S", "counted": 38}, {"sku": "MUG", "counted": 0}],
                    "note": "aisle 4",
                }
            ]
        }
    )

    warehouse_id: int
    lines: list[CountLine] = Field(max_length=10_000)
    note: str | None = Field(default=None, max_length=2000)

    _unique = field_validator("lines")(_unique_skus)


class CountedLineRead(BaseModel):
    sku: str
    expected: int
    counted: int
    difference: int


class CycleCountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    warehouse_id: int
    lines: list[CountedLineRead]
    note: str | None
    actor: str
    created_at: datetime


class ThresholdUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"low_stock_threshold": 10}]})

    low_stock_threshold: int = Field(
        description="Alert when total available falls to this; 0 alerts only on stock-out.",
        json_schema_extra={"minimum": 0, "maximum": inventory.MAX_QUANTITY},
    )


class ThresholdRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    low_stock_threshold: int
    updated_at: datetime


# --- ledger and reservations -------------------------------------------------------------


class MovementRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 91,
                    "sku": "TEE-S",
                    "warehouse_id": 1,
                    "kind": "receipt",
                    "quantity": 120,
                    "reason": "purchase receipt",
                    "reference": "PO-77",
                    "actor": "user:4",
                    "occurred_at": "2026-03-01T08:00:00Z",
                }
            ]
        },
    )

    id: int
    sku: str
    warehouse_id: int
    kind: inventory.MovementKind
    quantity: int = Field(description="Signed change of on hand.")
    reason: str
    reference: str | None
    actor: str
    occurred_at: datetime


class MovementPage(Page[MovementRead]):
    pass


class ReservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    sku: str
    warehouse_id: int
    quantity: int
    status: inventory.ReservationStatus
    expires_at: datetime | None
    created_at: datetime
    closed_at: datetime | None


class DiscrepancyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    warehouse_id: int
    on_hand: int
    ledger_total: int = Field(description="Sum of the ledger movements of this stock level.")
    difference: int = Field(description="on_hand - ledger_total")


class LedgerCheckRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"consistent": True, "discrepancies": []}]}
    )

    consistent: bool
    discrepancies: list[DiscrepancyRead]
