"""A promotion as the pricing engine sees it: what it gives (``params``), to which lines
(``scope``), when (``schedule``), to whom (``conditions``), with what else
(``stacking``) and how much in total (``limits``). Pure and immutable."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules import Level, RuleParams

DEFAULT_PRIORITY = 100


@dataclass(frozen=True, slots=True)
class Scope:
    """Lines a promotion covers: any of the listed products, categories (with their
    subcategories) or brands (all lines when none is listed), minus the exclusions."""

    products: frozenset[int] = frozenset()
    categories: frozenset[int] = frozenset()
    brands: frozenset[int] = frozenset()
    exclude_products: frozenset[int] = frozenset()
    exclude_categories: frozenset[int] = frozenset()
    exclude_brands: frozenset[int] = frozenset()

    @property
    def is_all(self) -> bool:
        return not (self.products or self.categories or self.brands)

    def includes(
        self, product_id: int, category_ids: Collection[int], brand_id: int | None
    ) -> bool:
        return (
            self.is_all
            or product_id in self.products
            or (brand_id is not None and brand_id in self.brands)
            or not self.categories.isdisjoint(category_ids)
        )

    def excludes(
        self, product_id: int, category_ids: Collection[int], brand_id: int | None
    ) -> bool:
        return (
            product_id in self.exclude_products
            or (brand_id is not None and brand_id in self.exclude_brands)
            or not self.exclude_categories.isdisjoint(category_ids)
        )


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Member days: some weekdays (0 = Monday) or days of the month, optionally within
    a daily time window, in a time zone. A day matches if it is in either list."""

    weekdays: frozenset[int] = frozenset()
    days_of_month: frozenset[int] = frozenset()
    start_time: time | None = None
    end_time: time | None = None
    timezone: str = "UTC"

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        on_a_listed_day = local.weekday() in self.weekdays or local.day in self.days_of_month
        if (self.weekdays or self.days_of_month) and not on_a_listed_day:
            return False
        if self.start_time is not None and self.end_time is not None:
            return self.start_time <= local.time().replace(tzinfo=None) < self.end_time
        return True


@dataclass(frozen=True, slots=True)
class Schedule:
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # exclusive
    recurrence: Recurrence | None = None

    def refusal(self, at: datetime) -> Reason | None:
        if self.starts_at is None and self.ends_at is None and self.recurrence is None:
            return None
        if self.starts_at is not None and at < self.starts_at:
            return Reason.NOT_STARTED
        if self.ends_at is not None and at >= self.ends_at:
            return Reason.ENDED
        if self.recurrence is not None and not self.recurrence.contains(at):
            return Reason.OUTSIDE_RECURRING_WINDOW
        return None


@dataclass(frozen=True, slots=True)
class Conditions:
    min_spend_minor: int | None = None  # on the scoped lines, after earlier promotions
    min_quantity: int | None = None  # scoped units
    channels: frozenset[str] = frozenset()  # empty: every channel
    tiers: frozenset[str] = frozenset()  # member-tier-only offers
    segments: frozenset[str] = frozenset()  # segment-only offers: any customer tag listed
    first_order_only: bool = False

    @property
    def needs_customer(self) -> bool:
        return bool(self.tiers or self.segments or self.first_order_only)


@dataclass(frozen=True, slots=True)
class Stacking:
    """Promotions of one group never apply to the same line; an exclusive promotion
    applies alone; ``combinable_with`` (ids and groups), when given, lists the only
    promotions this one may be combined with. Lower ``priority`` applies first."""

    group: str = ""  # empty: the default group of the promotion's level
    priority: int = DEFAULT_PRIORITY
    exclusive: bool = False
    combinable_ids: frozenset[int] | None = None
    combinable_groups: frozenset[str] = frozenset()

    def allows(self, other_id: int, other_group: str) -> bool:
        if self.combinable_ids is None:
            return True
        return other_id in self.combinable_ids or other_group in self.combinable_groups


@dataclass(frozen=True, slots=True)
class Limits:
    max_discount_minor: int | None = None  # budget: total discount over all orders
    max_redemptions: int | None = None  # orders
    per_customer: int | None = None  # orders per customer
    quota_units: int | None = None  # flash sale units sold / gift units given
    per_customer_units: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Live counters of one promotion (and of the cart's customer) when pricing."""

    redemptions: int = 0
    discount_minor: int = 0
    units: int = 0
    customer_redemptions: int = 0
    customer_units: int = 0


@dataclass(frozen=True, slots=True)
class PromotionRule:
    id: int
    name: str
    kind: str
    params: RuleParams
    currency: str | None = None  # required when any amount is given
    scope: Scope = field(default_factory=Scope)
    schedule: Schedule = field(default_factory=Schedule)
    conditions: Conditions = field(default_factory=Conditions)
    stacking: Stacking = field(default_factory=Stacking)
    limits: Limits = field(default_factory=Limits)
    requires_coupon: bool = False
    description: str = ""

    # Derived once, read on every cart: the level, the effective stacking group and
    # the application order (level, then priority, then id).
    level: Level = field(init=False, repr=False, compare=False)
    group: str = field(init=False, repr=False, compare=False)
    order_key: tuple[int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        level = self.params.level
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "group", self.stacking.group or level.name.lower())
        object.__setattr__(self, "order_key", (level, self.stacking.priority, self.id))
