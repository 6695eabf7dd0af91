"""Presales with a deposit (定金): offers, and orders that pay a deposit now and the
balance later.

An order is placed through the orders context as a two-step order: the deposit is
what paying charges first; once it is captured the stock stays held and the balance
(price - worth per unit) can be paid in the balance window only. A balance not
paid by the end of the window is forfeited by ``orders.close_unpaid`` (the order is
closed, its stock released, the deposit kept and recorded). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shopops.auth.permissions import Permission
from shopops.contexts import orders
from shopops.contexts.presales import repository, rules
from shopops.contexts.presales.commands import CreatePresale, PlacePresaleOrder
from shopops.contexts.presales.errors import PresaleError
from shopops.contexts.presales.models import PresaleOffer
from shopops.kernel.errors import (
    Conflict,
    FieldError,
    FieldErrorCollector,
    NotFound,
    ValidationFailed,
)
from shopops.kernel.money import to_minor
from shopops.uow import UnitOfWork


def _amount(
    errors: FieldErrorCollector, field: str, value: str, currency: str | None, code: PresaleError
) -> int | None:
    if currency is None:
        return None
    try:
        return to_minor(value, currency)
    except ValidationFailed as error:
        errors.add(field, code, error.message)
        return None


def create_offer(uow: UnitOfWork, command: CreatePresale) -> PresaleOffer:
    """A presale for one SKU: every problem reported at once, nothing written on any."""
    uow.require(Permission.PROMOTIONS_WRITE)
    errors = FieldErrorCollector()
    sku = command.sku.strip()
    facts = repository.variant(uow.session, sku)
    currency = None
    if facts is None or not facts.sellable:
        errors.add("sku", PresaleError.UNKNOWN_SKU, f"'{sku}' is not a SKU for sale")
    else:
        currency = facts.currency
    price = _amount(errors, "price", command.price, currency, PresaleError.INVALID_PRICE)
    deposit = _amount(errors, "deposit", command.deposit, currency, PresaleError.INVALID_DEPOSIT)
    worth = _amount(
        errors, "deposit_worth", command.deposit_worth, currency, PresaleError.INVALID_DEPOSIT
    )
    errors.items.extend(
        rules.validate_offer(
            name=command.name,
            price_minor=price,
            deposit_minor=deposit,
            worth_minor=worth,
            deposit_starts_at=command.deposit_starts_at,
            deposit_ends_at=command.deposit_ends_at,
            balance_starts_at=command.balance_starts_at,
            balance_ends_at=command.balance_ends_at,
            max_quantity=command.max_quantity,
        )
    )
    errors.raise_if_any()
    assert currency is not None
    assert price is not None
    assert deposit is not None
    assert worth is not None
    now = uow.now()
    offer = PresaleOffer(
        name=command.name.strip(),
        sku=sku,
        currency=currency,
        price_minor=price,
        deposit_minor=deposit,
        deposit_worth_minor=worth,
        deposit_starts_at=command.deposit_starts_at,
        deposit_ends_at=command.deposit_ends_at,
        balance_starts_at=command.balance_starts_at,
        balance_ends_at=command.balance_ends_at,
        max_quantity=command.max_quantity,
        status="active",
        created_at=now,
        updated_at=now,
    )
    uow.session.add(offer)
    uow.session.flush()
    uow.audit(
        "presale.created",
        "presale_offer",
        offer.id,
        after={
            "sku": sku,
            "currency": currency,
            "price_minor": price,
            "deposit_minor": deposit,
            "deposit_worth_minor": worth,
        },
    )
    return offer


def _offer(uow: UnitOfWork, offer_id: int) -> PresaleOffer:
    offer = repository.get(uow.session, offer_id)
    if offer is None:
        raise NotFound(PresaleError.NOT_FOUND, f"presale {offer_id} does not exist")
    return offer


def get_offer(uow: UnitOfWork, offer_id: int) -> PresaleOffer:
    uow.require(Permission.PROMOTIONS_READ)
    return _offer(uow, offer_id)


def list_offers(
    uow: UnitOfWork, *, status: str | None = None, after_id: int | None = None, limit: int = 50
) -> Sequence[PresaleOffer]:
    uow.require(Permission.PROMOTIONS_READ)
    return repository.list_offers(uow.session, status=status, after_id=after_id, limit=limit)


@dataclass(frozen=True)
class PresalePerformance:
    offer: PresaleOffer
    as_of: datetime  # open and overdue balances are as of this moment
    figures: rules.PresaleFigures


def offer_performance(uow: UnitOfWork, offer_id: int) -> PresalePerformance:
    """How the presale's orders did, from the orders themselves: two queries (the offer,
    one aggregate over its orders), whatever their number. Writes nothing."""
    uow.require(Permission.PROMOTIONS_READ)
    offer = _offer(uow, offer_id)
    now = uow.now()
    figures = repository.order_figures(uow.session, rules.offer_reference(offer.id), now)
    return PresalePerformance(offer, now, figures)


def end_offer(uow: UnitOfWork, offer_id: int) -> PresaleOffer:
    """Take no more deposits; orders already placed keep their balance window."""
    uow.require(Permission.PROMOTIONS_WRITE)
    offer = _offer(uow, offer_id)
    if offer.status != "ended":
        offer.status = "ended"
        offer.updated_at = uow.now()
        uow.audit("presale.ended", "presale_offer", offer.id, after={"status": "ended"})
    return offer


def place_order(uow: UnitOfWork, command: PlacePresaleOrder) -> orders.Order:
    """Place a presale order: what it charges first is the deposit, due by the end of
    the deposit window; the balance is due in the balance window."""
    uow.require(Permission.ORDERS_WRITE)
    offer = _offer(uow, command.offer_id)
    if not 1 <= command.quantity <= offer.max_quantity:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "quantity",
                    PresaleError.INVALID_QUANTITY,
                    f"1 to {offer.max_quantity} per order",
                )
            ]
        )
    now = uow.now()
    if offer.status != "active" or not offer.deposit_starts_at <= now < offer.deposit_ends_at:
        raise Conflict(
            PresaleError.NOT_RUNNING,
            f"presale {offer.id} takes deposits from {offer.deposit_starts_at} "
            f"until {offer.deposit_ends_at}",
            details={
                "deposit_starts_at": offer.deposit_starts_at.isoformat(),
                "deposit_ends_at": offer.deposit_ends_at.isoformat(),
                "status": offer.status,
            },
        )
    facts = repository.variant(uow.session, offer.sku)
    if facts is None or facts.currency != offer.currency:
        raise Conflict(
            PresaleError.NOT_RUNNING, f"{offer.sku} is no longer sold in {offer.currency}"
        )
    due = rules.amounts(
        price_minor=offer.price_minor,
        deposit_minor=offer.deposit_minor,
        worth_minor=offer.deposit_worth_minor,
        quantity=command.quantity,
    )
    order = orders.place_order(
        uow,
        orders.PlaceOrder(
            lines=(orders.OrderLineRequest(offer.sku, command.quantity),),
            shipping_address=command.shipping_address,
            channel=command.channel,
            customer_id=command.customer_id,
            guest=command.guest,
            tags=("presale",),
            note=command.note,
        ),
        offer=orders.OfferTerms(
            reference=rules.offer_reference(offer.id),
            sku=offer.sku,
            unit_price_minor=offer.price_minor,
            unit_discount_minor=offer.deposit_worth_minor - offer.deposit_minor,
            deposit_minor=due.deposit_minor,
            balance_from=offer.balance_starts_at,
            balance_due_at=offer.balance_ends_at,
            payment_due_at=offer.deposit_ends_at,
        ),
    )
    uow.audit(
        "presale.order_placed",
        "presale_offer",
        offer.id,
        after={"order": order.number, "deposit_minor": due.deposit_minor},
    )
    return order


def list_orders(
    uow: UnitOfWork, offer_id: int, *, before_id: int | None = None, limit: int = 50
) -> Sequence[orders.Order]:
    """The presale's orders, newest first."""
    uow.require(Permission.ORDERS_READ)
    offer = _offer(uow, offer_id)
    query = orders.OrderFilter(
        offer_reference=rules.offer_reference(offer.id), before_id=before_id, limit=limit
    )
    return orders.search_orders(uow, query).orders
