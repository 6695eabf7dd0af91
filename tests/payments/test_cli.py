"""`shopops payments ...` against a real database."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import update

from shopops.bootstrap import Container
from shopops.cli.errors import exit_code_for
from shopops.contexts import orders
from shopops.kernel.errors import DomainError
from tests.payments.shop import Shop, open_shop, snapshot


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


def test_pay_list_refund_and_refunds(shop: Shop, cli: Any) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    paid = cli(shop.container, "payments", "pay", str(order_id))
    assert paid.exit_code == 0, paid.output
    assert "captured 52.50 USD" in paid.output
    listed = cli(shop.container, "payments", "list", "--order", str(order_id), "--format", "json")
    [row] = json.loads(listed.output)
    assert (row["status"], row["amount"], row["fee"]) == ("captured", "52.50", "1.82")

    tee, mug = shop.lines(order_id)
    refunded = cli(
        shop.container,
        "payments",
        "refund",
        str(order_id),
        "--reason",
        "broken",
        "--line",
        f"{mug.id}=12.50",
        "--line",
        f"{tee.id}=1.00",
    )
    assert refunded.exit_code == 0, refunded.output
    assert "succeeded 13.50 USD" in refunded.output
    assert [line.refunded_minor for line in shop.lines(order_id)] == [100, 1250]
    table = cli(shop.container, "payments", "refunds", "--order", str(order_id), "--format", "csv")
    [refund] = list(csv.DictReader(io.StringIO(table.output)))
    assert (refund["status"], refund["amount"], refund["reason"]) == (
        "succeeded",
        "13.50",
        "broken",
    )


def test_declined_payment_exits_non_zero(shop: Shop, cli: Any) -> None:
    order_id = shop.place(("MUG", 1))
    result = cli(shop.container, "payments", "pay", str(order_id), "--source", "tok_declined")
    assert result.exit_code == 1
    assert "failed (card_declined)" in result.output


def test_refund_above_captured_is_a_conflict_exit_code(shop: Shop, cli: Any) -> None:
    order_id = shop.place(("MUG", 1))
    shop.pay(order_id)
    before = snapshot(shop.container)
    result = cli(
        shop.container, "payments", "refund", str(order_id), "--reason", "x", "--amount", "12.51"
    )
    assert isinstance(result.exception, DomainError)
    assert result.exception.code == "payments.refund_exceeds_captured"
    assert exit_code_for(result.exception) == 5
    assert snapshot(shop.container) == before
    bad = cli(shop.container, "payments", "refund", str(order_id), "--reason", "x", "--line", "x")
    assert bad.exit_code == 2


def test_settlement_formats_and_strict_mode(shop: Shop, cli: Any) -> None:
    order_id = shop.place(("MUG", 1))
    shop.pay(order_id)
    today = shop.container.clock.now().date().isoformat()
    as_json = json.loads(
        cli(shop.container, "payments", "settlement", today, "--format", "json").output
    )
    assert as_json["totals"] == [
        {
            "currency": "USD",
            "captured_minor": 1250,
            "refunded_minor": 0,
            "fees_minor": 66,
            "net_minor": 1184,
            "payments": 1,
            "refunds": 0,
        }
    ]
    as_csv = cli(shop.container, "payments", "settlement", today, "--format", "csv").output
    assert as_csv.splitlines()[:2] == [
        "currency,captured,refunded,fees,net,payments,refunds",
        "USD,12.50,0.00,0.66,11.84,1,0",
    ]
    assert cli(shop.container, "payments", "settlement", today, "--strict").exit_code == 0
    with shop.container.session_factory() as session, session.begin():
        session.execute(
            update(orders.Order).where(orders.Order.id == order_id).values(captured_minor=1)
        )
    strict = cli(shop.container, "payments", "settlement", today, "--strict", "--format", "csv")
    assert strict.exit_code == 2
    assert "captured_differs_from_order" in strict.output
    assert cli(shop.container, "payments", "settlement", "2026-13-01").exit_code == 2
