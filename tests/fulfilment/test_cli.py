from __future__ import annotations

import json
from datetime import timedelta

from shopops.auth.permissions import Role
from shopops.kernel.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from tests.fulfilment.conftest import Store


def test_ship_list_show_track(store: Store, cli) -> None:
    order = store.place(("TEE", 3), ("MUG", 1))
    shipped = cli(
        store.container,
        "shipments",
        "ship",
        order.number.lower(),
        "--warehouse",
        "sh1",
        "--carrier",
        "ups",
        "--tracking",
        "1Z 999 AA1",
        "--line",
        "TEE=2",
    )
    assert shipped.exit_code == 0, shipped.output
    assert f"2 unit(s) of {order.number} with ups 1Z999AA1" in shipped.output
    booked = cli(
        store.container, "shipments", "ship", order.number, "--warehouse", "SH1", "--carrier", "dhl"
    )
    assert booked.exit_code == 0, booked.output
    assert store.order(order.id).status == "shipped"

    listed = cli(store.container, "shipments", "list", "--order", order.number, "--format", "json")
    rows = json.loads(listed.output)
    assert [(r["carrier"], r["units"], r["status"]) for r in rows] == [
        ("ups", 2, "label_created"),
        ("dhl", 2, "label_created"),
    ]
    assert rows[1]["tracking_number"].startswith("SBDHL")
    only_dhl = cli(store.container, "shipments", "list", "--carrier", "DHL", "--format", "csv")
    assert only_dhl.output.splitlines()[0].startswith("id,order,warehouse_id,carrier")
    assert len(only_dhl.output.splitlines()) == 2

    store.clock.advance(timedelta(days=1))
    first_id = str(rows[0]["id"])
    tracked = cli(
        store.container,
        "shipments",
        "track",
        first_id,
        "delivered",
        "--at",
        "2026-03-02T20:00:00",
        "--location",
        "Door",
    )
    assert tracked.exit_code == 0, tracked.output
    assert f"shipment {first_id} is delivered" in tracked.output
    again = cli(
        store.container, "shipments", "track", first_id, "delivered", "--at", "2026-03-02T20:00:00"
    )
    assert "already recorded" in again.output

    shown = json.loads(
        cli(store.container, "shipments", "show", first_id, "--format", "json").output
    )
    assert shown["delivered_at"] == "2026-03-02T20:00:00+00:00"
    assert [(e["status"], e["location"], e["source"]) for e in shown["events"]] == [
        ("delivered", "Door", "manual")
    ]
    table = cli(store.container, "shipments", "show", first_id)
    assert "Tracking" in table.output
    assert "Door" in table.output


def test_late_orders(store: Store, cli) -> None:
    order = store.place(("MUG", 1))
    assert json.loads(cli(store.container, "shipments", "late", "--format", "json").output) == []
    store.clock.advance(timedelta(hours=50))
    rows = json.loads(cli(store.container, "shipments", "late", "--format", "json").output)
    assert [(r["order"], r["overdue_hours"], r["units_shipped"]) for r in rows] == [
        (order.number, 2.0, 0)
    ]


def test_errors_are_domain_errors(store: Store, cli) -> None:
    unpaid = store.place(("MUG", 1), paid=False)
    paid = store.place(("MUG", 1))
    result = cli(
        store.container,
        "shipments",
        "ship",
        unpaid.number,
        "--warehouse",
        "SH1",
        "--carrier",
        "ups",
    )
    assert isinstance(result.exception, InvalidTransition)
    assert result.exception.code == "fulfilment.order_not_shippable"
    result = cli(
        store.container, "shipments", "ship", paid.number, "--warehouse", "XX9", "--carrier", "ups"
    )
    assert isinstance(result.exception, NotFound)
    assert result.exception.code == "inventory.warehouse_not_found"
    result = cli(
        store.container,
        "shipments",
        "ship",
        paid.number,
        "--warehouse",
        "SH1",
        "--carrier",
        "ups",
        "--line",
        "MUG",
    )
    assert isinstance(result.exception, ValidationFailed)
    result = cli(store.container, "shipments", "track", "999", "in_transit")
    assert isinstance(result.exception, NotFound)
    assert result.exception.code == "fulfilment.shipment_not_found"
    assert store.carrier.calls == []


def test_acting_as_a_user_applies_their_permissions(store: Store, cli, staff_on) -> None:
    order = store.place(("MUG", 1))
    analyst = staff_on(store.container, Role.ANALYST).user.email
    args = ("shipments", "ship", order.number, "--warehouse", "SH1", "--carrier", "ups")
    refused = cli(store.container, "--as", analyst, *args)
    assert isinstance(refused.exception, PermissionDenied)
    assert store.carrier.calls == []
    listed = cli(store.container, "--as", analyst, "shipments", "list", "--format", "json")
    assert json.loads(listed.output) == []
    clerk = staff_on(store.container, Role.WAREHOUSE).user.email
    assert cli(store.container, "--as", clerk, *args).exit_code == 0
