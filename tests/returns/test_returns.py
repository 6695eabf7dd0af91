"""Returns and after-sales on a real database: full flow, refund-only, ledger, wrong states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopops import bootstrap
from shopops.adapters.payments import Operation
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from shopops.contexts import inventory, orders, returns
from shopops.kernel.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM, stock_of
from tests.payments.shop import Shop, events, open_shop, snapshot


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


def shipped(shop: Shop, *lines: tuple[str, int]) -> tuple[int, list[orders.OrderLine]]:
    order_id = shop.place(*lines)
    shop.pay(order_id)
    shop.ship(order_id)
    return order_id, shop.lines(order_id)


def run(shop: Shop, fn: Any, *args: Any, actor: Actor = SYSTEM, **kwargs: Any) -> Any:
    with shop.container.uow(actor) as uow:
        result = fn(uow, *args, **kwargs)
        uow.commit()
        return result


def request(
    shop: Shop, order_id: int, *items: tuple[int, int, str], refund_only: bool = False
) -> returns.ReturnDetail:
    command = returns.RequestReturn(
        order_id,
        tuple(returns.ReturnLineRequest(line, qty, reason) for line, qty, reason in items),
        refund_only=refund_only,
    )
    return run(shop, returns.request_return, command)


def receive(shop: Shop, found: returns.ReturnDetail, *dispositions: tuple[str, int | None]) -> Any:
    receipts = tuple(
        returns.LineReceipt(line.id, disposition, warehouse)
        for line, (disposition, warehouse) in zip(found.lines, dispositions, strict=True)
    )
    return run(shop, returns.receive_return, returns.ReceiveReturn(found.request.id, receipts))


def refund(shop: Shop, return_id: int) -> returns.ReturnDetail:
    return returns.refund_return(shop.tx(), shop.gateway, return_id=return_id)


def return_movements(shop: Shop, return_id: int) -> list[tuple[str, str, int]]:
    with shop.container.session_factory() as session:
        found = inventory.list_movements(
            session, inventory.MovementFilter(reference=f"return:{return_id}")
        )
        return [(m.sku, m.kind, m.quantity) for m in found]


def test_full_flow_restock_one_line_write_off_the_other(shop: Shop) -> None:
    order_id, (tee, mug) = shipped(shop, ("TEE", 2), ("MUG", 1))
    assert stock_of(shop.container, "TEE")[0][1:] == (98, 0)
    opened = request(shop, order_id, (tee.id, 1, "size_fit"), (mug.id, 1, "damaged"))
    assert opened.request.status == "requested"
    run(shop, returns.approve_return, opened.request.id, note="ok")
    received = receive(shop, opened, ("restock", shop.warehouse_id), ("write_off", None))
    assert received.request.status == "received"
    assert [line.disposition for line in received.lines] == ["restock", "write_off"]
    assert return_movements(shop, opened.request.id) == [("TEE", "return", 1)]
    assert stock_of(shop.container, "TEE")[0][1:] == (99, 0)
    assert stock_of(shop.container, "MUG")[0][1:] == (99, 0)
    with shop.container.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []
    assert [line.returned_quantity for line in shop.lines(order_id)] == [1, 1]

    done = refund(shop, opened.request.id)
    assert (done.request.status, done.request.refund_minor) == ("refunded", 3250)
    assert [line.refund_minor for line in done.lines] == [2000, 1250]
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status) == (3250, "partially_refunded")
    assert [line.refunded_minor for line in shop.lines(order_id)] == [2000, 1250]
    timeline = shop.timeline(order_id)
    assert timeline[timeline.index("return_requested") :] == [
        "return_requested",
        "return_approved",
        "return_received",
        "refund_requested",
        "refund_issued",
        "return_refunded",
    ]
    updates = events(shop.container, "return.updated")
    assert [(e["status"], e["previous_status"]) for e in updates] == [
        ("requested", None),
        ("approved", "requested"),
        ("received", "approved"),
        ("refunded", "received"),
    ]
    [issued] = events(shop.container, "refund.issued")
    assert (issued["return_id"], issued["amount_minor"]) == (opened.request.id, 3250)


def test_refund_only_skips_the_receipt(shop: Shop) -> None:
    order_id, (_, mug) = shipped(shop, ("TEE", 1), ("MUG", 1))
    opened = request(shop, order_id, (mug.id, 1, "damaged"), refund_only=True)
    run(shop, returns.approve_return, opened.request.id)
    before = snapshot(shop.container)
    with pytest.raises(InvalidTransition) as caught:
        receive(shop, opened, ("restock", shop.warehouse_id))
    assert caught.value.code == "returns.invalid_transition"
    assert snapshot(shop.container) == before
    done = refund(shop, opened.request.id)
    assert (done.request.status, done.request.refund_minor) == ("refunded", 1250)
    assert return_movements(shop, opened.request.id) == []
    assert shop.order(order_id).refunded_minor == 1250


@pytest.mark.parametrize(
    ("steps", "attempt"),
    [
        ((), "receive"),  # requested: not approved yet
        ((), "refund"),
        (("reject",), "approve"),
        (("reject",), "refund"),
        (("approve",), "refund"),  # goods must come back first
        (("approve",), "approve"),
        (("approve", "receive"), "receive"),
        (("approve", "receive", "refund"), "refund"),
    ],
)
def test_steps_from_the_wrong_state_are_refused(
    shop: Shop, steps: tuple[str, ...], attempt: str
) -> None:
    order_id, (tee, _) = shipped(shop, ("TEE", 1), ("MUG", 1))
    opened = request(shop, order_id, (tee.id, 1, "changed_mind"))
    return_id = opened.request.id
    actions = {
        "approve": lambda: run(shop, returns.approve_return, return_id),
        "reject": lambda: run(shop, returns.reject_return, return_id, reason="worn"),
        "receive": lambda: receive(shop, opened, ("write_off", None)),
        "refund": lambda: refund(shop, return_id),
    }
    for step in steps:
        actions[step]()
    before = snapshot(shop.container)
    with pytest.raises(InvalidTransition) as caught:
        actions[attempt]()
    assert caught.value.code == "returns.invalid_transition"
    assert snapshot(shop.container) == before


def test_quantity_above_shipped_is_refused(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    tee, mug = shop.lines(order_id)
    before = snapshot(shop.container)
    with pytest.raises(ValidationFailed) as unshipped:
        request(shop, order_id, (tee.id, 1, "damaged"))
    assert unshipped.value.code == "returns.quantity_exceeds_returnable"
    shop.ship(order_id)
    before = snapshot(shop.container)
    with pytest.raises(ValidationFailed) as caught:
        request(shop, order_id, (tee.id, 3, "damaged"), (mug.id, 1, "broken?"))
    assert caught.value.code == "returns.quantity_exceeds_returnable"
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("lines.0.quantity", "returns.quantity_exceeds_returnable"),
        ("lines.1.reason", "returns.invalid_reason"),
    }
    assert snapshot(shop.container) == before
    first = request(shop, order_id, (tee.id, 2, "size_fit"))
    with pytest.raises(ValidationFailed):  # both units are already claimed
        request(shop, order_id, (tee.id, 1, "size_fit"))
    run(shop, returns.reject_return, first.request.id, reason="worn")
    assert request(shop, order_id, (tee.id, 1, "size_fit")).request.status == "requested"


def test_return_refund_subtracts_what_the_line_already_got(shop: Shop) -> None:
    order_id, (tee, _) = shipped(shop, ("TEE", 2), ("MUG", 1))
    shop.refund(order_id, line_amounts={tee.id: 500}, reason="goodwill")
    opened = request(shop, order_id, (tee.id, 2, "not_as_described"))
    run(shop, returns.approve_return, opened.request.id)
    receive(shop, opened, ("restock", shop.warehouse_id))
    done = refund(shop, opened.request.id)
    assert done.request.refund_minor == 3500
    assert [line.refunded_minor for line in shop.lines(order_id)] == [4000, 0]


def test_units_of_a_line_with_an_odd_total_add_up_across_returns(shop: Shop) -> None:
    order_id, (cap,) = shipped(shop, ("CAP", 3))  # 29.97 = 9.99 x 3
    values = []
    for _ in range(3):
        opened = request(shop, order_id, (cap.id, 1, "size_fit"), refund_only=True)
        run(shop, returns.approve_return, opened.request.id)
        values.append(refund(shop, opened.request.id).request.refund_minor)
    assert values == [999, 999, 999]
    assert shop.order(order_id).payment_status == "refunded"


def test_receipt_input_errors_are_all_reported(shop: Shop) -> None:
    order_id, (tee, mug) = shipped(shop, ("TEE", 1), ("MUG", 1))
    opened = request(shop, order_id, (tee.id, 1, "other"), (mug.id, 1, "other"))
    run(shop, returns.approve_return, opened.request.id)
    before = snapshot(shop.container)
    with pytest.raises(ValidationFailed) as caught:
        receive(shop, opened, ("restock", None), ("shred", None))
    assert {e.code for e in caught.value.errors} == {
        "returns.warehouse_required",
        "returns.invalid_disposition",
    }
    with pytest.raises(ValidationFailed):
        run(shop, returns.reject_return, opened.request.id, reason=" ")
    assert snapshot(shop.container) == before


def test_a_refund_settled_by_the_retry_job_marks_the_return_refunded(make_container: Any) -> None:
    clock = FrozenClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    shop = open_shop(make_container(clock=clock))
    order_id, (tee,) = shipped(shop, ("TEE", 1))
    opened = request(shop, order_id, (tee.id, 1, "damaged"), refund_only=True)
    run(shop, returns.approve_return, opened.request.id)
    shop.sandbox.configure(unavailable=frozenset({Operation.REFUND}))
    waiting = refund(shop, opened.request.id)
    assert (waiting.request.status, waiting.request.refund_id is not None) == ("approved", True)
    with pytest.raises(Conflict) as caught:
        refund(shop, opened.request.id)
    assert caught.value.code == "returns.refund_in_progress"
    shop.sandbox.configure(unavailable=frozenset())
    clock.advance(timedelta(minutes=3))
    [job] = [j for n, _, j in bootstrap.CONTAINER_JOBS if n == "payments.retry_stuck_refunds"]
    assert job(shop.container) == 1
    with shop.container.uow(SYSTEM) as uow:
        found = returns.get_return(uow, opened.request.id)
        assert (found.request.status, found.request.refund_minor) == ("refunded", 2000)
    statuses = [e["status"] for e in events(shop.container, "return.updated")]
    assert statuses == ["requested", "approved", "refunded"]


def test_returns_need_returns_manage(shop: Shop) -> None:
    order_id, (tee,) = shipped(shop, ("TEE", 1))
    analyst = Actor("user", 3, "analyst", frozenset(map(str, permissions_for(Role.ANALYST))))
    before = snapshot(shop.container)
    command = returns.RequestReturn(order_id, (returns.ReturnLineRequest(tee.id, 1, "other"),))
    with pytest.raises(PermissionDenied):
        run(shop, returns.request_return, command, actor=analyst)
    assert snapshot(shop.container) == before
    warehouse = Actor("user", 4, "wh", frozenset(map(str, permissions_for(Role.WAREHOUSE))))
    assert run(shop, returns.request_return, command, actor=warehouse).request.status == (
        "requested"
    )
