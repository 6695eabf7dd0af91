"""`shopops orders ...` against the test database."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.bootstrap import Container
from shopops.contexts import orders
from shopops.kernel.errors import DomainError
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order, stock_of

BODY: dict[str, Any] = {
    "lines": [{"sku": "TEE-S", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
    "shipping_address": {
        "recipient": "Wang Fang",
        "line1": "88 Nanjing Road",
        "city": "Shanghai",
        "country": "CN",
        "phone": "13812345678",
    },
    "channel": "store",
    "guest": {"email": "guest@example.com", "name": "Guest Buyer"},
    "tags": ["walk-in", " walk-in "],
}


@pytest.fixture
def shop(container: Container) -> Container:
    add_skus(container, {"TEE-S": 1999, "MUG": 1250})
    add_skus(container, {"BENTO": 1500}, currency="JPY")
    add_warehouse(container, "SH1", stock={"TEE-S": 10, "MUG": 5, "BENTO": 5})
    return container


def place(container: Container, command: orders.PlaceOrder) -> orders.Order:
    with container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, command)
        uow.commit()
        return order


def ok(cli: Any, container: Container, *args: str) -> str:
    result = cli(container, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def as_json(cli: Any, container: Container, *args: str) -> Any:
    return json.loads(ok(cli, container, *args, "--format", "json"))


def failure(cli: Any, container: Container, *args: str) -> DomainError:
    result = cli(container, *args)
    assert result.exit_code != 0
    assert isinstance(result.exception, DomainError), result.output
    return result.exception


def order_count(container: Container) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(orders.Order)) or 0)


def test_place_from_a_json_file(cli: Any, shop: Container, tmp_path: Path) -> None:
    file = tmp_path / "order.json"
    file.write_text(json.dumps(BODY), encoding="utf-8")
    out = ok(cli, shop, "orders", "place", str(file))
    assert "placed SO-" in out
    assert "52.48 USD, pending_payment" in out
    [listed] = as_json(cli, shop, "orders", "list")
    assert (listed["channel"], listed["total"], listed["tags"]) == ("store", "52.48", "walk-in")
    assert stock_of(shop, "MUG")[0][1:] == (5, 1)


@pytest.mark.parametrize(
    ("change", "code", "errors"),
    [
        (
            {"lines": [{"sku": "NOPE", "quantity": 1}]},
            "validation.failed",
            [("lines.0.sku", "orders.unknown_sku")],
        ),
        (
            {"lines": [{"sku": "MUG", "quantity": 0}]},
            "validation.failed",
            [("lines.0.quantity", "orders.invalid_quantity")],
        ),
        (
            {"lines": [{"sku": "MUG", "quantity": 1_000_001}]},
            "validation.failed",
            [("lines.0.quantity", "orders.invalid_quantity")],
        ),
        (
            {"lines": [{"sku": "MUG", "quantity": "lots"}], "shipping_address": {"city": "X"}},
            "validation.failed",
            [
                ("lines.0.quantity", "validation.int_parsing"),
                ("shipping_address.recipient", "validation.missing"),
                ("shipping_address.line1", "validation.missing"),
                ("shipping_address.country", "validation.missing"),
            ],
        ),
        ({"lines": [{"sku": "MUG", "quantity": 6}]}, "inventory.insufficient_stock", []),
    ],
)
def test_bad_order_files_change_nothing(
    cli: Any,
    shop: Container,
    tmp_path: Path,
    change: dict[str, Any],
    code: str,
    errors: list[tuple[str, str]],
) -> None:
    file = tmp_path / "order.json"
    file.write_text(json.dumps({**BODY, **change}), encoding="utf-8")
    error = failure(cli, shop, "orders", "place", str(file))
    assert error.code == code
    assert [(e.field, e.code) for e in error.errors] == errors
    assert order_count(shop) == 0
    assert stock_of(shop, "MUG")[0][1:] == (5, 0)


def test_place_refuses_a_file_that_is_not_json(cli: Any, shop: Container, tmp_path: Path) -> None:
    file = tmp_path / "order.json"
    file.write_text("{lines: oops", encoding="utf-8")
    assert failure(cli, shop, "orders", "place", str(file)).code == "orders.invalid_file"


def test_list_filters(cli: Any, shop: Container) -> None:
    a = place(shop, dataclasses.replace(guest_order(("TEE-S", 1)), tags=("vip",)))
    b = place(shop, guest_order(("MUG", 2), channel="app"))
    c = place(shop, guest_order(("BENTO", 2)))
    with shop.uow(SYSTEM) as uow:
        orders.cancel_order(uow, b.id, reason="test")
        uow.commit()

    def numbers(*args: str) -> list[str]:
        return [row["number"] for row in as_json(cli, shop, "orders", "list", *args)]

    assert numbers() == [c.number, b.number, a.number]
    assert numbers("--limit", "2") == [c.number, b.number]
    assert numbers("--status", "cancelled") == [b.number]
    assert numbers("--status", "cancelled", "--status", "pending_payment") == [
        c.number,
        b.number,
        a.number,
    ]
    assert numbers("--sku", "TEE-S") == [a.number]
    assert numbers("--tag", "vip") == [a.number]
    assert numbers("--channel", "app") == [b.number]
    assert numbers("--number", c.number) == [c.number]
    assert numbers("--min-amount", "20", "--currency", "USD") == [b.number]
    assert numbers("--max-amount", "3000", "--currency", "JPY") == [c.number]
    assert numbers("--until", "2000-01-01") == []
    assert numbers("--since", "2000-01-01") == [c.number, b.number, a.number]
    [jpy] = as_json(cli, shop, "orders", "list", "--currency", "JPY")
    assert (jpy["total"], jpy["currency"]) == ("3000", "JPY")
    missing = failure(cli, shop, "orders", "list", "--min-amount", "5")
    assert [(e.field, e.code) for e in missing.errors] == [("--currency", "validation.required")]
    precise = failure(cli, shop, "orders", "list", "--min-amount", "5.001", "--currency", "USD")
    assert [(e.field, e.code) for e in precise.errors] == [("--min-amount", "money.too_precise")]


def test_show_with_lines_and_timeline(cli: Any, shop: Container) -> None:
    order = place(shop, guest_order(("TEE-S", 2), ("MUG", 1)))
    ok(cli, shop, "orders", "note", order.number, "called the customer")
    shown = as_json(cli, shop, "orders", "show", order.number.lower())
    assert (shown["number"], shown["total"], shown["currency"]) == (order.number, "52.48", "USD")
    assert shown["guest_email"] == "guest@example.com"  # the CLI operator sees personal data
    assert shown["ship_to"] == "Wang Fang, 88 Nanjing Road, Shanghai, CN-SH, 200001, CN"
    assert [(x["sku"], x["quantity"], x["unit_price"], x["total"]) for x in shown["lines"]] == [
        ("TEE-S", 2, "19.99", "39.98"),
        ("MUG", 1, "12.50", "12.50"),
    ]
    assert [(e["kind"], e["reason"]) for e in shown["timeline"]] == [
        ("placed", None),
        ("note", "called the customer"),
    ]
    table = ok(cli, shop, "orders", "show", order.number)
    for text in ("Lines", "Timeline", "TEE-S", "placed"):
        assert text in table
    lines_csv = ok(cli, shop, "orders", "show", order.number, "--format", "csv")
    assert lines_csv.splitlines()[1] == "1,TEE-S,Product TEE-S,2,19.99,39.98,0"
    assert failure(cli, shop, "orders", "show", "SO-000000-XXXXXX").code == "orders.not_found"


def test_show_masks_personal_data_for_users_without_pii_permission(
    cli: Any, shop: Container, staff_on: Any
) -> None:
    order = place(shop, guest_order(("MUG", 1)))
    analyst = staff_on(shop, "analyst")
    shown = as_json(cli, shop, "--as", analyst.user.email, "orders", "show", order.number)
    assert (shown["guest_email"], shown["pii_masked"]) == ("g***@example.com", True)
    assert shown["ship_to"] == "W*** F***, 88***, Shanghai, CN-SH, 200001, CN"
    assert shown["ship_phone"] == "138****5678"


def test_cancel_transition_note_and_tag(cli: Any, shop: Container) -> None:
    order = place(shop, guest_order(("MUG", 2)))
    assert stock_of(shop, "MUG")[0][1:] == (5, 2)
    wrong = failure(cli, shop, "orders", "transition", order.number, "completed")
    assert wrong.code == "orders.invalid_transition"
    out = ok(cli, shop, "orders", "tag", order.number, "--add", "vip", "--add", "gift")
    assert "gift vip" in out
    out = ok(cli, shop, "orders", "tag", order.number, "--remove", "gift")
    assert out.strip().endswith("tags: vip")
    assert "cancelled" in ok(cli, shop, "orders", "cancel", order.number, "--reason", "duplicate")
    assert stock_of(shop, "MUG")[0][1:] == (5, 0)
    again = failure(cli, shop, "orders", "cancel", order.number, "--reason", "again")
    assert again.code == "orders.invalid_transition"

    paid = place(shop, guest_order(("MUG", 1)))
    with shop.uow(SYSTEM) as uow:
        orders.mark_paid(
            uow, orders.get_order(uow, paid.id), captured_minor=1250, payment_reference="p-1"
        )
        uow.commit()
    out = ok(cli, shop, "orders", "transition", paid.number, "processing", "--reason", "picked")
    assert out.strip() == f"{paid.number} is now processing"
    timeline = as_json(cli, shop, "orders", "show", paid.number)["timeline"]
    assert [(e["from"], e["to"], e["reason"]) for e in timeline][-1] == (
        "paid",
        "processing",
        "picked",
    )
    assert failure(cli, shop, "orders", "note", paid.number, " ").code == "validation.invalid_note"


def test_writes_need_orders_write(cli: Any, shop: Container, staff_on: Any) -> None:
    order = place(shop, guest_order(("MUG", 1)))
    reader = staff_on(shop, "warehouse")  # orders.read only
    assert len(as_json(cli, shop, "--as", reader.user.email, "orders", "list")) == 1
    for args in (
        ("cancel", order.number, "--reason", "x"),
        ("note", order.number, "hello"),
        ("tag", order.number, "--add", "x"),
    ):
        error = failure(cli, shop, "--as", reader.user.email, "orders", *args)
        assert error.code == "auth.permission_denied", args
    marketing = staff_on(shop, "marketing")
    listing = failure(cli, shop, "--as", marketing.user.email, "orders", "list")
    assert listing.code == "auth.permission_denied"
    with shop.uow(SYSTEM) as uow:
        detail = orders.order_detail(uow, order.id)
        assert (detail.order.status, detail.tags, len(detail.timeline)) == (
            "pending_payment",
            [],
            1,
        )
