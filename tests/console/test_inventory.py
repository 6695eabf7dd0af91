"""The inventory pages: stock by SKU and warehouse, the movement ledger, and the stock actions.

Every action is checked for its effect on stock levels and the ledger; every bad
input answers 422 with the message beside the field and leaves the database as
it was; roles without the permission get 403.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import inventory
from tests.architecture.test_permission_matrix import _snapshot
from tests.commerce import SYSTEM, add_skus, add_warehouse, stock_of
from tests.console.conftest import ConsoleClient, ConsoleFactory


class _Rows(HTMLParser):
    """Table rows carrying ``data-*`` attributes, with the text of their ``data-col`` cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._column: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "tr" and any(k.startswith("data-") for k in found):
            self.rows.append({k.removeprefix("data-"): v for k, v in found.items()})
        elif tag == "td" and "data-col" in found and self.rows:
            self._column = found["data-col"]
            self.rows[-1][self._column] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._column = None

    def handle_data(self, data: str) -> None:
        if self._column is not None:
            self.rows[-1][self._column] += data.strip()


def rows_of(html: str) -> list[dict[str, str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def stock_rows(html: str) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["sku"], r["warehouse"]): r for r in rows_of(html) if "warehouse" in r}


def field_error(html: str, form: str, field: str) -> str:
    """The inline message of ``field`` in the form ``form`` (empty when there is none)."""
    marker = f'id="{form}-{field}-error" data-field="{field}">'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("<", 1)[0]


def movement_count(container: Container) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(inventory.StockMovement)) or 0)


@pytest.fixture
def store(container: Container) -> dict[str, int]:
    """Two SKUs in two warehouses: SH1 holds 10 TEE-S and 4 TEE-M, BJ1 holds 3 TEE-S."""
    add_skus(container, {"TEE-S": 1999, "TEE-M": 1999})
    sh1 = add_warehouse(container, "SH1", priority=10, stock={"TEE-S": 10, "TEE-M": 4})
    bj1 = add_warehouse(container, "BJ1", region="CN-BJ", priority=20, stock={"TEE-S": 3})
    with container.uow(SYSTEM) as uow:
        inventory.set_threshold(uow, inventory.SetThreshold("TEE-M", 5))
        uow.commit()
    return {"SH1": sh1, "BJ1": bj1}


def on_hand(container: Container, sku: str) -> dict[int, int]:
    return {warehouse: hand for warehouse, hand, _ in stock_of(container, sku)}


# --- the stock page -----------------------------------------------------------------------


def test_the_stock_page_shows_each_level_with_its_threshold(
    owner_console: ConsoleClient, store: dict[str, int]
) -> None:
    response = owner_console.get("/console/inventory")
    assert response.status_code == 200
    rows = stock_rows(response.text)
    assert set(rows) == {("TEE-M", "SH1"), ("TEE-S", "SH1"), ("TEE-S", "BJ1")}
    medium = rows[("TEE-M", "SH1")]
    assert (medium["on_hand"], medium["reserved"], medium["available"]) == ("4", "0", "4")
    assert medium["threshold"] == "5"
    assert rows[("TEE-S", "BJ1")]["on_hand"] == "3"
    assert "Low stock" in response.text  # TEE-M: 4 available, threshold 5
    assert 'id="adjust-form"' in response.text  # the owner may act


