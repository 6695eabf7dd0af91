"""Commands of the shipping context. Amounts are decimal strings in the store currency."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateInput:
    """A fee to one destination: ``country`` is ISO 3166-1 alpha-2 or ``*`` (anywhere);
    ``region`` narrows it to one region of the country. ``free_over``: no fee once the
    items come to at least this much (None: always the fee)."""

    country: str
    fee: str
    region: str | None = None
    free_over: str | None = None


@dataclass(frozen=True)
class CreateShippingMethod:
    code: str
    name: str
    is_active: bool = True
    sort_order: int = 0
    rates: tuple[RateInput, ...] = ()


@dataclass(frozen=True)
class UpdateShippingMethod:
    """Only the fields given change."""

    code: str
    name: str | None = None
    is_active: bool | None = None
    sort_order: int | None = None


@dataclass(frozen=True)
class AddShippingRate:
    method: str
    rate: RateInput


@dataclass(frozen=True)
class ReplaceShippingRate:
    method: str
    rate_id: int
    rate: RateInput


@dataclass(frozen=True)
class QuoteShipping:
    """The fee of ``method`` to a destination for items worth ``subtotal``."""

    method: str
    country: str
    region: str | None = None
    subtotal: str = "0"
