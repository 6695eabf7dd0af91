"""History orders priced by the real pricing engine, with the counters a live store keeps.

Each order of the history is a cart priced by ``promotions.price_cart`` — the pure
engine order placement runs (``price_order``) — at its placement time, for its
customer and channel, against the store's active promotions that can run at that
moment (the others would only be explained away: the result is the same). Shipping is
free in the history (the shipping table was set up at its end) and no points are
spent; the breakdown is stored exactly as checkout stores it (``as_dict`` plus the
shipping method). The history's customers have no tier or tags yet (jobs set them
later), and a first order is a customer's first order of the history.

What the engine reads of the limits (uses, discount spent, units sold, the customer's
uses and units) is held in memory and moves as it would in the live store: up when an
order redeems (``redeem``), back down at the moment the order is cancelled or closed
(the ``release`` of order cancellation and the close job). So budgets, flash-sale
quotas, per-customer limits and coupon limits hold at every moment of the history. A
coupon code a shopper enters is checked like ``coupons.resolve_codes`` does; one that
checkout would refuse (used up, or not applying to the cart) is dropped, as the shopper
would remove it.

The redemption ledgers are rows of the batch (``promotion_redemptions``,
``coupon_redemptions``, released ones with their time); the counters on promotions,
quotas, coupons and per-customer usage are what the ledger adds up to
(``BookedCounters``), written with every batch.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.contexts import promotions
from shopops.contexts.catalog.models import Category, Product, Variant
from shopops.contexts.promotions.taxonomy import ancestors
from shopops.uow import UnitOfWork

Row = dict[str, Any]
SHIPPING_METHOD = "standard"
PROMOTION, COUPON = "promotion", "coupon"  # subjects of per-customer usage


@dataclass(frozen=True, slots=True)
class _Facts:
    product_id: int
    category_ids: frozenset[int]  # the product's category and its ancestors
    brand_id: int | None
    price_minor: int
    floor_unit_minor: int  # checkout prices with floor "cost": no unit below its cost


@dataclass(frozen=True, slots=True)
class _Coupon:
    id: int
    code: str
    promotion_id: int
    active: bool
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    per_customer_limit: int | None
    min_spend_minor: int | None
    restricted: bool  # to some customers, tiers or segments: never entered in the history


@dataclass
class _Use:
    """One order's redemption: what it took from each counter."""

    promotions: list[tuple[int, int, int]]  # (promotion id, discount, units)
    coupons: list[int]  # coupon ids
    customer_id: int | None


@dataclass
class Counters:
    """Uses, discount and units per promotion, uses per coupon, and per customer."""

    promotions: dict[int, list[int]] = field(default_factory=dict)  # [uses, discount, units]
    coupons: dict[int, int] = field(default_factory=dict)
    customers: dict[tuple[str, int, int], list[int]] = field(default_factory=dict)

    def add(self, use: _Use, sign: int) -> None:
        customer = use.customer_id
        for promotion_id, discount, units in use.promotions:
            counter = self.promotions.setdefault(promotion_id, [0, 0, 0])
            counter[0] += sign
            counter[1] += sign * discount
            counter[2] += sign * units
            if customer is not None:
                mine = self.customers.setdefault((PROMOTION, promotion_id, customer), [0, 0])
                mine[0] += sign
                mine[1] += sign * units
        for coupon_id in use.coupons:
            self.coupons[coupon_id] = self.coupons.get(coupon_id, 0) + sign
            if customer is not None:
                self.customers.setdefault((COUPON, coupon_id, customer), [0, 0])[0] += sign


@dataclass
class BookedCounters(Counters):
    """The counters as the ledger written so far adds them up (released uses left out),
    with the keys changed since the last write."""

    dirty_promotions: set[int] = field(default_factory=set)
    dirty_coupons: set[int] = field(default_factory=set)
    dirty_customers: set[tuple[str, int, int]] = field(default_factory=set)
    written_customers: set[tuple[str, int, int]] = field(default_factory=set)

    def book(self, use: _Use, released: bool) -> None:
        """Every use makes its per-customer rows (as ``try_use_for_customer`` does); only
        those not released count."""
        self.add(use, 0 if released else 1)
        self.dirty_promotions.update(p for p, _, _ in use.promotions)
        self.dirty_coupons.update(use.coupons)
        if use.customer_id is not None:
            customer = use.customer_id
            self.dirty_customers.update((PROMOTION, p, customer) for p, _, _ in use.promotions)
            self.dirty_customers.update((COUPON, c, customer) for c in use.coupons)


