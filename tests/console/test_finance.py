"""The finance page: the daily settlement over a range, reconciliation, payments and refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import update

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.console import guards
from shopops.console.templating import render
from shopops.console.views import finance as finance_views
from shopops.contexts import orders
from shopops.kernel.time import FrozenClock
from tests.console.conftest import ConsoleClient, ConsoleFactory
from tests.console.markup import find, one, parse
from tests.payments.shop import Shop, open_shop, snapshot


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(at("2026-03-09T15:00"))


@pytest.fixture
def container(make_container: Any, clock: FrozenClock) -> Container:
    return make_container(clock=clock, store_timezone="Asia/Shanghai")


@pytest.fixture
def world(container: Container, clock: FrozenClock) -> tuple[Shop, dict[str, int]]:
    """The settlement test's store (Asia/Shanghai): money moved on the 9th, 10th and 11th."""
    shop = open_shop(container)
    ids: dict[str, int] = {}
    ids["C"] = shop.place(("MUG", 1))  # paid on the 9th (23:00 local)
    shop.pay(ids["C"])
    clock.set(at("2026-03-09T17:00"))  # 01:00 local on the 10th
    ids["A"] = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(ids["A"])
    clock.set(at("2026-03-10T03:00"))
    ids["B"] = shop.place(("TEE", 1))
    shop.pay(ids["B"])
    shop.refund(ids["B"], amount_minor=500)
    shop.refund(ids["C"], amount_minor=1250)
    clock.set(at("2026-03-10T16:30"))  # 00:30 local on the 11th: "today" for the page
    ids["D"] = shop.place(("CAP", 1))
    shop.pay(ids["D"])
    shop.refund(ids["A"], amount_minor=300)
    return shop, ids


def test_settlement_per_day_with_totals_and_recent_lists(
    world: tuple[Shop, dict[str, int]], console_as: ConsoleFactory
) -> None:
    finance = console_as(Role.FINANCE)
    response = finance.get("/console/finance?from=2026-03-10&to=2026-03-11")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.one("tr", data_day="2026-03-10").cells() == [
        "Mar 10, 2026",
        "USD",
        "$72.50",
        "$17.50",
        "$2.70",
        "$52.30",
        "2",
        "2",
    ]
    assert page.one("tr", data_day="2026-03-11").cells() == [
        "Mar 11, 2026",
        "USD",
        "$9.99",
        "$3.00",
        "$0.59",
        "$6.40",
        "1",
        "1",
    ]
    assert page.one("tr", data_total_row="USD").cells() == [
        "Total",
        "USD",
        "$82.49",
        "$20.50",
        "$3.29",
        "$58.70",
        "3",
        "3",
    ]
    assert page.one(data_total="USD").one(data_net="").text == "$58.70"
    assert page.find(data_reconciled="")
    assert not page.find(data_mismatch="captured_differs_from_order")
    assert "Mar 10, 2026 to Mar 11, 2026" in page.one(data_range="").text
    # every payment and refund, newest first, with the order it belongs to
    shop, ids = world
    payment_rows = page.having("data-payment")
    assert len(payment_rows) == 4
    numbers = {key: shop.order(order_id).number for key, order_id in ids.items()}
    assert numbers["D"] in payment_rows[0].text
    assert "$9.99" in payment_rows[0].text
    assert numbers["C"] in payment_rows[-1].text
    refund_rows = page.having("data-refund")
    assert [r.cells()[3] for r in refund_rows] == ["$3.00", "$12.50", "$5.00"]
    assert "Succeeded" in refund_rows[0].text
    assert 'data-chart="settlement-chart"' in response.text


def test_reconciliation_mismatches_are_listed_with_their_order(
    world: tuple[Shop, dict[str, int]], console_as: ConsoleFactory, container: Container
) -> None:
    shop, ids = world
    with container.session_factory() as session, session.begin():
        session.execute(
            update(orders.Order).where(orders.Order.id == ids["B"]).values(captured_minor=1999)
        )
    finance = console_as(Role.FINANCE)
    response = finance.get("/console/finance?from=2026-03-10&to=2026-03-10")
    assert response.status_code == 200
    row = one(response.text, "tr", data_mismatch="captured_differs_from_order")
    cells = row.cells()
    assert cells[1] == shop.order(ids["B"]).number
    assert cells[2] == "Captured payments differ from the order's captured amount"
    assert cells[3:] == ["$19.99", "$20.00"]
    assert row.one("a").attrs["href"] == f"/console/orders/{ids['B']}"
    assert "1 mismatch between orders, payments and refunds." in response.text
    assert not find(response.text, data_reconciled="")


