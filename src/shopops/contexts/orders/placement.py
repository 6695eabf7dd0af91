"""Placing orders: validate, snapshot prices, price through promotions, reserve stock,
persist and redeem promotions — alone or in batches."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from shopops.auth.permissions import Permission
from shopops.contexts import inventory, loyalty, promotions, shipping
from shopops.contexts.orders import repository
from shopops.contexts.orders.commands import OfferTerms, PlaceOrder
from shopops.contexts.orders.errors import CHANNELS, OrderError
from shopops.contexts.orders.events import OrderPlaced
from shopops.contexts.orders.models import Order, OrderEvent, OrderLine, OrderTag
from shopops.contexts.orders.repository import SkuSnapshot
from shopops.contexts.orders.rules import (
    OrderStatus,
    new_order_number,
    risk_flags,
    value_band,
)
from shopops.db.bulk import insert_rows, reserve_ids_for
from shopops.kernel.errors import DomainError, FieldError, FieldErrorCollector, PermissionDenied
from shopops.kernel.events import Actor
from shopops.kernel.money import currency_exponent
from shopops.kernel.pii import normalize_email
from shopops.uow import UnitOfWork


@dataclass(frozen=True)
class PreparedOrder:
    command: PlaceOrder
    number: str
    currency: str
    quantities: dict[str, int]  # merged per SKU, in first-seen order
    snapshots: dict[str, SkuSnapshot]  # the ordered SKUs, and gift SKUs once priced
    customer_region: str | None
    priced: promotions.PricedCart | None = None  # set by ``_priced``
    offer: OfferTerms | None = None  # placed through an offer: its price, no promotions
    # The method and rate from the store's table (None: the store has no shipping
    # methods, or an offer order): the rate's fee until pricing applies its free-over
    # threshold (``_free_over``).
    shipping: shipping.Quote | None = None
    # The discount of the customer's loyalty tier (None: a guest, or a tier without one).
    member_discount: promotions.MemberDiscount | None = None

    @property
    def subtotal_minor(self) -> int:
        if self.priced is not None:
            return self.priced.subtotal_minor
        if self.offer is not None:
            return self.offer.unit_price_minor * sum(self.quantities.values())
        return sum(self.snapshots[s].price_minor * q for s, q in self.quantities.items())

    @property
    def discount_minor(self) -> int:
        if self.priced is not None:
            return self.priced.discount_minor
        if self.offer is not None:
            return self.offer.unit_discount_minor * sum(self.quantities.values())
        return 0

    @property
    def total_minor(self) -> int:
        if self.priced is not None:
            return self.priced.total_minor
        return self.subtotal_minor - self.discount_minor

    @property
    def stock_lines(self) -> dict[str, int]:
        """What to reserve: the ordered quantities plus any gift lines."""
        lines = dict(self.quantities)
        if self.priced is not None:
            for line in self.priced.lines:
                if line.gift_of is not None:
                    lines[line.sku] = lines.get(line.sku, 0) + line.quantity
        return lines


def _validate_shape(command: PlaceOrder, errors: FieldErrorCollector) -> dict[str, int]:
    quantities: dict[str, int] = {}
    if not command.lines:
        errors.add("lines", "validation.required", "an order needs at least one line")
    for index, line in enumerate(command.lines):
        if not line.sku.strip():
            errors.add(f"lines.{index}.sku", "validation.required", "SKU is required")
        if line.quantity <= 0 or line.quantity > inventory.MAX_QUANTITY:
            errors.add(
                f"lines.{index}.quantity",
                OrderError.INVALID_QUANTITY,
                f"quantity must be between 1 and {inventory.MAX_QUANTITY:,}",
            )
            continue
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    for sku, total in quantities.items():
        if total > inventory.MAX_QUANTITY:
            errors.add(
                "lines",
                OrderError.INVALID_QUANTITY,
                f"{sku}: total quantity must not exceed {inventory.MAX_QUANTITY:,}",
            )
    address = command.shipping_address
    for name in ("recipient", "line1", "city"):
        if not str(getattr(address, name) or "").strip():
            errors.add(f"shipping_address.{name}", OrderError.INVALID_ADDRESS, "required")
    country = (address.country or "").strip()
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        errors.add(
            "shipping_address.country",
            OrderError.INVALID_ADDRESS,
            "use a 2-letter ISO 3166-1 country code, e.g. US, CN",
        )
    if address.postal_code is not None and len(address.postal_code.strip()) > 20:
        errors.add("shipping_address.postal_code", OrderError.INVALID_ADDRESS, "too long")
    if address.phone is not None:
        digits = [c for c in address.phone if c.isdigit()]
        if not 5 <= len(digits) <= 20:
            errors.add(
                "shipping_address.phone",
                OrderError.INVALID_ADDRESS,
                "a phone number has 5 to 20 digits",
            )
    if command.channel not in CHANNELS:
        errors.add(
            "channel",
            OrderError.UNKNOWN_CHANNEL,
            f"unknown channel; allowed: {', '.join(CHANNELS)}",
        )
    if command.customer_id is None and command.guest is None:
        errors.add(
            "customer_id",
            OrderError.CUSTOMER_REQUIRED,
            "give a customer_id or guest contact details",
        )
    if command.guest is not None and "@" not in command.guest.email:
        errors.add("guest.email", "validation.invalid_email", "not a valid e-mail address")
    for tag in command.tags:
        if not tag.strip() or len(tag) > 50:
            errors.add("tags", "validation.invalid_tag", "tags are 1-50 characters")
    if command.points_to_redeem:
        if not 0 < command.points_to_redeem <= loyalty.MAX_POINTS:
            errors.add(
                "points_to_redeem",
                loyalty.LoyaltyError.INVALID_POINTS,
                f"0 to {loyalty.MAX_POINTS:,} points",
            )
        if command.customer_id is None:
            errors.add(
                "points_to_redeem",
                OrderError.POINTS_NEED_CUSTOMER,
                "only a registered customer can redeem points",
            )
    return quantities


def _tier_discounts(
    ladder: Iterable[loyalty.TierSpec],
) -> dict[str, promotions.MemberDiscount]:
    """The tiers with a discount, by code, as pricing takes them."""
    return {
        tier.code: promotions.MemberDiscount(tier.code, tier.name, tier.discount_percent * 100)
        for tier in ladder
        if tier.discount_percent > 0
    }


def member_discounts(uow: UnitOfWork) -> tuple[promotions.MemberDiscount, ...]:
    """The loyalty tiers' discounts, for ``PricingRequest.member_discounts``: a quote of a
    customer's cart gets the discount checkout gives them. One query; no permission."""
    return tuple(_tier_discounts(loyalty.tier_specs(uow)).values())


