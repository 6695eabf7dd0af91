"""Program settings, the tier ladder and bonus campaigns. Nothing here commits.

Reads need ``customers.read``; changes need ``loyalty.manage`` and are audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from shopops.auth.permissions import Permission
from shopops.contexts.loyalty import repository, rules
from shopops.contexts.loyalty.commands import (
    ChangeCampaign,
    CreateCampaign,
    ReplaceTiers,
    UpdateProgram,
)
from shopops.contexts.loyalty.errors import LoyaltyError
from shopops.contexts.loyalty.models import (
    PROGRAM_ID,
    BonusCampaign,
    CreditOn,
    TierDefinition,
)
from shopops.kernel.errors import FieldError, NotFound, ValidationFailed
from shopops.uow import UnitOfWork


@dataclass(frozen=True)
class ProgramView:
    currency: str = "USD"
    points_per_unit: int = 1
    unit_size: int = 1
    credit_on: str = CreditOn.PAID
    redemption_cap_percent: int = 50
    point_value_minor: int = 1
    expiry_months: int = 12
    updated_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "points_per_unit": self.points_per_unit,
            "unit_size": self.unit_size,
            "credit_on": str(self.credit_on),
            "redemption_cap_percent": self.redemption_cap_percent,
            "point_value_minor": self.point_value_minor,
            "expiry_months": self.expiry_months,
        }


def current_program(uow: UnitOfWork) -> ProgramView:
    """The settings in force (the defaults until someone saves them)."""
    row = repository.get_program(uow.session)
    if row is None:
        return ProgramView()
    return ProgramView(
        currency=row.currency,
        points_per_unit=row.points_per_unit,
        unit_size=row.unit_size,
        credit_on=row.credit_on,
        redemption_cap_percent=row.redemption_cap_percent,
        point_value_minor=row.point_value_minor,
        expiry_months=row.expiry_months,
        updated_at=row.updated_at,
    )


def get_program(uow: UnitOfWork) -> ProgramView:
    uow.require(Permission.CUSTOMERS_READ)
    return current_program(uow)


def update_program(uow: UnitOfWork, command: UpdateProgram) -> ProgramView:
    uow.require(Permission.LOYALTY_MANAGE)
    before = current_program(uow)
    changes = {
        name: value
        for name, value in vars(command).items()
        if value is not None and name in before.as_dict()
    }
    if isinstance(changes.get("currency"), str):
        changes["currency"] = changes["currency"].strip().upper()
    wanted = replace(before, **changes)
    errors = rules.validate_program(**wanted.as_dict())
    if errors:
        raise ValidationFailed(
            "validation.failed", f"{len(errors)} invalid field(s)", errors=errors
        )
    if wanted.as_dict() == before.as_dict():
        return before
    row = repository.program_for_update(uow.session, uow.now())
    for name, value in wanted.as_dict().items():
        setattr(row, name, value)
    row.updated_at = uow.now()
    flag_modified(row, "updated_at")  # the clock's time even if equal, not the column's onupdate
    uow.session.flush()
    uow.audit(
        "loyalty.program_updated",
        "loyalty_program",
        PROGRAM_ID,
        before=before.as_dict(),
        after=wanted.as_dict(),
    )
    return current_program(uow)


# ---- tiers ----


def tier_specs(uow: UnitOfWork) -> list[rules.TierSpec]:
    """The ladder, lowest first, as the pure rules see it (one query). No permission:
    checkout and the pricing simulator read the tiers' benefits from it."""
    return [
        rules.TierSpec(
            t.code,
            t.name,
            t.min_spend_minor,
            t.discount_percent,
            t.free_shipping,
            t.points_multiplier_percent,
        )
        for t in repository.list_tiers(uow.session)
    ]


def list_tiers(uow: UnitOfWork) -> Sequence[TierDefinition]:
    uow.require(Permission.CUSTOMERS_READ)
    return repository.list_tiers(uow.session)


def replace_tiers(uow: UnitOfWork, command: ReplaceTiers) -> Sequence[TierDefinition]:
    """Replace the whole ladder. Customers keep their tier code until the next recalculation."""
    uow.require(Permission.LOYALTY_MANAGE)
    tiers = [replace(t, code=t.code.strip().lower(), name=t.name.strip()) for t in command.tiers]
    errors = rules.validate_tiers(tiers)
    if errors:
        out_of_order = any(e.code == LoyaltyError.TIERS_OUT_OF_ORDER for e in errors)
        raise ValidationFailed(
            LoyaltyError.TIERS_OUT_OF_ORDER if out_of_order else "validation.failed",
            "tiers must be listed from the lowest, each needing more spend"
            if out_of_order
            else f"{len(errors)} invalid field(s)",
            errors=errors,
        )
    before = [_tier_snapshot(t) for t in tier_specs(uow)]
    repository.delete_tiers(uow.session)
    uow.session.flush()
    now = uow.now()
    uow.session.add_all(
        TierDefinition(
            code=t.code,
            name=t.name,
            min_spend_minor=t.min_spend_minor,
            discount_percent=t.discount_percent,
            free_shipping=t.free_shipping,
            points_multiplier_percent=t.points_multiplier_percent,
            created_at=now,
            updated_at=now,
        )
        for t in tiers
    )
    uow.session.flush()
    after = [_tier_snapshot(t) for t in tiers]
    if after != before:
        uow.audit(
            "loyalty.tiers_replaced",
            "loyalty_tiers",
            "ladder",
            before={"tiers": before},
            after={"tiers": after},
        )
    return repository.list_tiers(uow.session)


