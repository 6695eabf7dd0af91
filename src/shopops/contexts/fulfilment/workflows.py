"""Use cases that call the carrier, so span more than one unit of work.

Unlike service functions, these open and commit their own units of work: the
network call to the carrier happens between two short transactions, never
inside one (docs/adr/0004-carrier-calls-between-transactions.md).
"""

from __future__ import annotations

from collections.abc import Callable

from shopops.adapters.carriers import Carrier
from shopops.contexts.fulfilment.commands import ShipOrder
from shopops.contexts.fulfilment.service import create_shipment, plan_shipment
from shopops.contexts.fulfilment.views import ShipmentView
from shopops.uow import UnitOfWork


def ship(open_uow: Callable[[], UnitOfWork], carrier: Carrier, command: ShipOrder) -> ShipmentView:
    """Plan (read only), book the label unless staff entered a tracking number, record.

    The booking's idempotency key is derived from the planned parcel, so a retry
    after a failure while recording gets the label already bought back from the
    carrier instead of a second one.
    """
    with open_uow() as uow:
        plan = plan_shipment(uow, command)
    label = None
    if plan.tracking_number is None:
        label = carrier.create_shipment(
            plan.carrier, plan.parcel, idempotency_key=plan.idempotency_key
        )
    with open_uow() as uow:
        view = create_shipment(uow, command, label=label)
        uow.commit()
    return view