@dataclass(frozen=True)
class CheckoutSetup:
    """What a checkout batch reads once: the store's shipping table and, when the batch
    has customers, the loyalty ladder's benefits (tiers that ship free, tiers' discounts).
    An empty table: no shipping fees (the store has set none up)."""

    rates: shipping.RateTable
    free_tiers: frozenset[str] = frozenset()
    member_discounts: Mapping[str, promotions.MemberDiscount] = field(default_factory=dict)

    @classmethod
    def load(cls, uow: UnitOfWork, commands: Iterable[PlaceOrder]) -> CheckoutSetup:
        rates = shipping.rate_table(uow)
        if not any(c.customer_id is not None for c in commands):
            return cls(rates)
        ladder = loyalty.tier_specs(uow)  # one query for every customer of the batch
        free = frozenset(tier.code for tier in ladder if tier.free_shipping)
        return cls(rates, free, _tier_discounts(ladder))


def _shipping_quote(
    command: PlaceOrder,
    setup: CheckoutSetup | None,
    currencies: set[str],
    tier: str | None,
    errors: FieldErrorCollector,
) -> shipping.Quote | None:
    """The order's shipping method and rate from the store's table (no fee when the
    customer's tier ships free); None (no fee, the method as given or "standard") when
    the store has set up no shipping methods."""
    if setup is None or not setup.rates.configured:
        return None
    rates = setup.rates
    address = command.shipping_address
    country = shipping.normalize_country(address.country)
    if country is None or country == shipping.ANYWHERE or len(currencies) != 1:
        # The address or the lines are wrong already: check the method only.
        method = shipping.select_method(rates, command.shipping_method)
        if isinstance(method, FieldError):
            errors.items.append(method)
        return None
    region = shipping.normalize_region(address.region)
    (currency,) = currencies
    found = shipping.resolve(rates, command.shipping_method, country, region, currency)
    if isinstance(found, FieldError):
        errors.items.append(found)
        return None
    if tier is not None and tier in setup.free_tiers:
        return found.for_tier(tier)
    return found


