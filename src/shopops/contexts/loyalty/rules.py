"""Pure loyalty policies: earning, the redemption cap, lot consumption, reversal, tiers.

All arithmetic is on integers and rounds down once at the end, so a customer is
never credited a fraction of a point and a cap is never exceeded.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shopops.contexts.loyalty.errors import MAX_POINTS, LoyaltyError
from shopops.contexts.loyalty.models import CreditOn
from shopops.kernel.errors import FieldError

MAX_EXPIRY_MONTHS = 120
MAX_MULTIPLIER_PERCENT = 1000
TIER_WINDOW_MONTHS = 12
_NEVER = datetime.max.replace(tzinfo=UTC)

# ---- earning ----


@dataclass(frozen=True)
class Earning:
    base_points: int  # before multipliers
    points: int
    multipliers: tuple[int, ...]  # percent each, e.g. (150, 200)


def earn_points(
    amount_minor: int,
    *,
    exponent: int,
    points_per_unit: int,
    unit_size: int,
    multiplier_percents: Sequence[int] = (),
) -> Earning:
    """``points_per_unit`` points per ``unit_size`` whole units of spend, times each
    multiplier (percent), rounded down once."""
    if amount_minor <= 0 or points_per_unit <= 0:
        return Earning(0, 0, tuple(multiplier_percents))
    denominator = unit_size * 10**exponent
    base = min(amount_minor * points_per_unit // denominator, MAX_POINTS)
    numerator = amount_minor * points_per_unit
    for percent in multiplier_percents:
        numerator *= percent
        denominator *= 100
    return Earning(base, min(numerator // denominator, MAX_POINTS), tuple(multiplier_percents))


def best_campaign_multiplier(percents: Sequence[int]) -> int | None:
    """Overlapping campaigns do not stack: the largest multiplier applies."""
    return max(percents) if percents else None


# ---- redemption ----


def redemption_cap(order_total_minor: int, cap_percent: int, point_value_minor: int) -> int:
    """The most points whose value stays within ``cap_percent`` of the order total."""
    if order_total_minor <= 0 or cap_percent <= 0:
        return 0
    return order_total_minor * cap_percent // (100 * point_value_minor)


def quote(requested: int, balance: int, cap: int) -> int:
    """Points that can be redeemed: what was asked, within the balance and the cap."""
    return max(0, min(requested, balance, cap))


# ---- lots ----


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Draw:
    lot_id: int
    points: int


class NotEnoughInLots(ValueError):
    pass


def consumption_order(lots: Sequence[Lot]) -> list[Lot]:
    """Oldest first: the soonest expiry, then the earliest lot; lots that never expire last."""
    return sorted(lots, key=lambda lot: (lot.expires_at is None, lot.expires_at or _NEVER, lot.id))


def consume(lots: Sequence[Lot], points: int) -> list[Draw]:
    """Take ``points`` from the lots in consumption order, each lot emptied before the next."""
    if points < 0:
        raise ValueError("points to consume must not be negative")
    draws: list[Draw] = []
    left = points
    for lot in consumption_order(lots):
        if left == 0:
            break
        take = min(left, lot.remaining)
        if take > 0:
            draws.append(Draw(lot.id, take))
            left -= take
    if left:
        raise NotEnoughInLots(f"lots hold {points - left} points; {points} were needed")
    return draws


def expired(lots: Sequence[Lot], now: datetime) -> list[Draw]:
    """Every point left in lots whose expiry has come, oldest lot first."""
    return [
        Draw(lot.id, lot.remaining)
        for lot in consumption_order(lots)
        if lot.expires_at is not None and lot.expires_at <= now and lot.remaining > 0
    ]


# ---- reversal ----


def reversal_target(earned: int, basis_minor: int, refunded_minor: int) -> int:
    """Points an order should have given back once ``refunded_minor`` of its basis is refunded.

    Proportional and rounded down, never more than was earned; a full refund gives
    back exactly ``earned``. Callers reverse ``target - already_reversed``, so a
    series of partial refunds sums to the same as one refund of their total.
    """
    if earned <= 0 or basis_minor <= 0 or refunded_minor <= 0:
        return 0
    return earned * min(refunded_minor, basis_minor) // basis_minor


def restoration_target(redeemed: int, refunded_minor: int, total_minor: int) -> int:
    """Redeemed points due back once ``refunded_minor`` of an order's ``total_minor`` (the
    money paid beside the points) is refunded: the same share, rounded down; all of them
    when everything is refunded."""
    if redeemed <= 0 or refunded_minor <= 0 or total_minor <= 0:
        return 0
    return redeemed * min(refunded_minor, total_minor) // total_minor


@dataclass(frozen=True)
class ReversalPlan:
    draws: list[Draw]
    forgiven: int  # points the customer had already spent: not taken (no negative balance)


def plan_reversal(lots: Sequence[Lot], own_lot_id: int | None, points: int) -> ReversalPlan:
    """Take ``points`` back: from the order's own lot first, then oldest first, at most
    what the lots hold."""
    own = [lot for lot in lots if lot.id == own_lot_id]
    others = [lot for lot in lots if lot.id != own_lot_id]
    draws: list[Draw] = []
    left = points
    for lot in [*own, *consumption_order(others)]:
        take = min(left, lot.remaining)
        if take > 0:
            draws.append(Draw(lot.id, take))
            left -= take
    return ReversalPlan(draws, left)


# ---- tiers ----


@dataclass(frozen=True)
class TierSpec:
    code: str
    name: str
    min_spend_minor: int
    discount_percent: int = 0
    free_shipping: bool = False
    points_multiplier_percent: int = 100


def validate_tiers(tiers: Sequence[TierSpec]) -> list[FieldError]:
    """Tiers are listed from the lowest: each needs more spend than the one before."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, tier in enumerate(tiers):
        where = f"tiers.{index}"
        code = tier.code
        if not code or len(code) > 30 or not code.replace("_", "").replace("-", "").isalnum():
            errors.append(
                FieldError(f"{where}.code", LoyaltyError.INVALID_TIER, "1-30 letters, digits, -, _")
            )
        elif code in seen:
            errors.append(
                FieldError(f"{where}.code", LoyaltyError.DUPLICATE_TIER, f"'{code}' appears twice")
            )
        seen.add(code)
        if not tier.name.strip() or len(tier.name) > 100:
            errors.append(FieldError(f"{where}.name", LoyaltyError.INVALID_TIER, "1-100 chars"))
        if tier.min_spend_minor < 0:
            errors.append(
                FieldError(f"{where}.min_spend_minor", LoyaltyError.INVALID_TIER, "not negative")
            )
        elif index and tier.min_spend_minor <= tiers[index - 1].min_spend_minor:
            errors.append(
                FieldError(
                    f"{where}.min_spend_minor",
                    LoyaltyError.TIERS_OUT_OF_ORDER,
                    f"must be above the previous tier's {tiers[index - 1].min_spend_minor}",
                )
            )
        if not 0 <= tier.discount_percent <= 100:
            errors.append(
                FieldError(f"{where}.discount_percent", LoyaltyError.INVALID_TIER, "0-100")
            )
        if not 100 <= tier.points_multiplier_percent <= MAX_MULTIPLIER_PERCENT:
            errors.append(
                FieldError(
                    f"{where}.points_multiplier_percent",
                    LoyaltyError.INVALID_TIER,
                    f"100-{MAX_MULTIPLIER_PERCENT} (100 is x1)",
                )
            )
    return errors


