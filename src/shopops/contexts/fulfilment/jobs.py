"""Periodic fulfilment jobs: complete delivered orders, and poll carriers for scans."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from shopops.adapters.carriers import Carrier, CarrierError
from shopops.contexts import orders
from shopops.contexts.fulfilment import repository
from shopops.contexts.fulfilment.commands import RecordTrackingEvent
from shopops.contexts.fulfilment.tracking import record_tracking_event
from shopops.kernel.errors import DomainError
from shopops.uow import UnitOfWork

log = logging.getLogger("shopops.fulfilment")

DEFAULT_COMPLETE_AFTER_DAYS = 7
POLL_EVERY = timedelta(minutes=30)


def complete_delivered(uow: UnitOfWork, *, limit: int = 200) -> int:
    """Orders delivered more than ``complete_after_days`` ago become completed."""
    days = uow.settings.complete_after_days if uow.settings else DEFAULT_COMPLETE_AFTER_DAYS
    cutoff = uow.now() - timedelta(days=days)
    completed = 0
    for order_id in repository.delivered_orders_before(uow.session, cutoff, limit):
        order = orders.get_order(uow, order_id, for_update=True)
        if order.status != orders.OrderStatus.DELIVERED:
            continue  # changed since the candidate query
        orders.transition(
            uow,
            order,
            orders.OrderStatus.COMPLETED,
            reason=f"delivered more than {days} days ago",
        )
        completed += 1
    return completed


def poll_tracking(
    open_uow: Callable[[], UnitOfWork],
    carrier: Carrier,
    *,
    limit: int = 100,
    every: timedelta = POLL_EVERY,
) -> int:
    """Ask the carrier for new scans of open shipments; returns the scans recorded.

    Opens its own units of work so that the carrier is never called inside an
    open transaction: one to claim shipments due for polling, then one per
    shipment to record what the carrier reported. A carrier failure skips that
    shipment until its next turn.
    """
    with open_uow() as uow:
        now = uow.now()
        targets = repository.claim_for_polling(
            uow.session, polled_before=now - every, now=now, limit=limit
        )
        uow.commit()
    recorded = 0
    for target in targets:
        try:
            updates = carrier.track(target.carrier, target.tracking_number)
        except CarrierError as error:
            log.warning("tracking %s %s failed: %s", target.carrier, target.tracking_number, error)
            continue
        if not updates:
            continue
        with open_uow() as uow:
            for update in updates:
                command = RecordTrackingEvent(
                    target.shipment_id,
                    update.status,
                    update.occurred_at,
                    update.location,
                    update.description,
                    source="poll",
                )
                try:
                    recorded += record_tracking_event(uow, command).recorded
                except DomainError as error:  # a malformed scan must not block the others
                    log.warning("scan of shipment %s refused: %s", target.shipment_id, error)
            uow.commit()
    return recorded
