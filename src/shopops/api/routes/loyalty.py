"""Loyalty: program settings, the tier ladder, points accounts and their ledger, manual
adjustments, bonus campaigns and tier recalculation.

Reading needs `customers.read`; every change needs `loyalty.manage`. Points are
earned, reversed and expired by the system (outbox handlers, scheduled jobs);
checkout redeems them through the loyalty context in its own transaction.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor_by_id
from shopops.api.schemas.loyalty import (
    AccountRead,
    AdjustmentCreate,
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CampaignUpdate,
    LedgerEntryRead,
    LedgerPage,
    ProgramRead,
    ProgramUpdate,
    TierRead,
    TierRecalculationRead,
    TiersReplace,
)
from shopops.auth.permissions import Permission
from shopops.contexts import loyalty

router = APIRouter(prefix="/loyalty", tags=["loyalty"])

READ = Depends(require(Permission.CUSTOMERS_READ))
MANAGE = Depends(require(Permission.LOYALTY_MANAGE))
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- program and tiers -------------------------------------------------------------------


@router.get("/program", response_model=ProgramRead)
def get_program(context: RequestContext = READ) -> ProgramRead:
    """The earning and redemption settings in force (the defaults until first saved)."""
    with context.uow() as uow:
        return ProgramRead.model_validate(loyalty.get_program(uow))


@router.put("/program", response_model=ProgramRead)
def put_program(body: ProgramUpdate, context: RequestContext = MANAGE) -> ProgramRead:
    with context.uow() as uow:
        program = loyalty.update_program(uow, loyalty.UpdateProgram(**body.model_dump()))
        uow.commit()
        return ProgramRead.model_validate(program)


@router.get("/tiers", response_model=list[TierRead])
def list_tiers(context: RequestContext = READ) -> list[TierRead]:
    """The tier ladder, lowest first."""
    with context.uow() as uow:
        return [TierRead.model_validate(t) for t in loyalty.list_tiers(uow)]


@router.put("/tiers", response_model=list[TierRead])
def put_tiers(body: TiersReplace, context: RequestContext = MANAGE) -> list[TierRead]:
    """Replace the ladder. Out of order: `loyalty.tiers_out_of_order` with every field.

    Customers keep their tier until the next recalculation.
    """
    command = loyalty.ReplaceTiers(tuple(loyalty.TierSpec(**t.model_dump()) for t in body.tiers))
    with context.uow() as uow:
        tiers = loyalty.replace_tiers(uow, command)
        uow.commit()
        return [TierRead.model_validate(t) for t in tiers]


@router.post("/recalculate-tiers", response_model=TierRecalculationRead)
def recalculate_tiers(context: RequestContext = MANAGE) -> TierRecalculationRead:
    """Recalculate every tier from rolling 12-month spend now (the job also runs daily)."""
    with context.uow() as uow:
        result = loyalty.recalculate_tiers(uow)
        uow.commit()
    return TierRecalculationRead.model_validate(result)


# --- accounts ------------------------------------------------------------------------------


@router.get("/accounts/{customer_id}", response_model=AccountRead)
def get_account(customer_id: int, context: RequestContext = READ) -> AccountRead:
    """Balance, tier with its benefits, and the next points to expire."""
    with context.uow() as uow:
        return AccountRead.model_validate(loyalty.get_account(uow, customer_id))


@router.get("/accounts/{customer_id}/ledger", response_model=LedgerPage)
def list_ledger(
    customer_id: int,
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> LedgerPage:
    """The account's ledger, newest first."""
    with context.uow() as uow:
        rows = list(
            loyalty.list_ledger(uow, customer_id, before_id=after_id(cursor), limit=limit + 1)
        )
        return LedgerPage(
            items=[LedgerEntryRead.model_validate(e) for e in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.post("/accounts/{customer_id}/adjustments", response_model=AccountRead, status_code=201)
def adjust_points(
    customer_id: int, body: AdjustmentCreate, context: RequestContext = MANAGE
) -> AccountRead:
    """Credit or debit points by hand, with a reason (audited). A debit beyond the balance
    is refused with `loyalty.insufficient_points` and changes nothing."""
    command = loyalty.AdjustPoints(customer_id, body.points, body.reason)
    with context.uow() as uow:
        account = loyalty.adjust_points(uow, command)
        uow.commit()
    return AccountRead.model_validate(account)


# --- campaigns -----------------------------------------------------------------------------


@router.post("/campaigns", response_model=CampaignRead, status_code=201)
def create_campaign(body: CampaignCreate, context: RequestContext = MANAGE) -> CampaignRead:
    """Multiply points earned in a time window (overlapping campaigns: the largest counts)."""
    with context.uow() as uow:
        campaign = loyalty.create_campaign(uow, loyalty.CreateCampaign(**body.model_dump()))
        uow.commit()
        return CampaignRead.model_validate(campaign)


@router.get("/campaigns", response_model=CampaignPage)
def list_campaigns(
    active_only: bool = False,
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> CampaignPage:
    with context.uow() as uow:
        rows = list(
            loyalty.list_campaigns(
                uow, active_only=active_only, after_id=after_id(cursor), limit=limit + 1
            )
        )
        return CampaignPage(
            items=[CampaignRead.model_validate(c) for c in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
def get_campaign(campaign_id: int, context: RequestContext = READ) -> CampaignRead:
    with context.uow() as uow:
        return CampaignRead.model_validate(loyalty.get_campaign(uow, campaign_id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignRead)
def update_campaign(
    campaign_id: int, body: CampaignUpdate, context: RequestContext = MANAGE
) -> CampaignRead:
    command = loyalty.ChangeCampaign(campaign_id, **body.model_dump())
    with context.uow() as uow:
        campaign = loyalty.change_campaign(uow, command)
        uow.commit()
        return CampaignRead.model_validate(campaign)


@router.delete("/campaigns/{campaign_id}", status_code=204)
def delete_campaign(campaign_id: int, context: RequestContext = MANAGE) -> Response:
    """Points already earned under the campaign stay."""
    with context.uow() as uow:
        loyalty.delete_campaign(uow, campaign_id)
        uow.commit()
    return Response(status_code=204)
