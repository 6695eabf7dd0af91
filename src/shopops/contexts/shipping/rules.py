"""Pure shipping rules: which rate of a method applies to a destination, and its fee.

Each rate of a method names a destination: a country (ISO 3166-1 alpha-2) and
optionally one region of it (compared without regard to case, e.g. ``CN-SH``), or
``*`` for anywhere. For a destination the most specific rate in the order's
currency wins::

    the country and its region  >  the country (no region)  >  "*"

Free-over threshold: a rate's ``free_over_minor`` waives its fee when the items come
to at least that amount (``>=``). At checkout "the items" are the merchandise
subtotal after item-level promotions (special prices, line discounts, gifts) and
before order-level discounts, shipping promotions and loyalty points; the quote
endpoint takes that amount from its caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shopops.contexts.shipping.errors import ShippingError
from shopops.kernel.errors import FieldError

ANYWHERE = "*"
MAX_NAME_LENGTH = 100
MAX_REGION_LENGTH = 100
MAX_SORT_ORDER = 1_000_000
MAX_AMOUNT_MINOR = 10**13  # far above any fee; keeps amounts inside a BIGINT with room
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class Rate:
    id: int
    country: str  # ISO 3166-1 alpha-2, or "*"
    region: str | None  # upper case; None: the whole country
    currency: str
    fee_minor: int
    free_over_minor: int | None = None

    def specificity(self, country: str, region: str | None) -> int | None:
        """How closely the rate names the destination: 2 its region, 1 its country,
        0 anywhere; None when it is for another place."""
        if self.country == ANYWHERE:
            return 0
        if self.country != country:
            return None
        if self.region is None:
            return 1
        return 2 if self.region == region else None


@dataclass(frozen=True, slots=True)
class Method:
    id: int
    code: str
    name: str
    is_active: bool
    sort_order: int
    rates: tuple[Rate, ...] = ()


@dataclass(frozen=True)
class RateTable:
    """Every method with its rates, in sort order (then code): loaded once per checkout
    batch. An empty table means the store charges no shipping (see ``orders``)."""

    methods: tuple[Method, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.methods)

    def method(self, code: str) -> Method | None:
        for method in self.methods:
            if method.code == code:
                return method
        return None

    def active_codes(self) -> list[str]:
        return [m.code for m in self.methods if m.is_active]

    def default(self) -> Method | None:
        """The first active method: what an order that names none ships with."""
        return next((m for m in self.methods if m.is_active), None)


@dataclass(frozen=True, slots=True)
class Quote:
    """What shipping an order costs: the method, the rate that applied, and the fee."""

    method: str
    rate: Rate
    fee_minor: int  # the rate's fee; 0 over the free-over threshold or for the tier
    free_for_tier: str | None = None  # the customer's tier ships free (a loyalty benefit)

    @property
    def free_over_reached(self) -> bool:
        """The threshold took a fee away."""
        return self.free_for_tier is None and self.fee_minor < self.rate.fee_minor

    def for_items(self, items_minor: int) -> Quote:
        """The same quote for items worth ``items_minor`` (the free-over threshold applied)."""
        if self.free_for_tier is not None:
            return self
        return Quote(self.method, self.rate, fee_for(self.rate, items_minor))

    def for_tier(self, tier: str) -> Quote:
        """No fee: the customer's tier ships free."""
        return Quote(self.method, self.rate, 0, tier)


# --- destinations ------------------------------------------------------------------------


def normalize_country(value: str | None) -> str | None:
    """``"cn "`` -> ``"CN"``; ``"*"`` stays; None when it is not two ASCII letters."""
    text = (value or "").strip().upper()
    if text == ANYWHERE:
        return text
    if len(text) == 2 and text.isascii() and text.isalpha():
        return text
    return None


def normalize_region(value: str | None) -> str | None:
    """Upper case without surrounding blanks; None for no region."""
    text = (value or "").strip().upper()
    return text or None


def choose_rate(
    rates: Iterable[Rate], country: str, region: str | None, currency: str
) -> Rate | None:
    """The most specific rate for the destination in ``currency`` (already normalized);
    None when no rate covers it."""
    best: Rate | None = None
    best_score = -1
    for rate in rates:
        if rate.currency != currency:
            continue
        score = rate.specificity(country, region)
        if score is not None and score > best_score:
            best, best_score = rate, score
    return best


def fee_for(rate: Rate, items_minor: int) -> int:
    """The rate's fee, or 0 when the items reach its free-over threshold."""
    if rate.free_over_minor is not None and items_minor >= rate.free_over_minor:
        return 0
    return rate.fee_minor


