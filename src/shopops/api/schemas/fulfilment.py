"""Fulfilment schemas: shipments, their lines and tracking events, late orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shopops.api.pagination import Page

TrackingStatus = Literal[
    "label_created", "in_transit", "out_for_delivery", "delivered", "exception"
]

_SHIPMENT_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "order_id": 345,
    "order_number": "SO-260301-7KQ2MX",
    "warehouse_id": 1,
    "carrier": "ups",
    "tracking_number": "SBUPS004281937465",
    "label_reference": "sandbox://labels/ups/SBUPS004281937465.pdf",
    "status": "in_transit",
    "status_at": "2026-03-02T06:10:00Z",
    "shipped_at": "2026-03-01T15:00:00Z",
    "delivered_at": None,
    "ship_by": "2026-03-03T08:00:00Z",
    "deliver_by": "2026-03-06T08:00:00Z",
    "late": False,
    "lines": [{"order_line_id": 901, "sku": "TEE-M-BLK", "quantity": 2}],
    "events": [
        {
            "id": 40,
            "status": "in_transit",
            "location": "Shanghai hub",
            "description": "Departed sorting centre",
            "source": "poll",
            "occurred_at": "2026-03-02T06:10:00Z",
            "recorded_at": "2026-03-02T06:30:00Z",
        }
    ],
}


class ShipmentLineCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64, examples=["TEE-M-BLK"])
    quantity: int = Field(ge=1, le=1_000_000, examples=[2])


class ShipmentCreate(BaseModel):
    """Ship from one warehouse.

    Without `tracking_number` a label is booked with the carrier; without
    `lines` everything held for the order in that warehouse ships.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"warehouse_id": 1, "carrier": "ups"},
                {
                    "warehouse_id": 2,
                    "carrier": "sf-express",
                    "tracking_number": "SF1234567890",
                    "lines": [{"sku": "TEE-M-BLK", "quantity": 1}],
                },
            ]
        }
    )

    warehouse_id: int
    carrier: str = Field(description="Carrier code, e.g. `ups`, `sf-express`, `sandbox`.")
    tracking_number: str | None = Field(
        default=None, description="From a label printed elsewhere; omit to book one."
    )
    lines: list[ShipmentLineCreate] | None = Field(
        default=None, description="Omit to ship everything held in the warehouse."
    )


class ShipmentLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_line_id: int
    sku: str
    quantity: int


class TrackingEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    location: str | None
    description: str
    source: str
    occurred_at: datetime
    recorded_at: datetime


class ShipmentRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_SHIPMENT_EXAMPLE]}
    )

    id: int
    order_id: int
    order_number: str
    warehouse_id: int
    carrier: str
    tracking_number: str
    label_reference: str | None
    status: TrackingStatus
    status_at: datetime = Field(description="When the scan that set the status happened.")
    shipped_at: datetime
    delivered_at: datetime | None
    ship_by: datetime | None = Field(description="Promised ship-by date, from the order.")
    deliver_by: datetime | None = Field(description="Promised deliver-by date, from the order.")
    late: bool = Field(description="Delivered after, or still on the way past, `deliver_by`.")
    lines: list[ShipmentLineRead]
    events: list[TrackingEventRead] | None = Field(
        description="Null in lists; read one shipment to get its tracking events."
    )


ShipmentPage = Page[ShipmentRead]


class TrackingEventCreate(BaseModel):
    """A scan entered by staff, or pushed by a carrier (webhook style)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "delivered",
                    "occurred_at": "2026-03-04T10:15:00+08:00",
                    "location": "Shanghai",
                    "description": "Signed for by the recipient",
                    "source": "carrier",
                }
            ]
        }
    )

    status: TrackingStatus
    occurred_at: AwareDatetime = Field(description="ISO 8601 with offset.")
    location: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=500)
    source: Literal["manual", "carrier"] = "manual"


class TrackingEventResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    recorded: bool = Field(description="False when the same scan was already stored.")
    status_changed: bool
    shipment: ShipmentRead


class LateOrderRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "order_id": 345,
                    "number": "SO-260301-7KQ2MX",
                    "status": "partially_shipped",
                    "ship_by": "2026-03-03T08:00:00Z",
                    "overdue_hours": 26.5,
                    "units_ordered": 3,
                    "units_shipped": 2,
                }
            ]
        },
    )

    order_id: int
    number: str
    status: str
    ship_by: datetime
    overdue_hours: float
    units_ordered: int
    units_shipped: int


LateOrderPage = Page[LateOrderRead]