def prepare(
    uow: UnitOfWork,
    command: PlaceOrder,
    snapshots: Mapping[str, SkuSnapshot] | None = None,
    setup: CheckoutSetup | None = None,
) -> PreparedOrder:
    """Everything about an order that needs no lock: validation, price snapshot, the
    shipping rate (from ``setup``, the store's table; None: no shipping fee) and the
    discount of the customer's loyalty tier (from ``setup`` too)."""
    errors = FieldErrorCollector()
    quantities = _validate_shape(command, errors)
    if snapshots is None:
        # Every line's SKU, also those with a bad quantity: they are not "unknown" too.
        snapshots = repository.snapshot_skus(uow.session, {line.sku for line in command.lines})
    currencies = set()
    for index, line in enumerate(command.lines):
        snapshot = snapshots.get(line.sku)
        if snapshot is None:
            errors.add(f"lines.{index}.sku", OrderError.UNKNOWN_SKU, f"unknown SKU '{line.sku}'")
        elif not snapshot.sellable:
            errors.add(
                f"lines.{index}.sku", OrderError.SKU_NOT_FOR_SALE, f"'{line.sku}' is not for sale"
            )
        else:
            currencies.add(snapshot.currency)
    if len(currencies) > 1:
        errors.add(
            "lines",
            OrderError.MIXED_CURRENCIES,
            f"lines are priced in several currencies: {', '.join(sorted(currencies))}",
        )
    region = tier = None
    if command.customer_id is not None:
        exists, region, tier = repository.customer_region(uow.session, command.customer_id)
        if not exists:
            errors.add(
                "customer_id",
                OrderError.UNKNOWN_CUSTOMER,
                f"customer {command.customer_id} does not exist",
            )
    quote = _shipping_quote(command, setup, currencies, tier, errors)
    errors.raise_if_any()
    member = setup.member_discounts.get(tier) if setup is not None and tier else None
    return PreparedOrder(
        command=command,
        number=new_order_number(uow.now()),
        currency=currencies.pop(),
        quantities=quantities,
        snapshots={sku: snapshots[sku] for sku in quantities},
        customer_region=region or command.shipping_address.region,
        shipping=quote,
        member_discount=member,
    )