def test_an_empty_store_says_so(console_as: ConsoleFactory) -> None:
    response = console_as(Role.OWNER).get("/console/finance")
    assert response.status_code == 200
    assert "No money was captured or refunded in this period." in response.text
    assert "No payments yet." in response.text
    assert "No refunds yet." in response.text
    # the default window: the last 7 business days up to today (2026-03-09 23:00 in Shanghai)
    assert "Mar 3, 2026 to Mar 9, 2026" in one(response.text, data_range="").text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-03-11&to=2026-03-10", "to", "The start must be before the end."),
        ("from=yesterday", "from", "Enter a valid date (YYYY-MM-DD)."),
        ("to=2026-02-30", "to", "Enter a valid date (YYYY-MM-DD)."),
        ("from=2026-01-01&to=2026-03-10", "from", "Choose a period of at most 62 days."),
    ],
)
def test_bad_dates_are_explained_beside_the_field(
    world: tuple[Shop, dict[str, int]],
    console_as: ConsoleFactory,
    container: Container,
    query: str,
    field: str,
    message: str,
) -> None:
    finance = console_as(Role.FINANCE)
    before = snapshot(container)
    for htmx in (False, True):
        headers = {"HX-Request": "true"} if htmx else {}
        response = finance.get(f"/console/finance?{query}", headers=headers)
        assert response.status_code == 422
        page = parse(response.text)
        assert page.one(data_field=field).text == message
        assert page.one("input", name=field).attrs["aria-invalid"] == "true"
        # the default week is shown instead, and the htmx answer is the report alone
        assert "Mar 5, 2026 to Mar 11, 2026" in page.one(data_range="").text
        assert ("<html" in response.text) is not htmx
    assert snapshot(container) == before


def _ids(html: str, attribute: str) -> list[int]:
    return [int(e.attrs[attribute]) for e in parse(html).having(attribute)]


def test_payment_and_refund_lists_page_and_filter(
    world: tuple[Shop, dict[str, int]],
    console_as: ConsoleFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(finance_views, "PAGE_SIZE", 3)
    finance = console_as(Role.FINANCE)
    first = finance.get("/console/finance/payments", headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert "<html" not in first.text
    assert _ids(first.text, "data-payment") == [4, 3, 2]
    older = one(first.text, "nav", aria_label="Payment pages").one("a").attrs["hx-get"]
    assert older == "/console/finance/payments?status=&before=2"
    second = finance.get(older, headers={"HX-Request": "true"})
    assert _ids(second.text, "data-payment") == [1]
    assert not one(second.text, "nav", aria_label="Payment pages").find("a")
    partly = finance.get("/console/finance/payments?status=partially_refunded")
    assert "<html" in partly.text  # a plain visit gets the whole page
    assert _ids(partly.text, "data-payment") == [3, 2]
    refunds = finance.get(
        "/console/finance/refunds?status=succeeded", headers={"HX-Request": "true"}
    )
    assert _ids(refunds.text, "data-refund") == [3, 2, 1]
    bad = finance.get("/console/finance/refunds?status=lost", headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert one(bad.text, data_field="status").text == "This value is not valid."


def test_roles_without_payments_read_are_refused(console_as: ConsoleFactory) -> None:
    for role in (Role.WAREHOUSE, Role.MARKETING):
        console = console_as(role)
        for url in ("/console/finance", "/console/finance/payments", "/console/finance/refunds"):
            response = console.get(url)
            assert response.status_code == 403, (role, url)
            assert 'data-code="auth.permission_denied"' in response.text
            assert "Not allowed" in response.text


def _menu_of(console: ConsoleClient) -> list[str]:
    """The menu a role sees, on a bare page that any signed-in staff member may open."""
    app = console.client.app

    if not any(getattr(r, "path", "") == "/console/menu-probe" for r in app.routes):

        @app.get("/console/menu-probe")
        def probe(request: Request, current: Any = Depends(guards.staff())) -> Response:
            return render(request, "error.html", status=200, code="", message="")

    response = console.get("/console/menu-probe")
    assert response.status_code == 200
    return [a.attrs["href"] for a in one(response.text, "nav", class_="nav").find("a")]


def test_the_menu_shows_finance_only_to_roles_with_payments_read(
    console_as: ConsoleFactory,
) -> None:
    warehouse_menu = _menu_of(console_as(Role.WAREHOUSE))
    assert "/console/inventory" in warehouse_menu
    assert "/console/finance" not in warehouse_menu
    finance_menu = _menu_of(console_as(Role.FINANCE))
    assert "/console/finance" in finance_menu
    assert "/console/webhooks" not in finance_menu
