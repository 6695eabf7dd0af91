"""Fulfilment: ship orders per warehouse, read shipments, record tracking, late orders.

Shipping books the carrier label before the shipment is recorded, outside any
database transaction; send `Idempotency-Key` so that a retried request returns
the first shipment instead of shipping twice.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, decode_cursor, encode_cursor
from shopops.api.schemas.fulfilment import (
    LateOrderPage,
    LateOrderRead,
    ShipmentCreate,
    ShipmentPage,
    ShipmentRead,
    TrackingEventCreate,
    TrackingEventResult,
    TrackingStatus,
)
from shopops.auth.permissions import Permission
from shopops.contexts import fulfilment
from shopops.kernel.errors import ValidationFailed

router = APIRouter(tags=["fulfilment"])

READ = Depends(require(Permission.ORDERS_READ))
WRITE = Depends(require(Permission.FULFILMENT_WRITE))


@router.post(
    "/orders/{order_id}/shipments",
    response_model=ShipmentRead,
    status_code=201,
    responses={
        409: {"description": "Not shippable, more than is held, or tracking number taken."},
        503: {"description": "The carrier did not answer; nothing was recorded. Retry later."},
    },
)
def create_shipment(
    order_id: int, body: ShipmentCreate, context: RequestContext = WRITE
) -> ShipmentRead:
    """Ship a paid order (or part of it) from one warehouse.

    Consumes the order's reservation there into `sale` movements, counts the
    units as shipped and moves the order to `partially_shipped` or `shipped`.
    409 `fulfilment.order_not_shippable` for unpaid, cancelled or shipped
    orders; 409 `fulfilment.exceeds_reserved` for more than is held there; 503
    `carrier.unavailable` when the carrier does not answer (retry later).
    """
    command = fulfilment.ShipOrder(
        order_id=order_id,
        warehouse_id=body.warehouse_id,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        lines=None
        if body.lines is None
        else tuple(fulfilment.ShipLine(line.sku, line.quantity) for line in body.lines),
    )
    view = fulfilment.ship(context.uow, context.container.carrier, command)
    return ShipmentRead.model_validate(view)


@router.get("/shipments", response_model=ShipmentPage)
def list_shipments(
    order_id: int | None = None,
    status: TrackingStatus | None = None,
    carrier: str | None = Query(None, examples=["ups"]),
    warehouse_id: int | None = None,
    late: bool | None = Query(
        None, description="true: delivered after, or still on the way past, the promised date."
    ),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> ShipmentPage:
    """Shipments, oldest first, with their lines (tracking events: read one shipment)."""
    query = fulfilment.ShipmentFilter(
        order_id=order_id,
        status=status,
        carrier=carrier.strip().lower() if carrier else None,
        warehouse_id=warehouse_id,
        late=late,
        after_id=after_id(cursor),
        limit=limit,
    )
    with context.uow() as uow:
        page = fulfilment.list_shipments(uow, query)
    next_cursor = None if page.next_after_id is None else encode_cursor({"id": page.next_after_id})
    return ShipmentPage(
        items=[ShipmentRead.model_validate(v) for v in page.items], next_cursor=next_cursor
    )


@router.get("/shipments/{shipment_id}", response_model=ShipmentRead)
def get_shipment(shipment_id: int, context: RequestContext = READ) -> ShipmentRead:
    """One shipment with its tracking events, oldest first."""
    with context.uow() as uow:
        return ShipmentRead.model_validate(fulfilment.get_shipment(uow, shipment_id))


@router.post(
    "/shipments/{shipment_id}/tracking-events",
    response_model=TrackingEventResult,
    status_code=201,
    responses={200: {"description": "The same scan was already stored; nothing changed."}},
)
def record_tracking_event(
    shipment_id: int,
    body: TrackingEventCreate,
    response: Response,
    context: RequestContext = WRITE,
) -> TrackingEventResult:
    """Record a scan. Repeats of a stored scan (same status and time) answer 200 and change
    nothing; scans arriving out of order never move a shipment backwards. When every
    parcel of a fully shipped order is delivered, the order becomes `delivered`."""
    command = fulfilment.RecordTrackingEvent(
        shipment_id=shipment_id,
        status=body.status,
        occurred_at=body.occurred_at,
        location=body.location,
        description=body.description,
        source=body.source,
    )
    with context.uow() as uow:
        result = fulfilment.record_tracking_event(uow, command)
        uow.commit()
    if not result.recorded:
        response.status_code = 200
    return TrackingEventResult.model_validate(result)


def _late_position(cursor: str | None) -> tuple[datetime, int] | None:
    data = decode_cursor(cursor)
    if data is None:
        return None
    try:
        return datetime.fromisoformat(str(data["ship_by"])), int(data["id"])
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed("pagination.invalid_cursor", "the cursor is not valid") from None


@router.get("/fulfilment/late", response_model=LateOrderPage)
def late_orders(
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> LateOrderPage:
    """Paid orders past their ship-by date with units still to ship, most overdue first."""
    query = fulfilment.LateOrderFilter(after=_late_position(cursor), limit=limit)
    with context.uow() as uow:
        page = fulfilment.late_orders(uow, query)
    next_cursor = (
        None
        if page.next_after is None
        else encode_cursor({"ship_by": page.next_after[0].isoformat(), "id": page.next_after[1]})
    )
    return LateOrderPage(
        items=[LateOrderRead.model_validate(v) for v in page.items], next_cursor=next_cursor
    )
