"""Returns: request -> approve | reject -> receive (restock or write off) -> refund.

Refund-only returns skip the receipt. A step from the wrong status is a 409
`returns.invalid_transition`; every step is on the order's timeline and audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, after_id, next_cursor_by_id
from shopops.api.schemas.returns import (
    ReturnApprove,
    ReturnCreate,
    ReturnRead,
    ReturnReceive,
    ReturnReject,
)
from shopops.auth.permissions import Permission
from shopops.contexts import returns

router = APIRouter(prefix="/returns", tags=["returns"])

READ = Depends(require(Permission.ORDERS_READ))
MANAGE = Depends(require(Permission.RETURNS_MANAGE, Permission.ORDERS_READ))
# Money goes back to the customer: finance's permission too, not only the returns desk's.
REFUND = Depends(
    require(Permission.RETURNS_MANAGE, Permission.ORDERS_READ, Permission.PAYMENTS_REFUND)
)


@router.post("", response_model=ReturnRead, status_code=201)
def create_return(body: ReturnCreate, context: RequestContext = MANAGE) -> ReturnRead:
    """Open a return for shipped lines. Each line: at most shipped minus already claimed
    (422 `returns.quantity_exceeds_returnable`), with a reason code."""
    command = returns.RequestReturn(
        order_id=body.order_id,
        lines=tuple(
            returns.ReturnLineRequest(line.order_line_id, line.quantity, line.reason, line.note)
            for line in body.lines
        ),
        refund_only=body.refund_only,
        note=body.note,
    )
    with context.uow() as uow:
        found = returns.request_return(uow, command)
        uow.commit()
    return ReturnRead.of(found)


@router.get("", response_model=Page[ReturnRead])
def list_returns(
    order_id: int | None = None,
    status: str | None = Query(None, examples=["requested"]),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> Page[ReturnRead]:
    query = returns.ReturnFilter(order_id, status, after_id(cursor), limit + 1)
    with context.uow() as uow:
        found = returns.list_returns(uow, query)
        return Page(
            items=[ReturnRead.of(r) for r in found[:limit]],
            next_cursor=next_cursor_by_id([r.request for r in found], limit),
        )


@router.get("/{return_id}", response_model=ReturnRead)
def get_return(return_id: int, context: RequestContext = READ) -> ReturnRead:
    with context.uow() as uow:
        return ReturnRead.of(returns.get_return(uow, return_id))


@router.post("/{return_id}/approve", response_model=ReturnRead)
def approve_return(
    return_id: int, body: ReturnApprove, context: RequestContext = MANAGE
) -> ReturnRead:
    with context.uow() as uow:
        found = returns.approve_return(uow, return_id, note=body.note)
        uow.commit()
    return ReturnRead.of(found)


@router.post("/{return_id}/reject", response_model=ReturnRead)
def reject_return(
    return_id: int, body: ReturnReject, context: RequestContext = MANAGE
) -> ReturnRead:
    with context.uow() as uow:
        found = returns.reject_return(uow, return_id, reason=body.reason)
        uow.commit()
    return ReturnRead.of(found)


@router.post("/{return_id}/receive", response_model=ReturnRead)
def receive_return(
    return_id: int, body: ReturnReceive, context: RequestContext = MANAGE
) -> ReturnRead:
    """Every line gets a disposition: `restock` (into `warehouse_id`; a `return` movement
    in the stock ledger) or `write_off` (no stock movement)."""
    command = returns.ReceiveReturn(
        return_id,
        tuple(
            returns.LineReceipt(line.return_line_id, line.disposition, line.warehouse_id)
            for line in body.lines
        ),
    )
    with context.uow() as uow:
        found = returns.receive_return(uow, command)
        uow.commit()
    return ReturnRead.of(found)


@router.post("/{return_id}/refund", response_model=ReturnRead)
def refund_return(return_id: int, context: RequestContext = REFUND) -> ReturnRead:
    """Refund the returned lines' value (capped by what each line can still refund)
    through the payment gateway. A received return, or an approved refund-only one."""
    found = returns.refund_return(
        context.uow, context.container.payment_gateway, return_id=return_id
    )
    return ReturnRead.of(found)
