"""Tracking scans: store each once, move the shipment, and the order when all has arrived."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from shopops.auth.permissions import Permission
from shopops.contexts import orders
from shopops.contexts.fulfilment import repository, rules
from shopops.contexts.fulfilment.commands import RecordTrackingEvent
from shopops.contexts.fulfilment.errors import TRACKING_SOURCES, FulfilmentError
from shopops.contexts.fulfilment.events import ShipmentDelivered, ShipmentException
from shopops.contexts.fulfilment.models import Shipment, TrackingEvent
from shopops.contexts.fulfilment.rules import Position, ShipmentStatus
from shopops.contexts.fulfilment.views import ShipmentView, TrackingResult, shipment_view
from shopops.kernel.errors import FieldErrorCollector, NotFound
from shopops.kernel.time import ensure_utc
from shopops.uow import UnitOfWork

# Scans dated further ahead than this are refused (a wrong clock or time zone upstream).
MAX_CLOCK_SKEW = timedelta(hours=1)


def _checked_time(
    uow: UnitOfWork, command: RecordTrackingEvent, errors: FieldErrorCollector
) -> datetime | None:
    try:
        occurred_at = ensure_utc(command.occurred_at)
    except ValueError:
        errors.add(
            "occurred_at",
            FulfilmentError.INVALID_EVENT_TIME,
            "give the time with its offset, e.g. 2026-03-01T08:00:00Z",
        )
        return None
    if occurred_at > uow.now() + MAX_CLOCK_SKEW:
        errors.add("occurred_at", FulfilmentError.INVALID_EVENT_TIME, "the scan is in the future")
    return occurred_at


def _check(uow: UnitOfWork, command: RecordTrackingEvent) -> datetime:
    errors = FieldErrorCollector()
    if command.status not in set(ShipmentStatus):
        errors.add(
            "status",
            FulfilmentError.INVALID_STATUS,
            f"use one of {', '.join(ShipmentStatus)}",
        )
    if command.source not in TRACKING_SOURCES:
        errors.add(
            "source", FulfilmentError.INVALID_TEXT, f"use one of {', '.join(TRACKING_SOURCES)}"
        )
    if command.location is not None and len(command.location) > 200:
        errors.add("location", FulfilmentError.INVALID_TEXT, "at most 200 characters")
    if len(command.description) > 500:
        errors.add("description", FulfilmentError.INVALID_TEXT, "at most 500 characters")
    occurred_at = _checked_time(uow, command, errors)
    errors.raise_if_any()
    assert occurred_at is not None
    return occurred_at


def record_tracking_event(uow: UnitOfWork, command: RecordTrackingEvent) -> TrackingResult:
    """Store a scan (a repeat of a stored one is ignored) and apply it.

    Locks the order, then the shipment (the order first, like shipping does),
    so that two parcels of one order arriving at once still move the order to
    delivered exactly once.
    """
    uow.require(Permission.FULFILMENT_WRITE)
    occurred_at = _check(uow, command)
    found = repository.get(uow.session, command.shipment_id)
    if found is None:
        raise NotFound(
            FulfilmentError.SHIPMENT_NOT_FOUND, f"shipment {command.shipment_id} does not exist"
        )
    order = orders.get_order(uow, found.order_id, for_update=True)
    shipment = repository.get(uow.session, command.shipment_id, for_update=True)
    assert shipment is not None  # shipments are never deleted

    if repository.event_exists(uow.session, shipment.id, command.status, occurred_at):
        return TrackingResult(False, False, _view(uow, shipment, order.number))
    try:
        with uow.session.begin_nested():
            uow.session.add(
                TrackingEvent(
                    shipment_id=shipment.id,
                    status=command.status,
                    location=command.location,
                    description=command.description.strip(),
                    source=command.source,
                    occurred_at=occurred_at,
                    recorded_at=uow.now(),
                    actor=uow.actor.label,
                )
            )
    except IntegrityError:  # the same scan stored by a concurrent request
        return TrackingResult(False, False, _view(uow, shipment, order.number))

    incoming = Position(ShipmentStatus(command.status), occurred_at)
    current = Position(ShipmentStatus(shipment.status), shipment.status_at)
    changed = rules.supersedes(incoming, current)
    if changed:
        _apply(uow, order, shipment, command, incoming, current)
    return TrackingResult(True, changed, _view(uow, shipment, order.number))


def _apply(
    uow: UnitOfWork,
    order: orders.Order,
    shipment: Shipment,
    command: RecordTrackingEvent,
    incoming: Position,
    current: Position,
) -> None:
    shipment.status = incoming.status
    shipment.status_at = incoming.at
    uow.audit(
        "shipment.status_changed",
        "shipment",
        shipment.id,
        before={"status": current.status},
        after={"status": incoming.status, "at": incoming.at.isoformat()},
    )
    summary = {
        "shipment_id": shipment.id,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
    }
    if incoming.status == ShipmentStatus.EXCEPTION:
        uow.emit(
            ShipmentException(
                shipment.id,
                order.id,
                order.number,
                shipment.carrier,
                shipment.tracking_number,
                command.location,
                command.description,
                incoming.at,
            )
        )
        orders.record_timeline(
            uow, order, "shipment_exception", reason=command.description or None, data=summary
        )
    if incoming.status != ShipmentStatus.DELIVERED:
        return
    shipment.delivered_at = incoming.at
    if current.status == ShipmentStatus.DELIVERED:
        return  # an earlier delivery scan only corrects the time
    uow.emit(
        ShipmentDelivered(
            shipment.id,
            order.id,
            order.number,
            shipment.carrier,
            shipment.tracking_number,
            incoming.at,
        )
    )
    orders.record_timeline(uow, order, "shipment_delivered", data=summary)
    uow.session.flush()
    if rules.order_delivered(order.status, repository.statuses_for_order(uow.session, order.id)):
        orders.transition(
            uow,
            order,
            orders.OrderStatus.DELIVERED,
            reason="every shipment has been delivered",
            data=summary,
        )


def _view(uow: UnitOfWork, shipment: Shipment, order_number: str) -> ShipmentView:
    return shipment_view(
        shipment, order_number, uow.now(), events=repository.events_of(uow.session, shipment.id)
    )
