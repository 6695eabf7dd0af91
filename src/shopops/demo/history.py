"""Months of order history for the demo store: simulated day by day, written in bulk.

Customers buy on BG/NBD-like clocks (``schedule``), baskets follow each customer's
favourite category, every order is priced by the pricing engine against the
promotions running at the time (``pricing``; the past campaigns of
``past_campaigns``: during a flash sale many shoppers add its product, during a
coupon campaign many signed-in shoppers enter its code) and lives out its fate
(``lifecycle``) against a stock book that replenishes itself (``stock``), and each
batch of days is written in one transaction (``write``). Memory holds per-customer
state and one batch, so the same code seeds years of history for half a million
customers.

History is not news: no outbox events are written, and one audit row per
batch records what the demo generated. Registered customers' orders carry
their default address as sealed in the customer record (the same ciphertext,
no re-encryption); guest orders seal their contact and address with the PII
key like checkout does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopops.bootstrap import Container
from shopops.contexts.catalog.models import Category, Product, Variant
from shopops.contexts.customers.models import Customer, CustomerAddress
from shopops.contexts.inventory.models import StockLevel, StockMovement, Warehouse
from shopops.demo import data
from shopops.demo.behaviour import BehaviourWriter
from shopops.demo.lifecycle import Batch, OrderSimulator, Shopper, Sku
from shopops.demo.past_campaigns import COUPON_TAKE_UP, FLASH_PULL, PastCampaigns
from shopops.demo.pricing import HistoryPricer
from shopops.demo.schedule import PurchaseProcess, SeasonalClock, campaigns
from shopops.demo.stock import Level, StockBook, WarehouseRef
from shopops.demo.write import IdPool, write_batch
from shopops.kernel.events import Actor

Progress = Callable[[str, int, int], None]
GUEST_SHARE = 0.06
LINE_COUNTS = ((1, 2, 3, 4), (55, 28, 12, 5))
_ORDER_CHANNELS = [name for name, _ in data.CHANNELS] + ["social"]
_ORDER_CHANNEL_WEIGHTS = [weight for _, weight in data.CHANNELS] + [3]


@dataclass(frozen=True)
class _Customers:
    ids: list[int]
    regions: list[str | None]
    channels: list[str]
    registered_days: np.ndarray
    favourites: np.ndarray  # index into the category list


class _Catalog:
    """SKUs by top-level category with fixed popularity (a few bestsellers, a long tail)."""

    def __init__(self, session: Session, rng: random.Random) -> None:
        top = Category.__table__.alias("top")
        leaf = Category.__table__.alias("leaf")
        rows = session.execute(
            select(Variant.sku, Product.name, top.c.name, Variant.price_minor, Variant.cost_minor)
            .join(Product, Product.id == Variant.product_id)
            .join(leaf, leaf.c.id == Product.category_id)
            .join(top, top.c.id == leaf.c.parent_id)
            .where(Variant.is_active.is_(True), Product.status == "active")
            .order_by(Variant.sku)
        ).all()
        self.by_category: dict[str, list[Sku]] = {}
        self.by_sku: dict[str, Sku] = {}
        for sku, name, category, price, cost in rows:
            found = Sku(sku, name, category, int(price), None if cost is None else int(cost))
            self.by_category.setdefault(category, []).append(found)
            self.by_sku[sku] = found
        self.categories = sorted(self.by_category)
        self.weights: dict[str, list[float]] = {
            category: [rng.paretovariate(1.3) for _ in skus]
            for category, skus in self.by_category.items()
        }
        self.category_weights = [sum(self.weights[c]) for c in self.categories]

    def pick(self, rng: random.Random) -> Sku:
        """One SKU as a visitor would come across it: popular categories, then bestsellers."""
        category = rng.choices(self.categories, weights=self.category_weights)[0]
        return rng.choices(self.by_category[category], weights=self.weights[category])[0]

    def basket(self, rng: random.Random, favourite: int) -> list[tuple[Sku, int]]:
        count = rng.choices(*LINE_COUNTS)[0]
        chosen: dict[str, tuple[Sku, int]] = {}
        category = self.categories[favourite]
        for _ in range(count):
            if rng.random() < 0.35:  # a look around the rest of the store
                category = rng.choices(self.categories, weights=self.category_weights)[0]
            sku = rng.choices(self.by_category[category], weights=self.weights[category])[0]
            cheap = sku.price_minor < 10_000
            quantity = rng.choices((1, 2, 3), weights=(70, 22, 8) if cheap else (92, 7, 1))[0]
            chosen.setdefault(sku.sku, (sku, quantity))
        return list(chosen.values())


def seed_history(
    container: Container,
    actor: Actor,
    *,
    customers: int,
    days: int,
    seed: int,
    end: datetime,
    report: Progress,
    past: PastCampaigns | None = None,
    batch_orders: int = 5000,
) -> dict[str, int]:
    """Simulate and write ``days`` of orders up to ``end`` (the campaigns of ``past`` ran
    in them); returns rows written per table."""
    start = end - timedelta(days=days)
    past = past or PastCampaigns()
    rng = random.Random(f"history-{seed}")
    offers = random.Random(f"offers-{seed}")  # flash-sale buyers and coupon codes
    with container.session_factory() as session:
        catalog = _Catalog(session, rng)
        warehouses = [
            WarehouseRef(w.id, w.code, w.region, w.priority)
            for w in session.scalars(select(Warehouse).order_by(Warehouse.id))
        ]
        levels = [
            Level(lv.id, lv.sku, lv.warehouse_id, lv.on_hand, lv.reserved)
            for lv in session.scalars(select(StockLevel).order_by(StockLevel.id))
        ]
        shoppers = _load_customers(session, start, len(catalog.categories), seed)
        # Opening stock was received "now"; in the story it was there on day one.
        session.execute(
            update(StockMovement)
            .where(StockMovement.reference == "demo-seed")
            .values(occurred_at=start)
        )
        session.commit()
    ids = IdPool(container)
    book = StockBook(levels, warehouses, actor.label, ids)
    cities = {w.id: _city_of(w.code) for w in warehouses}
    currency = container.settings.default_currency
    with container.uow(actor) as uow:
        pricer = HistoryPricer(uow.session, uow, currency, past.codes, ids)
    simulator = OrderSimulator(rng, book, ids, end, actor.label, cities, currency, pricer)
    simulator.behaviour = BehaviourWriter(
        random.Random(f"behaviour-{seed}"), ids, catalog.pick, simulator.currency, end
    )
    clock = SeasonalClock(start, days, campaigns(start, days))
    process = PurchaseProcess(seed, clock, shoppers.registered_days, rng)
    guests = _Guests(container, rng)
    counts: dict[str, int] = {}
    batch = Batch()
    for day in range(days):
        morning = clock.moment(day + 5 / 24)
        book.advance(morning)
        book.replenish(morning)
        if day % 7 == 3:
            book.adjust(clock.moment(day + 9 / 24), rng)
        due = process.due(day)
        placements = [(t, index, False) for t, index in due]
        for _ in range(sum(rng.random() < GUEST_SHARE for _ in due)):
            placements.append((clock.at_evening_hour(rng, day), -1, False))
        if day == days - 1:  # checkouts still open at the end of history
            for _ in range(max(3, customers // 800)):
                index = rng.randrange(len(shoppers.ids))
                if shoppers.registered_days[index] < day:
                    placements.append((days - rng.uniform(1, 25) / 1440, index, True))
        placements.sort()
        tag = clock.campaign_of.get(day)
        addresses = _addresses(container, [shoppers.ids[i] for _, i, _ in placements if i >= 0])
        for t, index, stays_unpaid in placements:
            placed = clock.moment(t)
            book.advance(placed)
            if index < 0:
                shopper, favourite = guests.shopper(), rng.randrange(len(catalog.categories))
            else:
                customer_id = shoppers.ids[index]
                shopper = _registered(rng, addresses[customer_id], shoppers.channels[index])
                favourite = int(shoppers.favourites[index])
            basket = catalog.basket(rng, favourite)
            codes = _campaign_shopping(offers, past, placed, shopper, basket, catalog)
            simulator.place(
                batch, placed, shopper, basket, tag, stays_unpaid=stays_unpaid, codes=codes
            )
        if batch.orders >= batch_orders or day == days - 1:
            if day == days - 1:
                book.advance(end)
            batch.rows["stock_movements"] = book.drain()
            write_batch(container, actor, batch.rows, levels, counts, pricer.booked)
            batch = Batch()
        report("orders", day + 1, days)
    return counts


def _campaign_shopping(
    rng: random.Random,
    past: PastCampaigns,
    placed: datetime,
    shopper: Shopper,
    basket: list[tuple[Sku, int]],
    catalog: _Catalog,
) -> tuple[str, ...]:
    """What a campaign running at ``placed`` changes: a flash sale's product in the basket
    (added to it), a coupon code entered; returns the codes."""
    flash = past.flash_sale_at(placed)
    if flash is not None and rng.random() < FLASH_PULL:
        sku = catalog.by_sku.get(rng.choice(flash.skus))
        if sku is not None and all(chosen.sku != sku.sku for chosen, _ in basket):
            basket.append((sku, rng.choice((1, 1, 2))))
    coupon = past.coupon_at(placed)
    if coupon is None or shopper.customer_id is None:  # its code is once per customer
        return ()
    spend = sum(sku.price_minor * quantity for sku, quantity in basket)
    if spend < coupon.min_spend_minor or rng.random() >= COUPON_TAKE_UP:
        return ()
    return (coupon.code,)


def _city_of(code: str) -> str:
    name = next(name for c, name, *_ in data.WAREHOUSES if c == code)
    return name.split()[0]


def _load_customers(session: Session, start: datetime, categories: int, seed: int) -> _Customers:
    rows = session.execute(
        select(Customer.id, Customer.registered_at, Customer.region, Customer.source_channel)
        .where(Customer.erased_at.is_(None))
        .order_by(Customer.id)
    ).all()
    registered = np.array(
        [(_aware(r.registered_at) - start).total_seconds() / 86400 for r in rows], dtype=float
    )
    favourites = np.random.default_rng(seed + 1).integers(0, max(categories, 1), len(rows))
    return _Customers(
        ids=[int(r.id) for r in rows],
        regions=[r.region for r in rows],
        channels=[r.source_channel or "web" for r in rows],
        registered_days=np.maximum(registered, 0.0),
        favourites=favourites,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _addresses(container: Container, customer_ids: list[int]) -> dict[int, CustomerAddress]:
    found: dict[int, CustomerAddress] = {}
    wanted = sorted(set(customer_ids))
    with container.session_factory() as session:
        for offset in range(0, len(wanted), 900):
            chunk = wanted[offset : offset + 900]
            for address in session.scalars(
                select(CustomerAddress).where(
                    CustomerAddress.customer_id.in_(chunk), CustomerAddress.is_default.is_(True)
                )
            ):
                found[address.customer_id] = address
            session.expunge_all()
    return found


def _registered(rng: random.Random, address: CustomerAddress, usual: str) -> Shopper:
    """Mostly the channel the customer came from, sometimes another one."""
    channel = (
        usual
        if rng.random() < 0.8
        else rng.choices(_ORDER_CHANNELS, weights=_ORDER_CHANNEL_WEIGHTS)[0]
    )
    return Shopper(
        customer_id=address.customer_id,
        channel=channel,
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        recipient=address.recipient_encrypted,
        line1=address.line1_encrypted,
        phone=address.phone_encrypted,
    )


class _Guests:
    """One-off buyers without an account: contact and address sealed per order."""

    def __init__(self, container: Container, rng: random.Random) -> None:
        self.pii = container.pii
        self.rng = rng
        self.count = 0
        self.region_weights = [w for *_, w in data.REGIONS]

    def shopper(self) -> Shopper:
        rng, pii = self.rng, self.pii
        self.count += 1
        name = f"{rng.choice(data.SURNAMES)} {rng.choice(data.GIVEN_NAMES)}"
        email = f"guest{self.count}.{rng.randrange(10**6)}@example.net"
        phone = f"1{rng.choice('3578')}{rng.randint(100000000, 999999999)}"
        region, city, _ = rng.choices(data.REGIONS, weights=self.region_weights)[0]
        return Shopper(
            customer_id=None,
            channel=rng.choices(_ORDER_CHANNELS, weights=_ORDER_CHANNEL_WEIGHTS)[0],
            city=city,
            region=region,
            postal_code=f"{rng.randint(100000, 999999)}",
            recipient=pii.encrypt(name),
            line1=pii.encrypt(f"{rng.randint(1, 999)} {rng.choice(data.STREETS)}"),
            phone=pii.encrypt(phone),
            guest_email=pii.encrypt(email),
            guest_email_hash=pii.lookup_hash(email),
            guest_name=pii.encrypt(name),
        )


__all__ = ["seed_history"]
