"""Storefront behaviour around the demo's orders: Segment e-commerce v2 events.

Every simulated order gets the session that led to it (list, product views,
adds to cart, cart, checkout, and ``Order Completed`` once it is paid), and
around it the sessions of visitors who looked and left: bounces, browsers,
abandoned carts and abandoned checkouts. So the funnel, click-through and
product conversion read from events agree with the orders themselves.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from shopops.demo.lifecycle import Batch, Sku

Row = dict[str, Any]

# (share of non-buying sessions, deepest step reached)
_DROP_OFF: tuple[tuple[float, str], ...] = (
    (0.42, "Product List Viewed"),
    (0.36, "Product Viewed"),
    (0.15, "Product Added"),
    (0.07, "Checkout Started"),
)
BROWSING_SESSIONS_PER_ORDER = 9  # with the buying session: about 10% of sessions convert


class BehaviourWriter:
    """Adds ``tracked_events`` / ``tracked_event_products`` rows to a batch."""

    def __init__(
        self,
        rng: random.Random,
        next_id: Callable[[str], int],
        pick: Callable[[random.Random], Sku],
        currency: str,
        end: datetime,
    ) -> None:
        self.rng, self.next_id, self.pick = rng, next_id, pick
        self.currency, self.end = currency, end
        self.visitors = 0

    def order_session(
        self,
        batch: Batch,
        *,
        placed: datetime,
        paid: datetime | None,
        customer_id: int | None,
        channel: str,
        order_number: str,
        lines: Sequence[tuple[Sku, int]],
        total_minor: int,
    ) -> None:
        """The buying session, then the visits of shoppers who did not buy."""
        visitor, user = self._visitor(customer_id)
        skus = [sku for sku, _ in lines]
        at = placed - timedelta(minutes=self.rng.uniform(4, 35))
        session = _Session(self, batch, visitor, user, channel)
        at = session.browse(at, skus)
        for sku, quantity in lines:
            at = session.add(at, sku, quantity)
        at = session.step(at, "Cart Viewed", [(s, q) for s, q in lines])
        session.step(at, "Checkout Started", list(lines), revenue=total_minor)
        if paid is not None and paid <= self.end:
            session.step(
                paid, "Order Completed", list(lines), order=order_number, revenue=total_minor
            )
        for _ in range(self._browsers()):
            self._browsing_session(batch, placed, channel)

    def _browsers(self) -> int:
        mean = BROWSING_SESSIONS_PER_ORDER
        return max(0, round(self.rng.gauss(mean, mean / 3)))

    def _browsing_session(self, batch: Batch, around: datetime, channel: str) -> None:
        at = around + timedelta(hours=self.rng.uniform(-12, 12))
        if at > self.end:
            return
        visitor, user = self._visitor(None)
        session = _Session(self, batch, visitor, user, channel)
        deepest = self.rng.choices(
            [step for _, step in _DROP_OFF], weights=[share for share, _ in _DROP_OFF]
        )[0]
        viewed = [self.pick(self.rng) for _ in range(self.rng.choice((1, 1, 2, 3)))]
        at = session.list(at, viewed)
        if deepest == "Product List Viewed":
            return
        for sku in viewed:
            at = session.step(at, "Product Viewed", [(sku, 1)])
        if deepest == "Product Viewed":
            return
        at = session.add(at, viewed[0], 1)
        if deepest == "Checkout Started":
            session.step(at, "Checkout Started", [(viewed[0], 1)], revenue=viewed[0].price_minor)

    def _visitor(self, customer_id: int | None) -> tuple[str, str | None]:
        if customer_id is not None:
            return f"anon-c{customer_id}", str(customer_id)
        self.visitors += 1
        return f"anon-v{self.rng.getrandbits(48):012x}", None


class _Session:
    def __init__(
        self,
        writer: BehaviourWriter,
        batch: Batch,
        visitor: str,
        user: str | None,
        channel: str,
    ) -> None:
        self.writer, self.rows = writer, batch.rows
        self.visitor, self.user, self.channel = visitor, user, channel

    def _later(self, at: datetime) -> datetime:
        return at + timedelta(seconds=self.writer.rng.uniform(8, 90))

    def list(self, at: datetime, featured: Sequence[Sku]) -> datetime:
        extra = [self.writer.pick(self.writer.rng) for _ in range(4)]
        return self.step(at, "Product List Viewed", [(s, 1) for s in [*featured, *extra]])

    def browse(self, at: datetime, wanted: Sequence[Sku]) -> datetime:
        at = self.list(at, wanted)
        for sku in wanted:
            at = self.step(at, "Product Clicked", [(sku, 1)])
            at = self.step(at, "Product Viewed", [(sku, 1)])
        return at

    def add(self, at: datetime, sku: Sku, quantity: int) -> datetime:
        return self.step(at, "Product Added", [(sku, quantity)])

    def step(
        self,
        at: datetime,
        event: str,
        products: Sequence[tuple[Sku, int]],
        *,
        order: str | None = None,
        revenue: int | None = None,
    ) -> datetime:
        writer = self.writer
        event_id = writer.next_id("tracked_events")
        single = products[0][0] if len(products) == 1 and event.startswith("Product ") else None
        listed = [
            {"sku": s.sku, "name": s.name, "price": s.price_minor, "quantity": q}
            for s, q in products
        ]
        properties: Row = {"products": listed} if single is None else dict(listed[0])
        if order is not None:
            properties["order_id"] = order
        if revenue is not None:
            properties["revenue"] = revenue
        self.rows["tracked_events"].append(
            {
                "id": event_id,
                "message_id": f"demo-{event_id}",
                "event": event,
                "anonymous_id": self.visitor,
                "user_id": self.user,
                "channel": self.channel,
                "product_id": None,
                "sku": single.sku if single else None,
                "order_id": order,
                "revenue_minor": revenue,
                "currency": writer.currency if revenue is not None else None,
                "properties": properties,
                "context": {"channel": self.channel, "library": {"name": "shopops-demo"}},
                "occurred_at": at,
                "received_at": at,
            }
        )
        for position, (sku, quantity) in enumerate(products):
            self.rows["tracked_event_products"].append(
                {
                    "id": writer.next_id("tracked_event_products"),
                    "event_id": event_id,
                    "position": position,
                    "product_id": None,
                    "sku": sku.sku,
                    "quantity": quantity,
                    "price_minor": sku.price_minor,
                }
            )
        return self._later(at)
