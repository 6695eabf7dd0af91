from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shopops.auth.permissions import Role
from shopops.contexts import fulfilment
from tests.fulfilment.conftest import START, Store

Client = Callable[[Role], TestClient]


@pytest.fixture
def api(store: Store, staff_on, client_on) -> Client:
    def factory(role: Role) -> TestClient:
        return client_on(store.container, staff_on(store.container, role).token)

    return factory


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


def field_codes(body: dict) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in body.get("errors", [])}


def shipment_count(store: Store) -> int:
    with store.container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(fulfilment.Shipment)) or 0


def test_ship_track_and_deliver(store: Store, api: Client) -> None:
    client = api(Role.WAREHOUSE)
    order = store.place(("TEE", 7))
    booked = client.post(
        f"/v1/orders/{order.id}/shipments", json={"warehouse_id": store.sh1, "carrier": "ups"}
    )
    assert booked.status_code == 201, booked.text
    first = booked.json()
    assert (first["order_number"], first["status"], first["events"]) == (
        order.number,
        "label_created",
        [],
    )
    assert [(line["sku"], line["quantity"]) for line in first["lines"]] == [("TEE", 5)]
    entered = client.post(
        f"/v1/orders/{order.id}/shipments",
        json={
            "warehouse_id": store.bj1,
            "carrier": "sf-express",
            "tracking_number": "SF100200300",
            "lines": [{"sku": "TEE", "quantity": 2}],
        },
    )
    assert entered.status_code == 201, entered.text
    second = entered.json()
    assert (second["tracking_number"], second["label_reference"]) == ("SF100200300", None)

    listed = client.get("/v1/shipments", params={"order_id": order.id}).json()
    assert [s["id"] for s in listed["items"]] == [first["id"], second["id"]]
    assert listed["next_cursor"] is None
    assert all(s["events"] is None for s in listed["items"])

    store.clock.advance(timedelta(days=2))
    scan = {"status": "delivered", "occurred_at": "2026-03-03T10:00:00+08:00", "source": "carrier"}
    for shipment in (first, second):
        recorded = client.post(f"/v1/shipments/{shipment['id']}/tracking-events", json=scan)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded"] is True
    repeat = client.post(f"/v1/shipments/{second['id']}/tracking-events", json=scan)
    assert repeat.status_code == 200
    assert (repeat.json()["recorded"], repeat.json()["status_changed"]) == (False, False)
    detail = client.get(f"/v1/shipments/{second['id']}").json()
    assert detail["status"] == "delivered"
    assert detail["delivered_at"] == "2026-03-03T02:00:00Z"
    assert [(e["status"], e["source"]) for e in detail["events"]] == [("delivered", "carrier")]
    assert store.order(order.id).status == "delivered"


def test_bad_shipment_input_is_problem_json(store: Store, api: Client) -> None:
    client = api(Role.OWNER)
    paid = store.place(("TEE", 7))
    path = f"/v1/orders/{paid.id}/shipments"

    body = problem(
        client.post(
            path, json={"warehouse_id": store.sh1, "lines": [{"sku": "TEE", "quantity": 0}]}
        ),
        422,
        "validation.failed",
    )
    assert field_codes(body) == {
        ("carrier", "validation.missing"),
        ("lines.0.quantity", "validation.greater_than_equal"),
    }
    body = problem(
        client.post(path, json={"warehouse_id": 999, "carrier": "U P S", "tracking_number": "#"}),
        422,
        "validation.failed",
    )
    assert field_codes(body) == {
        ("warehouse_id", "fulfilment.unknown_warehouse"),
        ("carrier", "fulfilment.invalid_carrier"),
        ("tracking_number", "fulfilment.invalid_tracking_number"),
    }
    body = problem(
        client.post(
            path,
            json={
                "warehouse_id": store.sh1,
                "carrier": "ups",
                "lines": [{"sku": "MUG", "quantity": 1}],
            },
        ),
        422,
        "fulfilment.sku_not_in_order",
    )
    assert field_codes(body) == {("lines.MUG", "fulfilment.sku_not_in_order")}
    body = problem(
        client.post(
            path,
            json={
                "warehouse_id": store.bj1,
                "carrier": "ups",
                "lines": [{"sku": "TEE", "quantity": 3}],
            },
        ),
        409,
        "fulfilment.exceeds_reserved",
    )
    assert body["details"] == {"shortfall": {"TEE": {"requested": 3, "shippable": 2}}}
    unpaid = store.place(("MUG", 1), paid=False)
    problem(
        client.post(
            f"/v1/orders/{unpaid.id}/shipments", json={"warehouse_id": store.sh1, "carrier": "ups"}
        ),
        409,
        "fulfilment.order_not_shippable",
    )
    problem(
        client.post(
            "/v1/orders/999999/shipments", json={"warehouse_id": store.sh1, "carrier": "ups"}
        ),
        404,
        "orders.not_found",
    )
    assert shipment_count(store) == 0
    assert store.carrier.calls == []


