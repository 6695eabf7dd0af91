"""What the shipping page shows: every method with its rates, amounts ready for forms."""

from __future__ import annotations

from dataclasses import dataclass

from shopops.contexts import shipping
from shopops.kernel.money import to_major
from shopops.uow import UnitOfWork


@dataclass(frozen=True)
class RateRow:
    rate: shipping.Rate
    fee: str  # in major units, as the edit form shows it ("8.00")
    free_over: str  # "" when the rate has no threshold


@dataclass(frozen=True)
class MethodRow:
    method: shipping.Method
    rates: list[RateRow]


@dataclass(frozen=True)
class ShippingView:
    methods: list[MethodRow]
    currency: str  # the store currency new rates are set in
    can_manage: bool


def _major(minor: int, currency: str) -> str:
    return str(to_major(minor, currency))


def read_shipping(uow: UnitOfWork, *, can_manage: bool) -> ShippingView:
    rows = [
        MethodRow(
            method,
            [
                RateRow(
                    rate,
                    _major(rate.fee_minor, rate.currency),
                    ""
                    if rate.free_over_minor is None
                    else _major(rate.free_over_minor, rate.currency),
                )
                for rate in method.rates
            ],
        )
        for method in shipping.list_methods(uow)
    ]
    return ShippingView(rows, shipping.store_currency(uow), can_manage)
