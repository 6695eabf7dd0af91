"""`shopops loyalty ...` against the test database."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from shopops.contexts import loyalty
from shopops.kernel.errors import DomainError
from tests.loyalty.conftest import Shop


def ok(cli: Any, shop: Shop, *args: str) -> str:
    result = cli(shop.container, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def failure(cli: Any, shop: Shop, *args: str) -> DomainError:
    result = cli(shop.container, *args)
    assert result.exit_code != 0
    assert isinstance(result.exception, DomainError), result.output
    return result.exception


def test_account_and_adjustments(cli: Any, shop: Shop) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))
    out = ok(cli, shop, "loyalty", "adjust", str(buyer), "30", "--reason", "goodwill")
    assert f"customer {buyer}: 50 points" in out
    out = ok(cli, shop, "loyalty", "adjust", str(buyer), "--reason", "fix", "--", "-5")
    assert f"customer {buyer}: 45 points" in out
    rows = json.loads(ok(cli, shop, "loyalty", "account", str(buyer), "--format", "json"))
    assert [(r["kind"], r["points"], r["reason"]) for r in rows] == [
        ("adjust", -5, "fix"),
        ("adjust", 30, "goodwill"),
        ("earn", 20, None),
    ]
    table = ok(cli, shop, "loyalty", "account", str(buyer))
    assert "next expiry: 45 points at 2027-03-01" in table  # all earned at one moment
    error = failure(cli, shop, "loyalty", "adjust", str(buyer), "--reason", "x", "--", "-46")
    assert error.code == "loyalty.insufficient_points"
    assert shop.balance(buyer) == 45
    assert failure(cli, shop, "loyalty", "account", "999").code == "loyalty.customer_not_found"


def test_tiers_recalculate_and_expire(cli: Any, shop: Shop) -> None:
    shop.tiers(
        loyalty.TierSpec("silver", "Silver", 0),
        loyalty.TierSpec("gold", "Gold", 50_000, 5, True, 150),
    )
    listed = json.loads(ok(cli, shop, "loyalty", "tiers", "--format", "json"))
    assert [(t["code"], t["min_spend_minor"], t["points_x%"]) for t in listed] == [
        ("silver", 0, 100),
        ("gold", 50_000, 150),
    ]
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 30))
    assert "evaluated 1: 1 upgraded, 0 downgraded" in ok(cli, shop, "loyalty", "recalculate")
    assert shop.account(buyer).tier_code == "gold"
    assert "expired 0 points in 0 accounts" in ok(cli, shop, "loyalty", "expire")
    shop.clock.advance(timedelta(days=366))
    assert "expired 600 points in 1 accounts" in ok(cli, shop, "loyalty", "expire")
    assert shop.balance(buyer) == 0
