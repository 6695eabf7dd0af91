"""Loyalty request and response bodies.

Money is in minor units of the program currency; multipliers are percentages
(150 is x1.5). Ranges are checked by the loyalty context, so one response lists
every field error with its ``loyalty.*`` code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page

_PROGRAM_EXAMPLE: dict[str, Any] = {
    "currency": "USD",
    "points_per_unit": 1,
    "unit_size": 1,
    "credit_on": "paid",
    "redemption_cap_percent": 50,
    "point_value_minor": 1,
    "expiry_months": 12,
}
_TIER_EXAMPLE: dict[str, Any] = {
    "code": "gold",
    "name": "Gold",
    "min_spend_minor": 50000,
    "discount_percent": 5,
    "free_shipping": True,
    "points_multiplier_percent": 150,
}
_CAMPAIGN_EXAMPLE: dict[str, Any] = {
    "name": "Double points weekend",
    "multiplier_percent": 200,
    "starts_at": "2026-03-06T00:00:00Z",
    "ends_at": "2026-03-09T00:00:00Z",
    "is_active": True,
}


# --- program ---------------------------------------------------------------------------


class ProgramUpdate(BaseModel):
    """The full settings: every field is sent."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PROGRAM_EXAMPLE]})

    currency: str = Field(description="Only orders in this currency earn points.")
    points_per_unit: int = Field(description="Points earned per `unit_size` currency units.")
    unit_size: int = Field(description="Whole currency units per earning step (1 = per unit).")
    credit_on: str = Field(description="`paid` or `delivered`: when an order's points arrive.")
    redemption_cap_percent: int = Field(description="Points pay at most this share of an order.")
    point_value_minor: int = Field(description="What one point is worth, in minor units.")
    expiry_months: int = Field(description="Points expire this long after earning; 0: never.")


class ProgramRead(ProgramUpdate):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [_PROGRAM_EXAMPLE | {"updated_at": "2026-03-01T08:00:00Z"}]},
    )

    updated_at: datetime | None = Field(description="null while the defaults apply.")


# --- tiers -----------------------------------------------------------------------------


class TierWrite(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TIER_EXAMPLE]})

    code: str = Field(max_length=30, description="Stored on the customer (`customers.tier`).")
    name: str = Field(max_length=100)
    min_spend_minor: int = Field(description="Rolling 12-month spend needed, in minor units.")
    discount_percent: int = 0
    free_shipping: bool = False
    points_multiplier_percent: int = Field(default=100, description="150 earns x1.5 points.")


class TierRead(TierWrite):
    model_config = ConfigDict(from_attributes=True)


class TiersReplace(BaseModel):
    """The whole ladder, lowest tier first; each tier must need more spend than the last."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tiers": [
                        {"code": "bronze", "name": "Bronze", "min_spend_minor": 0},
                        {
                            "code": "silver",
                            "name": "Silver",
                            "min_spend_minor": 10000,
                            "discount_percent": 2,
                            "points_multiplier_percent": 125,
                        },
                        _TIER_EXAMPLE,
                    ]
                }
            ]
        }
    )

    tiers: list[TierWrite] = Field(max_length=20)


class TierRecalculationRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"evaluated": 120, "upgraded": 4, "downgraded": 1}]},
    )

    evaluated: int
    upgraded: int
    downgraded: int


# --- accounts and the ledger -------------------------------------------------------------


class AccountRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 42,
                    "balance": 1250,
                    "value_minor": 1250,
                    "currency": "USD",
                    "tier": _TIER_EXAMPLE,
                    "tier_code": "gold",
                    "tier_since": "2026-02-01T03:00:00Z",
                    "spend_12m_minor": 61250,
                    "tier_evaluated_at": "2026-03-01T03:00:00Z",
                    "next_expiry_at": "2026-06-10T08:00:00Z",
                    "next_expiry_points": 300,
                }
            ]
        },
    )

    customer_id: int
    balance: int
    value_minor: int = Field(description="What the balance is worth at checkout.")
    currency: str
    tier: TierRead | None
    tier_code: str | None = Field(description="As assigned, even if no longer on the ladder.")
    tier_since: datetime | None
    spend_12m_minor: int = Field(description="Spend at the last tier recalculation.")
    tier_evaluated_at: datetime | None
    next_expiry_at: datetime | None
    next_expiry_points: int


class LedgerEntryRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 9,
                    "kind": "redeem",
                    "points": -200,
                    "remaining": None,
                    "lot_id": 3,
                    "order_id": None,
                    "order_reference": "SO-260301-7KQ2MX",
                    "source": "checkout",
                    "reason": None,
                    "details": {},
                    "actor": "system:checkout",
                    "occurred_at": "2026-03-01T08:00:00Z",
                    "expires_at": None,
                }
            ]
        },
    )

    id: int
    kind: str = Field(description="earn, redeem, expire, reverse or adjust.")
    points: int = Field(description="Signed change of the balance.")
    remaining: int | None = Field(description="For lots (positive rows): points still unused.")
    lot_id: int | None = Field(description="For negative rows: the lot drawn on.")
    order_id: int | None
    order_reference: str | None
    source: str | None
    reason: str | None
    details: dict[str, Any]
    actor: str
    occurred_at: datetime
    expires_at: datetime | None


class LedgerPage(Page[LedgerEntryRead]):
    pass


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"points": 500, "reason": "goodwill for a late parcel"}]}
    )

    points: int = Field(description="Positive credits a new lot; negative takes oldest first.")
    reason: str = Field(max_length=200, description="Required; kept in the ledger and audit.")


# --- campaigns -------------------------------------------------------------------------


class CampaignCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CAMPAIGN_EXAMPLE]})

    name: str = Field(max_length=200)
    multiplier_percent: int = Field(description="Above 100; overlapping campaigns: the largest.")
    starts_at: datetime
    ends_at: datetime
    is_active: bool = True


class CampaignUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    name: str | None = Field(default=None, max_length=200)
    multiplier_percent: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_active: bool | None = None


class CampaignRead(CampaignCreate):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    **_CAMPAIGN_EXAMPLE,
                    "created_at": "2026-03-01T08:00:00Z",
                    "updated_at": "2026-03-01T08:00:00Z",
                }
            ]
        },
    )

    id: int
    created_at: datetime
    updated_at: datetime


class CampaignPage(Page[CampaignRead]):
    pass