class HistoryPricer:
    """Prices history carts and records what they redeemed; one per seeded history."""

    def __init__(
        self,
        session: Session,
        uow: UnitOfWork,
        currency: str,
        codes: Sequence[str],
        next_id: Callable[[str], int],
    ) -> None:
        self.currency = currency
        self.next_id = next_id
        self.rules = _active_rules(uow)
        self.by_id = {rule.id: rule for rule in self.rules}
        self.coupons: dict[str, _Coupon] = {}
        for code in codes:
            view = promotions.get_coupon(uow, code)
            self.coupons[view.code] = _Coupon(
                view.id,
                view.code,
                view.promotion_id,
                view.is_active and view.promotion_id in self.by_id,
                view.starts_at,
                view.ends_at,
                view.max_uses,
                view.per_customer_limit,
                view.min_spend_minor,
                bool(view.customer_ids or view.tiers or view.segments),
            )
        self.facts = _sku_facts(session)
        self.live = Counters()  # as the engine sees them at the current moment
        self.booked = BookedCounters()
        self._releases: list[tuple[datetime, int, _Use]] = []  # heap of uses given back later
        self._redeemed = 0  # uses so far: the heap's tie-break
        self._sets: dict[tuple[int, ...], promotions.PromotionSet] = {}
        self._ordered: set[int] = set()  # customers who have placed an order

    # --- pricing ---

    def price(
        self,
        at: datetime,
        customer_id: int | None,
        channel: str,
        lines: Sequence[tuple[str, int]],
        codes: Sequence[str] = (),
    ) -> promotions.PricedCart:
        """The cart of ``lines`` (distinct SKUs) priced at ``at``, with the codes checkout
        would accept; every counter up to ``at`` applied."""
        self._release_until(at)
        grants = [g for g in (self._grant(code, at, customer_id) for code in codes) if g]
        first_order = customer_id is not None and customer_id not in self._ordered
        customer = promotions.CustomerFacts(customer_id, None, frozenset(), first_order)
        cart_lines = []
        for sku, quantity in lines:
            facts = self.facts[sku]
            cart_lines.append(
                promotions.CartLine(
                    sku,
                    quantity,
                    facts.price_minor,
                    facts.product_id,
                    facts.category_ids,
                    facts.brand_id,
                    facts.floor_unit_minor,
                )
            )
        while True:
            cart = promotions.Cart(
                currency=self.currency,
                lines=tuple(cart_lines),
                at=at,
                channel=channel,
                customer=customer,
                coupons=tuple(grants),
                shipping=promotions.Shipping(SHIPPING_METHOD, 0),
            )
            priced = promotions.price_cart(cart, self._set_for(cart), self._usage(cart))
            refused = {c.code for c in priced.coupons if not c.applied}
            if not refused:
                return priced
            # Checkout refuses a code that does not apply: the shopper takes it out.
            grants = [g for g in grants if g.code not in refused]

    def _grant(
        self, code: str, at: datetime, customer_id: int | None
    ) -> promotions.CouponGrant | None:
        """The code's grant, if ``coupons.resolve_codes`` would accept it now."""
        coupon = self.coupons.get(code)
        if coupon is None or not coupon.active or coupon.restricted:
            return None
        rule = self.by_id[coupon.promotion_id]
        starts = [m for m in (coupon.starts_at, rule.schedule.starts_at) if m is not None]
        ends = [m for m in (coupon.ends_at, rule.schedule.ends_at) if m is not None]
        if (starts and at < max(starts)) or (ends and at >= min(ends)):
            return None
        if coupon.max_uses is not None and self.live.coupons.get(coupon.id, 0) >= coupon.max_uses:
            return None
        limit = coupon.per_customer_limit
        if limit is not None:
            if customer_id is None:
                return None
            uses = self.live.customers.get((COUPON, coupon.id, customer_id), (0, 0))[0]
            if uses >= limit:
                return None
        return promotions.CouponGrant(coupon.code, coupon.promotion_id, coupon.min_spend_minor)

    def _set_for(self, cart: promotions.Cart) -> promotions.PromotionSet:
        """The active promotions that can run for this cart now: those its time is outside
        of, and those needing a code it lacks, would be refused anyway."""
        granted = {grant.promotion_id for grant in cart.coupons}
        key = tuple(
            rule.id
            for rule in self.rules
            if rule.schedule.refusal(cart.at) is None
            and (not rule.requires_coupon or rule.id in granted)
        )
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = promotions.PromotionSet(self.by_id[i] for i in key)
        return found

    def _usage(self, cart: promotions.Cart) -> dict[int, promotions.Usage]:
        customer = cart.customer.id
        usage = {}
        for promotion_id, (uses, discount, units) in self.live.promotions.items():
            mine: Sequence[int] = (0, 0)
            if customer is not None:
                mine = self.live.customers.get((PROMOTION, promotion_id, customer), mine)
            usage[promotion_id] = promotions.Usage(uses, discount, units, mine[0], mine[1])
        return usage

    # --- redemption ---

    def redeem(
        self,
        rows: dict[str, list[Row]],
        order_number: str,
        priced: promotions.PricedCart,
        customer_id: int | None,
        placed: datetime,
        released: datetime | None,
    ) -> None:
        """What ``promotions.redeem`` records for the order placed at ``placed``, and what
        ``promotions.release`` gives back at ``released`` (cancelled or closed by then)."""
        if customer_id is not None:
            self._ordered.add(customer_id)
        applied = sorted(
            (a for a in priced.applied if promotions.is_stored(a.promotion_id)),
            key=lambda a: a.promotion_id,
        )
        if not applied:
            return
        coupon_ids = {
            a.coupon_code: self.coupons[a.coupon_code].id for a in applied if a.coupon_code
        }
        use = _Use(
            [(a.promotion_id, a.discount_minor, a.units) for a in applied],
            sorted(coupon_ids.values()),
            customer_id,
        )
        self.live.add(use, 1)
        self._check_limits(use)
        self.booked.book(use, released is not None)
        if released is not None:
            self._redeemed += 1
            heapq.heappush(self._releases, (released, self._redeemed, use))
        status = "redeemed" if released is None else "released"
        for item in applied:
            rows["promotion_redemptions"].append(
                {
                    "id": self.next_id("promotion_redemptions"),
                    "promotion_id": item.promotion_id,
                    "order_number": order_number,
                    "customer_id": customer_id,
                    "coupon_id": coupon_ids.get(item.coupon_code) if item.coupon_code else None,
                    "currency": priced.currency,
                    "discount_minor": item.discount_minor,
                    "units": item.units,
                    "order_total_minor": priced.total_minor,
                    "status": status,
                    "redeemed_at": placed,
                    "released_at": released,
                }
            )
        for item in applied:
            if item.coupon_code:
                rows["coupon_redemptions"].append(
                    {
                        "id": self.next_id("coupon_redemptions"),
                        "coupon_id": coupon_ids[item.coupon_code],
                        "promotion_id": item.promotion_id,
                        "order_number": order_number,
                        "customer_id": customer_id,
                        "status": status,
                        "redeemed_at": placed,
                        "released_at": released,
                    }
                )

    def _check_limits(self, use: _Use) -> None:
        """The engine and ``_grant`` never let a counter pass its limit; if one did, the
        history would show what the live store's conditional updates prevent."""
        for promotion_id, _, _ in use.promotions:
            limits = self.by_id[promotion_id].limits
            uses, discount, units = self.live.promotions[promotion_id]
            mine = [0, 0]
            if use.customer_id is not None:
                mine = self.live.customers[(PROMOTION, promotion_id, use.customer_id)]
            for limit, used in (
                (limits.max_redemptions, uses),
                (limits.max_discount_minor, discount),
                (limits.quota_units, units),
                (limits.per_customer, mine[0]),
                (limits.per_customer_units, mine[1]),
            ):
                if limit is not None and used > limit:
                    raise RuntimeError(f"promotion {promotion_id} went past a limit")
        for coupon in self.coupons.values():
            if coupon.id not in use.coupons:
                continue
            used = self.live.coupons[coupon.id]
            mine_uses = 0
            if use.customer_id is not None:
                mine_uses = self.live.customers[(COUPON, coupon.id, use.customer_id)][0]
            if (coupon.max_uses is not None and used > coupon.max_uses) or (
                coupon.per_customer_limit is not None and mine_uses > coupon.per_customer_limit
            ):
                raise RuntimeError(f"coupon {coupon.code} went past a limit")

    def _release_until(self, at: datetime) -> None:
        releases = self._releases
        while releases and releases[0][0] <= at:
            _, _, use = heapq.heappop(releases)
            self.live.add(use, -1)