def test_reserved_stock_is_not_available(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    with container.uow(SYSTEM) as uow:
        inventory.reserve(uow, inventory.ReserveStock("SO-1", {"TEE-S": 6}))
        uow.commit()
    row = stock_rows(owner_console.get("/console/inventory?sku=TEE-S").text)[("TEE-S", "SH1")]
    assert (row["on_hand"], row["reserved"], row["available"]) == ("10", "6", "4")


def test_filters_by_sku_warehouse_and_low_stock(
    owner_console: ConsoleClient, store: dict[str, int]
) -> None:
    by_sku = owner_console.get("/console/inventory?sku=tee-s")
    assert set(stock_rows(by_sku.text)) == {("TEE-S", "SH1"), ("TEE-S", "BJ1")}
    by_warehouse = owner_console.get(f"/console/inventory?warehouse={store['BJ1']}")
    assert set(stock_rows(by_warehouse.text)) == {("TEE-S", "BJ1")}
    low = owner_console.get("/console/inventory?low=1")
    assert set(stock_rows(low.text)) == {("TEE-M", "SH1")}
    nothing = owner_console.get("/console/inventory?sku=NOPE")
    assert stock_rows(nothing.text) == {}
    assert "No stock matches these filters." in nothing.text


def test_htmx_gets_only_the_table_which_reloads_itself_after_an_action(
    owner_console: ConsoleClient, store: dict[str, int]
) -> None:
    response = owner_console.get("/console/inventory?sku=TEE-S", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'hx-trigger="stock-changed from:body"' in response.text
    assert 'hx-get="/console/inventory?sku=TEE-S&amp;page=1"' in response.text


def test_an_empty_store_says_so(owner_console: ConsoleClient) -> None:
    response = owner_console.get("/console/inventory")
    assert response.status_code == 200
    assert "No stock yet." in response.text


def test_a_bad_filter_is_explained(owner_console: ConsoleClient, store: dict[str, int]) -> None:
    response = owner_console.get("/console/inventory?warehouse=abc&page=0")
    assert response.status_code == 422
    assert 'data-field="warehouse"' in response.text
    assert "Enter a whole number." in response.text
    assert 'data-field="page"' in response.text
    assert len(stock_rows(response.text)) == 3  # the page stays usable, unfiltered


def test_pages_of_fifty(owner_console: ConsoleClient, container: Container) -> None:
    skus = {f"SKU-{n:02d}": 100 for n in range(26)}
    add_skus(container, skus)
    add_warehouse(container, "SH1", stock=dict.fromkeys(skus, 1))
    add_warehouse(container, "BJ1", stock=dict.fromkeys(skus, 2))
    first = owner_console.get("/console/inventory")
    assert len(stock_rows(first.text)) == 50
    assert "page=2" in first.text
    assert "Previous" not in first.text
    second = owner_console.get("/console/inventory?page=2")
    assert set(stock_rows(second.text)) == {("SKU-25", "SH1"), ("SKU-25", "BJ1")}
    assert "Previous" in second.text
    assert ">Next<" not in second.text


# --- the movement ledger ------------------------------------------------------------------


def test_the_ledger_lists_movements_newest_first(
    owner_console: ConsoleClient, store: dict[str, int]
) -> None:
    owner_console.post(
        "/console/inventory/adjustments",
        {"sku": "TEE-M", "warehouse": store["SH1"], "quantity": "-1", "reason": "damaged"},
    )
    response = owner_console.get("/console/inventory/movements")
    assert response.status_code == 200
    rows = [r for r in rows_of(response.text) if "movement" in r]
    assert [r["kind"] for r in rows] == ["adjustment", "receipt", "receipt", "receipt"]
    assert rows[0]["quantity"] == "-1"
    ids = [int(r["movement"]) for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert "damaged" in response.text


def test_ledger_filters(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    owner_console.post(
        "/console/inventory/transfers",
        {"sku": "TEE-S", "source": store["SH1"], "destination": store["BJ1"], "quantity": "2"},
    )

    def kinds(query: str) -> list[str]:
        response = owner_console.get(f"/console/inventory/movements?{query}")
        assert response.status_code == 200, response.text[:500]
        return [r["kind"] for r in rows_of(response.text) if "movement" in r]

    assert kinds("sku=TEE-M") == ["receipt"]
    assert kinds(f"warehouse={store['BJ1']}") == ["transfer_in", "receipt"]
    assert kinds("kind=transfer_out") == ["transfer_out"]
    assert kinds("reference=transfer:SH1") == ["transfer_in", "transfer_out"]
    today = container.clock.now().date()
    assert len(kinds(f"start={today - timedelta(days=1)}&end={today + timedelta(days=1)}")) == 5
    assert kinds(f"start={today + timedelta(days=2)}") == []
    assert kinds(f"end={today - timedelta(days=2)}") == []
    empty = owner_console.get("/console/inventory/movements?kind=sale")
    assert "No movements match these filters." in empty.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2026-13-01", "start", "Enter a valid date (YYYY-MM-DD)."),
        ("end=yesterday", "end", "Enter a valid date (YYYY-MM-DD)."),
        ("start=2026-05-09&end=2026-05-01", "end", "The start must be before the end."),
        ("kind=theft", "kind", "This value is not valid."),
    ],
)
def test_bad_ledger_filters_are_explained(
    owner_console: ConsoleClient, store: dict[str, int], query: str, field: str, message: str
) -> None:
    response = owner_console.get(f"/console/inventory/movements?{query}")
    assert response.status_code == 422
    assert f'<p data-field="{field}">{message}</p>' in response.text
    assert f'id="filter-{field}-error" data-field="{field}">{message}' in response.text


def test_an_empty_ledger_says_so(owner_console: ConsoleClient) -> None:
    response = owner_console.get("/console/inventory/movements")
    assert response.status_code == 200
    assert "The ledger is empty" in response.text


# --- actions --------------------------------------------------------------------------------


def test_an_adjustment_changes_on_hand_and_writes_the_ledger(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    response = owner_console.post(
        "/console/inventory/adjustments",
        {"sku": "TEE-S", "warehouse": store["SH1"], "quantity": "-3", "reason": "water damage"},
    )
    assert response.status_code == 200, response.text[:500]
    assert response.headers["HX-Trigger"] == "stock-changed"
    assert "Adjusted TEE-S in SH1: 7 on hand now." in response.text
    assert on_hand(container, "TEE-S") == {store["SH1"]: 7, store["BJ1"]: 3}
    with container.session_factory() as session:
        latest = session.scalars(
            select(inventory.StockMovement).order_by(inventory.StockMovement.id.desc()).limit(1)
        ).one()
    assert (latest.kind, latest.quantity, latest.reason) == ("adjustment", -3, "water damage")
    assert latest.actor.startswith("user:")


def test_a_transfer_moves_stock_between_warehouses(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    before = movement_count(container)
    response = owner_console.post(
        "/console/inventory/transfers",
        {"sku": "TEE-S", "source": store["SH1"], "destination": store["BJ1"], "quantity": "4"},
    )
    assert response.status_code == 200, response.text[:500]
    assert "Moved 4 of TEE-S from SH1 to BJ1." in response.text
    assert on_hand(container, "TEE-S") == {store["SH1"]: 6, store["BJ1"]: 7}
    assert movement_count(container) == before + 2


def test_a_cycle_count_posts_a_count_correction(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    response = owner_console.post(
        "/console/inventory/counts",
        {"sku": "TEE-S", "warehouse": store["SH1"], "counted": "8", "note": "aisle 4"},
    )
    assert response.status_code == 200, response.text[:500]
    assert "Counted 8, expected 10: a correction of -2 was posted." in response.text
    assert on_hand(container, "TEE-S")[store["SH1"]] == 8
    ledger = owner_console.get("/console/inventory/movements?kind=count_correction").text
    assert [r["quantity"] for r in rows_of(ledger) if "movement" in r] == ["-2"]
    same = owner_console.post(
        "/console/inventory/counts",
        {"sku": "TEE-S", "warehouse": store["SH1"], "counted": "8"},
    )
    assert "nothing to correct" in same.text
    assert on_hand(container, "TEE-S")[store["SH1"]] == 8


def test_a_threshold_is_set_per_sku(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    response = owner_console.post(
        "/console/inventory/thresholds", {"sku": "TEE-S", "threshold": "12"}
    )
    assert response.status_code == 200, response.text[:500]
    with container.session_factory() as session:
        assert session.get(inventory.StockThreshold, "TEE-S").low_stock_threshold == 12
    rows = stock_rows(owner_console.get("/console/inventory?low=1").text)
    assert set(rows) == {("TEE-M", "SH1"), ("TEE-S", "SH1"), ("TEE-S", "BJ1")}
    assert rows[("TEE-S", "BJ1")]["threshold"] == "12"


def test_a_plain_form_post_redirects_back_to_the_stock(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    response = owner_console.post(
        "/console/inventory/adjustments",
        {"sku": "TEE-M", "warehouse": store["SH1"], "quantity": "5", "reason": "found"},
        htmx=False,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/inventory?sku=TEE-M"
    assert on_hand(container, "TEE-M")[store["SH1"]] == 9
    bad = owner_console.post(
        "/console/inventory/adjustments",
        {"sku": "TEE-M", "warehouse": store["SH1"], "quantity": "x", "reason": "found"},
        htmx=False,
    )
    assert bad.status_code == 422
    assert "<html" in bad.text  # the whole page, with the message beside the field
    assert field_error(bad.text, "adjust", "quantity") == "Enter a whole number."


BAD_ACTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    # (action, form, field, message) -- warehouses are codes here, ids in the request
    ("adjustments", {"sku": "NOPE", "quantity": "2", "reason": "x"}, "sku", "No product has"),
    (
        "adjustments",
        {"sku": "TEE-S", "quantity": "0", "reason": "x"},
        "quantity",
        "other than zero",
    ),
    ("adjustments", {"sku": "TEE-S", "quantity": "two", "reason": "x"}, "quantity", "whole number"),
    ("adjustments", {"sku": "TEE-S", "quantity": "1.5", "reason": "x"}, "quantity", "whole number"),
    ("adjustments", {"sku": "TEE-S", "quantity": "-11", "reason": "x"}, "quantity", "reserved"),
    ("adjustments", {"sku": "TEE-S", "quantity": "2", "reason": " "}, "reason", "required"),
    ("adjustments", {"sku": "", "quantity": "2", "reason": "x"}, "sku", "required"),
    (
        "adjustments",
        {"sku": "TEE-S", "warehouse": "999", "quantity": "2", "reason": "x"},
        "warehouse",
        "Choose one of the warehouses.",
    ),
    (
        "transfers",
        {"sku": "TEE-S", "source": "SH1", "destination": "SH1", "quantity": "1"},
        "destination",
        "different warehouse",
    ),
    ("transfers", {"sku": "TEE-S", "quantity": "0"}, "quantity", "greater than zero"),
    ("transfers", {"sku": "TEE-S", "quantity": "-2"}, "quantity", "greater than zero"),
    ("transfers", {"sku": "TEE-S", "quantity": "lots"}, "quantity", "whole number"),
    ("transfers", {"sku": "NOPE", "quantity": "1"}, "sku", "No product has"),
    ("transfers", {"sku": "TEE-S", "quantity": "11"}, "quantity", "Not enough stock"),
    ("transfers", {"sku": "TEE-S", "source": "", "quantity": "1"}, "source", "required"),
    ("counts", {"sku": "TEE-S", "counted": "-1"}, "counted", "zero or more"),
    ("counts", {"sku": "TEE-S", "counted": "ten"}, "counted", "whole number"),
    ("counts", {"sku": "NOPE", "counted": "1"}, "sku", "No product has"),
    ("thresholds", {"sku": "TEE-S", "threshold": "-5"}, "threshold", "zero or more"),
    ("thresholds", {"sku": "TEE-S", "threshold": "5x"}, "threshold", "whole number"),
    ("thresholds", {"sku": "NOPE", "threshold": "5"}, "sku", "No product"),
]
FORM_IDS = {"adjustments": "adjust", "transfers": "transfer", "counts": "count"}


@pytest.mark.parametrize(("action", "data", "field", "message"), BAD_ACTIONS)
def test_bad_input_is_explained_and_changes_nothing(
    owner_console: ConsoleClient,
    store: dict[str, int],
    container: Container,
    action: str,
    data: dict[str, Any],
    field: str,
    message: str,
) -> None:
    defaults = {"warehouse": "SH1", "source": "SH1", "destination": "BJ1"}
    form = {**defaults, **data}
    for name in ("warehouse", "source", "destination"):
        form[name] = store.get(form[name], form[name])
    before = _snapshot(container)
    response = owner_console.post(f"/console/inventory/{action}", form)
    assert response.status_code == 422, response.text[:500]
    assert message in field_error(response.text, FORM_IDS.get(action, "threshold"), field)
    assert "HX-Trigger" not in response.headers
    assert _snapshot(container) == before


def test_counting_below_the_reserved_quantity_is_refused(
    owner_console: ConsoleClient, store: dict[str, int], container: Container
) -> None:
    with container.uow(SYSTEM) as uow:
        inventory.reserve(uow, inventory.ReserveStock("SO-2", {"TEE-S": 9}))
        uow.commit()
    before = _snapshot(container)
    response = owner_console.post(
        "/console/inventory/counts", {"sku": "TEE-S", "warehouse": store["SH1"], "counted": "5"}
    )
    assert response.status_code == 422
    assert "reserved for orders" in field_error(response.text, "count", "counted")
    assert _snapshot(container) == before


# --- permissions --------------------------------------------------------------------------


def test_read_only_roles_see_stock_but_cannot_act(
    console_as: ConsoleFactory, store: dict[str, int], container: Container
) -> None:
    analyst = console_as(Role.ANALYST)
    page = analyst.get("/console/inventory")
    assert page.status_code == 200
    assert len(stock_rows(page.text)) == 3
    assert "adjust-form" not in page.text
    before = _snapshot(container)
    for action, data in [
        (
            "adjustments",
            {"sku": "TEE-S", "warehouse": store["SH1"], "quantity": "5", "reason": "x"},
        ),
        (
            "transfers",
            {"sku": "TEE-S", "source": store["SH1"], "destination": store["BJ1"], "quantity": "1"},
        ),
        ("counts", {"sku": "TEE-S", "warehouse": store["SH1"], "counted": "0"}),
        ("thresholds", {"sku": "TEE-S", "threshold": "1"}),
    ]:
        response = analyst.post(f"/console/inventory/{action}", data)
        assert response.status_code == 403, action
        assert 'data-code="auth.permission_denied"' in response.text
    assert _snapshot(container) == before


@pytest.mark.parametrize("path", ["/console/inventory", "/console/inventory/movements"])
def test_roles_without_inventory_read_are_refused(
    console_as: ConsoleFactory, store: dict[str, int], path: str
) -> None:
    response = console_as(Role.FINANCE).get(path)
    assert response.status_code == 403
    assert 'data-code="auth.permission_denied"' in response.text


def test_the_warehouse_role_may_adjust(
    console_as: ConsoleFactory, store: dict[str, int], container: Container
) -> None:
    response = console_as(Role.WAREHOUSE).post(
        "/console/inventory/adjustments",
        {"sku": "TEE-M", "warehouse": store["SH1"], "quantity": "6", "reason": "delivery"},
    )
    assert response.status_code == 200
    assert on_hand(container, "TEE-M")[store["SH1"]] == 10


def test_the_pages_speak_chinese(owner_console: ConsoleClient, store: dict[str, int]) -> None:
    owner_console.client.cookies.set("shopops_lang", "zh_CN")
    stock = owner_console.get("/console/inventory")
    assert "库存操作" in stock.text
    assert "低库存" in stock.text
    bad = owner_console.post(
        "/console/inventory/transfers",
        {"sku": "TEE-S", "source": store["SH1"], "destination": store["SH1"], "quantity": "1"},
    )
    assert field_error(bad.text, "transfer", "destination") == "请选择另一个仓库作为调入仓库。"
    assert "调入" in owner_console.get("/console/inventory/movements?kind=receipt").text
