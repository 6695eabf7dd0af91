"""Erasing a customer wipes the personal data their orders hold as well."""

from __future__ import annotations

from sqlalchemy import select

from shopops.bootstrap import Container
from shopops.contexts import customers, orders
from tests.commerce import ADDRESS, SYSTEM, add_skus, add_warehouse


def test_customer_erasure_reaches_their_orders(container: Container) -> None:
    add_skus(container, {"MUG": 1250})
    add_warehouse(container, "SH1", stock={"MUG": 5})
    with container.uow(SYSTEM) as uow:
        customer = customers.register_customer(
            uow, customers.RegisterCustomer(email="wang.fang@example.com", name="Wang Fang")
        )
        uow.commit()
    command = orders.PlaceOrder(
        lines=(orders.OrderLineRequest("MUG", 1),),
        shipping_address=ADDRESS,
        channel="web",
        customer_id=customer.id,
    )
    with container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, command)
        uow.commit()
    with container.uow(SYSTEM) as uow:
        customers.erase_customer(uow, customers.EraseCustomer(customer.id, confirm=True))
        uow.commit()
    with container.session_factory() as session:
        row = session.scalars(select(orders.Order).where(orders.Order.id == order.id)).one()
        assert row.ship_recipient_encrypted is None
        assert row.ship_line1_encrypted is None
        assert row.ship_phone_encrypted is None
        assert row.total_minor == 1250  # the sale itself stays for the books
