"""Console customer pages: search with masking by role, profiles, segments and cohorts."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from shopops.analytics import customers as analytics
from shopops.analytics.customers.models import SegmentDefinition, SegmentMember
from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import customers
from shopops.contexts.orders.models import Order
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.analytics_customers.conftest import NOW, Buy, Person, Seeded, seed
from tests.conftest import ContainerFactory
from tests.console.conftest import ConsoleFactory

SYSTEM = Actor.system("test")
CATALOG = {"RUN-1": "shoes/running", "MUG-1": "kitchen"}
PEOPLE = [
    Person(1, tier="gold", tags=("vip",)),
    Person(2, tags=("wholesale",)),
    Person(3),
    Person(4),  # never ordered
]
BUYS = [
    Buy(1, 400, 20_000, ("RUN-1",)), Buy(1, 300, 25_000), Buy(1, 200, 30_000),
    Buy(1, 100, 22_000), Buy(1, 3, 40_000, ("MUG-1",)),
    Buy(2, 500, 5_000), Buy(2, 450, 6_000),
    Buy(3, 40, 3_000),
]  # fmt: skip


@pytest.fixture
def container(make_container: ContainerFactory) -> Container:
    return make_container(clock=FrozenClock(NOW))


@pytest.fixture
def store(container: Container) -> Seeded:
    return seed(container, PEOPLE, BUYS, catalog=CATALOG)


def _register(container: Container, **fields: object) -> int:
    with container.uow(SYSTEM) as uow:
        view = customers.register_customer(uow, customers.RegisterCustomer(**fields))  # type: ignore[arg-type]
        uow.commit()
    return view.id


@pytest.fixture
def people(container: Container) -> dict[str, int]:
    return {
        "wang": _register(
            container,
            email="wang.fang@example.com",
            phone="13812345678",
            name="Wang Fang",
            tags=("vip",),
        ),
        "li": _register(container, email="li.lei@example.com", phone="13900001111", name="Li Lei"),
    }


def _rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-customer="(\d+)"', html)]


# --- the list -----------------------------------------------------------------------------


def test_an_empty_store_says_so(console_as: ConsoleFactory) -> None:
    page = console_as(Role.OWNER).get("/console/customers")
    assert page.status_code == 200
    assert "No customers yet." in page.text
    assert _rows(page.text) == []


def test_personal_data_is_masked_unless_the_role_may_read_it(
    console_as: ConsoleFactory, people: dict[str, int]
) -> None:
    analyst = console_as(Role.ANALYST).get("/console/customers")
    assert analyst.status_code == 200
    assert _rows(analyst.text) == [people["wang"], people["li"]]
    assert "wang.fang@example.com" not in analyst.text
    assert "w***@example.com" in analyst.text
    assert "138****5678" in analyst.text
    assert "W*** F***" in analyst.text
    assert 'data-masked="true"' in analyst.text

    agent = console_as(Role.CS_AGENT).get("/console/customers")
    assert "wang.fang@example.com" in agent.text
    assert "13812345678" in agent.text
    assert "Wang Fang" in agent.text
    assert 'data-masked="true"' not in agent.text


def test_search_by_email_phone_and_name(console_as: ConsoleFactory, people: dict[str, int]) -> None:
    owner = console_as(Role.OWNER)
    assert _rows(owner.get("/console/customers?q=LI.LEI@example.com").text) == [people["li"]]
    assert _rows(owner.get("/console/customers?q=138 1234 5678").text) == [people["wang"]]
    assert _rows(owner.get("/console/customers?q=fang").text) == [people["wang"]]
    assert _rows(owner.get("/console/customers?q=lei&tag=vip").text) == []
    assert _rows(owner.get("/console/customers?tag=vip").text) == [people["wang"]]
    nobody = owner.get("/console/customers?q=nobody@example.com")
    assert "No customer matches this search." in nobody.text

    # without customers.pii.read a name matches only whole, so it cannot be guessed bit by bit
    analyst = console_as(Role.ANALYST)
    assert _rows(analyst.get("/console/customers?q=fang").text) == []
    found = analyst.get("/console/customers?q=wang  FANG")
    assert _rows(found.text) == [people["wang"]]
    assert "Wang Fang" not in found.text


def test_a_malformed_email_search_is_explained_beside_the_box(
    console_as: ConsoleFactory, people: dict[str, int]
) -> None:
    response = console_as(Role.OWNER).get(
        "/console/customers?q=wang@", headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert 'data-field="q"' in response.text
    assert "Enter a whole e-mail address" in response.text
    assert _rows(response.text) == []
    assert "<html" not in response.text  # the htmx fragment only


def test_pages_follow_the_cursor(console_as: ConsoleFactory, container: Container) -> None:
    seed(container, [Person(n) for n in range(1, 31)], [])
    owner = console_as(Role.OWNER)
    first = owner.get("/console/customers")
    ids = _rows(first.text)
    assert len(ids) == 25
    following = re.search(r'href="(/console/customers\?[^"]*after=(\d+))"', first.text)
    assert following is not None
    assert int(following.group(2)) == ids[-1]
    second = owner.get(following.group(1).replace("&amp;", "&"))
    assert _rows(second.text) == list(range(ids[-1] + 1, ids[-1] + 6))
    assert "First page" in second.text
    assert 'rel="next"' not in second.text


def test_a_role_without_customers_read_is_refused(console_as: ConsoleFactory) -> None:
    warehouse = console_as(Role.WAREHOUSE)
    for url in ("/console/customers", "/console/customers/1"):
        response = warehouse.get(url)
        assert response.status_code == 403
        assert 'data-code="auth.permission_denied"' in response.text


# --- a profile ----------------------------------------------------------------------------


def test_a_profile_with_orders_loyalty_and_insights(
    console_as: ConsoleFactory, store: Seeded, container: Container
) -> None:
    owner = console_as(Role.OWNER)
    customer_id = store.customer_ids[1]
    page = owner.get(f"/console/customers/{customer_id}")
    assert page.status_code == 200
    text = page.text
    assert re.search(r'data-fact="rfm">Loyal <span class="muted">R4 F4 M4</span>', text)
    assert re.search(r'data-fact="stage">High value', text)
    assert "Not computed yet: no lifetime-value model has been fitted." in text
    assert re.search(r'data-fact="points">0 ', text)
    assert re.search(r'data-fact="tier">No tier yet', text)
    with container.session_factory() as session:
        order_ids = session.scalars(
            select(Order.id).where(Order.customer_id == customer_id).order_by(Order.id.desc())
        ).all()
    assert len(order_ids) == 5
    assert [int(i) for i in re.findall(r'href="/console/orders/(\d+)"', text)] == list(order_ids)

    with container.uow(Actor.system("test")) as uow:
        analytics.fit_clv(uow, analytics.FitClv())
        uow.commit()
    fitted = owner.get(f"/console/customers/{customer_id}").text
    assert "no lifetime-value model" not in fitted
    assert re.search(r'data-fact="clv">\$[\d,]+\.\d\d<', fitted)
    assert re.search(r'data-fact="alive">\d+\.\d%<', fitted)

    prospect = owner.get(f"/console/customers/{store.customer_ids[4]}").text
    assert re.search(r'data-fact="stage">Prospect', prospect)
    assert "Not computed yet: no paid orders." in prospect
    assert "No orders yet." in prospect


def test_a_profile_shows_only_what_the_role_may_see(
    console_as: ConsoleFactory, store: Seeded
) -> None:
    agent = console_as(Role.CS_AGENT).get(f"/console/customers/{store.customer_ids[1]}")
    assert agent.status_code == 200
    assert "Insights need the analytics.read permission." in agent.text
    assert 'href="/console/orders/' in agent.text
    marketing = console_as(Role.MARKETING).get(f"/console/customers/{store.customer_ids[1]}")
    assert "Orders need the orders.read permission." in marketing.text
    assert 'data-fact="rfm">Loyal' in marketing.text


def test_an_unknown_customer_is_a_404_page(console_as: ConsoleFactory) -> None:
    response = console_as(Role.OWNER).get("/console/customers/999999")
    assert response.status_code == 404
    assert 'data-code="customers.not_found"' in response.text


# --- segments -----------------------------------------------------------------------------

BIG_SPENDERS = {
    "name": "Big spenders",
    "description": "Over $500",
    "match": "all",
    "c0_field": "total_spend",
    "c0_op": "gte",
    "c0_value": "500",
    "c1_field": "",
    "c1_op": "eq",
    "c1_value": "",
}


def _segments(container: Container) -> list[tuple[str, dict[str, object], int]]:
    with container.session_factory() as session:
        rows = session.scalars(select(SegmentDefinition).order_by(SegmentDefinition.id)).all()
        return [(r.name, dict(r.rule), r.member_count) for r in rows]


def test_segments_page_empty_and_preview(console_as: ConsoleFactory, store: Seeded) -> None:
    analyst = console_as(Role.ANALYST)
    page = analyst.get("/console/customers/segments")
    assert page.status_code == 200
    assert "No segments yet." in page.text
    assert "Save segment" not in page.text  # saving needs promotions.write
    preview = analyst.post("/console/customers/segments/preview", BIG_SPENDERS)
    assert preview.status_code == 200
    # total spend of at least $500.00 (50,000 cents): customer 1 (1,370.00) only
    assert 'data-preview-count="1"' in preview.text
    assert f'href="/console/customers/{store.customer_ids[1]}"' in preview.text
    assert 'id="segment-builder"' in preview.text
    assert "<html" not in preview.text


def test_saving_a_segment_stores_it_with_its_members(
    console_as: ConsoleFactory, store: Seeded, container: Container
) -> None:
    marketing = console_as(Role.MARKETING)
    either = {
        **BIG_SPENDERS,
        "name": "Regulars or VIPs",
        "match": "any",
        "c0_field": "order_count",
        "c0_op": "gte",
        "c0_value": "2",
        "c1_field": "tag",
        "c1_op": "has_any",
        "c1_value": "vip, gold",
    }
    response = marketing.post("/console/customers/segments", either)
    assert response.status_code == 200, response.text
    assert "Segment Regulars or VIPs saved with 2 members." in response.text
    assert _segments(container) == [
        (
            "Regulars or VIPs",
            {
                "any": [
                    {"field": "order_count", "op": "gte", "value": 2},
                    {"field": "tag", "op": "has_any", "value": ["vip", "gold"]},
                ]
            },
            2,
        )
    ]
    listed = marketing.get("/console/customers/segments").text
    assert "(Paid orders at least 2 or Tags has any of vip, gold)" in listed

    with container.session_factory() as session:
        members = session.scalars(
            select(SegmentMember.customer_id).order_by(SegmentMember.customer_id)
        ).all()
    assert list(members) == [store.customer_ids[1], store.customer_ids[2]]

    duplicate = marketing.post("/console/customers/segments", either)
    assert duplicate.status_code == 422
    assert 'data-field="name"' in duplicate.text
    assert len(_segments(container)) == 1


def test_a_bad_rule_is_explained_beside_its_row_and_nothing_is_saved(
    console_as: ConsoleFactory, store: Seeded, container: Container
) -> None:
    marketing = console_as(Role.MARKETING)
    bad = {
        **BIG_SPENDERS,
        "c0_field": "tier",
        "c0_op": "gte",
        "c0_value": "gold",
        "c1_field": "rfm_segment",
        "c1_op": "eq",
        "c1_value": "Heroes",
        "c2_field": "order_count",
        "c2_op": "gt",
        "c2_value": "many",
    }
    response = marketing.post("/console/customers/segments", bad)
    assert response.status_code == 422
    text = response.text
    op_error = re.search(r'data-field="c0_op">([^<]+)<', text)
    assert op_error is not None
    assert "Use one of: equals, does not equal, is one of, is none of" in op_error.group(1)
    value_error = re.search(r'data-field="c1_value">([^<]+)<', text)
    assert value_error is not None
    assert "Use one of: Champions, Loyal" in value_error.group(1)
    assert re.search(r'data-field="c2_value">Enter a number\.<', text)
    assert _segments(container) == []

    unknown = marketing.post(
        "/console/customers/segments/preview",
        {"name": "x", "rule_json": json.dumps({"field": "shoe_size", "op": "eq", "value": 42})},
    )
    assert unknown.status_code == 422
    message = re.search(r'data-field="rule_json">([^<]+)<', unknown.text)
    assert message is not None
    assert "Unknown field. Allowed fields: total_spend, order_count" in message.group(1)
    assert "bought_category" in message.group(1)

    empty = marketing.post("/console/customers/segments", {"name": "", "c0_field": ""})
    assert empty.status_code == 422
    assert 'data-field="name"' in empty.text
    assert "Add at least one condition." in empty.text
    assert _segments(container) == []


def test_saving_needs_promotions_write(
    console_as: ConsoleFactory, store: Seeded, container: Container
) -> None:
    response = console_as(Role.ANALYST).post("/console/customers/segments", BIG_SPENDERS)
    assert response.status_code == 403
    assert 'data-code="auth.permission_denied"' in response.text
    assert _segments(container) == []


def test_refresh_export_and_delete(
    console_as: ConsoleFactory, store: Seeded, container: Container
) -> None:
    marketing = console_as(Role.MARKETING)
    assert marketing.post("/console/customers/segments", BIG_SPENDERS).status_code == 200
    with container.session_factory() as session:
        segment_id = session.scalars(select(SegmentDefinition.id)).one()

    exported = marketing.get(f"/console/customers/segments/{segment_id}/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["customer_id"]) for r in rows] == [store.customer_ids[1]]
    assert "email" not in rows[0]
    refused = console_as(Role.OPS_MANAGER).get(
        f"/console/customers/segments/{segment_id}/export.csv"
    )
    assert refused.status_code == 403

    refreshed = marketing.post(f"/console/customers/segments/{segment_id}/refresh")
    assert "Segment Big spenders refreshed: 1 members." in refreshed.text
    deleted = marketing.post(f"/console/customers/segments/{segment_id}/delete")
    assert deleted.status_code == 200
    assert "Segment deleted." in deleted.text
    assert _segments(container) == []
    with container.session_factory() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "analytics_segment")
            .order_by(AuditEntry.id)
        ).all()
    assert list(actions) == ["segment.created", "segment.exported", "segment.deleted"]


def test_a_missing_segment_is_a_404(console_as: ConsoleFactory) -> None:
    response = console_as(Role.OWNER).post("/console/customers/segments/999/refresh")
    assert response.status_code == 404


# --- cohorts ------------------------------------------------------------------------------


def _chart(html: str) -> dict[str, object]:
    island = re.search(r'data-chart="cohort-chart">(.*?)</script>', html, re.S)
    assert island is not None
    return dict(json.loads(island.group(1)))


def test_the_cohort_heatmap_by_customers_and_by_revenue(
    console_as: ConsoleFactory, store: Seeded
) -> None:
    owner = console_as(Role.OWNER)
    page = owner.get("/console/customers/cohorts?periods=24")
    assert page.status_code == 200
    chart = _chart(page.text)
    # first paid orders: 2025-02-15 (customer 2), 2025-05-26 (1), 2026-05-21 (3)
    assert chart["kind"] == "heatmap"
    assert chart["rows"] == ["2025-02 (1)", "2025-05 (1)", "2026-05 (1)"]
    assert len(chart["columns"]) == 24  # type: ignore[arg-type]
    cells = {(x, y): v for x, y, v in chart["cells"]}  # type: ignore[attr-defined]
    assert cells[(0, 0)] == 100.0
    assert cells[(1, 0)] == 0.0
    assert cells[(2, 0)] == 100.0
    assert (16, 0) in cells
    assert (17, 0) not in cells

    revenue = owner.get(
        "/console/customers/cohorts?measure=revenue&periods=24", headers={"HX-Request": "true"}
    )
    assert revenue.status_code == 200
    assert "<html" not in revenue.text
    assert "Revenue retention" in revenue.text
    cells = {(x, y): v for x, y, v in _chart(revenue.text)["cells"]}  # type: ignore[attr-defined]
    assert cells[(2, 0)] == 120.0  # 6,000 in April 2025 after 5,000 in February


def test_cohorts_empty_and_bad_options(console_as: ConsoleFactory) -> None:
    owner = console_as(Role.OWNER)
    empty = owner.get("/console/customers/cohorts")
    assert empty.status_code == 200
    assert "No paid orders yet" in empty.text
    bad = owner.get("/console/customers/cohorts?measure=profit&periods=7")
    assert bad.status_code == 422
    assert 'data-field="measure"' in bad.text
    assert 'data-field="periods"' in bad.text
    assert console_as(Role.CS_AGENT).get("/console/customers/cohorts").status_code == 403


def test_a_name_search_is_a_bounded_scan_that_carries_on(
    container: Container, people: dict[str, int]
) -> None:
    others = [_register(container, name=f"Zhang San {n}", phone=f"1380000000{n}") for n in range(3)]
    query = customers.SearchCustomers(limit=10)
    with container.uow(SYSTEM) as uow:  # may read personal data: names match in part
        # two profiles decrypted per call: Wang Fang and Li Lei first, then on from Li Lei
        first = customers.search_by_name(uow, "zhang", query, scan_limit=2)
        assert (first.items, first.next_after_id) == ([], people["li"])
        second = customers.search_by_name(
            uow, "zhang", replace(query, after_id=first.next_after_id), scan_limit=2
        )
        assert [c.id for c in second.items] == others[:2]
        assert second.next_after_id == others[1]
        last = customers.search_by_name(
            uow, "zhang", replace(query, after_id=second.next_after_id), scan_limit=2
        )
        assert ([c.id for c in last.items], last.next_after_id) == ([others[2]], None)
        full = customers.search_by_name(uow, "ZHANG san", replace(query, limit=2))
        assert ([c.id for c in full.items], full.next_after_id) == (others[:2], others[1])
