"""The webhook event catalogue: every type is a real domain event that carries no personal
data, and a subscription to one of the types beyond orders receives it end to end."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

from standardwebhooks import Webhook

import shopops.contexts
from shopops.adapters.carriers import SandboxCarrier
from shopops.bootstrap import Container
from shopops.contexts import fulfilment, orders, webhooks
from shopops.kernel.events import Event
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order
from tests.webhooks.conftest import DispatcherFactory, messages, subscribe
from tests.webhooks.receiver import Receiver

# Field names that would carry personal data (the sealed columns of orders and customers).
PERSONAL = {
    "email",
    "phone",
    "name",
    "full_name",
    "recipient",
    "line1",
    "line2",
    "address",
    "shipping_address",
    "postal_code",
    "birth_date",
    "guest_email",
    "guest_name",
    "guest_phone",
}


def _domain_events() -> dict[str, list[type[Event]]]:
    """Event type -> the event classes of the contexts that emit it."""
    for module in pkgutil.walk_packages(shopops.contexts.__path__, "shopops.contexts."):
        if module.name.endswith(".events"):
            importlib.import_module(module.name)
    found: dict[str, list[type[Event]]] = {}
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("shopops.contexts."):
            found.setdefault(cls.event_type, []).append(cls)
    return found


def test_every_catalogue_type_is_a_domain_event_without_personal_data() -> None:
    events = _domain_events()
    assert len(webhooks.EVENT_TYPES) == len(set(webhooks.EVENT_TYPES)) == 27
    for event_type in webhooks.EVENT_TYPES:
        assert event_type in events, event_type
        for cls in events[event_type]:
            fields = {f.name for f in dataclasses.fields(cls)}
            assert not fields & PERSONAL, (event_type, cls.__name__, fields & PERSONAL)


def test_a_shipment_subscription_receives_the_shipment_created_event(
    container: Container, receiver: Receiver, make_dispatcher: DispatcherFactory
) -> None:
    add_skus(container, {"TEE": 1999})
    warehouse = add_warehouse(container, "SH1", stock={"TEE": 5})
    shipments, secret = subscribe(container, receiver.url, "shipment.created")
    subscribe(container, receiver.url, "payment.failed")  # wants none of what follows
    receiver.secret = secret
    with container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, guest_order(("TEE", 2)))
        orders.mark_paid(uow, order, captured_minor=order.total_minor, payment_reference="t")
        uow.commit()
        order_id, number = order.id, order.number
    carrier = container.carrier
    assert isinstance(carrier, SandboxCarrier)
    shipment = fulfilment.ship(
        lambda: container.uow(SYSTEM),
        carrier,
        fulfilment.ShipOrder(order_id, warehouse, "ups", "1Z999AA10123456784", None),
    )
    container.relay.drain()

    (message,) = messages(container)
    assert (message.subscription_id, message.event_type) == (shipments, "shipment.created")
    results = make_dispatcher(container).drain()
    assert [(r.status, r.response_status) for r in results] == [("delivered", 200)]
    (request,) = receiver.requests
    assert request.verified
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "shipment.created"
    assert body["data"] == {
        "shipment_id": shipment.id,
        "order_id": order_id,
        "order_number": number,
        "warehouse_id": warehouse,
        "carrier": "ups",
        "tracking_number": "1Z999AA10123456784",
        "lines": [{"order_line_id": 1, "sku": "TEE", "quantity": 2}],
    }
    # The buyer's name, street and phone stay in the database.
    for secret_text in (b"Wang Fang", b"Nanjing", b"13812345678", b"guest@example.com"):
        assert secret_text not in request.body
