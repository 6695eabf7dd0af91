"""The analytics API: KPI registry and values, dashboard, funnel, products, tracking, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.analytics.engines import refresh
from shopops.auth.permissions import Permission, Role
from shopops.bootstrap import Container
from shopops.contexts import access
from tests.analytics.funnel_data import VISITS, event
from tests.conftest import Staff

WINDOW = "from=2026-03-01&to=2026-03-02"


@pytest.fixture
def owner(
    shop: Container, staff_on: Callable[..., Staff], client_on: Callable[..., TestClient]
) -> TestClient:
    return client_on(shop, staff_on(shop, Role.OWNER).token)


@pytest.fixture
def tracker(
    shop: Container, staff_on: Callable[..., Staff], client_on: Callable[..., TestClient]
) -> TestClient:
    """A client whose token carries only ``events.write`` (what a storefront gets)."""
    staff = staff_on(shop, Role.OWNER)
    issuer = replace(
        staff.actor, permissions=staff.actor.permissions | {str(Permission.TOKENS_MANAGE)}
    )
    with shop.uow(issuer) as uow:
        issued = access.issue_token(uow, access.IssueToken("storefront", ("events.write",)))
        uow.commit()
    return client_on(shop, issued.secret)


def _problem(response: Any) -> tuple[int, str, list[tuple[str, str]]]:
    body = response.json()
    return (
        response.status_code,
        body["code"],
        [(e["field"], e["code"]) for e in body.get("errors", [])],
    )


def test_the_registry_lists_every_kpi(owner: TestClient) -> None:
    body = owner.get("/v1/kpis").json()
    names = [item["name"] for item in body["items"]]
    assert len(names) == 30
    assert {"gmv", "net_sales", "promotion_roi", "stockout_rate"} <= set(names)
    gmv = next(i for i in body["items"] if i["name"] == "gmv")
    assert gmv["unit"] == "money"
    assert "warehouse" not in gmv["breakdowns"]
    assert body["grains"] == ["hour", "day", "week", "month", "total"]


def test_a_kpi_by_day_with_breakdown_and_comparison(owner: TestClient) -> None:
    response = owner.get(f"/v1/kpis/gmv?{WINDOW}&grain=day&by=channel&compare=previous")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "USD"
    assert body["window"] == {
        "start": "2026-03-01",
        "end": "2026-03-02",
        "time_zone": "Asia/Shanghai",
        "grain": "day",
    }
    assert body["comparison_window"]["start"] == "2026-02-27"
    assert [(r["period"], r["breakdown"], r["value"], r["comparison"]) for r in body["rows"]] == [
        ("2026-03-01", "app", "0.00", "0.00"),
        ("2026-03-01", "web", "70.00", "0.00"),
        ("2026-03-02", "app", "10.00", "0.00"),
        ("2026-03-02", "web", "50.00", "0.00"),
    ]
    assert body["total"]["value"] == "130.00"
    assert body["as_of"] is not None


def test_ratios_are_numbers(owner: TestClient) -> None:
    body = owner.get(f"/v1/kpis/cancellation_rate?{WINDOW}&grain=total").json()
    assert body["total"]["value"] == 0.25
    assert body["rows"] == [
        {
            "period": "2026-03-01..2026-03-02",
            "breakdown": None,
            "value": 0.25,
            "comparison": None,
            "change": None,
        }
    ]


def test_dashboard(owner: TestClient) -> None:
    response = owner.get("/v1/dashboard?last=7d")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["series"]) == 30
    assert set(body["breakdowns"]) == {"channel", "category", "brand", "region", "warehouse"}
    warehouse = {s["metric"] for s in body["breakdowns"]["warehouse"]}
    assert "gmv" not in warehouse
    assert "stockout_rate" in warehouse


@pytest.mark.parametrize(
    ("url", "status", "code", "errors"),
    [
        ("/v1/kpis/gmvv", 404, "analytics.unknown_metric", []),
        (
            "/v1/kpis/gmv?by=colour",
            422,
            "validation.failed",
            [("by", "analytics.unknown_breakdown")],
        ),
        (
            "/v1/kpis/gmv?by=warehouse",
            422,
            "validation.failed",
            [("by", "analytics.unsupported_breakdown")],
        ),
        (
            "/v1/kpis/gmv?from=2026-03-02&to=2026-03-01",
            422,
            "validation.failed",
            [("to", "analytics.reversed_range")],
        ),
        (
            "/v1/kpis/gmv?from=2000-01-01&to=2026-03-01",
            422,
            "validation.failed",
            [("to", "analytics.range_too_long")],
        ),
        (
            "/v1/kpis/gmv?last=90d&grain=hour",
            422,
            "validation.failed",
            [("grain", "analytics.too_many_buckets")],
        ),
        (
            "/v1/kpis/gmv?grain=fortnight",
            422,
            "validation.failed",
            [("grain", "analytics.unknown_grain")],
        ),
        ("/v1/kpis/gmv?last=30x", 422, "validation.failed", [("last", "analytics.invalid_last")]),
        (
            "/v1/kpis/gmv?last=30d&from=2026-03-01",
            422,
            "validation.failed",
            [("last", "analytics.conflicting_range")],
        ),
        (
            "/v1/kpis/gmv?compare=yesterday",
            422,
            "validation.failed",
            [("compare", "analytics.unknown_comparison")],
        ),
        ("/v1/kpis/gmv?from=2026-03-01", 422, "validation.failed", [("to", "validation.required")]),
        (
            "/v1/kpis/gmv?from=March",
            422,
            "validation.failed",
            [("from", "validation.date_from_datetime_parsing")],
        ),
        ("/v1/funnel?by=brand", 422, "validation.failed", [("by", "analytics.unknown_breakdown")]),
    ],
)
def test_bad_requests_say_what_is_allowed(
    owner: TestClient, url: str, status: int, code: str, errors: list[tuple[str, str]]
) -> None:
    response = owner.get(url)
    assert _problem(response) == (status, code, errors)
    text = response.text
    if code == "analytics.unknown_metric":
        assert "gross_margin" in text
        assert "units_per_order" in text
    if errors and errors[0][1] == "analytics.unknown_breakdown" and "kpis" in url:
        assert "channel, category, brand, region, warehouse, customer_tier, promotion" in text
    if errors and errors[0][1] == "analytics.unsupported_breakdown":
        assert "allowed: channel, category, brand, region, customer_tier, promotion" in text
    if errors and errors[0][1] == "analytics.unknown_grain":
        assert "hour, day, week, month" in text


def test_funnel_and_products_endpoints(
    owner: TestClient, tracker: TestClient, shop: Container
) -> None:
    assert tracker.post("/v1/events", json={"batch": VISITS}).json()["accepted"] == len(VISITS)
    refresh(shop.settings)
    funnel = owner.get(f"/v1/funnel?{WINDOW}&grain=total&by=channel").json()
    assert [(r["channel"], r["sessions"], r["paid"]) for r in funnel["rows"]] == [
        ("app", 1, 1),
        ("web", 3, 1),
    ]
    products = owner.get(f"/v1/products/performance?{WINDOW}").json()["items"]
    assert [(p["product"], p["click_through_rate"], p["conversion_rate"]) for p in products] == [
        ("P-A", 1.0, 1.0),
        ("P-B", 0.0, 0.5),
    ]
    status = owner.get("/v1/analytics/status").json()
    assert status["exists"] is True
    assert {t["table"]: t["rows"] for t in status["tables"]}["tracked_events"] == len(VISITS)


# --- tracking ------------------------------------------------------------------------------


def test_events_are_kept_once_by_message_id(tracker: TestClient) -> None:
    viewed = event("v9", "Product Viewed", "10:00", product_id="P-A")
    batch = [viewed, dict(viewed), event("v9", "Product Added", "10:01", product_id="P-A")]
    first = tracker.post("/v1/events", json={"batch": batch})
    assert first.status_code == 200, first.text
    assert [(r["index"], r["status"]) for r in first.json()["results"]] == [
        (0, "accepted"),
        (1, "duplicate"),
        (2, "accepted"),
    ]
    again = tracker.post("/v1/events", json={"batch": batch}).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 0)


def test_each_invalid_event_has_its_own_errors_and_valid_ones_are_kept(
    tracker: TestClient, owner: TestClient, shop: Container
) -> None:
    good = event("v8", "Checkout Started", "10:00", products=[{"sku": "A", "price": 10}])
    batch = [
        {"event": "Product Viewed", "anonymousId": "v8"},  # no messageId, no product
        good,
        {"messageId": "x1", "event": "Bought Stuff", "userId": "u1"},
        {
            "messageId": "x2",
            "event": "Order Completed",
            "anonymousId": "v8",
            "timestamp": "yesterday",
            "properties": {"products": [{"quantity": 0}]},
        },
        "not an object",
    ]
    body = tracker.post("/v1/events", json={"batch": batch}).json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, 4)
    results = {r["index"]: r for r in body["results"]}
    assert results[1]["status"] == "accepted"
    assert {(e["field"], e["code"]) for e in results[0]["errors"]} == {
        ("messageId", "validation.required"),
        ("properties.product_id", "events.product_required"),
    }
    assert [(e["field"], e["code"]) for e in results[2]["errors"]] == [
        ("event", "events.unknown_event")
    ]
    assert "Product Viewed" in results[2]["errors"][0]["message"]  # lists the allowed names
    assert {(e["field"], e["code"]) for e in results[3]["errors"]} == {
        ("timestamp", "events.invalid_timestamp"),
        ("properties.products.0.product_id", "events.product_required"),
        ("properties.products.0.quantity", "events.invalid_quantity"),
        ("properties.order_id", "validation.required"),
    }
    assert results[4]["errors"][0]["code"] == "events.invalid_event"
    refresh(shop.settings)
    status = owner.get("/v1/analytics/status").json()
    assert {t["table"]: t["rows"] for t in status["tables"]}["tracked_events"] == 1


def test_a_malformed_batch_is_refused_whole(tracker: TestClient) -> None:
    assert _problem(tracker.post("/v1/events", json={"batch": []}))[:2] == (
        422,
        "validation.failed",
    )
    assert _problem(tracker.post("/v1/events", json=[{"event": "Product Viewed"}]))[:2] == (
        422,
        "validation.failed",
    )
    too_many = {"batch": [event("v", "Page Viewed", "10:00") for _ in range(501)]}
    assert _problem(tracker.post("/v1/events", json=too_many))[:2] == (422, "validation.failed")


def test_tracking_needs_events_write_and_reads_need_analytics_read(
    tracker: TestClient, client_as: Callable[[Role], TestClient]
) -> None:
    analyst = client_as(Role.ANALYST)
    denied = analyst.post("/v1/events", json={"batch": [event("v", "Page Viewed", "10:00")]})
    assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")
    assert tracker.get("/v1/kpis").status_code == 403
