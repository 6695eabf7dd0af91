"""Shipping methods, their rate table and fee quotes. Nothing here commits.

Reading needs ``shipping.read``, changing ``shipping.manage``. Fees are kept in the
store currency (``default_currency`` in the settings) as integer minor units; every
problem with a method or its rates is reported at once and nothing is written on
any. ``rate_table`` is for order placement, inside the caller's unit of work and
under the caller's permission check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from shopops.auth.permissions import Permission
from shopops.contexts.shipping import repository, rules
from shopops.contexts.shipping.commands import (
    AddShippingRate,
    CreateShippingMethod,
    QuoteShipping,
    RateInput,
    ReplaceShippingRate,
    UpdateShippingMethod,
)
from shopops.contexts.shipping.errors import ShippingError
from shopops.contexts.shipping.models import ShippingMethod, ShippingRate
from shopops.kernel.errors import (
    FieldError,
    FieldErrorCollector,
    NotFound,
    ValidationFailed,
)
from shopops.kernel.money import normalize_currency, to_minor
from shopops.uow import UnitOfWork

ENTITY = "shipping_method"


def store_currency(uow: UnitOfWork) -> str:
    """The currency fees are set in: the store's default currency."""
    settings = uow.settings
    return normalize_currency(settings.default_currency if settings is not None else "USD")


def rate_table(uow: UnitOfWork) -> rules.RateTable:
    """Every method and rate, read once (checkout loads it once per batch). No permission
    check: the caller (order placement) has made its own."""
    return repository.load_table(uow.session)


# --- reading ----------------------------------------------------------------------------


def list_methods(uow: UnitOfWork, *, include_inactive: bool = True) -> list[rules.Method]:
    """Every method with its rates, in sort order (then code)."""
    uow.require(Permission.SHIPPING_READ)
    methods = repository.load_table(uow.session).methods
    return [m for m in methods if include_inactive or m.is_active]


def _method_row(uow: UnitOfWork, code: str, *, lock: bool = False) -> ShippingMethod:
    wanted = code.strip().lower()
    get = repository.get_method_for_update if lock else repository.get_method_by_code
    row = get(uow.session, wanted)
    if row is None:
        raise NotFound(ShippingError.METHOD_NOT_FOUND, f"shipping method '{wanted}' does not exist")
    return row


def get_method(uow: UnitOfWork, code: str) -> rules.Method:
    uow.require(Permission.SHIPPING_READ)
    row = _method_row(uow, code)
    return repository.method_of(row, repository.list_rates(uow.session, row.id))


def quote(uow: UnitOfWork, command: QuoteShipping) -> rules.Quote:
    """The fee of a method to a destination for items worth ``subtotal`` (store currency).

    An unknown or inactive method is ``shipping.unknown_method`` and a destination the
    method has no rate for ``shipping.no_rate_for_destination`` (both 422), with the
    active methods in ``details.allowed``."""
    uow.require(Permission.SHIPPING_READ)
    currency = store_currency(uow)
    errors = FieldErrorCollector()
    country = rules.normalize_country(command.country)
    if country is None or country == rules.ANYWHERE:
        errors.add("country", ShippingError.INVALID_COUNTRY, "a 2-letter ISO 3166-1 code")
    if command.region is not None and len(command.region.strip()) > rules.MAX_REGION_LENGTH:
        errors.add("region", ShippingError.INVALID_REGION, "at most 100 characters")
    subtotal = _amount(
        errors, "subtotal", command.subtotal, currency, ShippingError.INVALID_SUBTOTAL
    )
    if subtotal is not None and not 0 <= subtotal <= rules.MAX_AMOUNT_MINOR:
        errors.add("subtotal", ShippingError.INVALID_SUBTOTAL, "0 or more")
    errors.raise_if_any(message="the quote request is not valid")
    assert country is not None
    assert subtotal is not None
    table = repository.load_table(uow.session)
    region = rules.normalize_region(command.region)
    found = rules.resolve(
        table,
        command.method,
        country,
        region,
        currency,
        method_field="method",
        destination_field="country",
    )
    if isinstance(found, FieldError):
        raise ValidationFailed(
            found.code, found.message, errors=[found], details={"allowed": table.active_codes()}
        )
    return found.for_items(subtotal)


# --- changing ---------------------------------------------------------------------------


