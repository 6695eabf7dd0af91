"""Pure presale rules: the amounts of a presale order and what makes an offer valid.

For ``quantity`` units at ``price`` with a deposit of ``deposit`` worth ``worth``:

    deposit due now   = deposit x quantity
    balance due later = (price - worth) x quantity
    order total       = deposit + balance = price x quantity - (worth - deposit) x quantity

The extra worth of the deposit is the order's discount. A balance not paid in its
window forfeits the deposit.

A presale's performance (``PresaleFigures``) sorts its orders into buckets that add up:
every order is awaiting its deposit, cancelled or closed before it, or has paid it; every
order that paid its deposit has paid its balance, is open (its balance window not ended),
is overdue (window ended, not yet forfeited), has forfeited its deposit, or was cancelled
after paying it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.contexts.presales.errors import MAX_ORDER_QUANTITY, PresaleError
from shopops.kernel.errors import FieldError


@dataclass(frozen=True)
class PresaleAmounts:
    list_minor: int  # price x quantity
    discount_minor: int  # (worth - deposit) x quantity
    deposit_minor: int
    balance_minor: int

    @property
    def total_minor(self) -> int:
        return self.deposit_minor + self.balance_minor


def offer_reference(offer_id: int) -> str:
    """What the presale's orders carry as ``offer_reference``."""
    return f"presale:{offer_id}"


def rate(part: int, whole: int) -> float | None:
    """``part`` / ``whole`` rounded to 6 places; None when there is no whole yet."""
    if not 0 <= part <= whole:
        raise ValueError(f"a rate needs 0 <= part <= whole, not {part} of {whole}")
    return round(part / whole, 6) if whole else None


@dataclass(frozen=True)
class PresaleFigures:
    """What a presale's orders add up to; amounts in minor units of the offer's currency."""

    orders_placed: int
    awaiting_deposit: int  # placed, deposit not paid, order still pending
    cancelled_before_deposit: int  # cancelled or closed unpaid before any deposit
    deposits_paid: int
    deposits_paid_minor: int
    balances_paid: int  # converted: the whole order paid
    balances_paid_minor: int
    open: int  # deposit paid, balance window not ended
    balance_overdue: int  # deposit paid, window ended, not yet forfeited by the close job
    forfeited: int
    forfeited_minor: int  # deposits kept
    cancelled_after_deposit: int  # deposit refunded by a cancellation
    discount_minor: int  # deposit bonus (worth - deposit) granted on converted orders
    gmv_minor: int  # totals of converted orders

    @property
    def conversion_rate(self) -> float | None:
        """Balances paid / deposits paid."""
        return rate(self.balances_paid, self.deposits_paid)


def amounts(
    *, price_minor: int, deposit_minor: int, worth_minor: int, quantity: int
) -> PresaleAmounts:
    if not 0 < deposit_minor <= worth_minor < price_minor or quantity < 1:
        raise ValueError("a presale needs 0 < deposit <= worth < price and a quantity")
    return PresaleAmounts(
        list_minor=price_minor * quantity,
        discount_minor=(worth_minor - deposit_minor) * quantity,
        deposit_minor=deposit_minor * quantity,
        balance_minor=(price_minor - worth_minor) * quantity,
    )


def validate_offer(
    *,
    name: str,
    price_minor: int | None,
    deposit_minor: int | None,
    worth_minor: int | None,
    deposit_starts_at: datetime,
    deposit_ends_at: datetime,
    balance_starts_at: datetime,
    balance_ends_at: datetime,
    max_quantity: int,
) -> list[FieldError]:
    """Every problem with a presale's terms (amounts parsed by the caller; None when
    they could not be)."""
    errors: list[FieldError] = []

    def add(field: str, code: PresaleError, message: str) -> None:
        errors.append(FieldError(field, code, message))

    if not name.strip() or len(name) > 200:
        add("name", PresaleError.INVALID_NAME, "1-200 characters")
    if price_minor is not None and price_minor <= 0:
        add("price", PresaleError.INVALID_PRICE, "must be positive")
    if deposit_minor is not None and deposit_minor <= 0:
        add("deposit", PresaleError.INVALID_DEPOSIT, "must be positive")
    if price_minor is not None and deposit_minor is not None and deposit_minor >= price_minor:
        add("deposit", PresaleError.DEPOSIT_NOT_BELOW_PRICE, "must be less than the price")
    if worth_minor is not None and deposit_minor is not None and worth_minor < deposit_minor:
        add("deposit_worth", PresaleError.WORTH_BELOW_DEPOSIT, "at least the deposit")
    if worth_minor is not None and price_minor is not None and worth_minor >= price_minor:
        add(
            "deposit_worth",
            PresaleError.WORTH_NOT_BELOW_PRICE,
            "must be less than the price (a balance is left to pay)",
        )
    moments = {
        "deposit_starts_at": deposit_starts_at,
        "deposit_ends_at": deposit_ends_at,
        "balance_starts_at": balance_starts_at,
        "balance_ends_at": balance_ends_at,
    }
    naive = [field for field, moment in moments.items() if moment.tzinfo is None]
    for field in naive:
        add(field, PresaleError.INVALID_WINDOW, "needs a time zone offset")
    if not naive:
        if deposit_starts_at >= deposit_ends_at:
            add("deposit_ends_at", PresaleError.INVALID_WINDOW, "after deposit_starts_at")
        if deposit_ends_at > balance_starts_at:
            add("balance_starts_at", PresaleError.INVALID_WINDOW, "at or after deposit_ends_at")
        if balance_starts_at >= balance_ends_at:
            add("balance_ends_at", PresaleError.INVALID_WINDOW, "after balance_starts_at")
    if not 1 <= max_quantity <= MAX_ORDER_QUANTITY:
        add("max_quantity", PresaleError.INVALID_QUANTITY, f"1-{MAX_ORDER_QUANTITY}")
    return errors