def _tier_snapshot(tier: rules.TierSpec) -> dict[str, Any]:
    return {
        "code": tier.code,
        "name": tier.name,
        "min_spend_minor": tier.min_spend_minor,
        "discount_percent": tier.discount_percent,
        "free_shipping": tier.free_shipping,
        "points_multiplier_percent": tier.points_multiplier_percent,
    }


# ---- campaigns ----


def _campaign_snapshot(campaign: BonusCampaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "multiplier_percent": campaign.multiplier_percent,
        "starts_at": campaign.starts_at.isoformat(),
        "ends_at": campaign.ends_at.isoformat(),
        "is_active": campaign.is_active,
    }


def _check_campaign(name: str, multiplier: int, starts_at: datetime, ends_at: datetime) -> None:
    errors: list[FieldError] = rules.validate_campaign(name, multiplier, starts_at, ends_at)
    if errors:
        raise ValidationFailed(
            "validation.failed", f"{len(errors)} invalid field(s)", errors=errors
        )


def get_campaign(uow: UnitOfWork, campaign_id: int) -> BonusCampaign:
    uow.require(Permission.CUSTOMERS_READ)
    return _load_campaign(uow, campaign_id)


def _load_campaign(uow: UnitOfWork, campaign_id: int) -> BonusCampaign:
    campaign = repository.get_campaign(uow.session, campaign_id)
    if campaign is None:
        raise NotFound(LoyaltyError.CAMPAIGN_NOT_FOUND, f"campaign {campaign_id} does not exist")
    return campaign


def list_campaigns(
    uow: UnitOfWork, *, active_only: bool = False, after_id: int | None = None, limit: int = 50
) -> Sequence[BonusCampaign]:
    uow.require(Permission.CUSTOMERS_READ)
    return repository.list_campaigns(
        uow.session, active_only=active_only, after_id=after_id, limit=limit
    )


def create_campaign(uow: UnitOfWork, command: CreateCampaign) -> BonusCampaign:
    uow.require(Permission.LOYALTY_MANAGE)
    name = command.name.strip()
    _check_campaign(name, command.multiplier_percent, command.starts_at, command.ends_at)
    now = uow.now()
    campaign = BonusCampaign(
        name=name,
        multiplier_percent=command.multiplier_percent,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        is_active=command.is_active,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(campaign)
    uow.session.flush()
    after = _campaign_snapshot(campaign)
    uow.audit("loyalty.campaign_created", "loyalty_campaign", campaign.id, after=after)
    return campaign


def change_campaign(uow: UnitOfWork, command: ChangeCampaign) -> BonusCampaign:
    uow.require(Permission.LOYALTY_MANAGE)
    campaign = _load_campaign(uow, command.campaign_id)
    before = _campaign_snapshot(campaign)
    name = campaign.name if command.name is None else command.name.strip()
    multiplier = (
        campaign.multiplier_percent
        if command.multiplier_percent is None
        else command.multiplier_percent
    )
    starts_at = command.starts_at or campaign.starts_at
    ends_at = command.ends_at or campaign.ends_at
    _check_campaign(name, multiplier, starts_at, ends_at)
    campaign.name, campaign.multiplier_percent = name, multiplier
    campaign.starts_at, campaign.ends_at = starts_at, ends_at
    if command.is_active is not None:
        campaign.is_active = command.is_active
    after = _campaign_snapshot(campaign)
    if after != before:
        campaign.updated_at = uow.now()
        uow.session.flush()
        uow.audit(
            "loyalty.campaign_changed", "loyalty_campaign", campaign.id, before=before, after=after
        )
    return campaign


def delete_campaign(uow: UnitOfWork, campaign_id: int) -> None:
    """Points already earned under the campaign stay; the ledger keeps its multiplier."""
    uow.require(Permission.LOYALTY_MANAGE)
    campaign = _load_campaign(uow, campaign_id)
    before = _campaign_snapshot(campaign)
    uow.session.delete(campaign)
    uow.session.flush()
    uow.audit("loyalty.campaign_deleted", "loyalty_campaign", campaign_id, before=before)