def _customers_with_live_orders(uow: UnitOfWork, customer_ids: Iterable[int]) -> set[int]:
    """Those of ``customer_ids`` with an order that is not cancelled or closed."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return set()
    found = uow.session.scalars(
        select(Order.customer_id)
        .where(
            Order.customer_id.in_(wanted),
            Order.status.not_in([OrderStatus.CANCELLED, OrderStatus.CLOSED]),
        )
        .distinct()
    )
    return {customer_id for customer_id in found if customer_id is not None}


def _shipping_method(prepared: PreparedOrder) -> str:
    quote = prepared.shipping
    return quote.method if quote is not None else prepared.command.shipping_method or "standard"


def _pricing_request(prepared: PreparedOrder, first_order: bool) -> promotions.PricingRequest:
    command = prepared.command
    quote = prepared.shipping
    return promotions.PricingRequest(
        lines=tuple(promotions.PricingLine(sku, q) for sku, q in prepared.quantities.items()),
        customer_id=command.customer_id,
        channel=command.channel,
        coupon_codes=command.coupon_codes,
        shipping_method=_shipping_method(prepared),
        shipping_fee_minor=quote.fee_minor if quote is not None else 0,
        first_order=first_order,
        currency=prepared.currency,
        member_discounts=() if prepared.member_discount is None else (prepared.member_discount,),
    )


def _free_over(
    prepared: PreparedOrder, request: promotions.PricingRequest, priced: promotions.PricedCart
) -> tuple[PreparedOrder, promotions.PricingRequest, int] | None:
    """The rate's free-over threshold applied to the first pricing (done with the fee).

    The threshold is compared with the items after item-level promotions (special
    prices, line discounts, gifts): ``subtotal - item discounts``. When they reach it
    the order is priced again without a fee (so no shipping promotion is spent on a
    waived fee): returns the order and request for that and what the waiver takes off
    the first total; None when the fee stands.
    """
    quote = prepared.shipping
    if quote is None:
        return None
    final = quote.for_items(priced.subtotal_minor - priced.item_discount_minor)
    if not final.free_over_reached:
        return None
    return (
        dataclasses.replace(prepared, shipping=final),
        dataclasses.replace(request, shipping_fee_minor=final.fee_minor),
        priced.shipping_minor - priced.shipping_discount_minor,
    )


def _with_points(
    uow: UnitOfWork,
    prepared: PreparedOrder,
    request: promotions.PricingRequest,
    priced: promotions.PricedCart,
    waived: int = 0,
) -> promotions.PricingRequest | None:
    """The pricing request again, now spending the customer's points; None when the order
    asks for none or the program's cap leaves none. Asking for more points than the
    balance is ``loyalty.insufficient_points``. Points pay part of what is left after every
    promotion (and a shipping fee ``waived`` by its free-over threshold), so the second
    pricing applies the same promotions."""
    command = prepared.command
    if not command.points_to_redeem or command.customer_id is None:
        return None
    planned = loyalty.plan_redemption(
        uow,
        command.customer_id,
        command.points_to_redeem,
        priced.total_minor - waived,
        currency=prepared.currency,
    )
    if not planned.points:
        return None
    return dataclasses.replace(
        request,
        points=planned.points,
        point_value_minor=planned.point_value_minor,
        points_per_value=1,
    )


def _gift_skus(priced: Iterable[promotions.PricedCart | DomainError]) -> set[str]:
    return {
        line.sku
        for cart in priced
        if isinstance(cart, promotions.PricedCart)
        for line in cart.lines
        if line.gift_of is not None
    }


def _priced(
    prepared: PreparedOrder,
    priced: promotions.PricedCart,
    snapshots: Mapping[str, SkuSnapshot],
) -> PreparedOrder:
    """``prepared`` with its priced cart and the snapshots of its gift SKUs."""
    gifts = {
        line.sku: snapshots[line.sku]
        for line in priced.lines
        if line.gift_of is not None and line.sku in snapshots
    }
    return dataclasses.replace(prepared, priced=priced, snapshots={**gifts, **prepared.snapshots})


def _reserve_command(uow: UnitOfWork, prepared: PreparedOrder) -> inventory.ReserveStock:
    window = uow.settings.payment_window_minutes if uow.settings else 30
    return inventory.ReserveStock(
        reference=prepared.number,
        lines=prepared.stock_lines,
        customer_region=prepared.customer_region,
        allow_split=prepared.command.allow_split,
        expires_in_seconds=window * 60 + 300,  # the close job acts first; expiry is a backstop
    )


def _pricing(prepared: PreparedOrder) -> dict[str, Any]:
    if prepared.priced is not None:
        priced = prepared.priced.as_dict()
        priced["shipping_method"] = _shipping_method(prepared)
        quote = prepared.shipping
        if quote is not None:
            rate = quote.rate
            priced["shipping_rate"] = {
                "id": rate.id,
                "country": rate.country,
                "region": rate.region,
                "fee_minor": rate.fee_minor,
                "free_over_reached": quote.free_over_reached,
            }
            if quote.free_for_tier is not None:
                priced["shipping_rate"]["free_for_tier"] = quote.free_for_tier
            if rate.free_over_minor is not None:
                priced["shipping_rate"]["free_over_minor"] = rate.free_over_minor
        return priced
    pricing: dict[str, Any] = {
        "currency": prepared.currency,
        "lines": [
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price_minor": unit_price,
                "subtotal_minor": unit_price * quantity,
                "discounts": [],
                "discount_minor": discount,
                "total_minor": total,
            }
            for sku, quantity, unit_price, discount, total, _ in _line_amounts(prepared)
        ],
        "order_discounts": [],
        "subtotal_minor": prepared.subtotal_minor,
        "discount_minor": prepared.discount_minor,
        "shipping_minor": 0,
        "total_minor": prepared.total_minor,
    }
    offer = prepared.offer
    if offer is not None:
        pricing["offer"] = {
            "reference": offer.reference,
            "unit_price_minor": offer.unit_price_minor,
            "unit_discount_minor": offer.unit_discount_minor,
            "deposit_minor": offer.deposit_minor,
            "balance_minor": (
                None if offer.deposit_minor is None else prepared.total_minor - offer.deposit_minor
            ),
        }
    return pricing


def _check_offer(prepared: PreparedOrder, offer: OfferTerms) -> None:
    """The owner of the offer validated its terms; these hold for any order of one."""
    command = prepared.command
    errors = FieldErrorCollector()
    if set(prepared.quantities) != {offer.sku}:
        errors.add("lines", OrderError.INVALID_OFFER, f"an offer order has one line: {offer.sku}")
    if command.coupon_codes or command.points_to_redeem:
        errors.add(
            "coupon_codes", OrderError.INVALID_OFFER, "offers take no coupons or loyalty points"
        )
    if not 0 <= offer.unit_discount_minor < offer.unit_price_minor:
        errors.add("offer", OrderError.INVALID_OFFER, "the price must exceed the discount")
    total = (offer.unit_price_minor - offer.unit_discount_minor) * sum(prepared.quantities.values())
    if offer.deposit_minor is not None and not (
        0 < offer.deposit_minor < total
        and offer.balance_from is not None
        and offer.balance_due_at is not None
        and offer.balance_from < offer.balance_due_at
    ):
        errors.add("offer", OrderError.INVALID_OFFER, "a deposit below the total, a balance window")
    errors.raise_if_any()


def _order_values(uow: UnitOfWork, prepared: PreparedOrder) -> dict[str, Any]:
    """The order row; personal data sealed with the PII key."""
    command = prepared.command
    pii = uow.pii
    address = command.shipping_address
    guest = command.guest
    now = uow.now()
    exponent = currency_exponent(prepared.currency)
    priced = prepared.priced
    total = prepared.total_minor
    window = uow.settings.payment_window_minutes if uow.settings else 30
    payment_due_at = now + timedelta(minutes=window)
    offer = prepared.offer
    if offer is not None and offer.payment_due_at is not None:
        payment_due_at = min(payment_due_at, offer.payment_due_at)
    email = normalize_email(guest.email) if guest else None
    return {
        "number": prepared.number,
        "status": OrderStatus.PENDING_PAYMENT,
        "payment_status": "unpaid",
        "channel": command.channel,
        "customer_id": command.customer_id,
        "guest_email_encrypted": pii.encrypt(email),
        "guest_email_hash": pii.lookup_hash(email),
        "guest_phone_encrypted": pii.encrypt(guest.phone) if guest and guest.phone else None,
        "guest_name_encrypted": pii.encrypt(guest.name) if guest and guest.name else None,
        "ship_recipient_encrypted": pii.encrypt(address.recipient.strip()),
        "ship_line1_encrypted": pii.encrypt(address.line1.strip()),
        "ship_line2_encrypted": pii.encrypt(address.line2) if address.line2 else None,
        "ship_phone_encrypted": pii.encrypt(address.phone) if address.phone else None,
        "ship_city": address.city.strip(),
        "ship_region": address.region,
        "ship_postal_code": address.postal_code,
        "ship_country": address.country.strip().upper(),
        "currency": prepared.currency,
        "subtotal_minor": prepared.subtotal_minor,
        "discount_minor": prepared.discount_minor,
        "shipping_minor": priced.shipping_minor if priced is not None else 0,
        "tax_minor": priced.tax_minor if priced is not None else 0,
        "total_minor": total,
        "captured_minor": 0,
        "refunded_minor": 0,
        "shipping_refunded_minor": 0,
        "pricing": _pricing(prepared),
        "offer_reference": offer.reference if offer else None,
        "deposit_minor": offer.deposit_minor if offer else None,
        "balance_from": offer.balance_from if offer else None,
        "balance_due_at": offer.balance_due_at if offer else None,
        "forfeited_minor": 0,
        "fulfilment_hold": offer.hold if offer else None,
        "allow_split": command.allow_split,
        "risk_flags": risk_flags(
            quantity=sum(prepared.stock_lines.values()),
            total_minor=total,
            exponent=exponent,
            is_guest=command.customer_id is None,
            ship_country=address.country.upper(),
            customer_country=None,
        ),
        "value_band": value_band(total, exponent),
        "placed_at": now,
        "payment_due_at": payment_due_at,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class PlacedRows:
    """What batch placement wrote for one order, ids included: the checkout answers
    from these instead of reading the order back (``placed_detail``)."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    tags: list[str]
    reservations: list[dict[str, Any]]


