"""Presales with a deposit (定金): offers (`promotions.read` / `promotions.write`) and
presale orders (`orders.write`).

A presale order is paid in two steps with `POST /v1/orders/{order_id}/payments`:
the first payment charges the deposit (by the end of the deposit window), the
second the balance (only inside the balance window). A balance not paid by the end
of its window forfeits the deposit: the `orders.close_unpaid` job closes the order,
releases its stock and records the deposit as forfeited (nothing is refunded).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor_by_id
from shopops.api.schemas.presales import (
    PresaleCreate,
    PresaleOrderCreate,
    PresaleOrderPage,
    PresaleOrderRead,
    PresalePage,
    PresalePerformanceRead,
    PresaleRead,
)
from shopops.auth.permissions import Permission
from shopops.contexts import presales

router = APIRouter(prefix="/presales", tags=["presales"])

READ_OFFERS = Depends(require(Permission.PROMOTIONS_READ))
WRITE_OFFERS = Depends(require(Permission.PROMOTIONS_WRITE))
READ_ORDERS = Depends(require(Permission.ORDERS_READ))
PLACE = Depends(require(Permission.ORDERS_READ, Permission.ORDERS_WRITE))
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.post("", response_model=PresaleRead, status_code=201)
def create_presale(body: PresaleCreate, context: RequestContext = WRITE_OFFERS) -> PresaleRead:
    """A presale: deposit < price, worth >= deposit and < price, deposit window before
    the balance window. Every problem is listed (`presales.*` codes); nothing is written."""
    with context.uow() as uow:
        offer = presales.create_offer(uow, body.command())
        uow.commit()
        return PresaleRead.of(offer)


@router.get("", response_model=PresalePage)
def list_presales(
    status: str | None = Query(None, description="`active` or `ended`."),
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ_OFFERS,
) -> PresalePage:
    with context.uow() as uow:
        rows = list(
            presales.list_offers(uow, status=status, after_id=after_id(cursor), limit=limit + 1)
        )
        return PresalePage(
            items=[PresaleRead.of(o) for o in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/{presale_id}", response_model=PresaleRead)
def get_presale(presale_id: int, context: RequestContext = READ_OFFERS) -> PresaleRead:
    with context.uow() as uow:
        return PresaleRead.of(presales.get_offer(uow, presale_id))


@router.get("/{presale_id}/performance", response_model=PresalePerformanceRead)
def presale_performance(
    presale_id: int, context: RequestContext = READ_OFFERS
) -> PresalePerformanceRead:
    """Orders placed, deposits and balances paid, conversion, open, overdue and forfeited
    deposits, cancellations, the deposit bonus granted (discount cost) and GMV."""
    with context.uow() as uow:
        return PresalePerformanceRead.of(presales.offer_performance(uow, presale_id))


@router.post("/{presale_id}/end", response_model=PresaleRead)
def end_presale(presale_id: int, context: RequestContext = WRITE_OFFERS) -> PresaleRead:
    """Take no more deposits; placed orders keep their balance window."""
    with context.uow() as uow:
        offer = presales.end_offer(uow, presale_id)
        uow.commit()
        return PresaleRead.of(offer)


@router.post("/{presale_id}/orders", response_model=PresaleOrderRead, status_code=201)
def place_presale_order(
    presale_id: int, body: PresaleOrderCreate, context: RequestContext = PLACE
) -> PresaleOrderRead:
    """Place a presale order during the deposit window (`409 presales.not_running`
    otherwise); pay its deposit, then its balance, with `POST /v1/orders/{id}/payments`."""
    with context.uow() as uow:
        order = presales.place_order(uow, body.command(presale_id))
        uow.commit()
        return PresaleOrderRead.of(order)


@router.get("/{presale_id}/orders", response_model=PresaleOrderPage)
def list_presale_orders(
    presale_id: int,
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ_ORDERS,
) -> PresaleOrderPage:
    """The presale's orders, newest first, with deposit, balance and forfeiture."""
    with context.uow() as uow:
        rows = list(
            presales.list_orders(uow, presale_id, before_id=after_id(cursor), limit=limit + 1)
        )
        return PresaleOrderPage(
            items=[PresaleOrderRead.of(o) for o in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )
