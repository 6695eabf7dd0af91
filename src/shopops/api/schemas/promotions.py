"""Promotion, coupon and pricing-quote bodies. Money is a decimal string in the
promotion's (or cart's) currency; percentages are numbers or strings ("12.5").

The definition's contents (percentages up to 100, tiers in order, schedules,
known ids) are checked by the promotions context, so one response lists every
problem with its stable code (``promotions.invalid_percentage`` ...).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page
from shopops.contexts import promotions
from shopops.kernel.errors import ValidationFailed
from shopops.kernel.money import to_major, to_minor

_KINDS = ", ".join(f"`{k}`" for k in promotions.KINDS)


def amount(minor: int | None, currency: str | None) -> str | None:
    if minor is None or currency is None:
        return None
    return str(to_major(minor, currency))


# --- promotion definitions --------------------------------------------------------------


class ScopeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[int] = Field(default_factory=list)
    categories: list[int] = Field(default_factory=list, description="Subcategories included.")
    brands: list[int] = Field(default_factory=list)
    exclude_products: list[int] = Field(default_factory=list)
    exclude_categories: list[int] = Field(default_factory=list)
    exclude_brands: list[int] = Field(default_factory=list)


class RecurringBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[int] = Field(default_factory=list, description="0 = Monday ... 6 = Sunday.")
    days_of_month: list[int] = Field(default_factory=list)
    start_time: str | None = Field(default=None, examples=["10:00"])
    end_time: str | None = Field(default=None, examples=["22:00"])
    timezone: str = Field(default="UTC", examples=["Asia/Shanghai"])


class ScheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime | None = None
    ends_at: datetime | None = Field(default=None, description="Exclusive.")
    recurring: RecurringBody | None = Field(default=None, description="Member days.")


class ConditionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_spend: str | None = Field(default=None, examples=["100.00"])
    min_quantity: int | None = None
    channels: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list, description="Member-tier-only offer.")
    segments: list[str] = Field(default_factory=list, description="Any of these customer tags.")
    first_order_only: bool = False


class StackingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(
        default="", description="Empty: the level's group (price, item, order, shipping, gift)."
    )
    priority: int = Field(default=100, description="Lower applies first within a level.")
    exclusive: bool = False
    combinable_with: list[int | str] | None = Field(
        default=None, description="Promotion ids and group names; null: any."
    )


class LimitsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_discount: str | None = Field(default=None, description="Budget over all orders.")
    max_redemptions: int | None = None
    per_customer: int | None = None
    quota_units: int | None = Field(default=None, description="Flash sales and gifts.")
    per_customer_units: int | None = None


_DEFINITION_EXAMPLE: dict[str, Any] = {
    "name": "Spend more, save more",
    "kind": "spend_tiers",
    "currency": "CNY",
    "params": {"tiers": [{"spend": "300", "save": "50"}, {"spend": "500", "save": "100"}]},
    "scope": {"categories": [3], "exclude_products": [17]},
    "schedule": {"starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z"},
    "conditions": {"channels": ["web", "app"]},
    "stacking": {"group": "order", "priority": 10, "exclusive": True},
    "limits": {"max_discount": "20000", "max_redemptions": 1000, "per_customer": 1},
}


class PromotionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_DEFINITION_EXAMPLE]})

    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    kind: str = Field(description=f"One of {_KINDS}.")
    currency: str | None = Field(default=None, description="Needed when any amount is given.")
    params: dict[str, Any] = Field(default_factory=dict, description="Depends on the kind.")
    scope: ScopeBody | None = None
    schedule: ScheduleBody | None = None
    conditions: ConditionsBody | None = None
    requires_coupon: bool = False
    stacking: StackingBody | None = None
    limits: LimitsBody | None = None

    def definition(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=False)


class PromotionUpdate(BaseModel):
    """Only the fields sent change; sections (params, scope ...) merge key by key."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"params": {"percent": 15}}, {"limits": {"max_redemptions": 500}}]
        },
    )

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    currency: str | None = None
    params: dict[str, Any] | None = None
    scope: ScopeBody | None = None
    schedule: ScheduleBody | None = None
    conditions: ConditionsBody | None = None
    requires_coupon: bool | None = None
    stacking: StackingBody | None = None
    limits: LimitsBody | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class PromotionUsageRead(BaseModel):
    redemptions_used: int
    budget_used: str | None = Field(description="Discount given so far, when a budget is set.")
    units_sold: int | None


class PromotionRead(BaseModel):
    id: int
    status: str = Field(description="`draft`, `active` or `inactive`.")
    revision: int
    name: str
    description: str
    kind: str
    currency: str | None
    params: dict[str, Any]
    scope: dict[str, Any]
    schedule: dict[str, Any]
    conditions: dict[str, Any]
    requires_coupon: bool
    stacking: dict[str, Any]
    limits: dict[str, Any]
    usage: PromotionUsageRead
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: promotions.PromotionView) -> PromotionRead:
        definition = view.definition
        has_budget = definition["limits"]["max_discount"] is not None
        return cls(
            id=view.id,
            status=view.status,
            revision=view.revision,
            **definition,
            usage=PromotionUsageRead(
                redemptions_used=view.redemptions_used,
                budget_used=amount(view.discount_used_minor, definition["currency"])
                if has_budget
                else None,
                units_sold=view.units_sold,
            ),
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class PromotionPage(Page[PromotionRead]):
    pass


class CurrencyPerformanceRead(BaseModel):
    currency: str
    orders: int
    discount: str = Field(description="What the promotion cost.")
    gmv: str = Field(description="Totals paid on the orders that used it.")
    units: int


class PerformanceRead(BaseModel):
    promotion_id: int
    name: str
    kind: str
    status: str
    redemptions: int = Field(description="Orders using it now (cancellations released).")
    released: int
    coupon_redemptions: int
    by_currency: list[CurrencyPerformanceRead]
    budget: str | None
    budget_used: str | None
    max_redemptions: int | None
    redemptions_used: int
    quota_units: int | None
    units_sold: int | None

    @classmethod
    def of(cls, report: promotions.PromotionPerformance, currency: str | None) -> PerformanceRead:
        return cls(
            promotion_id=report.promotion_id,
            name=report.name,
            kind=report.kind,
            status=report.status,
            redemptions=report.redemptions,
            released=report.released,
            coupon_redemptions=report.coupon_redemptions,
            by_currency=[
                CurrencyPerformanceRead(
                    currency=c.currency,
                    orders=c.orders,
                    discount=str(to_major(c.discount_minor, c.currency)),
                    gmv=str(to_major(c.gmv_minor, c.currency)),
                    units=c.units,
                )
                for c in report.by_currency
            ],
            budget=amount(report.budget_minor, currency),
            budget_used=amount(report.budget_used_minor, currency) if report.budget_minor else None,
            max_redemptions=report.max_redemptions,
            redemptions_used=report.redemptions_used,
            quota_units=report.quota_units,
            units_sold=report.units_sold,
        )


# --- coupons ----------------------------------------------------------------------------


class CouponTermsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_customer_limit: int | None = None
    min_spend: str | None = Field(default=None, examples=["199.00"])
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    customer_ids: list[int] = Field(default_factory=list, max_length=10_000)
    tiers: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)


class CouponCreate(CouponTermsBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "SPRING10", "max_uses": 1000}]}
    )

    code: str = Field(max_length=40, description="3-40 letters, digits, dashes; case-insensitive.")
    max_uses: int | None = Field(default=None, description="Null: unlimited.")

    def command(self, promotion_id: int) -> promotions.CreateCoupon:
        return promotions.CreateCoupon(promotion_id, self.code, _terms(self, self.max_uses))


class CouponBatchCreate(CouponTermsBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"count": 500, "prefix": "VIP", "name": "VIP mailing"}]},
    )

    count: int = Field(description="1 to 100,000 codes.")
    name: str = Field(default="", max_length=200)
    prefix: str = Field(default="", max_length=12)
    length: int = Field(default=10, description="Random characters per code, 6 to 20.")
    max_uses: int | None = Field(default=1, description="Per code; null: unlimited.")

    def command(self, promotion_id: int) -> promotions.GenerateCoupons:
        return promotions.GenerateCoupons(
            promotion_id,
            self.count,
            name=self.name,
            prefix=self.prefix,
            length=self.length,
            terms=_terms(self, self.max_uses),
        )


