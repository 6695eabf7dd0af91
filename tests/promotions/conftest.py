"""A small shop for promotion tests: a category tree, a brand, priced SKUs, customers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import catalog, promotions
from shopops.contexts.catalog.models import Product, Variant
from shopops.contexts.customers.models import Customer
from shopops.db.outbox import OutboxEvent
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock

SYSTEM = Actor.system("test")
MARKETING = Actor(
    "user", 91, "marketing@example.com", frozenset({"promotions.read", "promotions.write"})
)
ANALYST = Actor("user", 92, "analyst@example.com", frozenset({"promotions.read"}))


@dataclass(frozen=True)
class Shop:
    container: Container
    ids: dict[str, int]

    def run(self, use_case: Callable[..., Any], *args: Any, actor: Actor = SYSTEM) -> Any:
        with self.container.uow(actor) as uow:
            result = use_case(uow, *args)
            uow.commit()
            return result

    def create(self, definition: dict[str, Any], *, activate: bool = True) -> int:
        view = self.run(promotions.create_promotion, promotions.CreatePromotion(definition))
        if activate:
            self.run(promotions.activate_promotion, view.id)
        return int(view.id)

    def quote(self, *lines: tuple[str, int], **options: Any) -> promotions.PricedCart:
        request = promotions.PricingRequest(
            tuple(promotions.PricingLine(sku, q) for sku, q in lines), **options
        )
        return self.run(promotions.quote, request)  # type: ignore[no-any-return]

    def counts(self) -> dict[str, int]:
        tables = {
            "promotions": promotions.Promotion,
            "quotas": promotions.FlashSaleQuota,
            "coupons": promotions.Coupon,
            "batches": promotions.CouponBatch,
            "promotion_redemptions": promotions.PromotionRedemption,
            "coupon_redemptions": promotions.CouponRedemption,
            "usage": promotions.CustomerUsage,
            "audit": AuditEntry,
            "events": OutboxEvent,
        }
        with self.container.session_factory() as session:
            return {
                name: session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in tables.items()
            }


PRODUCTS = {  # sku: (category slug, price, cost)
    "TEE": ("apparel", 10000, 4000),
    "SHOE": ("shoes", 30000, 12000),
    "BAG": ("bags", 20000, 8000),
    "MUG": ("bags", 1500, 500),
}


def build_shop(container: Container) -> Shop:
    ids: dict[str, int] = {}
    with container.uow(SYSTEM) as uow:
        apparel = catalog.create_category(uow, catalog.CreateCategory("Apparel"))
        shoes = catalog.create_category(uow, catalog.CreateCategory("Shoes", parent_id=apparel.id))
        bags = catalog.create_category(uow, catalog.CreateCategory("Bags"))
        acme = catalog.create_brand(uow, catalog.CreateBrand("Acme"))
        ids.update(apparel=apparel.id, shoes=shoes.id, bags=bags.id, acme=acme.id)
        categories = {"apparel": apparel.id, "shoes": shoes.id, "bags": bags.id}
        for sku, (category, price, cost) in PRODUCTS.items():
            product = Product(
                code=f"P-{sku}",
                name=sku.title(),
                description="",
                status="active",
                category_id=categories[category],
                brand_id=acme.id if sku == "TEE" else None,
            )
            uow.session.add(product)
            uow.session.flush()
            ids[f"product:{sku}"] = product.id
            uow.session.add(
                Variant(
                    product_id=product.id,
                    sku=sku,
                    barcode=None,
                    price_minor=price,
                    cost_minor=cost,
                    currency="CNY",
                    weight_grams=100,
                    attributes={},
                    is_active=True,
                )
            )
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        for name, tier, tags in (("gold", "gold", ["vip"]), ("plain", None, [])):
            customer = Customer(tags=tags, tier=tier, source_channel="web", registered_at=moment)
            uow.session.add(customer)
            uow.session.flush()
            ids[f"customer:{name}"] = customer.id
        uow.commit()
    return Shop(container, ids)


NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def shop(make_container: Any) -> Shop:
    """The shop on a container whose clock stands at ``NOW`` (advance it with ``clock``)."""
    return build_shop(make_container(clock=FrozenClock(NOW)))
