"""Commands of the loyalty context (the points operations take plain arguments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.contexts.loyalty.rules import TierSpec


@dataclass(frozen=True)
class UpdateProgram:
    """Only the fields given change."""

    currency: str | None = None
    points_per_unit: int | None = None
    unit_size: int | None = None
    credit_on: str | None = None
    redemption_cap_percent: int | None = None
    point_value_minor: int | None = None
    expiry_months: int | None = None


@dataclass(frozen=True)
class ReplaceTiers:
    """The whole tier ladder, lowest first."""

    tiers: tuple[TierSpec, ...]


@dataclass(frozen=True)
class AdjustPoints:
    customer_id: int
    points: int  # signed
    reason: str


@dataclass(frozen=True)
class CreateCampaign:
    name: str
    multiplier_percent: int
    starts_at: datetime
    ends_at: datetime
    is_active: bool = True


@dataclass(frozen=True)
class ChangeCampaign:
    """Only the fields given change."""

    campaign_id: int
    name: str | None = None
    multiplier_percent: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_active: bool | None = None