def _amount(
    errors: FieldErrorCollector, field: str, value: str, currency: str, code: ShippingError
) -> int | None:
    try:
        return to_minor(value, currency)
    except ValidationFailed as error:
        errors.add(field, code, error.message)
        return None


_Parsed = tuple[str | None, str | None, int | None, int | None]  # country, region, fee, over


def _parse_rate(
    errors: FieldErrorCollector, prefix: str, rate: RateInput, currency: str
) -> _Parsed:
    """The rate's destination (normalized) and amounts (minor units); None where invalid."""
    country = rules.normalize_country(rate.country)
    region = rules.normalize_region(rate.region)
    fee = None
    if not (rate.fee or "").strip():
        errors.add(f"{prefix}fee", ShippingError.INVALID_FEE, "required (0 for free shipping)")
    else:
        fee = _amount(errors, f"{prefix}fee", rate.fee, currency, ShippingError.INVALID_FEE)
    free_over = None
    if (rate.free_over or "").strip():
        assert rate.free_over is not None
        free_over = _amount(
            errors, f"{prefix}free_over", rate.free_over, currency, ShippingError.INVALID_FREE_OVER
        )
    errors.items.extend(
        rules.validate_rate(
            prefix,
            country=country,
            region=region,
            raw_region=rate.region,
            fee_minor=fee,
            free_over_minor=free_over,
        )
    )
    return country, region, fee, free_over


def _duplicate(prefix: str, country: str, region: str | None) -> FieldError:
    where = f"{country}/{region}" if region else country
    return FieldError(
        f"{prefix}country",
        ShippingError.DUPLICATE_RATE,
        f"the method already has a rate for {where}",
    )


def _rate_snapshot(row: ShippingRate) -> dict[str, Any]:
    return {
        "id": row.id,
        "country": row.country,
        "region": row.region or None,
        "currency": row.currency,
        "fee_minor": row.fee_minor,
        "free_over_minor": row.free_over_minor,
    }


def _method_snapshot(row: ShippingMethod) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "is_active": row.is_active,
        "sort_order": row.sort_order,
    }


def _flush(uow: UnitOfWork, error: FieldError) -> None:
    """The unique constraints settle races the checks before cannot see."""
    try:
        uow.session.flush()
    except IntegrityError as exc:  # the unit of work rolls back on the way out
        raise ValidationFailed(errors=[error]) from exc


