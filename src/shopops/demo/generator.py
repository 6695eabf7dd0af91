"""Builds the demo store: staff, catalog, warehouses and stock, campaigns (today's and
those of the history), customers, order history.

Deterministic for a given seed. Small, slow-moving things (staff, products,
warehouses) go through the services like any user's input; large volumes
(customers, and later orders) are simulated in memory and written in bulk, so
the same generator makes benchmark stores with millions of rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shopops.auth.models import User
from shopops.bootstrap import Container
from shopops.contexts import access, catalog, inventory
from shopops.contexts.customers.models import Customer, CustomerAddress
from shopops.db.bulk import insert_rows, reserve_ids
from shopops.demo import data
from shopops.demo.campaigns import seed_campaigns
from shopops.demo.history import seed_history
from shopops.demo.past_campaigns import close_past_campaigns, seed_past_campaigns
from shopops.demo.schedule import campaigns
from shopops.demo.shipping import seed_shipping
from shopops.kernel.events import Actor

Progress = Callable[[str, int, int], None]  # (stage, done, total)
SEEDER = Actor.system("demo-seed")


@dataclass(frozen=True)
class DemoSize:
    customers: int = 3000
    days: int = 180
    seed: int = 42
    orders: bool = True  # months of order history after the customers


@dataclass
class DemoSummary:
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # role, e-mail, password
    skus: list[str] = field(default_factory=list)
    warehouses: dict[str, int] = field(default_factory=dict)
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # history rows written, per table


def is_seeded(container: Container) -> bool:
    with container.session_factory() as session:
        return bool(session.scalar(select(func.count()).select_from(User)))


def seed_demo(
    container: Container,
    size: DemoSize,
    progress: Progress | None = None,
    *,
    now: datetime | None = None,
) -> DemoSummary:
    report = progress or (lambda stage, done, total: None)
    rng = random.Random(size.seed)
    end = (now or container.clock.now()).astimezone(UTC)
    summary = DemoSummary()
    _seed_staff(container, summary)
    report("staff", 1, 1)
    _seed_catalog(container, rng, summary, report)
    _seed_warehouses(container, rng, summary, report)
    start = end - timedelta(days=size.days)
    seed_campaigns(container, summary.skus, end, since=start if size.orders else None)
    past = None
    if size.orders:
        sales = campaigns(start, size.days)  # the history's seasonal sales
        past = seed_past_campaigns(container, summary.skus, sales, start, end)
    seed_shipping(container)
    report("campaigns", 1, 1)
    summary.customers = _seed_customers(container, rng, size, end, report)
    if past is not None:
        summary.rows = seed_history(
            container,
            SEEDER,
            customers=size.customers,
            days=size.days,
            seed=size.seed,
            end=end,
            report=report,
            past=past,
        )
        close_past_campaigns(container, past)
    return summary


def _seed_staff(container: Container, summary: DemoSummary) -> None:
    with container.uow(SEEDER) as uow:
        for role, name in data.STAFF:
            email = f"{role.replace('_', '.')}@{data.STAFF_DOMAIN}"
            password = data.staff_password(role)
            access.create_user(uow, access.CreateUser(email, name, role, password))
            summary.logins.append((role, email, password))
        uow.commit()


def _seed_catalog(
    container: Container, rng: random.Random, summary: DemoSummary, report: Progress
) -> None:
    with container.uow(SEEDER) as uow:
        parents: dict[str, int] = {}
        leaves: dict[str, int] = {}
        for top, sub, *_ in data.CATALOG:
            if top not in parents:
                parents[top] = catalog.create_category(uow, catalog.CreateCategory(top)).id
            leaves[sub] = catalog.create_category(
                uow, catalog.CreateCategory(sub, parent_id=parents[top])
            ).id
        brands = [catalog.create_brand(uow, catalog.CreateBrand(name)).id for name in data.BRANDS]
        uow.commit()
    total = len(data.CATALOG)
    for index, (_, sub, (low, high), cost_share, axis, values) in enumerate(data.CATALOG):
        with container.uow(SEEDER) as uow:
            for number in range(5):
                base = rng.randint(low, high)
                price = f"{base - 1 if base > 20 else base}.{rng.choice(['00', '90', '99'])}"
                cost = f"{base * cost_share * rng.uniform(0.9, 1.1):.2f}"
                code = f"{sub[:3].upper()}-{number + 1:03d}"
                name = f"{rng.choice(data.ADJECTIVES)} {sub.rstrip('s')} {number + 1}"
                chosen = values[: rng.randint(max(2, len(values) - 2), len(values))]
                variants = tuple(
                    catalog.NewVariant(
                        sku=f"{code}-{value.upper().replace(' ', '')}",
                        price=price,
                        currency=container.settings.default_currency,
                        cost=cost,
                        weight_grams=rng.randint(80, 2500),
                        attributes={axis: value},
                    )
                    for value in chosen
                )
                catalog.create_product(
                    uow,
                    catalog.CreateProduct(
                        code=code,
                        name=name,
                        category_id=leaves[sub],
                        brand_id=rng.choice(brands),
                        status="active",
                        variants=variants,
                        description=f"{name}: a demo product in {sub}.",
                    ),
                )
                summary.skus.extend(v.sku for v in variants)
            uow.commit()
        report("catalog", index + 1, total)


def _seed_warehouses(
    container: Container, rng: random.Random, summary: DemoSummary, report: Progress
) -> None:
    with container.uow(SEEDER) as uow:
        for code, name, region, priority in data.WAREHOUSES:
            summary.warehouses[code] = inventory.create_warehouse(
                uow, inventory.CreateWarehouse(code, name, region, priority)
            ).id
        uow.commit()
    for index, sku in enumerate(summary.skus):
        with container.uow(SEEDER) as uow:
            for code, warehouse_id in summary.warehouses.items():
                if code != "SH1" and rng.random() < 0.35:
                    continue  # not every SKU is stocked everywhere
                quantity = rng.randint(40, 400) if code == "SH1" else rng.randint(10, 150)
                inventory.receive_stock(
                    uow,
                    inventory.ReceiveStock(
                        warehouse_id, sku, quantity, reason="opening stock", reference="demo-seed"
                    ),
                )
            inventory.set_threshold(uow, inventory.SetThreshold(sku, rng.choice([10, 20, 30])))
            uow.commit()
        report("stock", index + 1, len(summary.skus))


def _arrival_times(rng: random.Random, count: int, days: int, end: datetime) -> list[datetime]:
    """Sign-ups grow over time, with a weekly rhythm and more in the evening."""
    start = end - timedelta(days=days)
    weights = [
        (1 + 2 * day / max(days, 1))
        * (1.25 if (start + timedelta(days=day)).weekday() >= 5 else 1.0)
        for day in range(days)
    ]
    chosen_days = rng.choices(range(days), weights=weights, k=count)
    hours = [
        0.3,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.7,
        0.9,
        1.0,
        1.0,
        1.1,
        1.3,
        1.1,
        1.0,
        1.0,
        1.0,
        1.1,
        1.3,
        1.6,
        2.0,
        2.2,
        1.8,
        0.9,
    ]
    moments = []
    for day in sorted(chosen_days):
        hour = rng.choices(range(24), weights=hours)[0]
        moment = start + timedelta(days=day, hours=hour, seconds=rng.randint(0, 3599))
        moments.append(min(moment, end - timedelta(minutes=1)))
    return sorted(moments)


def _seed_customers(
    container: Container,
    rng: random.Random,
    size: DemoSize,
    end: datetime,
    report: Progress,
    batch: int = 2000,
) -> int:
    pii = container.pii
    moments = _arrival_times(rng, size.customers, size.days, end)
    region_weights = [w for *_, w in data.REGIONS]
    channel_weights = [w for _, w in data.CHANNELS]
    for offset in range(0, len(moments), batch):
        chunk = moments[offset : offset + batch]
        with container.uow(SEEDER) as uow:
            ids = reserve_ids(uow.session, Customer.__table__, len(chunk))  # type: ignore[arg-type]
            customers: list[dict[str, object]] = []
            addresses: list[dict[str, object]] = []
            for customer_id, registered_at in zip(ids, chunk, strict=True):
                number = customer_id
                name = f"{rng.choice(data.SURNAMES)} {rng.choice(data.GIVEN_NAMES)}"
                email = f"customer{number}@example.com"
                phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
                region, city, _ = rng.choices(data.REGIONS, weights=region_weights)[0]
                channel = rng.choices(data.CHANNELS, weights=channel_weights)[0][0]
                consent = rng.random() < 0.6
                customers.append(
                    {
                        "id": customer_id,
                        "email_encrypted": pii.encrypt(email),
                        "email_hash": pii.lookup_hash(email),
                        "phone_encrypted": pii.encrypt(phone),
                        "phone_hash": pii.lookup_hash(phone),
                        "name_encrypted": pii.encrypt(name),
                        "tags": [],
                        "marketing_email_consent": consent,
                        "marketing_sms_consent": consent and rng.random() < 0.5,
                        "consent_updated_at": registered_at,
                        "source_channel": "mini_program"
                        if channel == "mini_program"
                        else ("app" if channel == "app" else "web"),
                        "registered_at": registered_at,
                        "region": region,
                        "tier": None,
                        "erased_at": None,
                        "created_at": registered_at,
                        "updated_at": registered_at,
                    }
                )
                addresses.append(
                    {
                        "customer_id": customer_id,
                        "label": "home",
                        "recipient_encrypted": pii.encrypt(name),
                        "line1_encrypted": pii.encrypt(
                            f"{rng.randint(1, 999)} {rng.choice(data.STREETS)}"
                        ),
                        "line2_encrypted": None,
                        "phone_encrypted": pii.encrypt(phone),
                        "city": city,
                        "region": region,
                        "postal_code": f"{rng.randint(100000, 999999)}",
                        "country": "CN",
                        "is_default": True,
                        "created_at": registered_at,
                        "updated_at": registered_at,
                    }
                )
            insert_rows(uow.session, Customer.__table__, customers)  # type: ignore[arg-type]
            insert_rows(uow.session, CustomerAddress.__table__, addresses)  # type: ignore[arg-type]
            uow.audit(
                "demo.customers_generated",
                "customer",
                f"{ids[0]}-{ids[-1]}",
                after={"count": len(ids)},
            )
            uow.commit()
        report("customers", min(offset + batch, len(moments)), len(moments))
    return len(moments)
