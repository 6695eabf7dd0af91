"""Pricing a 20-line cart against 200 active promotions.

Run:  .venv/bin/python -m bench.pricing [--carts 1000] [--promotions 200] [--lines 20]
                                        [--seed 7] [--service]

Measured side by side in the same run, on the same carts and promotions:
  (a) the engine with its promotion index (``PromotionSet``, built once, as the
      service caches it): only promotions that can touch a line meet that line;
  (b) a naive baseline: every promotion's scope (and exclusions) checked against
      every line (no index), then the same checks, stacking and application — what
      ``PromotionSet`` works out once per set (checks' facts, exclusive and
      combinable_with conflicts, explanation lines) is shared by (a) and (b);
  (c) with --service: the whole ``promotions.quote`` use case on a scratch SQLite
      database (loading promotions, counters, SKUs and the customer, then pricing).
For each: p50 and p99 per cart, wall-clock and (for the engine runs) CPU time, since
a machine shared with other work stretches wall-clock time. Both engine runs must
give identical results.
The promotion mix: percentages, amounts, tiers, steps, multi-buy, Nth item,
gifts, free shipping, flash prices; scoped to categories, brands or products with
exclusions; some member-only, segment-only, coupon-only, scheduled, exclusive,
or limited to a combinable list.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._support import summary
from shopops.contexts import promotions
from shopops.contexts.promotions import (
    Cart,
    CartLine,
    CouponGrant,
    CustomerFacts,
    PromotionRule,
    PromotionSet,
    Shipping,
    price_cart,
)
from shopops.contexts.promotions.rules import Gift

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
CATEGORIES = 40  # 8 top-level, each with 4 children
BRANDS = 20
PRODUCTS = 500


def product_facts(product: int) -> tuple[frozenset[int], int]:
    """(category with its parent, brand) of a product."""
    child = 9 + product % 32  # categories 9..40 are children of 1..8
    return frozenset({child, 1 + (child - 9) // 4}), 1 + product % BRANDS


def _scope(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.15:
        return {}
    if roll < 0.55:
        scope: dict[str, Any] = {
            "categories": rng.sample(range(1, CATEGORIES + 1), rng.randint(1, 2))
        }
    elif roll < 0.8:
        scope = {"brands": rng.sample(range(1, BRANDS + 1), rng.randint(1, 2))}
    else:
        scope = {"products": rng.sample(range(1, PRODUCTS + 1), rng.randint(3, 15))}
    if rng.random() < 0.3:
        scope["exclude_products"] = rng.sample(range(1, PRODUCTS + 1), 5)
    return scope


def _params(rng: random.Random, kind: str) -> dict[str, Any]:
    return {
        "percentage": lambda: {
            "percent": rng.choice([5, 10, 15, 20, 30]),
            "applies_to": rng.choice(["items", "items", "order"]),
        },
        "fixed_amount": lambda: {
            "amount": str(rng.choice([5, 10, 20])),
            "per": rng.choice(["unit", "order"]),
        },
        "spend_tiers": lambda: {
            "tiers": [{"spend": "300", "save": "30"}, {"spend": "600", "save": "80"}]
        },
        "repeating_threshold": lambda: {"every": "200", "save": "15", "max_discount": "90"},
        "multi_buy": lambda: {"buy": 2, "get": 1},
        "nth_item": lambda: {"n": 2, "percent": 50},
        "gift": lambda: {"sku": "GIFT"},
        "free_shipping": lambda: {"methods": ["standard"]},
        "flash_price": lambda: {"price": "9.90"},
    }[kind]()


KIND_WEIGHTS = {
    "percentage": 40,
    "fixed_amount": 15,
    "spend_tiers": 8,
    "repeating_threshold": 5,
    "multi_buy": 8,
    "nth_item": 6,
    "gift": 5,
    "free_shipping": 5,
    "flash_price": 8,
}


def make_promotions(count: int, rng: random.Random) -> list[PromotionRule]:
    kinds = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=count)
    rules = []
    for promotion_id, kind in enumerate(kinds, start=1):
        definition: dict[str, Any] = {
            "name": f"{kind} {promotion_id}",
            "kind": kind,
            "currency": "CNY",
            "params": _params(rng, kind),
            "scope": _scope(rng)
            if kind not in ("flash_price",)
            else {"products": rng.sample(range(1, PRODUCTS + 1), 3)},
            "stacking": {
                "group": rng.choice(["", "", "", "season", "brand", "member"]),
                "priority": rng.randint(0, 200),
            },
        }
        roll = rng.random()
        if roll < 0.1:
            definition["requires_coupon"] = True
        elif roll < 0.2:
            definition["conditions"] = {"tiers": ["gold"]}
        elif roll < 0.3:
            definition["conditions"] = {"segments": ["vip"], "min_spend": "100"}
        elif roll < 0.35:
            definition["schedule"] = {"recurring": {"weekdays": [2], "timezone": "Asia/Shanghai"}}
        elif roll < 0.4:
            definition["schedule"] = {"starts_at": (AT + timedelta(days=3)).isoformat()}
        if rng.random() < 0.04:
            definition["stacking"]["exclusive"] = True
        elif rng.random() < 0.08:
            definition["stacking"]["combinable_with"] = ["shipping", rng.randint(1, count)]
        if kind == "flash_price":
            definition["limits"] = {"quota_units": 500}
        elif rng.random() < 0.2:
            definition["limits"] = {"max_discount": "50000"}
        rule = promotions.parse_definition(definition, promotion_id)
        if isinstance(rule.params, Gift):
            rule = replace(rule, params=replace(rule.params, unit_price_minor=1500, currency="CNY"))
        rules.append(rule)
    return rules


def make_carts(count: int, lines: int, coupon_ids: Sequence[int], rng: random.Random) -> list[Cart]:
    carts = []
    for _ in range(count):
        cart_lines = []
        for index, product in enumerate(rng.sample(range(1, PRODUCTS + 1), lines)):
            categories, brand = product_facts(product)
            price = rng.randint(5, 400) * 100 - rng.choice([0, 1, 10])
            cart_lines.append(
                CartLine(
                    f"SKU-{product}",
                    rng.randint(1, 3),
                    price,
                    product,
                    categories,
                    brand,
                    floor_unit_minor=price * 2 // 5,
                )
            )
            del index
        customer = rng.choice(
            [
                CustomerFacts(),
                CustomerFacts(1, "gold", frozenset({"vip"})),
                CustomerFacts(2, "silver", frozenset()),
            ]
        )
        coupons = ()
        if coupon_ids and rng.random() < 0.3:
            coupons = (CouponGrant("CODE", rng.choice(coupon_ids)),)
        carts.append(
            Cart(
                "CNY",
                tuple(cart_lines),
                AT,
                "web",
                customer,
                coupons,
                Shipping("standard", 1200),
                None,
                1300,
            )
        )
    return carts


def timed(label: str, carts: Sequence[Cart], price: Callable[[Cart], object]) -> list[object]:
    """Wall-clock and CPU time (this thread's) per cart: on a busy machine the two differ."""
    for cart in carts[:50]:  # warm up
        price(cart)
    results, wall, cpu = [], [], []
    for cart in carts:
        began, began_cpu = time.perf_counter(), time.thread_time()
        results.append(price(cart))
        cpu.append((time.thread_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)
    print(f"{label:<44} wall {summary(wall)}")
    print(f"{'':<44} cpu  {summary(cpu)}")
    return results


def service_run(rules_count: int, carts_count: int, lines: int, seed: int) -> None:
    """The quote use case on SQLite: promotions created and activated through the service."""
    from shopops.bootstrap import build, metadata
    from shopops.config import Settings
    from shopops.contexts.catalog.models import Brand, Category, Product, Variant
    from shopops.kernel.events import Actor
    from shopops.kernel.time import FrozenClock

    rng = random.Random(seed)
    directory = Path(tempfile.mkdtemp(prefix="shopops-bench-pricing-"))
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{directory / 'bench.db'}",  # type: ignore[call-arg]
        secret_key="bench-secret-key-0123456789abcdef012",
        pii_key="bench-pii-key-0123456789abcdef0123456",
    )
    container = build(settings, clock=FrozenClock(AT))
    metadata.create_all(container.engine)
    system = Actor.system("bench")
    with container.uow(system) as uow:
        for category in range(1, CATEGORIES + 1):
            parent = None if category <= 8 else 1 + (category - 9) // 4
            uow.session.add(
                Category(
                    id=category,
                    name=f"C{category}",
                    slug=f"c{category}",
                    parent_id=parent,
                    is_active=True,
                )
            )
        for brand in range(1, BRANDS + 1):
            uow.session.add(Brand(id=brand, name=f"B{brand}", slug=f"b{brand}"))
        uow.session.flush()
        for product in range(1, PRODUCTS + 2):
            categories, brand = product_facts(product)
            uow.session.add(
                Product(
                    id=product,
                    code=f"P{product}",
                    name=f"P{product}",
                    description="",
                    status="active",
                    category_id=max(categories),
                    brand_id=brand,
                )
            )
        uow.session.flush()
        for product in range(1, PRODUCTS + 1):
            uow.session.add(
                Variant(
                    product_id=product,
                    sku=f"SKU-{product}",
                    barcode=None,
                    price_minor=rng.randint(5, 400) * 100,
                    cost_minor=1000,
                    currency="CNY",
                    weight_grams=100,
                    attributes={},
                    is_active=True,
                )
            )
        uow.session.add(
            Variant(
                product_id=PRODUCTS + 1,
                sku="GIFT",
                barcode=None,
                price_minor=1500,
                cost_minor=500,
                currency="CNY",
                weight_grams=100,
                attributes={},
                is_active=True,
            )
        )
        uow.commit()
    created = 0
    for rule in make_promotions(rules_count, rng):
        if rule.kind == "flash_price":
            continue  # overlapping flash sales are refused by design; engine runs cover them
        definition = promotions.definition_json(rule)
        listed = definition["stacking"]["combinable_with"]
        if listed is not None:  # ids of promotions not created yet would be refused
            definition["stacking"]["combinable_with"] = [v for v in listed if isinstance(v, str)]
        with container.uow(system) as uow:
            view = promotions.create_promotion(uow, promotions.CreatePromotion(definition))
            promotions.activate_promotion(uow, view.id)
            uow.commit()
            created += 1
    requests = []
    for _ in range(carts_count):
        skus = rng.sample(range(1, PRODUCTS + 1), lines)
        requests.append(
            promotions.PricingRequest(
                tuple(promotions.PricingLine(f"SKU-{p}", rng.randint(1, 3)) for p in skus),
                shipping_fee_minor=1200,
                tax_rate_bp=1300,
            )
        )

    def quote(request: promotions.PricingRequest) -> object:
        with container.uow(system) as uow:
            return promotions.quote(uow, request)

    for request in requests[:20]:
        quote(request)
    latencies = []
    for request in requests:
        began = time.perf_counter()
        quote(request)
        latencies.append((time.perf_counter() - began) * 1000)
    label = f"(c) quote use case, SQLite, {created} promotions"
    print(f"{label:<44} wall {summary(latencies)}")
    container.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--carts", type=int, default=1000)
    parser.add_argument("--promotions", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--service", action="store_true", help="Also time the quote use case.")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rules = make_promotions(args.promotions, rng)
    coupon_ids = [r.id for r in rules if r.requires_coupon]
    carts = make_carts(args.carts, args.lines, coupon_ids, rng)
    indexed, scanned = PromotionSet(rules), PromotionSet(rules, indexed=False)
    print(
        f"{args.carts} carts of {args.lines} lines, {args.promotions} active promotions "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    fast = timed(
        "(a) engine with the promotion index", carts, lambda cart: price_cart(cart, indexed)
    )
    slow = timed(
        "(b) naive: every promotion x every line", carts, lambda cart: price_cart(cart, scanned)
    )
    assert fast == slow, "the index changed a result"
    applied = [len(p.applied) for p in fast]  # type: ignore[attr-defined]
    print(
        f"promotions applied per cart: mean {sum(applied) / len(applied):.1f}, max {max(applied)}"
        f" (load average now {os.getloadavg()[0]:.1f})"
    )
    if args.service:
        service_run(args.promotions, min(args.carts, 300), args.lines, args.seed)


if __name__ == "__main__":
    main()
