"""`shopops group-buys ...` against the test database."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from shopops.cli.errors import EXIT_NOT_FOUND, exit_code_for
from shopops.kernel.errors import DomainError, NotFound
from tests.group_buying.conftest import NOW, Shop, sell

ADDRESS = ["--recipient", "Wang Fang", "--line1", "88 Nanjing Road", "--city", "Shanghai"]
ADDRESS += ["--country", "CN"]


def ok(cli: Any, shop: Shop, *args: str) -> str:
    result = cli(shop.container, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def test_create_join_inspect_and_expire(cli: Any, shop: Shop) -> None:
    first, second = shop.customer(), shop.customer()
    out = ok(
        cli,
        shop,
        "group-buys",
        "create",
        "Tea for two",
        "--sku",
        "TEA",
        "--price",
        "59.90",
        "--size",
        "2",
        "--minutes",
        "60",
        "--starts",
        (NOW - timedelta(hours=1)).isoformat(),
        "--ends",
        "2026-06-01T00:00:00",
    )
    assert out.startswith("group-buy offer 1: TEA for groups of 2")
    [offer] = json.loads(ok(cli, shop, "group-buys", "list", "--format", "json"))
    assert (offer["group_price"], offer["list_price"], offer["status"]) == (
        "59.90",
        "99.90",
        "active",
    )
    out = ok(cli, shop, "group-buys", "join", "1", "--customer", str(first), *ADDRESS)
    assert out.startswith("opened group 1 (1/2): order SO-")
    [group] = json.loads(ok(cli, shop, "group-buys", "groups", "1", "--format", "json"))
    assert (group["status"], group["joined"], group["paid"]) == ("open", 1, 0)
    failed = cli(
        shop.container,
        "group-buys",
        "join",
        "1",
        "--customer",
        str(first),
        "--group",
        "1",
        *ADDRESS,
    )
    assert isinstance(failed.exception, DomainError)
    assert failed.exception.code == "group_buys.already_member"
    ok(cli, shop, "group-buys", "join", "1", "--customer", str(second), "--group", "1", *ADDRESS)
    members = json.loads(ok(cli, shop, "group-buys", "group", "1", "--format", "json"))
    assert [(m["customer"], m["status"]) for m in members] == [
        (first, "joined"),
        (second, "joined"),
    ]

    shop.clock.advance(timedelta(minutes=61))
    assert ok(cli, shop, "group-buys", "expire").strip() == "0 succeeded, 1 failed, 0 refunds sent"
    [group] = json.loads(ok(cli, shop, "group-buys", "groups", "1", "--format", "json"))
    assert group["status"] == "failed"
    assert ok(cli, shop, "group-buys", "end", "1").strip() == "offer 1 is ended"


def test_performance_as_a_table(cli: Any, shop: Shop) -> None:
    offer = sell(shop)
    table = ok(cli, shop, "group-buys", "performance", str(offer))
    assert f"Offer {offer} performance" in table
    cells = {
        tuple(cell.strip() for cell in line.strip("│").split("│"))
        for line in table.splitlines()
        if line.startswith("│")
    }
    assert {
        ("groups opened", "3"),
        ("groups succeeded", "1"),
        ("orders refunded amount", "59.90"),
        ("discount", "120.00"),
        ("gmv", "179.70"),
        ("success rate", "50.0%"),
    } <= cells


def test_performance_of_an_unknown_offer_fails(cli: Any, shop: Shop) -> None:
    result = cli(shop.container, "group-buys", "performance", "42")
    assert result.exit_code != 0
    assert isinstance(result.exception, NotFound)
    assert result.exception.code == "group_buys.not_found"
    assert exit_code_for(result.exception) == EXIT_NOT_FOUND
