"""Group buying (拼团): offers (`promotions.read` / `promotions.write`), and groups that
buyers open or join by placing an order at the group price (`orders.write`).

An order placed here is held from shipping until its group fills: every place paid
for before the group expires. A group that expires short is settled by the
`group_buying.expire_groups` job: every member's order is cancelled, its stock
released and what was paid refunded.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor_by_id
from shopops.api.schemas.group_buying import (
    BuyingGroupPage,
    BuyingGroupRead,
    GroupBuyOfferCreate,
    GroupBuyOfferPage,
    GroupBuyOfferRead,
    GroupBuyOrderCreate,
    GroupBuyOrderRead,
    GroupBuyPerformanceRead,
)
from shopops.auth.permissions import Permission
from shopops.contexts import group_buying

router = APIRouter(prefix="/group-buys", tags=["group buying"])

READ_OFFERS = Depends(require(Permission.PROMOTIONS_READ))
WRITE_OFFERS = Depends(require(Permission.PROMOTIONS_WRITE))
READ_GROUPS = Depends(require(Permission.ORDERS_READ))
JOIN = Depends(require(Permission.ORDERS_READ, Permission.ORDERS_WRITE))
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.post("", response_model=GroupBuyOfferRead, status_code=201)
def create_offer(
    body: GroupBuyOfferCreate, context: RequestContext = WRITE_OFFERS
) -> GroupBuyOfferRead:
    """A group price for one SKU, for groups of `group_size` buyers."""
    with context.uow() as uow:
        offer = group_buying.create_offer(uow, body.command())
        uow.commit()
        return GroupBuyOfferRead.of(offer)


@router.get("", response_model=GroupBuyOfferPage)
def list_offers(
    status: str | None = Query(None, description="`active` or `ended`."),
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ_OFFERS,
) -> GroupBuyOfferPage:
    with context.uow() as uow:
        rows = list(
            group_buying.list_offers(uow, status=status, after_id=after_id(cursor), limit=limit + 1)
        )
        return GroupBuyOfferPage(
            items=[GroupBuyOfferRead.of(o) for o in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/groups/{group_id}", response_model=BuyingGroupRead)
def get_group(group_id: int, context: RequestContext = READ_GROUPS) -> BuyingGroupRead:
    """One group with its members and their orders."""
    with context.uow() as uow:
        return BuyingGroupRead.of(group_buying.get_group(uow, group_id))


@router.get("/{offer_id}", response_model=GroupBuyOfferRead)
def get_offer(offer_id: int, context: RequestContext = READ_OFFERS) -> GroupBuyOfferRead:
    with context.uow() as uow:
        return GroupBuyOfferRead.of(group_buying.get_offer(uow, offer_id))


@router.get("/{offer_id}/performance", response_model=GroupBuyPerformanceRead)
def offer_performance(
    offer_id: int, context: RequestContext = READ_OFFERS
) -> GroupBuyPerformanceRead:
    """Groups opened, succeeded, failed and open, success rate, members, orders paid,
    cancelled and refunded with failed groups, discount cost and GMV of succeeded groups."""
    with context.uow() as uow:
        return GroupBuyPerformanceRead.of(group_buying.offer_performance(uow, offer_id))


@router.post("/{offer_id}/end", response_model=GroupBuyOfferRead)
def end_offer(offer_id: int, context: RequestContext = WRITE_OFFERS) -> GroupBuyOfferRead:
    """No new groups from now on; groups already open run until they expire."""
    with context.uow() as uow:
        offer = group_buying.end_offer(uow, offer_id)
        uow.commit()
        return GroupBuyOfferRead.of(offer)


@router.get("/{offer_id}/groups", response_model=BuyingGroupPage)
def list_groups(
    offer_id: int,
    status: str | None = Query(None, description="`open`, `succeeded` or `failed`."),
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ_GROUPS,
) -> BuyingGroupPage:
    """The offer's groups, oldest first, with their members."""
    with context.uow() as uow:
        rows = group_buying.list_groups(
            uow, offer_id, status=status, after_id=after_id(cursor), limit=limit + 1
        )
        return BuyingGroupPage(
            items=[BuyingGroupRead.of(d) for d in rows[:limit]],
            next_cursor=next_cursor_by_id([d.group for d in rows], limit),
        )


@router.post("/{offer_id}/orders", response_model=GroupBuyOrderRead, status_code=201)
def join(
    offer_id: int, body: GroupBuyOrderCreate, context: RequestContext = JOIN
) -> GroupBuyOrderRead:
    """Open a group (no `group_id`) or join one by placing an order at the group price.

    Pay the order with `POST /v1/orders/{order_id}/payments` before `payment_due_at`.
    `409 group_buys.group_full` when every place is taken, `group_buys.group_closed`
    when the group expired or finished, `group_buys.already_member`,
    `group_buys.max_groups_reached`, `group_buys.offer_not_running`.
    """
    with context.uow() as uow:
        result = group_buying.join(uow, body.command(offer_id))
        uow.commit()
        return GroupBuyOrderRead.of(result)