@dataclass(frozen=True)
class PlacedOrder:
    """What a checkout caller gets back: the new order's key facts."""

    id: int
    number: str
    status: str
    customer_id: int | None
    channel: str
    currency: str
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    total_minor: int
    placed_at: datetime
    payment_due_at: datetime
    rows: PlacedRows | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(
        cls, order_id: int, values: dict[str, Any], rows: PlacedRows | None = None
    ) -> PlacedOrder:
        return cls(id=order_id, rows=rows, **{name: values[name] for name in _PLACED_FACTS})


_PLACED_FACTS = tuple(f.name for f in fields(PlacedOrder)[1:] if f.name != "rows")


@dataclass
class _Children:
    """Rows that hang off new orders, written in bulk."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    # Keys reserved up front (batch placement) go into the rows, so the checkout can
    # answer with them; without them the database assigns the keys.
    line_ids: Iterator[int] | None = None
    event_ids: Iterator[int] | None = None

    def write(self, uow: UnitOfWork) -> None:
        insert_rows(uow.session, OrderLine.__table__, self.lines)  # type: ignore[arg-type]
        insert_rows(uow.session, OrderTag.__table__, self.tags)  # type: ignore[arg-type]
        insert_rows(uow.session, OrderEvent.__table__, self.timeline)  # type: ignore[arg-type]

    def write_later(self, uow: UnitOfWork) -> None:
        """At the flush, with the orders, audit and outbox rows: one round trip."""
        uow.insert_later(OrderLine.__table__, self.lines)  # type: ignore[arg-type]
        uow.insert_later(OrderTag.__table__, self.tags)  # type: ignore[arg-type]
        uow.insert_later(OrderEvent.__table__, self.timeline)  # type: ignore[arg-type]


def _line_amounts(
    prepared: PreparedOrder,
) -> list[tuple[str, int, int, int, int, SkuSnapshot | None]]:
    """(sku, quantity, unit price, discount, total, snapshot) per order line: the priced
    lines (the ordered SKUs in first-seen order, then gifts at a total of 0)."""
    offer = prepared.offer
    if offer is not None:
        price, off = offer.unit_price_minor, offer.unit_discount_minor
        return [
            (sku, q, price, off * q, (price - off) * q, prepared.snapshots[sku])
            for sku, q in prepared.quantities.items()
        ]
    if prepared.priced is None:
        return [
            (sku, q, snap.price_minor, 0, snap.price_minor * q, snap)
            for sku, q in prepared.quantities.items()
            for snap in (prepared.snapshots[sku],)
        ]
    return [
        (
            line.sku,
            line.quantity,
            line.unit_price_minor,
            line.discount_minor,
            line.total_minor,
            prepared.snapshots.get(line.sku),
        )
        for line in prepared.priced.lines
    ]


def _record(
    uow: UnitOfWork, prepared: PreparedOrder, placed: PlacedOrder, children: _Children
) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """Lines, tags, timeline, event and audit of a new order; returns the line rows, the
    tags and the timeline row."""
    lines = [
        {
            "order_id": placed.id,
            "line_number": number,
            "sku": sku,
            "product_name": snapshot.product_name if snapshot else sku,
            "quantity": quantity,
            "unit_price_minor": unit_price,
            "unit_cost_minor": snapshot.cost_minor if snapshot else None,
            "discount_minor": discount,
            "total_minor": total,
            "shipped_quantity": 0,
            "returned_quantity": 0,
            "refunded_minor": 0,
        }
        for number, (sku, quantity, unit_price, discount, total, snapshot) in enumerate(
            _line_amounts(prepared), start=1
        )
    ]
    if children.line_ids is not None:
        for line in lines:
            line["id"] = next(children.line_ids)
    children.lines.extend(lines)
    tags = sorted({t.strip() for t in prepared.command.tags})
    children.tags.extend({"order_id": placed.id, "tag": t} for t in tags)
    entry: dict[str, Any] = {
        "order_id": placed.id,
        "kind": "placed",
        "from_status": None,
        "to_status": placed.status,
        "actor": uow.actor.label,
        "reason": prepared.command.note,
        "data": {"channel": placed.channel},
        "occurred_at": placed.placed_at,
    }
    if children.event_ids is not None:
        entry["id"] = next(children.event_ids)
    children.timeline.append(entry)
    uow.emit(
        OrderPlaced(
            placed.id,
            placed.number,
            placed.customer_id,
            placed.channel,
            placed.currency,
            placed.total_minor,
            [
                {
                    "sku": line["sku"],
                    "quantity": line["quantity"],
                    "unit_price_minor": line["unit_price_minor"],
                }
                for line in lines
            ],
        )
    )
    uow.audit(
        "order.placed",
        "order",
        placed.id,
        after={
            "number": placed.number,
            "status": placed.status,
            "total_minor": placed.total_minor,
            "currency": placed.currency,
        },
    )
    return lines, tags, entry


def place_order(uow: UnitOfWork, command: PlaceOrder, *, offer: OfferTerms | None = None) -> Order:
    """Place one order; with ``offer`` (from the context owning a group buy or presale)
    at the offer's price instead of through promotions."""
    uow.require(Permission.ORDERS_WRITE)
    # An offer's price includes shipping: its orders are not quoted from the rate table.
    setup = None if offer is not None else CheckoutSetup.load(uow, [command])
    prepared = prepare(uow, command, setup=setup)
    if offer is not None:
        _check_offer(prepared, offer)
        prepared = dataclasses.replace(prepared, offer=offer)
    else:
        prepared = _price_one(uow, prepared)
    inventory.reserve(uow, _reserve_command(uow, prepared))
    values = _order_values(uow, prepared)
    order = Order(**values)
    uow.session.add(order)
    uow.session.flush()
    # A limit or a balance reached since pricing raises: the whole placement is refused.
    _redeem(uow, prepared)
    children = _Children()
    _record(uow, prepared, PlacedOrder.of(order.id, values), children)
    children.write(uow)
    return order


