"""Reactions of group buying to the orders of its members (after their commit)."""

from __future__ import annotations

from shopops.contexts.group_buying.service import record_departure, record_payment
from shopops.uow import DeliveredEvent, HandlerRegistrar, UnitOfWork


def on_order_paid(uow: UnitOfWork, event: DeliveredEvent) -> None:
    record_payment(uow, int(event.payload["order_id"]))


def on_order_ended(uow: UnitOfWork, event: DeliveredEvent) -> None:
    record_departure(uow, int(event.payload["order_id"]))


def register_handlers(registry: HandlerRegistrar) -> None:
    registry.register("group_buying.member_paid", ["order.paid"], on_order_paid)
    registry.register(
        "group_buying.member_left", ["order.closed", "order.cancelled"], on_order_ended
    )
