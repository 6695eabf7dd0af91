"""`shopops promotions ...` and `shopops coupons ...` against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopops.contexts import loyalty
from shopops.kernel.errors import DomainError
from tests.promotions.conftest import SYSTEM, Shop


def ok(cli: Any, shop: Shop, *args: str) -> str:
    result = cli(shop.container, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def failure(cli: Any, shop: Shop, *args: str) -> DomainError:
    result = cli(shop.container, *args)
    assert result.exit_code != 0
    assert isinstance(result.exception, DomainError), result.output
    return result.exception


def _file(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_create_list_show_quote_and_performance(cli: Any, shop: Shop, tmp_path: Path) -> None:
    definition = {
        "name": "Tee deal",
        "kind": "nth_item",
        "params": {"n": 2, "percent": 50},
        "scope": {"products": [shop.ids["product:TEE"]]},
    }
    out = ok(cli, shop, "promotions", "create", _file(tmp_path, "p.json", definition), "--activate")
    assert "created promotion 1 'Tee deal' (nth_item), active" in out
    listed = json.loads(ok(cli, shop, "promotions", "list", "--format", "json"))
    assert [(p["id"], p["kind"], p["status"], p["group"]) for p in listed] == [
        (1, "nth_item", "active", "item")
    ]
    shown = json.loads(ok(cli, shop, "promotions", "show", "1"))
    assert shown["params"] == {"n": 2, "percent": "50"}
    cart = {
        "currency": "CNY",
        "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "BAG", "quantity": 1}],
        "shipping": {"fee": "10"},
    }
    quoted = json.loads(
        ok(cli, shop, "promotions", "quote", _file(tmp_path, "c.json", cart), "--format", "json")
    )
    assert (quoted["subtotal_minor"], quoted["discount_minor"], quoted["total_minor"]) == (
        40000,
        5000,
        36000,
    )
    assert quoted["explanation"][0]["reason"] == "applied"
    table = ok(cli, shop, "promotions", "quote", _file(tmp_path, "c.json", cart))
    assert "total 360.00 CNY" in table
    performance = json.loads(ok(cli, shop, "promotions", "performance", "--format", "json"))
    assert performance[0]["redemptions"] == 0


def test_bad_definitions_fail_with_their_code(cli: Any, shop: Shop, tmp_path: Path) -> None:
    bad = {"name": "Too much", "kind": "percentage", "params": {"percent": 120}}
    error = failure(cli, shop, "promotions", "create", _file(tmp_path, "bad.json", bad))
    assert error.code == "promotions.invalid_percentage"
    assert failure(cli, shop, "promotions", "show", "42").code == "promotions.not_found"


def test_coupons_generate_create_and_list(cli: Any, shop: Shop, tmp_path: Path) -> None:
    voucher = {
        "name": "Voucher",
        "kind": "fixed_amount",
        "currency": "CNY",
        "params": {"amount": "20"},
        "requires_coupon": True,
    }
    ok(cli, shop, "promotions", "create", _file(tmp_path, "v.json", voucher), "--activate")
    printed = ok(cli, shop, "coupons", "generate", "1", "--count", "5", "--prefix", "VIP")
    codes = printed.split()
    assert len(set(codes)) == 5
    assert all(code.startswith("VIP-") for code in codes)
    target = tmp_path / "codes.txt"
    ok(cli, shop, "coupons", "generate", "1", "-n", "3", "--output", str(target))
    assert len(target.read_text(encoding="utf-8").split()) == 3
    assert "created coupon WELCOME" in ok(cli, shop, "coupons", "create", "1", "welcome")
    listed = json.loads(ok(cli, shop, "coupons", "list", "--promotion", "1", "--format", "json"))
    assert len(listed) == 9
    assert failure(cli, shop, "coupons", "create", "1", "WELCOME").code == "coupons.code_taken"


def test_quote_gives_a_customer_their_tier_discount(cli: Any, shop: Shop, tmp_path: Path) -> None:
    with shop.container.uow(SYSTEM) as uow:
        loyalty.replace_tiers(
            uow,
            loyalty.ReplaceTiers((loyalty.TierSpec("gold", "Gold", 0, discount_percent=3),)),
        )
        uow.commit()
    cart = {
        "currency": "CNY",
        "lines": [{"sku": "TEE", "quantity": 2}],
        "customer_id": shop.ids["customer:gold"],
    }
    path = _file(tmp_path, "c.json", cart)
    quoted = json.loads(ok(cli, shop, "promotions", "quote", path, "--format", "json"))
    assert [(a["promotion_id"], a["name"], a["discount_minor"]) for a in quoted["applied"]] == [
        (-1, "Gold member 3% off", 600)
    ]
    assert quoted["total_minor"] == 19400
    table = ok(cli, shop, "promotions", "quote", path)
    assert "Gold member 3% off" in table
    assert "total 194.00 CNY" in table
