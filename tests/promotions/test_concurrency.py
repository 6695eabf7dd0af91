"""Concurrent redemptions on PostgreSQL never pass a limit: coupon uses (global and per
customer), discount budgets, and flash-sale quotas (total and per customer).

Each buyer prices and redeems in its own unit of work on its own connection, all
released together by a barrier, as checkouts do.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.contexts import promotions
from shopops.contexts.customers.models import Customer
from shopops.contexts.promotions import CouponTerms, PricingLine, PricingRequest
from shopops.kernel.errors import DomainError
from tests.promotions.conftest import SYSTEM, Shop, build_shop

pytestmark = pytest.mark.postgres_only

BUYERS = 40


@pytest.fixture
def busy_shop(make_container: Any) -> Shop:
    container = make_container(outbox_inline=False, database_pool_size=BUYERS + 5)
    shop = build_shop(container)
    with container.uow(SYSTEM) as uow:
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        for index in range(BUYERS):
            customer = Customer(tags=[], tier=None, source_channel="web", registered_at=moment)
            uow.session.add(customer)
            uow.session.flush()
            shop.ids[f"buyer:{index}"] = customer.id
        uow.commit()
    return shop


def _race(shop: Shop, buy: Callable[[int], str]) -> Counter[str]:
    start = threading.Barrier(BUYERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def buyer(index: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=30)
        try:
            result = buy(index)
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        list(pool.map(buyer, range(BUYERS)))
    return outcomes


def _checkout(shop: Shop, index: int, request: PricingRequest) -> str:
    """Price and redeem in one transaction; "discounted" when a promotion was used."""
    with shop.container.uow(SYSTEM) as uow:
        priced = promotions.price_order(uow, request)
        promotions.redeem(uow, f"SO-{index}", priced, request.customer_id)
        uow.commit()
    return "discounted" if priced.applied else "full_price"


def _scalar(shop: Shop, statement: Any) -> int:
    with shop.container.session_factory() as session:
        return int(session.scalar(statement) or 0)


def _voucher(shop: Shop, **limits: Any) -> int:
    return shop.create(
        {
            "name": "Voucher",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "10"},
            "requires_coupon": True,
            "limits": limits,
        }
    )


def test_a_coupon_is_never_used_more_than_its_limit(busy_shop: Shop) -> None:
    promotion_id = _voucher(busy_shop)
    busy_shop.run(
        promotions.create_coupon,
        promotions.CreateCoupon(promotion_id, "TEN", CouponTerms(max_uses=10)),
    )

    def buy(index: int) -> str:
        request = PricingRequest((PricingLine("TEE", 1),), coupon_codes=("TEN",))
        return _checkout(busy_shop, index, request)

    outcomes = _race(busy_shop, buy)
    assert outcomes == Counter({"discounted": 10, "coupons.limit_reached": BUYERS - 10})
    assert busy_shop.run(promotions.get_coupon, "TEN").used == 10
    redeemed = select(func.count()).select_from(promotions.CouponRedemption)
    assert _scalar(busy_shop, redeemed) == 10


def test_one_customer_racing_themselves_gets_their_per_customer_limit(busy_shop: Shop) -> None:
    promotion_id = _voucher(busy_shop)
    terms = CouponTerms(max_uses=None, per_customer_limit=2)
    busy_shop.run(promotions.create_coupon, promotions.CreateCoupon(promotion_id, "TWICE", terms))
    customer = busy_shop.ids["buyer:0"]

    def buy(index: int) -> str:
        request = PricingRequest(
            (PricingLine("TEE", 1),), coupon_codes=("TWICE",), customer_id=customer
        )
        return _checkout(busy_shop, index, request)

    outcomes = _race(busy_shop, buy)
    assert outcomes == Counter({"discounted": 2, "coupons.customer_limit_reached": BUYERS - 2})
    assert busy_shop.run(promotions.get_coupon, "TWICE").used == 2


def test_a_discount_budget_is_never_overspent(busy_shop: Shop) -> None:
    busy_shop.create(
        {
            "name": "Budgeted",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "10"},
            "limits": {"max_discount": "125"},
        }
    )

    def buy(index: int) -> str:
        return _checkout(busy_shop, index, PricingRequest((PricingLine("TEE", 1),)))

    outcomes = _race(busy_shop, buy)
    # 12 orders get 10.00; the 13th may still get the 5.00 left if it priced after the 12th
    view = busy_shop.run(promotions.list_promotions, promotions.ListPromotions())[0]
    assert view.discount_used_minor <= 12500
    spent = select(func.sum(promotions.PromotionRedemption.discount_minor))
    assert _scalar(busy_shop, spent) == view.discount_used_minor
    assert outcomes["discounted"] in (12, 13)
    assert (
        outcomes["discounted"] + outcomes["full_price"] + outcomes["promotions.budget_exhausted"]
        == BUYERS
    )


def _flash(shop: Shop, quota: int, per_customer: int) -> None:
    shop.create(
        {
            "name": "Flash tee",
            "kind": "flash_price",
            "currency": "CNY",
            "params": {"price": "59"},
            "scope": {"products": [shop.ids["product:TEE"]]},
            "limits": {"quota_units": quota, "per_customer_units": per_customer},
        }
    )


def test_a_flash_sale_never_sells_past_its_quota(busy_shop: Shop) -> None:
    _flash(busy_shop, quota=25, per_customer=3)

    def buy(index: int) -> str:
        request = PricingRequest(
            (PricingLine("TEE", 1),), customer_id=busy_shop.ids[f"buyer:{index}"]
        )
        return _checkout(busy_shop, index, request)

    outcomes = _race(busy_shop, buy)
    assert outcomes["discounted"] == 25
    assert set(outcomes) <= {"discounted", "full_price", "promotions.quota_exhausted"}
    assert _scalar(busy_shop, select(promotions.FlashSaleQuota.sold_units)) == 25
    ledger = select(func.sum(promotions.PromotionRedemption.units))
    assert _scalar(busy_shop, ledger) == 25


def test_one_customer_gets_no_more_flash_units_than_their_limit(busy_shop: Shop) -> None:
    _flash(busy_shop, quota=100, per_customer=3)
    customer = busy_shop.ids["buyer:0"]

    def buy(index: int) -> str:
        request = PricingRequest((PricingLine("TEE", 1),), customer_id=customer)
        return _checkout(busy_shop, index, request)

    outcomes = _race(busy_shop, buy)
    assert outcomes["discounted"] == 3
    assert set(outcomes) <= {"discounted", "full_price", "promotions.customer_limit_reached"}
    usage = select(promotions.CustomerUsage.units).where(
        promotions.CustomerUsage.customer_id == customer
    )
    assert _scalar(busy_shop, usage) == 3
    assert _scalar(busy_shop, select(promotions.FlashSaleQuota.sold_units)) == 3
