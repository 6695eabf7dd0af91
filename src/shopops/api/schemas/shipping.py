"""Shipping method, rate and quote bodies. Amounts are decimal strings in the store
currency; the shipping context checks them and lists every field error with its code
(`shipping.invalid_fee`, `shipping.invalid_country`, `shipping.duplicate_rate`, ...)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page
from shopops.api.schemas.orders import amount
from shopops.contexts import shipping

_RATE_EXAMPLE: dict[str, Any] = {
    "country": "CN",
    "region": "CN-XZ",
    "fee": "25.00",
    "free_over": None,
}
_METHOD_EXAMPLE: dict[str, Any] = {
    "code": "standard",
    "name": "Standard (3-5 days)",
    "is_active": True,
    "sort_order": 0,
    "rates": [
        {"country": "CN", "fee": "8.00", "free_over": "99.00"},
        {"country": "CN", "region": "CN-XZ", "fee": "25.00"},
        {"country": "*", "fee": "60.00"},
    ],
}


class ShippingRateCreate(BaseModel):
    """A fee to one destination (the whole rate, also when replacing one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_RATE_EXAMPLE]})

    country: str = Field(
        max_length=20,
        description="ISO 3166-1 alpha-2 code (`CN`), or `*`: anywhere no other rate covers.",
    )
    region: str | None = Field(
        default=None,
        max_length=200,
        description="One region of the country, as checkouts send it in "
        "`shipping_address.region` (compared without regard to case, e.g. `CN-SH`). "
        "Empty: the whole country.",
    )
    fee: str = Field(max_length=40, description="0 or more, e.g. `8.00`.")
    free_over: str | None = Field(
        default=None,
        max_length=40,
        description="No fee once the items come to at least this much (after item "
        "promotions, before order discounts and points). Empty: always the fee.",
    )

    def input(self) -> shipping.RateInput:
        return shipping.RateInput(
            country=self.country, fee=self.fee, region=self.region, free_over=self.free_over
        )


class ShippingRateRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [_RATE_EXAMPLE | {"id": 7, "currency": "CNY"}]}
    )

    id: int
    country: str
    region: str | None
    currency: str
    fee: str
    free_over: str | None

    @classmethod
    def of(cls, rate: shipping.Rate) -> ShippingRateRead:
        currency = rate.currency
        return cls(
            id=rate.id,
            country=rate.country,
            region=rate.region,
            currency=currency,
            fee=amount(rate.fee_minor, currency),
            free_over=None
            if rate.free_over_minor is None
            else amount(rate.free_over_minor, currency),
        )


class ShippingMethodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_METHOD_EXAMPLE]})

    code: str = Field(
        max_length=100,
        description="What checkouts send as `shipping_method`: 1-32 lowercase letters, "
        "digits, `-` or `_`. Unique; cannot change.",
    )
    name: str = Field(max_length=200, description="1-100 characters.")
    is_active: bool = True
    sort_order: int = Field(
        default=0, description="Lowest first; the first active method is the default."
    )
    rates: list[ShippingRateCreate] = Field(default_factory=list, max_length=500)

    def command(self) -> shipping.CreateShippingMethod:
        return shipping.CreateShippingMethod(
            code=self.code,
            name=self.name,
            is_active=self.is_active,
            sort_order=self.sort_order,
            rates=tuple(rate.input() for rate in self.rates),
        )


class ShippingMethodUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"is_active": False}]}
    )

    name: str | None = Field(default=None, max_length=200)
    is_active: bool | None = None
    sort_order: int | None = None

    def command(self, code: str) -> shipping.UpdateShippingMethod:
        return shipping.UpdateShippingMethod(
            code=code, name=self.name, is_active=self.is_active, sort_order=self.sort_order
        )


class ShippingMethodRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                _METHOD_EXAMPLE
                | {
                    "id": 1,
                    "rates": [
                        {
                            "id": 1,
                            "country": "CN",
                            "region": None,
                            "currency": "CNY",
                            "fee": "8.00",
                            "free_over": "99.00",
                        }
                    ],
                }
            ]
        }
    )

    id: int
    code: str
    name: str
    is_active: bool
    sort_order: int
    rates: list[ShippingRateRead]

    @classmethod
    def of(cls, method: shipping.Method) -> ShippingMethodRead:
        return cls(
            id=method.id,
            code=method.code,
            name=method.name,
            is_active=method.is_active,
            sort_order=method.sort_order,
            rates=[ShippingRateRead.of(rate) for rate in method.rates],
        )


class ShippingMethodPage(Page[ShippingMethodRead]):
    pass


class ShippingQuoteRead(BaseModel):
    """What shipping costs to a destination, and the rate that decided it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "standard",
                    "currency": "CNY",
                    "fee": "0.00",
                    "free_over_reached": True,
                    "rate": {
                        "id": 1,
                        "country": "CN",
                        "region": None,
                        "currency": "CNY",
                        "fee": "8.00",
                        "free_over": "99.00",
                    },
                }
            ]
        }
    )

    method: str
    currency: str
    fee: str = Field(description="What the order pays for shipping (before promotions).")
    free_over_reached: bool = Field(description="The rate's free-over threshold waived it.")
    rate: ShippingRateRead

    @classmethod
    def of(cls, quote: shipping.Quote) -> ShippingQuoteRead:
        currency = quote.rate.currency
        return cls(
            method=quote.method,
            currency=currency,
            fee=amount(quote.fee_minor, currency),
            free_over_reached=quote.free_over_reached,
            rate=ShippingRateRead.of(quote.rate),
        )