def create_method(uow: UnitOfWork, command: CreateShippingMethod) -> rules.Method:
    """A method with its rates (in the store currency)."""
    uow.require(Permission.SHIPPING_MANAGE)
    errors = FieldErrorCollector()
    code = command.code.strip().lower()
    name = command.name.strip()
    if rules.CODE_PATTERN.fullmatch(code) and repository.get_method_by_code(uow.session, code):
        errors.add("code", ShippingError.DUPLICATE_CODE, f"a shipping method '{code}' exists")
    errors.items.extend(rules.validate_method(code=code, name=name, sort_order=command.sort_order))
    currency = store_currency(uow)
    parsed = [
        _parse_rate(errors, f"rates.{index}.", rate, currency)
        for index, rate in enumerate(command.rates)
    ]
    valid = [(index, (p[0], p[1])) for index, p in enumerate(parsed) if p[0] is not None]
    for repeated in rules.duplicate_destinations(destination for _, destination in valid):
        index, (country, region) = valid[repeated]
        assert country is not None
        errors.items.append(_duplicate(f"rates.{index}.", country, region))
    errors.raise_if_any(message="the shipping method is not valid")
    now = uow.now()
    row = ShippingMethod(
        code=code,
        name=name,
        is_active=command.is_active,
        sort_order=command.sort_order,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    _flush(uow, FieldError("code", ShippingError.DUPLICATE_CODE, f"'{code}' exists"))
    rates = [
        ShippingRate(
            method_id=row.id,
            country=country,
            region=region or "",
            currency=currency,
            fee_minor=fee,
            free_over_minor=free_over,
            created_at=now,
            updated_at=now,
        )
        for country, region, fee, free_over in parsed
        if country is not None and fee is not None
    ]
    uow.session.add_all(rates)
    uow.session.flush()
    uow.audit(
        "shipping.method_created",
        ENTITY,
        row.id,
        after={**_method_snapshot(row), "rates": [_rate_snapshot(r) for r in rates]},
    )
    return repository.method_of(row, rates)


def update_method(uow: UnitOfWork, command: UpdateShippingMethod) -> rules.Method:
    """Rename, switch on or off, or reorder a method (only the fields given change)."""
    uow.require(Permission.SHIPPING_MANAGE)
    row = _method_row(uow, command.code, lock=True)
    name = None if command.name is None else command.name.strip()
    errors = FieldErrorCollector()
    errors.items.extend(rules.validate_method(code=None, name=name, sort_order=command.sort_order))
    errors.raise_if_any(message="the shipping method is not valid")
    before = _method_snapshot(row)
    if name is not None:
        row.name = name
    if command.is_active is not None:
        row.is_active = command.is_active
    if command.sort_order is not None:
        row.sort_order = command.sort_order
    after = _method_snapshot(row)
    if after != before:
        row.updated_at = uow.now()
        uow.audit("shipping.method_updated", ENTITY, row.id, before=before, after=after)
    return repository.method_of(row, repository.list_rates(uow.session, row.id))


def delete_method(uow: UnitOfWork, code: str) -> None:
    """Delete a method with its rates. Orders placed with it keep their fee."""
    uow.require(Permission.SHIPPING_MANAGE)
    row = _method_row(uow, code, lock=True)
    rates = repository.list_rates(uow.session, row.id)
    before = {**_method_snapshot(row), "rates": [_rate_snapshot(r) for r in rates]}
    repository.delete_rates(uow.session, row.id)
    uow.session.delete(row)
    uow.session.flush()
    uow.audit("shipping.method_deleted", ENTITY, row.id, before=before)


def _set_rate(
    uow: UnitOfWork, method: ShippingMethod, rate: RateInput, existing: ShippingRate | None
) -> ShippingRate:
    """Add a rate to ``method`` or replace ``existing``: checked, written, audited."""
    currency = store_currency(uow)
    errors = FieldErrorCollector()
    country, region, fee, free_over = _parse_rate(errors, "", rate, currency)
    if country is not None:
        for other in repository.list_rates(uow.session, method.id):
            same = (other.country, other.region or None, other.currency)
            if same == (country, region, currency) and other is not existing:
                errors.items.append(_duplicate("", country, region))
    errors.raise_if_any(message="the shipping rate is not valid")
    assert country is not None
    assert fee is not None
    now = uow.now()
    before = None if existing is None else _rate_snapshot(existing)
    row = existing or ShippingRate(method_id=method.id, created_at=now)
    row.country = country
    row.region = region or ""
    row.currency = currency
    row.fee_minor = fee
    row.free_over_minor = free_over
    row.updated_at = now
    uow.session.add(row)
    _flush(uow, _duplicate("", country, region))
    after = _rate_snapshot(row)
    if before != after:
        action = "shipping.rate_added" if existing is None else "shipping.rate_changed"
        uow.audit(action, ENTITY, method.id, before=before, after=after)
    return row


def add_rate(uow: UnitOfWork, command: AddShippingRate) -> rules.Rate:
    """A fee to one more destination (``shipping.duplicate_rate`` if it has one)."""
    uow.require(Permission.SHIPPING_MANAGE)
    method = _method_row(uow, command.method, lock=True)  # one rate writer per method
    return repository.rate_of(_set_rate(uow, method, command.rate, None))


def _rate_row(uow: UnitOfWork, method: ShippingMethod, rate_id: int) -> ShippingRate:
    row = repository.get_rate(uow.session, method.id, rate_id)
    if row is None:
        raise NotFound(
            ShippingError.RATE_NOT_FOUND, f"'{method.code}' has no shipping rate {rate_id}"
        )
    return row


def replace_rate(uow: UnitOfWork, command: ReplaceShippingRate) -> rules.Rate:
    """Change a rate's destination, fee and free-over threshold (all of them)."""
    uow.require(Permission.SHIPPING_MANAGE)
    method = _method_row(uow, command.method, lock=True)
    existing = _rate_row(uow, method, command.rate_id)
    return repository.rate_of(_set_rate(uow, method, command.rate, existing))


def delete_rate(uow: UnitOfWork, method_code: str, rate_id: int) -> None:
    uow.require(Permission.SHIPPING_MANAGE)
    method = _method_row(uow, method_code, lock=True)
    row = _rate_row(uow, method, rate_id)
    before = _rate_snapshot(row)
    uow.session.delete(row)
    uow.session.flush()
    uow.audit("shipping.rate_deleted", ENTITY, method.id, before=before)