def test_bad_tracking_input_is_problem_json(store: Store, api: Client) -> None:
    client = api(Role.OWNER)
    shipment = store.ship(store.place(("MUG", 1)), store.sh1)
    path = f"/v1/shipments/{shipment.id}/tracking-events"
    body = problem(
        client.post(path, json={"status": "lost", "occurred_at": "2026-03-02T09:00:00"}),
        422,
        "validation.failed",
    )
    assert field_codes(body) == {
        ("status", "validation.literal_error"),
        ("occurred_at", "validation.timezone_aware"),
    }
    body = problem(
        client.post(path, json={"status": "in_transit", "occurred_at": "2026-03-09T09:00:00Z"}),
        422,
        "validation.failed",
    )
    assert field_codes(body) == {("occurred_at", "fulfilment.invalid_event_time")}
    problem(
        client.post(
            "/v1/shipments/999999/tracking-events",
            json={"status": "in_transit", "occurred_at": "2026-03-02T09:00:00Z"},
        ),
        404,
        "fulfilment.shipment_not_found",
    )
    problem(client.get("/v1/shipments/999999"), 404, "fulfilment.shipment_not_found")
    problem(client.get("/v1/shipments", params={"status": "lost"}), 422, "validation.failed")
    problem(client.get("/v1/shipments", params={"cursor": "!!"}), 422, "pagination.invalid_cursor")
    problem(
        client.get("/v1/fulfilment/late", params={"cursor": "e30"}),
        422,
        "pagination.invalid_cursor",
    )


def test_carrier_outage_is_503(store: Store, api: Client) -> None:
    order = store.place(("MUG", 1))
    store.carrier.unavailable.add("ups")
    response = api(Role.WAREHOUSE).post(
        f"/v1/orders/{order.id}/shipments", json={"warehouse_id": store.sh1, "carrier": "ups"}
    )
    problem(response, 503, "carrier.unavailable")
    assert shipment_count(store) == 0


def test_a_retried_request_ships_once(store: Store, api: Client) -> None:
    client = api(Role.WAREHOUSE)
    order = store.place(("MUG", 1))
    request = {"warehouse_id": store.sh1, "carrier": "ups"}
    headers = {"Idempotency-Key": "ship-1"}
    first = client.post(f"/v1/orders/{order.id}/shipments", json=request, headers=headers)
    again = client.post(f"/v1/orders/{order.id}/shipments", json=request, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert shipment_count(store) == 1
    assert len(store.carrier.calls) == 1


@pytest.mark.parametrize(
    ("role", "can_read", "can_write"),
    [
        (Role.WAREHOUSE, True, True),
        (Role.OPS_MANAGER, True, True),
        (Role.ANALYST, True, False),
        (Role.CS_AGENT, True, False),
        (Role.MARKETING, False, False),
    ],
)
def test_permissions(
    store: Store, api: Client, role: Role, can_read: bool, can_write: bool
) -> None:
    order = store.place(("MUG", 1))
    shipment = store.ship(store.place(("MUG", 1)), store.sh1)
    client = api(role)
    reads = [
        client.get("/v1/shipments"),
        client.get(f"/v1/shipments/{shipment.id}"),
        client.get("/v1/fulfilment/late"),
    ]
    assert {r.status_code for r in reads} == ({200} if can_read else {403})
    writes = [
        client.post(
            f"/v1/orders/{order.id}/shipments",
            json={"warehouse_id": store.sh1, "carrier": "dhl", "tracking_number": "DHL-77"},
        ),
        client.post(
            f"/v1/shipments/{shipment.id}/tracking-events",
            json={"status": "in_transit", "occurred_at": "2026-03-02T08:30:00Z"},
        ),
    ]
    assert [w.status_code for w in writes] == ([201, 201] if can_write else [403, 403])
    if not can_write:
        assert {w.json()["code"] for w in writes} == {"auth.permission_denied"}
        assert shipment_count(store) == 1
        assert store.order(order.id).status == "paid"
        assert client.get(f"/v1/shipments/{shipment.id}").json().get("events", []) in ([], None)


def test_lists_page_with_cursors(store: Store, api: Client) -> None:
    client = api(Role.OPS_MANAGER)
    for _ in range(3):
        store.ship(store.place(("TEE", 1)), store.sh1, carrier="dhl")
    store.clock.advance(timedelta(hours=49))
    waiting = [store.place(("MUG", 1)) for _ in range(2)]
    store.clock.advance(timedelta(hours=49))

    first = client.get("/v1/shipments", params={"limit": 2, "carrier": "DHL"}).json()
    rest = client.get("/v1/shipments", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
    assert client.get("/v1/shipments", params={"late": "true"}).json()["items"] == []

    page = client.get("/v1/fulfilment/late", params={"limit": 1}).json()
    assert [o["number"] for o in page["items"]] == [waiting[0].number]
    assert page["items"][0]["overdue_hours"] == 1.0
    assert page["items"][0]["ship_by"] == (START + timedelta(hours=97)).isoformat().replace(
        "+00:00", "Z"
    )
    nxt = client.get("/v1/fulfilment/late", params={"cursor": page["next_cursor"]}).json()
    assert ([o["number"] for o in nxt["items"]], nxt["next_cursor"]) == ([waiting[1].number], None)