def tier_for_spend(tiers: Sequence[TierSpec], spend_minor: int) -> TierSpec | None:
    """The highest tier (of tiers ordered by spend) whose threshold the spend reaches."""
    reached = [tier for tier in tiers if spend_minor >= tier.min_spend_minor]
    return reached[-1] if reached else None


def tier_rank(tiers: Sequence[TierSpec], code: str | None) -> int:
    """Position from the lowest tier; -1 for no tier or a tier no longer defined."""
    codes = [tier.code for tier in tiers]
    return codes.index(code) if code in codes else -1


def direction(tiers: Sequence[TierSpec], old: str | None, new: str | None) -> str | None:
    """ "upgrade", "downgrade", or None when nothing changes."""
    if old == new:
        return None
    return "upgrade" if tier_rank(tiers, new) > tier_rank(tiers, old) else "downgrade"


# ---- settings ----


def validate_program(
    *,
    currency: str,
    points_per_unit: int,
    unit_size: int,
    credit_on: str,
    redemption_cap_percent: int,
    point_value_minor: int,
    expiry_months: int,
) -> list[FieldError]:
    code = LoyaltyError.INVALID_SETTING
    checks = [
        ("currency", len(currency) == 3 and currency.isalpha(), "a 3-letter ISO 4217 code"),
        ("points_per_unit", 0 <= points_per_unit <= 10_000, "0-10000 (0 stops earning)"),
        ("unit_size", 1 <= unit_size <= 1_000_000, "1-1000000 whole currency units"),
        ("credit_on", credit_on in set(CreditOn), "'paid' or 'delivered'"),
        ("redemption_cap_percent", 0 <= redemption_cap_percent <= 100, "0-100"),
        ("point_value_minor", 1 <= point_value_minor <= 1_000_000, "1-1000000 minor units"),
        ("expiry_months", 0 <= expiry_months <= MAX_EXPIRY_MONTHS, "0 (never) to 120"),
    ]
    return [FieldError(name, code, message) for name, ok, message in checks if not ok]


def validate_campaign(
    name: str, multiplier_percent: int, starts_at: datetime, ends_at: datetime
) -> list[FieldError]:
    code = LoyaltyError.INVALID_CAMPAIGN
    errors: list[FieldError] = []
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", code, "1-200 characters"))
    if not 100 < multiplier_percent <= MAX_MULTIPLIER_PERCENT:
        errors.append(
            FieldError("multiplier_percent", code, f"101-{MAX_MULTIPLIER_PERCENT} (200 is x2)")
        )
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment.tzinfo is None:
            errors.append(FieldError(field, code, "needs a time zone offset"))
    if not errors and starts_at >= ends_at:
        errors.append(FieldError("ends_at", code, "must be after starts_at"))
    return errors


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (or earlier), clamped to the month's end."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
