"""Numbers, money and dates written the way the reader's locale writes them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from shopops.console.i18n import current_locale
from shopops.kernel.money import currency_exponent

MISSING = "\u2013"  # an en dash where there is no value
MINUS = "\u2212"  # a real minus sign, the width of a plus


def money(minor: int | float | None, currency: str) -> str:
    """Integer minor units (or a float from analytics) as the locale writes the currency."""
    if minor is None:
        return MISSING
    exponent = currency_exponent(currency)
    amount = Decimal(str(minor)).scaleb(-exponent)
    return format_currency(amount, currency, locale=current_locale.get())


def number(value: int | float | None, digits: int = 0) -> str:
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current_locale.get())


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=current_locale.get())


def change(value: float | None) -> str:
    """A relative change with its sign: +12.5% or a minus sign and 3.0%."""
    if value is None:
        return MISSING
    text = percent(abs(value))
    return ("+" if value >= 0 else MINUS) + text


def when(moment: datetime | None, tz: str, style: str = "medium") -> str:
    if moment is None:
        return MISSING
    return format_datetime(moment, style, tzinfo=ZoneInfo(tz), locale=current_locale.get())


def day(value: date | datetime | None, tz: str) -> str:
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return format_date(value, "medium", locale=current_locale.get())
