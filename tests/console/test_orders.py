"""The orders console: list filters, sort, pages, export, the order page and its actions."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.console.views import orders as orders_view
from shopops.contexts import customers, fulfilment, inventory, orders, returns
from tests.commerce import ADDRESS, SYSTEM, stock_of
from tests.console.conftest import ConsoleClient, ConsoleFactory
from tests.payments.shop import Shop, open_shop, snapshot

_ROWS = re.compile(r'<tr data-order="([^"]+)"')


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


def numbers(html: str) -> list[str]:
    """Order numbers of the list's rows, in the order shown."""
    return _ROWS.findall(html)


def number_of(shop: Shop, order_id: int) -> str:
    return shop.order(order_id).number


def paid(shop: Shop, *lines: tuple[str, int]) -> int:
    order_id = shop.place(*lines)
    shop.pay(order_id)
    return order_id


def tag(shop: Shop, order_id: int, *tags: str) -> None:
    with shop.container.uow(SYSTEM) as uow:
        orders.set_tags(uow, order_id, add=list(tags))
        uow.commit()


def customer_order(shop: Shop, email: str, *lines: tuple[str, int]) -> tuple[int, int]:
    with shop.container.uow(SYSTEM) as uow:
        customer = customers.register_customer(
            uow, customers.RegisterCustomer(email=email, name="Li Lei")
        )
        command = orders.PlaceOrder(
            lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
            shipping_address=ADDRESS,
            channel="app",
            customer_id=customer.id,
        )
        order = orders.place_order(uow, command)
        uow.commit()
        return customer.id, order.id


def timeline(shop: Shop, order_id: int) -> list[str]:
    return shop.timeline(order_id)


def reserved(shop: Shop, sku: str) -> int:
    return sum(r for _, _, r in stock_of(shop.container, sku))


# --- the list ------------------------------------------------------------------------


def test_an_empty_store_shows_the_empty_state(owner_console: ConsoleClient) -> None:
    page = owner_console.get("/console/orders")
    assert page.status_code == 200
    assert "No orders match these filters." in page.text
    assert numbers(page.text) == []


def test_the_list_filters_by_status_sku_tag_amount_customer_and_date(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    waiting = shop.place(("TEE", 1))  # 20.00, pending payment
    mugs = paid(shop, ("MUG", 2))  # 25.00
    cap = paid(shop, ("CAP", 1))  # 9.99
    tag(shop, cap, "vip")
    customer_id, registered = customer_order(shop, "Buyer@Example.com", ("TEE", 3))  # 60.00
    n = {k: number_of(shop, v) for k, v in locals().items() if k in {"waiting", "mugs", "cap"}}
    n["registered"] = number_of(shop, registered)

    def listed(**params: Any) -> list[str]:
        page = owner_console.get("/console/orders", params=params)
        assert page.status_code == 200, page.text[:500]
        return sorted(numbers(page.text))

    assert listed() == sorted(n.values())
    assert listed(status="paid") == sorted([n["mugs"], n["cap"]])
    assert listed(sku="MUG") == [n["mugs"]]
    assert listed(tag="vip") == [n["cap"]]
    assert listed(min_total="20") == sorted([n["waiting"], n["mugs"], n["registered"]])
    assert listed(max_total="10.00") == [n["cap"]]
    assert listed(min_total="20.01", max_total="59.99") == [n["mugs"]]
    assert listed(customer=str(customer_id)) == [n["registered"]]
    assert listed(customer="buyer@example.com") == [n["registered"]]
    assert listed(customer="guest@example.com") == sorted([n["waiting"], n["mugs"], n["cap"]])
    assert listed(customer="nobody@example.com") == []
    assert listed(number=n["cap"].lower()) == [n["cap"]]
    today = shop.container.clock.now().date()
    assert listed(**{"from": today.isoformat(), "to": today.isoformat()}) == sorted(n.values())
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert listed(**{"from": tomorrow}) == []
    assert listed(**{"to": (today - timedelta(days=1)).isoformat()}) == []
    assert listed(status="paid", tag="vip") == [n["cap"]]


def test_the_list_sorts_by_total_and_placed_time(shop: Shop, owner_console: ConsoleClient) -> None:
    ids = [shop.place(("TEE", 1)), shop.place(("CAP", 1)), shop.place(("MUG", 1))]
    tee, cap, mug = (number_of(shop, i) for i in ids)
    by = {
        s: numbers(owner_console.get("/console/orders", params={"sort": s}).text)
        for s in orders_view.SORTS
    }
    assert by["total"] == [cap, mug, tee]
    assert by["-total"] == [tee, mug, cap]
    assert by["-placed"] == [mug, cap, tee]  # the default: newest first
    assert by["placed"] == [tee, cap, mug]
    assert numbers(owner_console.get("/console/orders").text) == by["-placed"]
    page = owner_console.get("/console/orders", params={"sort": "total"}).text
    assert 'aria-sort="ascending"' in page
    assert "sort=-total" in page  # the column header now sorts the other way


def test_the_list_pages_keep_the_filters(
    shop: Shop, owner_console: ConsoleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders_view, "PAGE_SIZE", 2)
    placed = [number_of(shop, shop.place(("TEE", 1))) for _ in range(5)]
    newest_first = list(reversed(placed))
    first = owner_console.get("/console/orders", params={"sku": "TEE"})
    assert numbers(first.text) == newest_first[:2]
    assert "page=2" in first.text
    assert "sku=TEE" in first.text
    assert 'rel="prev"' not in first.text
    second = owner_console.get("/console/orders", params={"sku": "TEE", "page": "2"})
    assert numbers(second.text) == newest_first[2:4]
    assert 'rel="prev"' in second.text
    assert 'rel="next"' in second.text
    third = owner_console.get("/console/orders", params={"sku": "TEE", "page": "3"})
    assert numbers(third.text) == newest_first[4:]
    assert 'rel="next"' not in third.text


def test_htmx_gets_the_page_body_or_only_the_table(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    number = number_of(shop, shop.place(("TEE", 1)))
    body = owner_console.get("/console/orders", headers={"HX-Request": "true"})
    assert body.status_code == 200
    assert "<html" not in body.text
    assert 'class="filters card"' in body.text
    table = owner_console.get(
        "/console/orders", headers={"HX-Request": "true", "HX-Target": "orders-results"}
    )
    assert 'id="orders-results"' in table.text
    assert 'class="filters' not in table.text
    assert numbers(table.text) == [number]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-02-30"}, "from", "Enter a valid date (YYYY-MM-DD)."),
        ({"from": "2026-05-09", "to": "2026-05-01"}, "to", "The start must be before the end."),
        ({"min_total": "-5"}, "min_total", "Enter zero or more."),
        ({"max_total": "ten"}, "max_total", "Enter an amount such as 12.50."),
        ({"max_total": "1.005"}, "max_total", "Enter an amount such as 12.50."),
        ({"min_total": "30", "max_total": "10"}, "max_total", "The start must be before the end."),
        ({"customer": "Li Lei"}, "customer", "Enter a customer number or an e-mail address."),
        ({"status": "lost"}, "status", "This value is not valid."),
    ],
)
def test_bad_filters_are_explained_beside_the_field(
    shop: Shop, owner_console: ConsoleClient, params: dict[str, str], field: str, message: str
) -> None:
    shop.place(("TEE", 1))
    page = owner_console.get("/console/orders", params=params)
    assert page.status_code == 422
    assert (
        f'<span class="field-error" id="{field}-error" data-field="{field}">{message}</span>'
        in (page.text)
    )
    assert numbers(page.text) == []  # nothing listed for a filter that is not valid
    export = owner_console.get("/console/orders/export.csv", params=params)
    assert export.status_code == 422
    assert message in export.text


# --- the CSV export ------------------------------------------------------------------


