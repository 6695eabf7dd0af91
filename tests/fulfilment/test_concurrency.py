"""Two people ship the same order at the same moment: it ships once, the stock stays right.

Both requests plan before either records (a barrier inside the carrier call
holds them there), then record on separate connections at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shopops.adapters.carriers import Label, Parcel
from shopops.contexts import fulfilment, inventory
from shopops.kernel.errors import Conflict
from tests.commerce import SYSTEM, stock_of
from tests.fulfilment.conftest import Store


@pytest.mark.parametrize(
    ("lines", "refusal", "status", "shipped_units"),
    [
        (None, "fulfilment.order_not_shippable", "shipped", {"TEE": (3, 3), "MUG": (1, 1)}),
        (
            {"TEE": 2},
            "fulfilment.exceeds_reserved",
            "partially_shipped",
            {"TEE": (3, 2), "MUG": (1, 0)},
        ),
    ],
)
def test_concurrent_shipping_of_one_order_ships_it_once(
    store: Store,
    lines: dict[str, int] | None,
    refusal: str,
    status: str,
    shipped_units: dict[str, tuple[int, int]],
) -> None:
    order = store.place(("TEE", 3), ("MUG", 1))
    both_planned = threading.Barrier(2, timeout=10)
    sandbox = store.carrier

    class MeetingCarrier:
        def create_shipment(self, carrier: str, parcel: Parcel, *, idempotency_key: str) -> Label:
            both_planned.wait()
            return sandbox.create_shipment(carrier, parcel, idempotency_key=idempotency_key)

        def track(self, carrier: str, tracking_number: str) -> list:
            return sandbox.track(carrier, tracking_number)

    def ship(carrier_code: str) -> fulfilment.ShipmentView | Conflict:
        ship_lines = (
            None if lines is None else tuple(fulfilment.ShipLine(*i) for i in lines.items())
        )
        command = fulfilment.ShipOrder(order.id, store.sh1, carrier_code, lines=ship_lines)
        try:
            return fulfilment.ship(lambda: store.container.uow(SYSTEM), MeetingCarrier(), command)
        except Conflict as refused:
            return refused

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(ship, ["ups", "dhl"]))

    shipped = [o for o in outcomes if isinstance(o, fulfilment.ShipmentView)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(shipped) == 1
    assert [r.code for r in refused] == [refusal]
    assert store.order(order.id).status == status
    assert store.lines(order.id) == shipped_units
    held_back = 3 - shipped_units["TEE"][1]
    assert stock_of(store.container, "TEE")[0][1:] == (5 - shipped_units["TEE"][1], held_back)
    with store.container.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []
