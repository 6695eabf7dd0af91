"""Reactions of orders to events of the contexts below it."""

from __future__ import annotations

from sqlalchemy import update

from shopops.contexts.orders.models import Order
from shopops.uow import DeliveredEvent, HandlerRegistrar, UnitOfWork


def erase_customer_copies(uow: UnitOfWork, event: DeliveredEvent) -> None:
    """An erased customer's orders keep amounts and dates, but lose every personal field."""
    customer_id = int(event.payload["customer_id"])
    erased = uow.session.execute(
        update(Order)
        .where(Order.customer_id == customer_id)
        .values(
            guest_email_encrypted=None,
            guest_email_hash=None,
            guest_phone_encrypted=None,
            guest_name_encrypted=None,
            ship_recipient_encrypted=None,
            ship_line1_encrypted=None,
            ship_line2_encrypted=None,
            ship_phone_encrypted=None,
            ship_postal_code=None,
        )
        .execution_options(synchronize_session=False)
    )
    count = erased.rowcount  # type: ignore[attr-defined]
    uow.audit("orders.personal_data_erased", "customer", customer_id, after={"orders": count})


def register_handlers(registry: HandlerRegistrar) -> None:
    registry.register("orders.erase_customer_copies", ["customer.erased"], erase_customer_copies)
