"""Reading console forms: every problem is collected and shown beside its field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from shopops.console.errors import error_text
from shopops.kernel.errors import DomainError
from shopops.kernel.money import currency_exponent


class FormErrors:
    """Field name -> translated message; empty when the form is fine."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, code: str, fallback: str = "") -> None:
        self.fields.setdefault(field, error_text(code, fallback or code))

    def extend(self, error: DomainError) -> None:
        """A domain error's field errors (or the error itself, on the form as a whole)."""
        if error.errors:
            for item in error.errors:
                self.add(
                    item.field.split(".")[-1] if item.field else "_form", item.code, item.message
                )
        else:
            self.add("_form", error.code, error.message)

    def get(self, field: str) -> str | None:
        return self.fields.get(field)

    def __bool__(self) -> bool:
        return bool(self.fields)


def parse_date(errors: FormErrors, field: str, raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.add(field, "validation.invalid_date")
        return None


def parse_int(
    errors: FormErrors,
    field: str,
    raw: str | None,
    *,
    minimum: int | None = None,
    required: bool = True,
) -> int | None:
    if raw is None or not raw.strip():
        if required:
            errors.add(field, "validation.required")
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        errors.add(field, "validation.not_integer")
        return None
    if minimum is not None and value < minimum:
        errors.add(field, "validation.not_positive" if minimum > 0 else "validation.negative")
        return None
    return value


def parse_money(
    errors: FormErrors, field: str, raw: str | None, currency: str, *, required: bool = True
) -> int | None:
    """A decimal amount in major units ("12.50") -> integer minor units; must be > 0."""
    if raw is None or not raw.strip():
        if required:
            errors.add(field, "validation.required")
        return None
    exponent = currency_exponent(currency)
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        errors.add(field, "validation.invalid_amount")
        return None
    if not amount.is_finite() or amount <= 0:
        errors.add(field, "payments.invalid_amount")
        return None
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        errors.add(field, "validation.invalid_amount")
        return None
    return int(minor)


def parse_percent(errors: FormErrors, field: str, raw: str | None) -> Decimal | None:
    if raw is None or not raw.strip():
        errors.add(field, "validation.required")
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        errors.add(field, "promotions.invalid_percentage")
        return None
    if not value.is_finite() or value <= 0 or value > 100:
        errors.add(field, "promotions.invalid_percentage")
        return None
    return value
