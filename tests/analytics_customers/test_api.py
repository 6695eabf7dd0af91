"""The customer analytics API on a small seeded store (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shopops.analytics import customers as analytics
from shopops.analytics.customers.models import SegmentMember
from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.bootstrap import SCHEDULED_JOBS, Container
from shopops.kernel.events import Actor
from tests.analytics_customers.conftest import Buy, Person, Seeded, seed
from tests.conftest import ClientFactory

CATALOG = {"RUN-1": "shoes/running", "BOOT-1": "shoes/boots", "MUG-1": "kitchen"}
PEOPLE = [
    Person(1, tier="gold", tags=("vip",)),
    Person(2, tags=("wholesale",)),
    Person(3),
    Person(4),  # never ordered
    Person(5, erased=True),
    Person(6),
    Person(7),
]
BUYS = [
    # customer 1: a regular big spender
    Buy(1, 400, 20_000, ("RUN-1",)), Buy(1, 300, 25_000), Buy(1, 200, 30_000),
    Buy(1, 100, 22_000), Buy(1, 3, 40_000, ("MUG-1",)),
    # customer 2: two orders long ago
    Buy(2, 500, 5_000, ("BOOT-1",)), Buy(2, 450, 6_000),
    # customer 3: one order this week, plus orders that do not count
    Buy(3, 2, 3_000), Buy(3, 1, 9_000, status="cancelled"),
    Buy(3, 1, 9_000, status="pending_payment"), Buy(3, 1, 9_000, currency="EUR"),
    # customer 5 (erased) and 6, 7: some repeat history
    Buy(5, 50, 10_000), Buy(5, 20, 12_000),
    Buy(6, 250, 4_000), Buy(6, 150, 4_500), Buy(6, 40, 5_000),
    Buy(7, 350, 8_000), Buy(7, 60, 7_000),
]  # fmt: skip


@pytest.fixture
def store(container: Container) -> Seeded:
    return seed(container, PEOPLE, BUYS, catalog=CATALOG)


def test_insights_before_and_after_a_clv_fit(
    store: Seeded, owner_client: TestClient, container: Container
) -> None:
    customer = store.customer_ids[1]
    body = owner_client.get(f"/v1/customers/{customer}/insights").json()
    assert body["order_count"] == 5
    assert body["total_spend_minor"] == 137_000
    assert body["recency_days"] == 3
    assert body["days_since_first_order"] == 400
    assert body["lifecycle_stage"] == "high_value"
    assert body["rfm_segment"] == "Champions"
    assert (body["probability_alive"], body["predicted_clv_minor"], body["clv_model_id"]) == (
        None,
        None,
        None,
    )
    only_cancelled = owner_client.get(f"/v1/customers/{store.customer_ids[3]}/insights").json()
    assert (only_cancelled["order_count"], only_cancelled["lifecycle_stage"]) == (1, "new")
    prospect = owner_client.get(f"/v1/customers/{store.customer_ids[4]}/insights").json()
    assert (prospect["lifecycle_stage"], prospect["rfm_segment"]) == ("prospect", None)

    fitted = owner_client.post("/v1/analytics/clv/fit", json={"holdout_days": 120})
    assert fitted.status_code == 201, fitted.text
    model = fitted.json()
    assert model["purchase_model"] == "bgnbd"
    assert set(model["purchase_params"]) == {"r", "alpha", "a", "b"}
    assert set(model["spend_params"]) == {"p", "q", "gamma"}
    assert model["customers"] == 6  # buyers with a paid order in USD
    assert model["diagnostics"]["repeat_customers"] == 5
    assert [row["frequency"] for row in model["diagnostics"]["holdout"]["by_frequency"]][-1] == "7+"
    assert owner_client.get("/v1/analytics/clv/model").json()["id"] == model["id"]

    after = owner_client.get(f"/v1/customers/{customer}/insights").json()
    assert after["clv_model_id"] == model["id"]
    assert 0 < after["probability_alive"] <= 1
    assert after["predicted_clv_minor"] > 0
    assert after["expected_purchases_90d"] > 0
    with container.session_factory() as session:
        audited = session.scalar(
            select(func.count()).where(AuditEntry.action == "clv.fitted")  # type: ignore[arg-type]
        )
    assert audited == 1


def test_unknown_customer_and_missing_model(store: Seeded, owner_client: TestClient) -> None:
    response = owner_client.get("/v1/customers/999999/insights")
    assert (response.status_code, response.json()["code"]) == (404, "analytics.customer_not_found")
    response = owner_client.get("/v1/analytics/clv/model")
    assert (response.status_code, response.json()["code"]) == (404, "clv.no_model")


def test_rfm_report(store: Seeded, client_as: ClientFactory) -> None:
    body = client_as(Role.ANALYST).get("/v1/analytics/rfm").json()
    assert body["customers_scored"] == 6  # customers 1, 2, 3, 5, 6, 7
    assert body["currency"] == "USD"
    assert body["as_of"] == "2026-06-30"
    segments = {s["segment"]: s["customers"] for s in body["segments"]}
    assert len(segments) == 11
    assert sum(segments.values()) == 6
    assert segments["Champions"] == 1


def test_cohorts_json_and_csv(store: Seeded, owner_client: TestClient) -> None:
    body = owner_client.get("/v1/analytics/cohorts?periods=24").json()
    # first paid orders: 2025-02-15 (c2), 2025-05-26 (c1), 2025-07-15 (c7), 2025-10-23 (c6),
    # 2026-05-11 (c5), 2026-06-28 (c3)
    assert body["cohorts"] == ["2025-02", "2025-05", "2025-07", "2025-10", "2026-05", "2026-06"]
    assert body["sizes"] == [1, 1, 1, 1, 1, 1]
    assert body["values"][0][:3] == [1.0, 0.0, 1.0]  # customer 2 came back on 2025-04-06
    assert body["values"][-1] == [1.0] + [None] * 23
    revenue = owner_client.get("/v1/analytics/cohorts?measure=revenue&grain=week&periods=4")
    # only customer 3 started in the last 4 weeks (Sunday 2026-06-28, week of Monday the 22nd)
    assert revenue.json()["cohorts"] == ["2026-06-22"]
    # the USD paid order only; the current week (of the 29th) is observed so far: nothing yet
    assert revenue.json()["values"][0] == [3_000, 0.0, None, None]
    exported = owner_client.get("/v1/analytics/cohorts?format=csv&periods=3")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == "cohort,customers,0,1,2"


def test_segment_lifecycle_and_export(
    store: Seeded, client_as: ClientFactory, container: Container
) -> None:
    marketing = client_as(Role.MARKETING)
    rule = {
        "all": [
            {"field": "order_count", "op": "gte", "value": 2},
            {"field": "bought_category", "op": "has", "value": store.category_ids["shoes"]},
        ]
    }
    preview = marketing.post("/v1/analytics/segments/preview", json={"rule": rule}).json()
    # customers 1 (running shoes) and 2 (boots): "shoes" covers both subcategories
    assert preview == {
        "member_count": 2,
        "sample_customer_ids": [store.customer_ids[1], store.customer_ids[2]],
    }
    created = marketing.post(
        "/v1/analytics/segments", json={"name": " Shoe regulars ", "rule": rule}
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert (segment["name"], segment["member_count"], segment["refreshed_at"]) == (
        "Shoe regulars",
        0,
        None,
    )
    duplicate = marketing.post(
        "/v1/analytics/segments", json={"name": "Shoe regulars", "rule": rule}
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "segments.name_taken")

    refreshed = marketing.post(f"/v1/analytics/segments/{segment['id']}/refresh").json()
    assert refreshed["member_count"] == 2
    assert refreshed["refreshed_at"] is not None
    members = marketing.get(f"/v1/analytics/segments/{segment['id']}/members").json()
    assert members["customer_ids"] == [store.customer_ids[1], store.customer_ids[2]]

    exported = marketing.get(f"/v1/analytics/segments/{segment['id']}/export.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["customer_id"]) for r in rows] == members["customer_ids"]
    assert rows[0]["total_spend"] == "137000"
    assert "email" not in rows[0]

    narrowed = marketing.patch(
        f"/v1/analytics/segments/{segment['id']}",
        json={"rule": {"field": "tier", "op": "eq", "value": "gold"}},
    ).json()
    assert narrowed["rule"] == {"field": "tier", "op": "eq", "value": "gold"}
    assert marketing.get("/v1/analytics/segments").json()[0]["id"] == segment["id"]
    assert marketing.delete(f"/v1/analytics/segments/{segment['id']}").status_code == 204
    assert marketing.get(f"/v1/analytics/segments/{segment['id']}").status_code == 404
    with container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SegmentMember)) == 0
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "analytics_segment")
        ).all()
    assert sorted(actions) == [
        "segment.created",
        "segment.deleted",
        "segment.exported",
        "segment.updated",
    ]


def test_a_rule_with_an_unknown_field_is_a_422_listing_the_allowed_fields(
    store: Seeded, owner_client: TestClient
) -> None:
    response = owner_client.post(
        "/v1/analytics/segments",
        json={"name": "Bad", "rule": {"field": "shoe_size", "op": "gt", "value": 40}},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "segments.unknown_field"
    assert "allowed fields: total_spend, order_count" in body["detail"]
    assert "rfm_segment" in body["details"]["allowed_fields"]
    assert body["errors"][0]["field"] == "rule.field"
    assert owner_client.get("/v1/analytics/segments").json() == []


def test_permissions(store: Seeded, client_as: ClientFactory) -> None:
    analyst, agent = client_as(Role.ANALYST), client_as(Role.CS_AGENT)
    rule = {"field": "order_count", "op": "gt", "value": 0}
    denied = analyst.post("/v1/analytics/segments", json={"name": "x", "rule": rule})
    assert (denied.status_code, denied.json()["details"]) == (
        403,
        {"permission": "promotions.write"},
    )
    assert agent.get("/v1/analytics/rfm").status_code == 403
    assert agent.get(f"/v1/customers/{store.customer_ids[1]}/insights").status_code == 403
    assert analyst.get("/v1/analytics/segment-fields").json()[0]["field"] == "total_spend"


def test_the_scheduled_job_refreshes_every_segment(store: Seeded, container: Container) -> None:
    with container.uow(Actor.system("test")) as uow:
        for name, value in (("gold", "gold"), ("silver", "silver")):
            analytics.create_segment(
                uow,
                analytics.CreateSegment(name, {"field": "tier", "op": "eq", "value": value}),
            )
        uow.commit()
    jobs = {name: job for name, _, job in SCHEDULED_JOBS}
    with container.uow(Actor.system("job")) as uow:
        assert jobs["analytics.refresh_segments"](uow) == 2
        uow.commit()
    with container.uow(Actor.system("test")) as uow:
        counts = {v.name: v.member_count for v in analytics.list_segments(uow)}
    assert counts == {"gold": 1, "silver": 0}