def _price_one(uow: UnitOfWork, prepared: PreparedOrder) -> PreparedOrder:
    customer_id = prepared.command.customer_id
    first_order = customer_id is not None and not _customers_with_live_orders(uow, [customer_id])
    request = _pricing_request(prepared, first_order)
    priced = promotions.price_order(uow, request)
    waiver = _free_over(prepared, request, priced)
    waived = 0
    if waiver is not None:
        prepared, request, waived = waiver
    with_points = _with_points(uow, prepared, request, priced, waived)
    if with_points is not None:
        priced = promotions.price_order(uow, with_points)
    elif waiver is not None:
        priced = promotions.price_order(uow, request)
    gifts = _gift_skus([priced])
    return _priced(prepared, priced, repository.snapshot_skus(uow.session, gifts) if gifts else {})


@dataclass(frozen=True)
class PlacementRequest:
    """One caller's order in a shared batch, with who placed it."""

    command: PlaceOrder
    actor: Actor
    request_id: str | None = None


def place_orders(
    uow: UnitOfWork, requests: Sequence[PlacementRequest]
) -> list[PlacedOrder | DomainError]:
    """Place many orders in one transaction: one lock and one UPDATE per stock row.

    Each request succeeds or fails on its own (permission, validation, pricing,
    stock, promotion limits); the successful ones commit together when the caller
    commits. Audit rows, events and timeline entries carry each request's own actor
    and request id. Rows are written in bulk: this is the checkout hot path.
    """
    skus = {line.sku for request in requests for line in request.command.lines}
    snapshots = repository.snapshot_skus(uow.session, skus)
    setup = CheckoutSetup.load(uow, [request.command for request in requests])  # once
    outcomes: list[PreparedOrder | DomainError] = []
    for request in requests:
        try:
            if not request.actor.can(Permission.ORDERS_WRITE):
                raise PermissionDenied(
                    "auth.permission_denied", "placing orders needs the 'orders.write' permission"
                )
            outcomes.append(prepare(uow, request.command, snapshots, setup))
        except DomainError as error:
            outcomes.append(error)
    ready = _price_batch(uow, outcomes, snapshots)
    # The costly per-order work (encryption, price breakdown) happens before any
    # stock row is locked, so a concurrent batch can hold the lock meanwhile.
    values = [_order_values(uow, prepared) for _, prepared in ready]
    ids, line_ids, event_ids = reserve_ids_for(  # one round trip for all three
        uow.session,
        [
            (Order.__table__, len(ready)),  # type: ignore[list-item]
            (OrderLine.__table__, sum(len(_line_amounts(p)) for _, p in ready)),  # type: ignore[list-item]
            (OrderEvent.__table__, len(ready)),  # type: ignore[list-item]
        ],
    )
    plans = inventory.plan_many(uow, [_reserve_command(uow, p) for _, p in ready])
    results: list[PlacedOrder | DomainError] = [
        o if isinstance(o, DomainError) else DomainError("internal", "not placed") for o in outcomes
    ]  # placeholders for the prepared ones are overwritten below
    kept: list[int] = []
    for position, (index, prepared) in enumerate(ready):
        planned = plans.outcomes[position]
        if isinstance(planned, DomainError):
            results[index] = planned
            continue
        request = requests[index]
        with uow.acting_as(request.actor, request.request_id):
            try:
                _redeem(uow, prepared)
            except DomainError as error:  # a limit or a balance reached since pricing
                results[index] = error  # this order only: its redemptions were undone
                continue
        kept.append(position)
    # Stock is written for the orders that remain only: a failed one leaves no rows.
    held: dict[str, list[dict[str, Any]]] = {}
    for row in inventory.apply_plans(uow, plans, kept):
        held.setdefault(str(row["reference"]), []).append(row)
    order_rows = []
    children = _Children(line_ids=iter(line_ids), event_ids=iter(event_ids))
    for position in kept:
        index, prepared = ready[position]
        request = requests[index]
        order_row = {"id": ids[position], **values[position]}
        order_rows.append(order_row)
        placed = PlacedOrder.of(ids[position], values[position])
        with uow.acting_as(request.actor, request.request_id):
            lines, tags, entry = _record(uow, prepared, placed, children)
        rows = PlacedRows(order_row, lines, [entry], tags, held.get(prepared.number, []))
        results[index] = PlacedOrder.of(ids[position], values[position], rows)
    # Written by the commit's flush, with the audit and outbox rows, in one round trip:
    # the stock rows stay locked until then.
    uow.insert_later(Order.__table__, order_rows)  # type: ignore[arg-type]
    children.write_later(uow)
    return results