def _active_rules(uow: UnitOfWork) -> list[promotions.PromotionRule]:
    """The store's active promotions, parsed as pricing parses them."""
    rules: list[promotions.PromotionRule] = []
    after: int | None = None
    while True:
        page = promotions.list_promotions(
            uow, promotions.ListPromotions(status="active", after_id=after, limit=500)
        )
        # Gift promotions are left out: the history writes no gift lines (the demo has none).
        rules.extend(
            promotions.parse_definition(view.definition, view.id)
            for view in page
            if view.kind != "gift"
        )
        if len(page) < 500:
            return rules
        after = page[-1].id


def _sku_facts(session: Session) -> dict[str, _Facts]:
    parents = {
        int(row.id): None if row.parent_id is None else int(row.parent_id)
        for row in session.execute(select(Category.id, Category.parent_id))
    }

    facts = {}
    for sku, product_id, category_id, brand_id, price, cost in session.execute(
        select(
            Variant.sku,
            Variant.product_id,
            Product.category_id,
            Product.brand_id,
            Variant.price_minor,
            Variant.cost_minor,
        ).join(Product, Product.id == Variant.product_id)
    ):
        facts[sku] = _Facts(
            int(product_id),
            ancestors(category_id, parents),
            None if brand_id is None else int(brand_id),
            int(price),
            int(cost or 0),
        )
    return facts


__all__ = ["BookedCounters", "Counters", "HistoryPricer"]