def _terms(body: CouponTermsBody, max_uses: int | None) -> promotions.CouponTerms:
    return promotions.CouponTerms(
        max_uses=max_uses,
        per_customer_limit=body.per_customer_limit,
        min_spend=body.min_spend,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        customer_ids=tuple(body.customer_ids),
        tiers=tuple(body.tiers),
        segments=tuple(body.segments),
    )


class CouponRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    promotion_id: int
    batch_id: int | None
    is_active: bool
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    used: int
    per_customer_limit: int | None
    min_spend_minor: int | None
    customer_ids: list[int]
    tiers: list[str]
    segments: list[str]
    created_at: datetime


class CouponPage(Page[CouponRead]):
    pass


class CouponBatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    promotion_id: int
    name: str
    prefix: str
    size: int
    code_length: int
    created_at: datetime
    codes: list[str]


# --- pricing quote ----------------------------------------------------------------------


class QuoteLine(BaseModel):
    sku: str = Field(max_length=64, examples=["TEE-S"])
    quantity: int


class QuoteShipping(BaseModel):
    """Either a ``fee``, or a destination (``country``, ``region``) to take the fee from
    the store's shipping table (``/v1/shipping-methods``) with its free-over threshold."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(
        default=None,
        max_length=40,
        description="Empty: `standard`, or with `country` the store's first active method.",
    )
    fee: str | None = Field(
        default=None, examples=["12.00"], description="Empty: from the table, or 0."
    )
    country: str | None = Field(
        default=None,
        max_length=20,
        description="With no `fee`: quote it from the store's shipping table for this "
        "ISO 3166-1 country (and `region`). Ignored when the store has no methods.",
        examples=["CN"],
    )
    region: str | None = Field(default=None, max_length=200, examples=["CN-SH"])

    @property
    def from_table(self) -> bool:
        return self.fee is None and self.country is not None


class QuotePoints(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: int
    value: str = Field(default="0.01", description="What `per` points are worth.")
    per: int = 1


class QuoteRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "currency": "CNY",
                    "lines": [{"sku": "TEE-S", "quantity": 3}, {"sku": "MUG", "quantity": 1}],
                    "customer_id": 42,
                    "channel": "app",
                    "coupon_codes": ["SPRING10"],
                    "shipping": {"method": "standard", "fee": "12.00"},
                    "points": {"points": 500, "value": "0.01", "per": 1},
                    "tax_rate": "13",
                }
            ]
        },
    )

    currency: str = Field(description="The cart's currency: the SKUs are priced in it.")
    lines: list[QuoteLine] = Field(max_length=500)
    customer_id: int | None = None
    channel: str = Field(default="web", max_length=32)
    coupon_codes: list[str] = Field(default_factory=list, max_length=10)
    shipping: QuoteShipping = Field(default_factory=QuoteShipping)
    points: QuotePoints | None = None
    tax_rate: str = Field(default="0", description="Percent included in prices, e.g. 13.")
    first_order: bool | None = Field(
        default=None, description="Null: worked out from the customer's orders."
    )
    floor: str = Field(default="cost", description="`cost` or `zero`: how low a line may go.")
    at: datetime | None = Field(default=None, description="Price as of this moment.")

    def request(self, first_order: bool) -> promotions.PricingRequest:
        currency = self.currency
        points = self.points
        return promotions.PricingRequest(
            lines=tuple(promotions.PricingLine(line.sku, line.quantity) for line in self.lines),
            customer_id=self.customer_id,
            channel=self.channel,
            coupon_codes=tuple(self.coupon_codes),
            shipping_method=self.shipping.method or "standard",
            shipping_fee_minor=to_minor(self.shipping.fee or "0", currency),
            points=points.points if points else 0,
            point_value_minor=to_minor(points.value, currency) if points else 1,
            points_per_value=points.per if points else 100,
            first_order=first_order,
            tax_rate_bp=_basis_points(self.tax_rate),
            floor=self.floor,
            at=self.at,
            currency=currency,
        )


def _basis_points(percent: str) -> int:
    try:
        scaled = Decimal(percent) * 100
    except InvalidOperation:
        raise ValidationFailed("pricing.invalid_tax_rate", "tax_rate is a percentage") from None
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValidationFailed("pricing.invalid_tax_rate", "at most two decimals")
    return int(scaled)


class QuoteDiscount(BaseModel):
    promotion_id: int
    amount: str
    level: str


class QuoteLineRead(BaseModel):
    sku: str
    quantity: int
    unit_price: str
    subtotal: str
    discounts: list[QuoteDiscount]
    points_value: str
    total: str
    tax: str
    gift_of: int | None


class AppliedRead(BaseModel):
    promotion_id: int
    name: str
    kind: str
    level: str
    discount: str
    coupon_code: str | None
    units: int


class ConsiderationRead(BaseModel):
    promotion_id: int
    name: str
    kind: str
    applied: bool
    reason: str = Field(
        description="`applied`, or why not: `min_spend_not_met`, `not_combinable_with:<id>` ..."
    )
    discount: str
    message: str


class CouponOutcomeRead(BaseModel):
    code: str
    promotion_id: int
    applied: bool
    reason: str


class QuoteRead(BaseModel):
    currency: str
    lines: list[QuoteLineRead]
    subtotal: str
    item_discount: str
    order_discount: str
    discount: str
    shipping: str
    shipping_discount: str
    points_redeemed: int
    points_value: str
    tax: str = Field(description="Included in the total.")
    total: str
    applied: list[AppliedRead]
    coupons: list[CouponOutcomeRead]
    explanation: list[ConsiderationRead] = Field(description="Every active promotion considered.")

    @classmethod
    def of(cls, priced: promotions.PricedCart) -> QuoteRead:
        currency = priced.currency

        def money(minor: int) -> str:
            return str(to_major(minor, currency))

        return cls(
            currency=currency,
            lines=[
                QuoteLineRead(
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=money(line.unit_price_minor),
                    subtotal=money(line.subtotal_minor),
                    discounts=[
                        QuoteDiscount(
                            promotion_id=p.promotion_id, amount=money(p.amount_minor), level=level
                        )
                        for level, parts in (
                            ("item", line.item_discounts),
                            ("order", line.order_discounts),
                        )
                        for p in parts
                    ],
                    points_value=money(line.points_minor),
                    total=money(line.total_minor),
                    tax=money(line.tax_minor),
                    gift_of=line.gift_of,
                )
                for line in priced.lines
            ],
            subtotal=money(priced.subtotal_minor),
            item_discount=money(priced.item_discount_minor),
            order_discount=money(priced.order_discount_minor),
            discount=money(priced.discount_minor),
            shipping=money(priced.shipping_minor),
            shipping_discount=money(priced.shipping_discount_minor),
            points_redeemed=priced.points_redeemed,
            points_value=money(priced.points_minor),
            tax=money(priced.tax_minor),
            total=money(priced.total_minor),
            applied=[
                AppliedRead(
                    promotion_id=a.promotion_id,
                    name=a.name,
                    kind=a.kind,
                    level=a.level,
                    discount=money(a.discount_minor),
                    coupon_code=a.coupon_code,
                    units=a.units,
                )
                for a in priced.applied
            ],
            coupons=[
                CouponOutcomeRead(
                    code=c.code, promotion_id=c.promotion_id, applied=c.applied, reason=c.reason
                )
                for c in priced.coupons
            ],
            explanation=[
                ConsiderationRead(
                    promotion_id=c.promotion_id,
                    name=c.name,
                    kind=c.kind,
                    applied=c.applied,
                    reason=c.reason,
                    discount=money(c.discount_minor),
                    message=c.message,
                )
                for c in priced.explanation
            ],
        )