def _price_batch(
    uow: UnitOfWork,
    outcomes: list[PreparedOrder | DomainError],
    snapshots: Mapping[str, SkuSnapshot],
) -> list[tuple[int, PreparedOrder]]:
    """Price every prepared order of a batch at once (``outcomes`` gets the failures);
    returns the priced ones with their index."""
    ready = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, PreparedOrder)]
    customers = [p.command.customer_id for _, p in ready if p.command.customer_id is not None]
    returning = _customers_with_live_orders(uow, customers)
    seen: set[int] = set()
    requests = []
    for _, prepared in ready:
        customer_id = prepared.command.customer_id
        first_order = customer_id is not None and customer_id not in returning | seen
        if customer_id is not None:
            seen.add(customer_id)  # a second order in the same batch is not a first one
        requests.append(_pricing_request(prepared, first_order))
    priced = promotions.price_orders(uow, requests)
    # Priced again: those that spend points, and those whose fee the threshold waives.
    again: list[tuple[int, promotions.PricingRequest]] = []
    for k, ((index, prepared), cart) in enumerate(zip(ready, priced, strict=True)):
        if isinstance(cart, DomainError):
            continue
        request, waived = requests[k], 0
        waiver = _free_over(prepared, request, cart)
        if waiver is not None:
            prepared, request, waived = waiver
            ready[k] = (index, prepared)
        try:
            with_points = _with_points(uow, prepared, request, cart, waived)
        except DomainError as error:
            priced[k] = error
            continue
        if with_points is not None:
            again.append((k, with_points))
        elif waiver is not None:
            again.append((k, request))
    if again:
        repriced = promotions.price_orders(uow, [request for _, request in again])
        for (k, _), cart in zip(again, repriced, strict=True):
            priced[k] = cart
    gifts = _gift_skus(priced) - set(snapshots)
    if gifts:
        snapshots = {**snapshots, **repository.snapshot_skus(uow.session, gifts)}
    priced_ready = []
    for (index, prepared), cart in zip(ready, priced, strict=True):
        if isinstance(cart, DomainError):
            outcomes[index] = cart
            continue
        priced_ready.append((index, _priced(prepared, cart, snapshots)))
    return priced_ready


def _redeem(uow: UnitOfWork, prepared: PreparedOrder) -> None:
    """Count the promotions the order used and debit its points, or neither: a Conflict
    (a limit or the balance reached since pricing) undoes this order's redemptions only."""
    priced = prepared.priced
    if priced is None:
        return
    customer_id = prepared.command.customer_id
    if not priced.points_redeemed or customer_id is None:
        if priced.applied:  # promotions.redeem undoes its own writes when it fails
            promotions.redeem(uow, prepared.number, priced, customer_id)
        return
    with uow.savepoint():
        if priced.applied:
            promotions.redeem(uow, prepared.number, priced, customer_id)
        loyalty.redeem(
            uow,
            customer_id,
            priced.points_redeemed,
            order_reference=prepared.number,
            order_total_minor=priced.total_minor + priced.points_minor,
            currency=prepared.currency,
        )


__all__ = [
    "PlacedOrder",
    "PlacedRows",
    "PlacementRequest",
    "PreparedOrder",
    "member_discounts",
    "place_order",
    "place_orders",
    "prepare",
]
