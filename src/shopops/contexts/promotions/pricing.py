"""Pricing inside a unit of work: load the facts, run the pure engine, and — when an
order is placed — redeem what it used, or give it back when the order is cancelled.

``quote`` is the simulator (``promotions.read``). ``price_order``/``price_orders``,
``redeem`` and ``release`` are called by order placement and after-sales inside
their own unit of work; their callers have checked permissions.

A loyalty tier's discount (``PricingRequest.member_discounts``) is priced as one more
promotion of the cart: ``member_rule`` turns it into a definition with an id no stored
promotion has (``MEMBER_DISCOUNT_ID``), and the customer's carts are priced against the
active promotions plus that one (a ``PromotionSet`` of its own, built once per tier and
catalogue version; the shared set is never changed). It is explained, split over the
lines and stored in the breakdown like any promotion, but it has no row: no counters,
redemption ledgers or performance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from threading import Lock

from shopops.auth.permissions import Permission
from shopops.contexts.promotions import repository
from shopops.contexts.promotions.cart import Cart, CartLine, CustomerFacts, PointsOffer, Shipping
from shopops.contexts.promotions.commands import MemberDiscount, PricingRequest
from shopops.contexts.promotions.coupons import ResolvedCoupon, resolve_codes
from shopops.contexts.promotions.definitions import Conditions, PromotionRule, Stacking, Usage
from shopops.contexts.promotions.engine import price_cart
from shopops.contexts.promotions.errors import CouponError, PricingError, PromotionError
from shopops.contexts.promotions.events import PromotionsRedeemed, PromotionsReleased
from shopops.contexts.promotions.index import PromotionSet
from shopops.contexts.promotions.models import (
    CouponRedemption,
    FlashSaleQuota,
    Promotion,
    PromotionRedemption,
)
from shopops.contexts.promotions.priced import PricedCart
from shopops.contexts.promotions.rules import Gift, PercentageOff
from shopops.contexts.promotions.rules.base import percent_text
from shopops.contexts.promotions.taxonomy import ancestors
from shopops.contexts.promotions.validation import parse_definition, raise_collected
from shopops.contexts.promotions.views import definition_of
from shopops.kernel.errors import Conflict, DomainError, FieldErrorCollector, ValidationFailed
from shopops.uow import UnitOfWork

MAX_QUANTITY = 1_000_000
FLOORS = ("cost", "zero")

# --- loading --------------------------------------------------------------------------

SetKey = tuple[tuple[int, str, int, str], ...]  # the active promotions' versions

_cache_lock = Lock()
_rule_cache: dict[tuple[int, str], PromotionRule] = {}
_set_cache: dict[SetKey, PromotionSet] = {}
_member_set_cache: dict[tuple[SetKey, PromotionRule], PromotionSet] = {}
_CACHE_LIMIT = 4096

# --- the loyalty member discount --------------------------------------------------------

MEMBER_DISCOUNT_ID = -1  # stored promotions have ids from 1: this one has no row
MEMBER_DISCOUNT_KIND = "member_discount"
MEMBER_GROUP = "member_tier"
MEMBER_PRIORITY = 1_000_001  # after every stored promotion of its level (0 to 1,000,000)


def is_stored(promotion_id: int) -> bool:
    """Whether a promotion id in a priced cart names a stored promotion (not the member
    discount): only those have counters, redemptions and performance."""
    return promotion_id > 0


@lru_cache(maxsize=256)
def member_rule(discount: MemberDiscount) -> PromotionRule:
    """A tier's discount as a promotion: ``rate_bp`` off what the tier's members' items
    cost after every other item and order promotion (an order-level percentage, split
    over the lines), in the stacking group ``member_tier``, not exclusive, combinable
    with every promotion that allows it."""
    percent = percent_text(discount.rate_bp)
    return PromotionRule(
        id=MEMBER_DISCOUNT_ID,
        name=f"{discount.name} member {percent}% off",
        kind=MEMBER_DISCOUNT_KIND,
        params=PercentageOff(discount.rate_bp, "order"),
        conditions=Conditions(tiers=frozenset({discount.tier})),
        stacking=Stacking(group=MEMBER_GROUP, priority=MEMBER_PRIORITY),
        description=f"loyalty tier '{discount.tier}': {percent}% off the items",
    )


def _rules(
    uow: UnitOfWork,
    states: Sequence[repository.PromotionState],
    quotas: Mapping[int, FlashSaleQuota],
) -> list[PromotionRule]:
    """The parsed definitions, cached per fingerprint: only changed ones are read and parsed."""
    found: dict[int, PromotionRule] = {}
    for state in states:
        cached = _rule_cache.get((state.id, state.fingerprint))
        if cached is not None:
            found[state.id] = cached
    missing = [state.id for state in states if state.id not in found]
    for row in repository.get_many(uow.session, missing).values():
        rule = parse_definition(definition_of(row, quotas.get(row.id)), row.id)
        found[row.id] = rule
        with _cache_lock:
            if len(_rule_cache) >= _CACHE_LIMIT:
                _rule_cache.clear()
            _rule_cache[(row.id, row.fingerprint)] = rule
    return [found[state.id] for state in states if state.id in found]


@dataclass(frozen=True)
class _Catalogue:
    """The active promotions with their counters, loaded once for one or many carts."""

    promotions: PromotionSet
    rows: dict[int, repository.PromotionState]
    quotas: dict[int, FlashSaleQuota]
    parents: dict[int, int | None]
    key: SetKey = ()
    # The promotions plus one tier's member discount, by its rule (for this catalogue).
    member_sets: dict[PromotionRule, PromotionSet] = field(default_factory=dict, compare=False)

    def for_customer(
        self, customer: CustomerFacts, discounts: Sequence[MemberDiscount]
    ) -> PromotionSet:
        """The promotions a customer's cart is priced against: the active ones, plus the
        discount of the customer's loyalty tier when it has one (a set of its own, built
        once per tier and catalogue version: the shared set is never changed)."""
        if customer.tier is None or not discounts:
            return self.promotions
        discount = next((d for d in discounts if d.tier == customer.tier and d.rate_bp), None)
        if discount is None:
            return self.promotions
        rule = member_rule(discount)
        found = self.member_sets.get(rule)
        if found is None:
            found = _member_set_cache.get((self.key, rule))
            if found is None:
                found = PromotionSet((*self.promotions.rules, rule))
                with _cache_lock:
                    if len(_member_set_cache) >= 64:
                        _member_set_cache.clear()
                    _member_set_cache[(self.key, rule)] = found
            self.member_sets[rule] = found
        return found

    def usage(self, customer: Mapping[int, tuple[int, int]]) -> dict[int, Usage]:
        found = {}
        for promotion_id, row in self.rows.items():
            quota = self.quotas.get(promotion_id)
            uses, units = customer.get(promotion_id, (0, 0))
            found[promotion_id] = Usage(
                redemptions=row.redemptions_used,
                discount_minor=row.discount_used_minor,
                units=quota.sold_units if quota else 0,
                customer_redemptions=uses,
                customer_units=units,
            )
        return found


def _catalogue(uow: UnitOfWork, at: datetime | None = None) -> _Catalogue:
    """Promotions active at ``at`` (now by default) and not ended by then."""
    states = repository.active_promotion_states(uow.session, at or uow.now())
    rows = {state.id: state for state in states}
    quotas = repository.quotas(uow.session, list(rows))
    rules = _rules(uow, states, quotas)
    gift_skus = {r.params.sku for r in rules if isinstance(r.params, Gift)}
    gifts = repository.sku_facts(uow.session, gift_skus)
    priced_rules = []
    for rule in rules:
        if isinstance(rule.params, Gift) and rule.params.sku in gifts:
            facts = gifts[rule.params.sku]
            params = dataclasses.replace(
                rule.params, unit_price_minor=facts.price_minor, currency=facts.currency
            )
            rule = dataclasses.replace(rule, params=params)
        priced_rules.append(rule)
    key = tuple(
        (
            r.id,
            rows[r.id].fingerprint,
            r.params.unit_price_minor if isinstance(r.params, Gift) else 0,
            (r.params.currency or "") if isinstance(r.params, Gift) else "",
        )
        for r in priced_rules
    )
    promotion_set = _set_cache.get(key)
    if promotion_set is None:
        promotion_set = PromotionSet(priced_rules)
        with _cache_lock:
            if len(_set_cache) >= 64:
                _set_cache.clear()
            _set_cache[key] = promotion_set
    return _Catalogue(promotion_set, rows, quotas, repository.category_parents(uow.session), key)


def _merged_lines(request: PricingRequest, errors: FieldErrorCollector) -> dict[str, int]:
    """Quantities per SKU in first-seen order (the order lines of the same cart)."""
    if not request.lines:
        errors.add("lines", PricingError.EMPTY_CART, "a cart needs at least one line")
    quantities: dict[str, int] = {}
    for index, line in enumerate(request.lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.add(f"lines.{index}.quantity", PricingError.INVALID_QUANTITY, "1 to 1,000,000")
            continue
        quantities[line.sku.strip()] = quantities.get(line.sku.strip(), 0) + line.quantity
    return quantities


def _check_request(request: PricingRequest, errors: FieldErrorCollector) -> None:
    if request.points < 0 or request.point_value_minor < 0 or request.points_per_value <= 0:
        errors.add("points", PricingError.INVALID_POINTS, "points and their value are positive")
    if request.shipping_fee_minor < 0 or not request.shipping_method.strip():
        errors.add("shipping", PricingError.INVALID_SHIPPING, "a method and a fee of 0 or more")
    if not 0 <= request.tax_rate_bp <= 10_000:
        errors.add("tax_rate", PricingError.INVALID_TAX_RATE, "from 0 to 100 %")
    if request.floor not in FLOORS:
        errors.add("floor", PricingError.INVALID_FLOOR, f"one of {', '.join(FLOORS)}")


def _customer(uow: UnitOfWork, request: PricingRequest) -> CustomerFacts:
    if request.customer_id is None:
        return CustomerFacts()
    facts = repository.customer_facts(uow.session, request.customer_id)
    if facts is None:
        raise ValidationFailed(
            PricingError.UNKNOWN_CUSTOMER, f"customer {request.customer_id} does not exist"
        )
    tier, tags = facts
    return CustomerFacts(request.customer_id, tier, frozenset(tags), request.first_order)


def _cart(
    uow: UnitOfWork,
    request: PricingRequest,
    catalogue: _Catalogue,
    facts: Mapping[str, repository.SkuFacts],
) -> tuple[Cart, list[ResolvedCoupon]]:
    errors = FieldErrorCollector()
    quantities = _merged_lines(request, errors)
    _check_request(request, errors)
    unknown = sorted(sku for sku in quantities if sku not in facts)
    for sku in unknown:
        errors.add("lines", PricingError.UNKNOWN_SKU, f"unknown SKU '{sku}'")
    currencies = sorted({facts[sku].currency for sku in quantities if sku in facts})
    if len(currencies) > 1:
        errors.add("lines", PricingError.MIXED_CURRENCIES, f"several currencies: {currencies}")
    elif currencies and request.currency and currencies[0] != request.currency.strip().upper():
        errors.add(
            "currency", PricingError.CURRENCY_MISMATCH, f"the items are priced in {currencies[0]}"
        )
    raise_collected(errors, "validation.failed")
    customer = _customer(uow, request)
    at = request.at or uow.now()
    coupons = resolve_codes(uow, request.coupon_codes, customer, at, catalogue.rows)
    lines = []
    for sku, quantity in quantities.items():
        fact = facts[sku]
        floor = (fact.cost_minor or 0) if request.floor == "cost" else 0
        lines.append(
            CartLine(
                sku=sku,
                quantity=quantity,
                unit_price_minor=fact.price_minor,
                product_id=fact.product_id,
                category_ids=ancestors(fact.category_id, catalogue.parents),
                brand_id=fact.brand_id,
                floor_unit_minor=floor,
            )
        )
    points = None
    if request.points:
        points = PointsOffer(request.points, request.point_value_minor, request.points_per_value)
    cart = Cart(
        currency=currencies[0],
        lines=tuple(lines),
        at=at,
        channel=request.channel,
        customer=customer,
        coupons=tuple(c.grant for c in coupons),
        shipping=Shipping(request.shipping_method.strip(), request.shipping_fee_minor),
        points=points,
        tax_rate_bp=request.tax_rate_bp,
    )
    return cart, coupons


def _price(
    uow: UnitOfWork,
    request: PricingRequest,
    catalogue: _Catalogue,
    facts: Mapping[str, repository.SkuFacts],
    *,
    strict_coupons: bool,
) -> PricedCart:
    cart, _ = _cart(uow, request, catalogue, facts)
    customer_uses = (
        {}
        if cart.customer.id is None
        else repository.customer_usage(uow.session, cart.customer.id, repository.PROMOTION)
    )
    promotion_set = catalogue.for_customer(cart.customer, request.member_discounts)
    priced = price_cart(cart, promotion_set, catalogue.usage(customer_uses))
    if strict_coupons:
        for outcome in priced.coupons:
            if not outcome.applied:
                raise ValidationFailed(
                    CouponError.NOT_APPLICABLE,
                    f"{outcome.code} does not apply to this cart ({outcome.reason})",
                    details={"code": outcome.code, "reason": outcome.reason},
                )
    return priced


# --- use cases ------------------------------------------------------------------------


def quote(uow: UnitOfWork, request: PricingRequest) -> PricedCart:
    """The simulator: price a cart and explain every promotion; nothing is written."""
    uow.require(Permission.PROMOTIONS_READ)
    facts = repository.sku_facts(uow.session, (line.sku.strip() for line in request.lines))
    return _price(uow, request, _catalogue(uow, request.at), facts, strict_coupons=False)


def price_order(
    uow: UnitOfWork, request: PricingRequest, *, strict_coupons: bool = True
) -> PricedCart:
    """Price an order being placed. With ``strict_coupons`` a code that does not apply
    (minimum spend, a better promotion it cannot combine with) is an error."""
    facts = repository.sku_facts(uow.session, (line.sku.strip() for line in request.lines))
    catalogue = _catalogue(uow, request.at)
    return _price(uow, request, catalogue, facts, strict_coupons=strict_coupons)


def price_orders(
    uow: UnitOfWork, requests: Sequence[PricingRequest], *, strict_coupons: bool = True
) -> list[PricedCart | DomainError]:
    """``price_order`` for a batch of checkouts: promotions and SKUs are loaded once."""
    if not requests:
        return []
    catalogue = _catalogue(uow)
    facts = repository.sku_facts(
        uow.session, {line.sku.strip() for request in requests for line in request.lines}
    )
    results: list[PricedCart | DomainError] = []
    # Identical carts of one batch (a flash sale: one SKU, many guests) are priced once.
    # Pricing reads only, and the batch shares one catalogue snapshot anyway.
    priced_once: dict[PricingRequest, PricedCart] = {}
    for request in requests:
        known = priced_once.get(request)
        if known is not None:
            results.append(known)
            continue
        try:
            priced = _price(uow, request, catalogue, facts, strict_coupons=strict_coupons)
        except DomainError as error:
            results.append(error)  # each caller gets an error of its own: priced again
            continue
        priced_once[request] = priced
        results.append(priced)
    return results


@dataclass(frozen=True)
class RedemptionReceipt:
    order_number: str
    promotion_ids: tuple[int, ...]
    coupon_codes: tuple[str, ...]


def _count_promotion(
    uow: UnitOfWork, row: Promotion, discount: int, units: int, customer_id: int | None
) -> None:
    session = uow.session
    if not repository.try_count_promotion(session, row.id, discount):
        session.refresh(row)
        used_up = row.max_redemptions is not None and row.redemptions_used >= row.max_redemptions
        raise Conflict(
            PromotionError.USAGE_LIMIT_REACHED if used_up else PromotionError.BUDGET_EXHAUSTED,
            f"promotion {row.id} has no {'uses' if used_up else 'budget'} left; price again",
            details={"promotion_id": row.id},
        )
    quota = repository.quotas(session, [row.id]).get(row.id)
    if units and quota is not None and not repository.try_take_units(session, row.id, units):
        raise Conflict(
            PromotionError.QUOTA_EXHAUSTED,
            f"promotion {row.id} has fewer than {units} units left",
            details={"promotion_id": row.id},
        )
    if customer_id is not None and not repository.try_use_for_customer(
        session,
        repository.PROMOTION,
        row.id,
        customer_id,
        uses_limit=row.per_customer_limit,
        units=units,
        units_limit=quota.per_customer_units if quota else None,
    ):
        raise Conflict(
            PromotionError.CUSTOMER_LIMIT_REACHED,
            f"the customer has used promotion {row.id} as often as allowed",
            details={"promotion_id": row.id},
        )


def _count_coupon(uow: UnitOfWork, coupon_id: int, code: str, customer_id: int | None) -> None:
    coupon = repository.coupons_by_code(uow.session, [code])[code]
    if not repository.try_use_coupon(uow.session, coupon_id):
        raise Conflict(
            CouponError.LIMIT_REACHED, f"{code}: all uses are taken", details={"code": code}
        )
    if customer_id is not None and not repository.try_use_for_customer(
        uow.session,
        repository.COUPON,
        coupon_id,
        customer_id,
        uses_limit=coupon.per_customer_limit,
    ):
        raise Conflict(
            CouponError.CUSTOMER_LIMIT_REACHED,
            f"{code}: already used as often as allowed by this customer",
            details={"code": code},
        )


def redeem(
    uow: UnitOfWork, order_number: str, priced: PricedCart, customer_id: int | None
) -> RedemptionReceipt:
    """Record what ``priced`` used for the order: counters, quotas, coupons, ledgers.

    Every counter moves by a conditional UPDATE checked by row count, promotions
    then coupons, each by ascending id (one lock order for everyone). Any limit
    reached since the quote raises a Conflict and undoes this redemption only
    (a savepoint), so a batch of checkouts can carry on without this order.
    """
    applied = sorted(
        (a for a in priced.applied if is_stored(a.promotion_id)), key=lambda a: a.promotion_id
    )  # the member discount has no row: nothing to count or record
    if not applied:
        return RedemptionReceipt(order_number, (), ())
    session = uow.session
    if repository.has_redemptions(session, order_number):
        raise Conflict(PromotionError.ALREADY_REDEEMED, f"order {order_number} already redeemed")
    codes = {a.coupon_code for a in applied if a.coupon_code}
    coupons = repository.coupons_by_code(session, codes)
    now = uow.now()
    savepoint = session.begin_nested()
    try:
        for item in applied:
            row = repository.get(session, item.promotion_id)
            if row is None:
                raise Conflict(PromotionError.NOT_FOUND, f"promotion {item.promotion_id} is gone")
            _count_promotion(uow, row, item.discount_minor, item.units, customer_id)
        for code in sorted(codes, key=lambda c: coupons[c].id):
            _count_coupon(uow, coupons[code].id, code, customer_id)
        session.add_all(
            PromotionRedemption(
                promotion_id=item.promotion_id,
                order_number=order_number,
                customer_id=customer_id,
                coupon_id=coupons[item.coupon_code].id if item.coupon_code else None,
                currency=priced.currency,
                discount_minor=item.discount_minor,
                units=item.units,
                order_total_minor=priced.total_minor,
                status="redeemed",
                redeemed_at=now,
            )
            for item in applied
        )
        session.add_all(
            CouponRedemption(
                coupon_id=coupons[item.coupon_code].id,
                promotion_id=item.promotion_id,
                order_number=order_number,
                customer_id=customer_id,
                status="redeemed",
                redeemed_at=now,
            )
            for item in applied
            if item.coupon_code
        )
        session.flush()
    except DomainError:
        savepoint.rollback()
        raise
    savepoint.commit()
    receipt = RedemptionReceipt(
        order_number, tuple(a.promotion_id for a in applied), tuple(sorted(codes))
    )
    uow.emit(
        PromotionsRedeemed(
            order_number,
            customer_id,
            list(receipt.promotion_ids),
            list(receipt.coupon_codes),
            sum(a.discount_minor for a in applied),
            priced.currency,
        )
    )
    uow.audit(
        "promotions.redeemed",
        "order",
        order_number,
        after={"promotion_ids": list(receipt.promotion_ids), "coupons": list(receipt.coupon_codes)},
    )
    return receipt


def release(uow: UnitOfWork, order_number: str) -> RedemptionReceipt:
    """Give back what an order used (cancelled, or refunded in full). Safe to repeat."""
    session = uow.session
    promotions, coupons = repository.redeemed_for(session, order_number)
    now = uow.now()
    released_promotions: list[int] = []
    for row in promotions:
        if repository.mark_released(session, PromotionRedemption, row.id, now):
            repository.uncount_promotion(session, row.promotion_id, row.discount_minor)
            if row.units:
                repository.give_back_units(session, row.promotion_id, row.units)
            if row.customer_id is not None:
                repository.give_back_for_customer(
                    session, repository.PROMOTION, row.promotion_id, row.customer_id, row.units
                )
            released_promotions.append(row.promotion_id)
    released_coupons: list[int] = []
    for coupon_row in coupons:
        if repository.mark_released(session, CouponRedemption, coupon_row.id, now):
            repository.give_back_coupon(session, coupon_row.coupon_id)
            if coupon_row.customer_id is not None:
                repository.give_back_for_customer(
                    session, repository.COUPON, coupon_row.coupon_id, coupon_row.customer_id
                )
            released_coupons.append(coupon_row.coupon_id)
    names = repository.coupon_codes(session, released_coupons)
    receipt = RedemptionReceipt(
        order_number, tuple(released_promotions), tuple(sorted(names.values()))
    )
    if released_promotions or released_coupons:
        uow.emit(
            PromotionsReleased(
                order_number, list(receipt.promotion_ids), list(receipt.coupon_codes)
            )
        )
        uow.audit(
            "promotions.released",
            "order",
            order_number,
            before={"promotion_ids": list(receipt.promotion_ids)},
        )
    return receipt
