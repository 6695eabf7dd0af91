"""Reactions to orders and payments events (run by the outbox relay after the commit).

Loyalty sits below orders and payments and imports neither: it reads the event
payloads and, for the facts a payload lacks (``order.delivered`` carries no
total, ``refund.issued`` no customer), the order's current row through the
read-only table reference in ``repository``. Each reaction is idempotent:
crediting is once per order (a unique row), and reversals aim at a target
computed from the order's current refunds, so a repeated event changes nothing.

The relay's types come from ``shopops.uow``: contexts do not import the relay.
"""

from __future__ import annotations

from shopops.contexts.loyalty.models import CreditOn
from shopops.contexts.loyalty.service import (
    earn_for_order,
    reverse_for_cancellation,
    reverse_for_refund,
)
from shopops.uow import DeliveredEvent as CommittedEvent
from shopops.uow import HandlerRegistrar, UnitOfWork

_TRIGGERS = {"order.paid": CreditOn.PAID, "order.delivered": CreditOn.DELIVERED}


def on_order_settled(uow: UnitOfWork, event: CommittedEvent) -> None:
    """order.paid or order.delivered: credit the order if this is the program's moment."""
    if event.payload.get("customer_id") is None:
        return  # a guest order
    earn_for_order(
        uow,
        int(event.payload["order_id"]),
        trigger=_TRIGGERS[event.event_type],
        earned_at=event.occurred_at,
    )


def on_refund_issued(uow: UnitOfWork, event: CommittedEvent) -> None:
    reverse_for_refund(
        uow, int(event.payload["order_id"]), refund_id=int(event.payload["refund_id"])
    )


def on_order_cancelled(uow: UnitOfWork, event: CommittedEvent) -> None:
    reverse_for_cancellation(uow, int(event.payload["order_id"]))


def register_handlers(registry: HandlerRegistrar) -> None:
    registry.register("loyalty.credit_order", list(_TRIGGERS), on_order_settled)
    registry.register("loyalty.reverse_refund", ["refund.issued"], on_refund_issued)
    # A closed order (unpaid in time, or a forfeited presale) gets its redeemed points back too.
    registry.register(
        "loyalty.reverse_cancellation", ["order.cancelled", "order.closed"], on_order_cancelled
    )
