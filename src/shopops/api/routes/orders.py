"""Orders: placement, search, detail with timeline, cancel, staff transitions, notes, tags.

Guest contact and shipping address lines are masked unless the caller holds
`customers.pii.read`. Endpoints that change an order answer with the whole order,
so they need `orders.read` as well as `orders.write`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor_by_id
from shopops.api.schemas.orders import (
    NoteCreate,
    OrderCancel,
    OrderCreate,
    OrderPage,
    OrderRead,
    OrderSummaryRead,
    OrderTransition,
    TagsChange,
)
from shopops.auth.permissions import Permission
from shopops.contexts import orders
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.kernel.money import normalize_currency, to_minor
from shopops.uow import UnitOfWork

router = APIRouter(prefix="/orders", tags=["orders"])

READ = Depends(require(Permission.ORDERS_READ))
WRITE = Depends(require(Permission.ORDERS_READ, Permission.ORDERS_WRITE))


def _read(uow: UnitOfWork, order_id: int) -> OrderRead:
    detail = orders.order_detail(uow, order_id)
    return OrderRead.of_detail(detail, orders.order_contact(uow, detail.order))


def _read_fresh(context: RequestContext, order_id: int) -> OrderRead:
    with context.uow() as uow:
        return _read(uow, order_id)


@router.post("", response_model=OrderRead, status_code=201)
async def place_order(body: OrderCreate, context: RequestContext = WRITE) -> OrderRead:
    """Place an order: prices are snapshotted and stock is reserved until payment.

    Send `Idempotency-Key` so that a retried request does not place a second order.
    Concurrent placements share transactions (group commit), so a flash sale does not
    queue buyers behind one another.
    """
    request = orders.PlacementRequest(body.command(), context.actor, context.request_id)
    pending = context.container.order_placer.submit(request)
    # Shielded: a cancelled request (client gone) must not cancel the queued future, which
    # the batch thread will still settle; the order may be placed all the same.
    placed = await asyncio.shield(asyncio.wrap_future(pending))
    if placed.rows is None:  # not from the batch path: read it back
        return await run_in_threadpool(_read_fresh, context, placed.id)
    # The answer comes from the rows the batch wrote (no query after the commit), shaped
    # by the same code as GET /v1/orders/{id}. Unsealing the personal fields for the
    # contact costs microseconds and keeps one masking rule.
    detail = orders.placed_detail(placed)
    return OrderRead.of_detail(detail, orders.order_contact(context.uow(), detail.order))


def _amount(name: str, value: str | None, currency: str, errors: FieldErrorCollector) -> int | None:
    if value is None:
        return None
    try:
        return to_minor(value, currency)
    except ValidationFailed as error:
        errors.add(name, error.code, error.message)
        return None


def _check_placed(
    placed_from: datetime | None, placed_to: datetime | None, errors: FieldErrorCollector
) -> None:
    for name, value in (("placed_from", placed_from), ("placed_to", placed_to)):
        if value is not None and value.tzinfo is None:
            errors.add(name, "validation.naive_datetime", "add a time zone offset, e.g. Z")
    if placed_from and placed_to and not errors and placed_from >= placed_to:
        errors.add("placed_to", "validation.reversed_range", "must be after placed_from")


def _amount_bounds(
    min_amount: str | None,
    max_amount: str | None,
    currency: str | None,
    errors: FieldErrorCollector,
) -> tuple[str | None, int | None, int | None]:
    """(currency, min, max) in minor units; amounts mean nothing without their currency."""
    if currency is None:
        if min_amount is not None or max_amount is not None:
            errors.add("currency", "validation.required", "amount filters need the currency")
        return None, None, None
    try:
        code = normalize_currency(currency)
    except ValidationFailed as error:
        errors.add("currency", error.code, error.message)
        return None, None, None
    return (
        code,
        _amount("min_amount", min_amount, code, errors),
        _amount("max_amount", max_amount, code, errors),
    )


@router.get("", response_model=OrderPage)
def list_orders(
    status: list[orders.OrderStatus] = Query([], description="Repeat for several."),
    placed_from: datetime | None = Query(None, description="Inclusive, ISO 8601 with offset"),
    placed_to: datetime | None = Query(None, description="Exclusive, ISO 8601 with offset"),
    customer_id: int | None = None,
    sku: str | None = Query(None, description="Orders with a line of this SKU."),
    min_amount: str | None = Query(None, description="Total at least this.", examples=["50.00"]),
    max_amount: str | None = Query(None, description="Total at most this.", examples=["200"]),
    currency: str | None = Query(None, description="Needed with amounts.", examples=["USD"]),
    tag: str | None = None,
    channel: str | None = Query(None, examples=["web"]),
    number: str | None = Query(None, examples=["SO-260301-7KQ2MX"]),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> OrderPage:
    """Search orders, newest first. Filters combine with AND; statuses with OR."""
    errors = FieldErrorCollector()
    _check_placed(placed_from, placed_to, errors)
    code, low, high = _amount_bounds(min_amount, max_amount, currency, errors)
    errors.raise_if_any()
    query = orders.OrderFilter(
        status=tuple(status),
        placed_from=placed_from,
        placed_to=placed_to,
        customer_id=customer_id,
        sku=sku,
        min_total_minor=low,
        max_total_minor=high,
        tag=tag,
        channel=channel,
        number=number,
        currency=code,
        before_id=after_id(cursor),
        limit=limit + 1,
    )
    with context.uow() as uow:
        found = orders.search_orders(uow, query)
        rows = list(found.orders)
        return OrderPage(
            items=[OrderSummaryRead.of(o, found.tags.get(o.id, [])) for o in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/by-number/{number}", response_model=OrderRead)
def get_order_by_number(number: str, context: RequestContext = READ) -> OrderRead:
    with context.uow() as uow:
        return _read(uow, orders.get_order_by_number(uow, number).id)


@router.get("/{order_id}", response_model=OrderRead)
def get_order(order_id: int, context: RequestContext = READ) -> OrderRead:
    """One order with lines, price breakdown, reservations, tags and the full timeline."""
    with context.uow() as uow:
        return _read(uow, order_id)


@router.post("/{order_id}/cancel", response_model=OrderRead)
def cancel_order(order_id: int, body: OrderCancel, context: RequestContext = WRITE) -> OrderRead:
    """Cancel an order that has not shipped; the stock it held is released at once and
    whatever was captured is refunded through the gateway (outside any transaction)."""
    orders.cancel_and_refund(
        context.uow, context.container.payment_gateway, order_id=order_id, reason=body.reason
    )
    return _read_fresh(context, order_id)


@router.post("/{order_id}/transitions", response_model=OrderRead)
def transition_order(
    order_id: int, body: OrderTransition, context: RequestContext = WRITE
) -> OrderRead:
    """Staff moves: paid → processing, shipped → delivered, delivered → completed.

    A move the state machine does not allow from the current status is a 409
    `orders.invalid_transition`.
    """
    command = orders.ChangeOrderStatus(order_id, body.to, body.reason)
    with context.uow() as uow:
        orders.change_status(uow, command)
        uow.commit()
        return _read(uow, order_id)


@router.post("/{order_id}/notes", response_model=OrderRead, status_code=201)
def add_note(order_id: int, body: NoteCreate, context: RequestContext = WRITE) -> OrderRead:
    """Add a staff note to the timeline."""
    with context.uow() as uow:
        orders.add_note(uow, order_id, body.note)
        uow.commit()
        return _read(uow, order_id)


@router.post("/{order_id}/tags", response_model=OrderRead)
def change_tags(order_id: int, body: TagsChange, context: RequestContext = WRITE) -> OrderRead:
    """Add and remove tags in one step."""
    with context.uow() as uow:
        orders.set_tags(uow, order_id, add=body.add, remove=body.remove)
        uow.commit()
        return _read(uow, order_id)