def quote(
    method: Method, country: str, region: str | None, items_minor: int, currency: str
) -> Quote | None:
    """The fee of ``method`` to a destination for items worth ``items_minor``; None when
    the method has no rate there (in that currency)."""
    rate = choose_rate(method.rates, country, region, currency)
    if rate is None:
        return None
    return Quote(method.code, rate, fee_for(rate, items_minor))


def select_method(
    table: RateTable, code: str | None, field: str = "shipping_method"
) -> Method | FieldError:
    """The active method named ``code`` (normalized), or the default one for None."""
    allowed = table.active_codes()
    choices = f"allowed: {', '.join(allowed)}" if allowed else "no shipping method is active"
    if code is None or not code.strip():
        found = table.default()
        if found is None:
            return FieldError(field, ShippingError.UNKNOWN_METHOD, choices)
        return found
    wanted = code.strip().lower()
    method = table.method(wanted)
    if method is None:
        return FieldError(
            field, ShippingError.UNKNOWN_METHOD, f"unknown shipping method '{wanted}'; {choices}"
        )
    if not method.is_active:
        return FieldError(
            field, ShippingError.UNKNOWN_METHOD, f"shipping method '{wanted}' is off; {choices}"
        )
    return method


def resolve(
    table: RateTable,
    code: str | None,
    country: str,
    region: str | None,
    currency: str,
    *,
    method_field: str = "shipping_method",
    destination_field: str = "shipping_address.country",
) -> Quote | FieldError:
    """The method (``code``, or the default for None) and its rate for a destination
    (normalized) in ``currency``, at the rate's full fee: ``Quote.for_items`` applies
    the free-over threshold once the items are priced. A FieldError says what is wrong."""
    method = select_method(table, code, method_field)
    if isinstance(method, FieldError):
        return method
    rate = choose_rate(method.rates, country, region, currency)
    if rate is None:
        where = f"{region} ({country})" if region else country
        return FieldError(
            destination_field,
            ShippingError.NO_RATE,
            f"shipping method '{method.code}' has no {currency} rate for {where}",
        )
    return Quote(method.code, rate, rate.fee_minor)


# --- what a method and a rate may be --------------------------------------------------


def validate_method(
    *, code: str | None, name: str | None, sort_order: int | None
) -> list[FieldError]:
    """Problems with a method's fields (None: not given, not checked)."""
    errors: list[FieldError] = []
    if code is not None and not CODE_PATTERN.fullmatch(code):
        errors.append(
            FieldError(
                "code",
                ShippingError.INVALID_CODE,
                "1-32 lowercase letters, digits, '-' or '_', starting with a letter",
            )
        )
    if name is not None and not 1 <= len(name) <= MAX_NAME_LENGTH:
        errors.append(
            FieldError("name", ShippingError.INVALID_NAME, f"1-{MAX_NAME_LENGTH} characters")
        )
    if sort_order is not None and not 0 <= sort_order <= MAX_SORT_ORDER:
        errors.append(
            FieldError("sort_order", ShippingError.INVALID_SORT_ORDER, f"0 to {MAX_SORT_ORDER:,}")
        )
    return errors


def validate_rate(
    prefix: str,
    *,
    country: str | None,
    region: str | None,
    raw_region: str | None,
    fee_minor: int | None,
    free_over_minor: int | None,
) -> list[FieldError]:
    """Problems with a rate (``country``/``region`` normalized, None when invalid or not
    given; amounts parsed by the caller, None when they could not be)."""
    errors: list[FieldError] = []

    def add(field: str, code: ShippingError, message: str) -> None:
        errors.append(FieldError(f"{prefix}{field}", code, message))

    if country is None:
        add("country", ShippingError.INVALID_COUNTRY, "a 2-letter ISO 3166-1 code, or '*'")
    if raw_region is not None and len(raw_region.strip()) > MAX_REGION_LENGTH:
        add("region", ShippingError.INVALID_REGION, f"at most {MAX_REGION_LENGTH} characters")
    elif region is not None and country == ANYWHERE:
        add("region", ShippingError.INVALID_REGION, "a region needs a country, not '*'")
    if fee_minor is not None and not 0 <= fee_minor <= MAX_AMOUNT_MINOR:
        add("fee", ShippingError.INVALID_FEE, "0 or more")
    if free_over_minor is not None and not 0 < free_over_minor <= MAX_AMOUNT_MINOR:
        add("free_over", ShippingError.INVALID_FREE_OVER, "more than 0, or empty for none")
    return errors


def duplicate_destinations(rates: Iterable[tuple[str, str | None]]) -> list[int]:
    """Indexes of the rates (country, region) that repeat an earlier one."""
    seen: set[tuple[str, str | None]] = set()
    repeated = []
    for index, destination in enumerate(rates):
        if destination in seen:
            repeated.append(index)
        seen.add(destination)
    return repeated