def test_the_export_streams_the_filtered_orders_as_csv(
    shop: Shop, owner_console: ConsoleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders_view, "EXPORT_BATCH", 2)  # several batches, keyset-paged
    mugs = [paid(shop, ("MUG", q)) for q in (1, 2, 3)]
    other = shop.place(("TEE", 1))
    tag(shop, mugs[1], "=cmd")
    response = owner_console.get(
        "/console/orders/export.csv", params={"sku": "MUG", "sort": "total"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="orders-')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["number"] for r in rows] == [number_of(shop, i) for i in mugs]
    assert number_of(shop, other) not in response.text
    first = rows[0]
    assert (first["status"], first["payment_status"], first["currency"]) == ("paid", "paid", "USD")
    assert (first["units"], first["subtotal"], first["total"], first["refunded"]) == (
        "1",
        "12.50",
        "12.50",
        "0.00",
    )
    assert [r["total"] for r in rows] == ["12.50", "25.00", "37.50"]
    assert rows[1]["tags"] == "'=cmd"  # never a formula in a spreadsheet
    assert list(rows[0]) == list(orders_view.EXPORT_COLUMNS)
    everything = owner_console.get("/console/orders/export.csv")
    assert len(list(csv.DictReader(io.StringIO(everything.text)))) == 4


def test_an_export_of_nothing_is_the_header_alone(owner_console: ConsoleClient) -> None:
    response = owner_console.get("/console/orders/export.csv")
    assert response.status_code == 200
    assert response.text.strip() == ",".join(orders_view.EXPORT_COLUMNS)


# --- the order page ------------------------------------------------------------------


def test_the_order_page_shows_every_section(shop: Shop, owner_console: ConsoleClient) -> None:
    order_id = paid(shop, ("TEE", 2), ("MUG", 1))
    with shop.container.uow(SYSTEM) as uow:
        orders.add_note(uow, order_id, "called the customer")
        uow.commit()
    tag(shop, order_id, "gift")
    page = owner_console.get(f"/console/orders/{order_id}")
    assert page.status_code == 200
    body = page.text
    assert number_of(shop, order_id) in body
    assert 'data-order-status="paid"' in body
    assert 'data-payment-status="paid"' in body
    for section in ("contact", "lines", "pricing", "stock", "payments", "shipments", "returns"):
        assert f'data-section="{section}"' in body, section
    assert 'data-line="TEE"' in body
    assert 'data-line="MUG"' in body
    assert "$52.50" in body  # the total: two tees at 20.00 and a mug at 12.50
    assert 'data-held="TEE@SH1"' in body
    assert 'data-reservation="active"' in body
    assert 'data-kind="placed"' in body
    assert 'data-kind="payment_captured"' in body
    assert "called the customer" in body
    assert 'data-tag="gift"' in body
    assert "Nothing has shipped yet." in body
    assert "No returns for this order." in body
    # the owner may act: every form is there
    for form in (
        'data-form="cancel"',
        'data-form="refund"',
        'data-form="note"',
        'data-form="tags"',
    ):
        assert form in body
    assert f'data-form="ship-{shop.warehouse_id}"' in body


def test_a_missing_order_is_a_not_found_page(owner_console: ConsoleClient) -> None:
    page = owner_console.get("/console/orders/999")
    assert page.status_code == 404
    assert 'data-code="orders.not_found"' in page.text


def test_contact_details_are_masked_without_pii_permission(
    shop: Shop, console_as: ConsoleFactory
) -> None:
    order_id = shop.place(("TEE", 1))
    analyst = console_as(Role.ANALYST).get(f"/console/orders/{order_id}").text
    assert "guest@example.com" not in analyst
    assert "Wang Fang" not in analyst
    assert "g***@example.com" in analyst
    assert "W*** F***" in analyst
    assert "13812345678" not in analyst
    assert 'data-pii="masked"' in analyst
    agent = console_as(Role.CS_AGENT).get(f"/console/orders/{order_id}").text
    assert "guest@example.com" in agent
    assert "Wang Fang" in agent
    assert "13812345678" in agent
    assert 'data-pii="masked"' not in agent


def test_a_warehouse_user_sees_no_payments_and_may_not_refund(
    shop: Shop, console_as: ConsoleFactory
) -> None:
    order_id = paid(shop, ("TEE", 2))
    warehouse = console_as(Role.WAREHOUSE)
    page = warehouse.get(f"/console/orders/{order_id}").text
    assert 'data-section="payments"' not in page
    assert 'data-form="refund"' not in page
    assert 'data-form="cancel"' not in page  # no orders.write either
    assert f'data-form="ship-{shop.warehouse_id}"' in page  # but it ships
    before = snapshot(shop.container)
    refused = warehouse.post(
        f"/console/orders/{order_id}/refunds", {"amount": "5.00", "reason": "goodwill"}
    )
    assert refused.status_code == 403
    assert 'data-code="auth.permission_denied"' in refused.text
    assert snapshot(shop.container) == before


def test_a_reader_cannot_cancel(shop: Shop, console_as: ConsoleFactory) -> None:
    order_id = paid(shop, ("TEE", 1))
    analyst = console_as(Role.ANALYST)
    before = snapshot(shop.container)
    refused = analyst.post(f"/console/orders/{order_id}/cancel", {"reason": "no"})
    assert refused.status_code == 403
    assert snapshot(shop.container) == before
    assert shop.order(order_id).status == "paid"


# --- actions on one order ------------------------------------------------------------


def test_cancel_releases_the_stock_and_refunds(shop: Shop, owner_console: ConsoleClient) -> None:
    order_id = paid(shop, ("TEE", 2))
    assert reserved(shop, "TEE") == 2
    page = owner_console.post(f"/console/orders/{order_id}/cancel", {"reason": "customer asked"})
    assert page.status_code == 200, page.text[:500]
    assert "Order cancelled; the stock it held is available again." in page.text
    assert "$40.00 refunded." in page.text
    assert 'data-order-status="cancelled"' in page.text
    assert 'data-reservation="released"' in page.text
    assert "<html" not in page.text  # htmx: the order's body only
    order = shop.order(order_id)
    assert (order.status, order.payment_status, order.refunded_minor) == (
        "cancelled",
        "refunded",
        4000,
    )
    assert reserved(shop, "TEE") == 0
    assert "stock_released" in timeline(shop, order_id)


def test_cancel_needs_a_reason_and_a_shipped_order_cannot_be_cancelled(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    order_id = paid(shop, ("TEE", 1))
    before = snapshot(shop.container)
    page = owner_console.post(f"/console/orders/{order_id}/cancel", {"reason": "  "})
    assert page.status_code == 422
    assert 'id="cancel-reason-error" data-field="reason">This field is required.' in page.text
    assert snapshot(shop.container) == before
    shop.ship(order_id)
    before = snapshot(shop.container)
    page = owner_console.post(f"/console/orders/{order_id}/cancel", {"reason": "too late"})
    assert page.status_code == 409
    assert "The order has shipped: start a return instead." in page.text
    assert snapshot(shop.container) == before


def test_a_plain_form_post_is_redirected_back_to_the_order(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    order_id = paid(shop, ("TEE", 1))
    response = owner_console.client.post(
        f"/console/orders/{order_id}/notes",
        data={"note": "from a plain form", "csrf_token": owner_console.csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/orders/{order_id}"
    assert timeline(shop, order_id)[-1] == "note"


def test_ship_from_a_warehouse_with_carrier_and_tracking_number(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    order_id = paid(shop, ("TEE", 2))
    url = f"/console/orders/{order_id}/shipments"
    before = snapshot(shop.container)
    bad = owner_console.post(
        url, {"warehouse_id": shop.warehouse_id, "carrier": "U P S", "tracking_number": "1Z9"}
    )
    assert bad.status_code == 422
    assert "A carrier code is 2 to 32 lowercase letters" in bad.text
    assert "A tracking number is 4 to 64 letters" in bad.text
    assert snapshot(shop.container) == before
    missing = owner_console.post(url, {"warehouse_id": shop.warehouse_id, "carrier": ""})
    assert missing.status_code == 422
    assert "This field is required." in missing.text
    page = owner_console.post(
        url, {"warehouse_id": shop.warehouse_id, "carrier": "ups", "tracking_number": "1z 999 001"}
    )
    assert page.status_code == 200, page.text[:500]
    assert "Shipped with ups, tracking number 1Z999001." in page.text
    assert 'data-shipment="1Z999001"' in page.text
    assert 'data-order-status="shipped"' in page.text
    assert shop.order(order_id).status == "shipped"
    with shop.container.uow(SYSTEM) as uow:
        found = fulfilment.list_shipments(uow, fulfilment.ShipmentFilter(order_id=order_id))
    assert [(s.carrier, s.tracking_number) for s in found.items] == [("ups", "1Z999001")]
    again = owner_console.post(
        url, {"warehouse_id": shop.warehouse_id, "carrier": "ups", "tracking_number": "1Z999002"}
    )
    assert again.status_code == 409
    assert "Only paid orders that are not fully shipped can ship." in again.text


def test_refund_part_of_an_order_by_amount_or_by_line(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    order_id = paid(shop, ("TEE", 2), ("MUG", 1))  # 52.50
    url = f"/console/orders/{order_id}/refunds"
    page = owner_console.post(url, {"amount": "5.00", "reason": "late delivery"})
    assert page.status_code == 200, page.text[:500]
    assert "$5.00 refunded." in page.text
    assert 'data-refund="succeeded"' in page.text
    order = shop.order(order_id)
    assert (order.payment_status, order.refunded_minor) == ("partially_refunded", 500)
    _tee, mug = shop.lines(order_id)
    page = owner_console.post(url, {f"line_{mug.id}": "2.50", "reason": "chipped mug"})
    assert page.status_code == 200, page.text[:500]
    refunded = {line.sku: line.refunded_minor for line in shop.lines(order_id)}
    assert refunded["MUG"] - mug.refunded_minor == 250
    assert shop.order(order_id).refunded_minor == 750


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"amount": "", "reason": "x"}, 422, "Enter an amount, or amounts per line."),
        ({"amount": "abc", "reason": "x"}, 422, "Enter an amount such as 12.50."),
        ({"amount": "-3", "reason": "x"}, 422, "Enter an amount greater than zero."),
        ({"amount": "5", "reason": ""}, 422, "This field is required."),
        ({"amount": "5", "line": "1", "reason": "x"}, 422, "Enter either one amount or amounts"),
        (
            {"amount": "60.00", "reason": "x"},
            409,
            "The refund is more than what was paid and not yet refunded.",
        ),
        ({"line": "30.00", "reason": "x"}, 409, "The refund is more than this line"),
    ],
)
def test_bad_refunds_are_explained_and_change_nothing(
    shop: Shop, owner_console: ConsoleClient, data: dict[str, str], status: int, message: str
) -> None:
    order_id = paid(shop, ("TEE", 1), ("MUG", 2))  # 45.00: TEE 20.00, MUG 25.00
    tee = shop.lines(order_id)[0]
    form = {k: v for k, v in data.items() if k != "line"}
    if "line" in data:
        form[f"line_{tee.id}"] = data["line"]
    before = snapshot(shop.container)
    page = owner_console.post(f"/console/orders/{order_id}/refunds", form)
    assert page.status_code == status, page.text[:800]
    assert message in page.text
    assert 'data-form="refund"' in page.text  # the form is still there, with its values
    assert snapshot(shop.container) == before


def test_notes_and_tags(shop: Shop, owner_console: ConsoleClient) -> None:
    order_id = shop.place(("TEE", 1))
    base = f"/console/orders/{order_id}"
    page = owner_console.post(f"{base}/notes", {"note": "customer called about delivery"})
    assert page.status_code == 200
    assert "customer called about delivery" in page.text
    page = owner_console.post(f"{base}/tags", {"tag": "priority"})
    assert page.status_code == 200
    assert 'data-tag="priority"' in page.text
    with shop.container.session_factory() as session:
        assert orders.tags_of(session, [order_id]) == {order_id: ["priority"]}
    before = snapshot(shop.container)
    for url, form, message in [
        (f"{base}/notes", {"note": ""}, "Write a note of at most 2,000 characters."),
        (f"{base}/notes", {"note": "x" * 2001}, "Write a note of at most 2,000 characters."),
        (f"{base}/tags", {"tag": "two words"}, "Tags are letters, digits"),
        (f"{base}/tags", {"tag": ""}, "This field is required."),
    ]:
        refused = owner_console.post(url, form)
        assert refused.status_code == 422, url
        assert message in refused.text
    assert snapshot(shop.container) == before
    page = owner_console.post(f"{base}/tags/remove", {"tag": "priority"})
    assert page.status_code == 200
    assert 'data-tag="priority"' not in page.text
    with shop.container.session_factory() as session:
        assert orders.tags_of(session, [order_id]) == {}
    kinds = timeline(shop, order_id)
    assert kinds.count("note") == 1
    assert kinds.count("tags_changed") == 2


def _returned(shop: Shop, quantity: int = 1) -> tuple[int, int]:
    order_id = paid(shop, ("TEE", 2))
    shop.ship(order_id)
    line = shop.lines(order_id)[0]
    with shop.container.uow(SYSTEM) as uow:
        found = returns.request_return(
            uow,
            returns.RequestReturn(
                order_id, (returns.ReturnLineRequest(line.id, quantity, "size_fit"),)
            ),
        )
        uow.commit()
        return order_id, found.request.id


def _return_status(shop: Shop, return_id: int) -> str:
    with shop.container.uow(SYSTEM) as uow:
        return returns.get_return(uow, return_id).request.status


def test_approve_receive_and_refund_a_return(shop: Shop, owner_console: ConsoleClient) -> None:
    order_id, return_id = _returned(shop)
    base = f"/console/orders/{order_id}/returns/{return_id}"
    page = owner_console.post(f"{base}/approve", {"note": "ok"})
    assert page.status_code == 200
    assert f"Return #{return_id} approved." in page.text
    assert _return_status(shop, return_id) == "approved"
    line_id = _return_lines(shop, return_id)[0]
    before = snapshot(shop.container)
    missing = owner_console.post(f"{base}/receive", {f"disposition_{line_id}": "restock"})
    assert missing.status_code == 422
    assert "Choose the warehouse to restock into." in missing.text
    assert snapshot(shop.container) == before
    on_hand = _on_hand(shop, "TEE")
    page = owner_console.post(
        f"{base}/receive",
        {f"disposition_{line_id}": "restock", f"warehouse_{line_id}": shop.warehouse_id},
    )
    assert page.status_code == 200, page.text[:500]
    assert _return_status(shop, return_id) == "received"
    assert _on_hand(shop, "TEE") == on_hand + 1
    page = owner_console.post(f"{base}/refund", {})
    assert page.status_code == 200
    assert f"Return #{return_id} refunded." in page.text
    assert _return_status(shop, return_id) == "refunded"
    assert shop.order(order_id).refunded_minor == 2000


def test_reject_a_return_needs_a_reason(shop: Shop, owner_console: ConsoleClient) -> None:
    order_id, return_id = _returned(shop)
    base = f"/console/orders/{order_id}/returns/{return_id}"
    before = snapshot(shop.container)
    page = owner_console.post(f"{base}/reject", {"reason": ""})
    assert page.status_code == 422
    assert "This field is required." in page.text
    assert snapshot(shop.container) == before
    page = owner_console.post(f"{base}/reject", {"reason": "worn"})
    assert page.status_code == 200
    assert _return_status(shop, return_id) == "rejected"
    again = owner_console.post(f"{base}/approve", {})
    assert again.status_code == 409
    assert "The return's current status does not allow this." in html.unescape(again.text)
    other_order = paid(shop, ("CAP", 1))
    elsewhere = owner_console.post(f"/console/orders/{other_order}/returns/{return_id}/approve")
    assert elsewhere.status_code == 404


def test_the_warehouse_manages_returns_but_cannot_refund_them(
    shop: Shop, console_as: ConsoleFactory
) -> None:
    order_id, return_id = _returned(shop)
    warehouse = console_as(Role.WAREHOUSE)
    base = f"/console/orders/{order_id}/returns/{return_id}"
    assert warehouse.post(f"{base}/approve", {}).status_code == 200
    before = snapshot(shop.container)
    assert warehouse.post(f"{base}/refund", {}).status_code == 403
    assert snapshot(shop.container) == before


def _return_lines(shop: Shop, return_id: int) -> list[int]:
    with shop.container.uow(SYSTEM) as uow:
        return [line.id for line in returns.get_return(uow, return_id).lines]


def _on_hand(shop: Shop, sku: str) -> int:
    return sum(on_hand for _, on_hand, _ in stock_of(shop.container, sku))


# --- bulk actions --------------------------------------------------------------------


def test_bulk_cancel_reports_each_order_and_goes_on_after_a_refusal(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    first, shipped, last = paid(shop, ("TEE", 1)), paid(shop, ("MUG", 1)), paid(shop, ("CAP", 1))
    shop.ship(shipped)
    page = owner_console.post(
        "/console/orders/bulk/cancel",
        {"order_id": [str(first), str(shipped), str(last), "9999"], "bulk_reason": "fraud"},
    )
    assert page.status_code == 200, page.text[:500]
    assert page.headers["HX-Trigger"] == "orders-changed"
    results = re.findall(r'data-result="(\w+)" data-order="([^"]+)"', page.text)
    assert results == [
        ("ok", number_of(shop, first)),
        ("failed", number_of(shop, shipped)),
        ("ok", number_of(shop, last)),
        ("failed", "#9999"),
    ]
    assert "The order has shipped: start a return instead." in page.text
    assert "This order does not exist." in page.text
    statuses = [shop.order(i).status for i in (first, shipped, last)]
    assert statuses == ["cancelled", "shipped", "cancelled"]
    assert reserved(shop, "TEE") == 0
    assert reserved(shop, "CAP") == 0


def test_bulk_tag_and_bad_bulk_input(shop: Shop, owner_console: ConsoleClient) -> None:
    ids = [shop.place(("TEE", 1)), shop.place(("MUG", 1))]
    before = snapshot(shop.container)
    for form, message in [
        ({"bulk_tag": "vip"}, "Select at least one order."),
        ({"order_id": [str(ids[0])], "bulk_tag": "no spaces"}, "Tags are letters, digits"),
        ({"order_id": [str(ids[0])], "bulk_tag": ""}, "This field is required."),
    ]:
        refused = owner_console.post("/console/orders/bulk/tag", form)
        assert refused.status_code == 422
        assert message in refused.text
        assert "HX-Trigger" not in refused.headers
    refused = owner_console.post("/console/orders/bulk/cancel", {"order_id": [str(ids[0])]})
    assert refused.status_code == 422
    assert "This field is required." in refused.text
    assert snapshot(shop.container) == before
    page = owner_console.post(
        "/console/orders/bulk/tag", {"order_id": [str(i) for i in ids], "bulk_tag": "review"}
    )
    assert page.status_code == 200
    with shop.container.session_factory() as session:
        assert orders.tags_of(session, ids) == {ids[0]: ["review"], ids[1]: ["review"]}


def test_bulk_actions_need_orders_write(shop: Shop, console_as: ConsoleFactory) -> None:
    order_id = paid(shop, ("TEE", 1))
    finance = console_as(Role.FINANCE)
    assert 'data-select-all="order_id"' not in finance.get("/console/orders").text
    before = snapshot(shop.container)
    refused = finance.post(
        "/console/orders/bulk/cancel", {"order_id": [str(order_id)], "bulk_reason": "x"}
    )
    assert refused.status_code == 403
    assert snapshot(shop.container) == before


def test_stock_numbers_on_the_order_follow_the_cancel(
    shop: Shop, owner_console: ConsoleClient
) -> None:
    order_id = paid(shop, ("TEE", 3))
    page = owner_console.get(f"/console/orders/{order_id}").text
    assert 'data-available="97"' in page
    page = owner_console.post(f"/console/orders/{order_id}/cancel", {"reason": "duplicate"}).text
    assert 'data-available="100"' in page
    with shop.container.session_factory() as session:
        levels = session.scalars(
            select(inventory.StockLevel).where(inventory.StockLevel.sku == "TEE")
        ).all()
        assert [(lv.on_hand, lv.reserved) for lv in levels] == [(100, 0)]
        assert session.scalar(select(func.count()).select_from(orders.Order)) == 1
