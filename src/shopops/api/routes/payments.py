"""Payments, refunds, the daily settlement, and the gateway's notifications.

Paying and refunding call the payment gateway outside any database
transaction (see ``shopops.contexts.orders.payment_flow``). The notification
endpoint is called by the gateway itself and authenticated by its HMAC
signature, not by a staff token.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from shopops.api.deps import RequestContext, get_container, public, request_id_of, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, after_id, next_cursor_by_id
from shopops.api.schemas.payments import (
    NotificationAck,
    PaymentCreate,
    PaymentRead,
    RefundCreate,
    RefundRead,
    SettlementRead,
    minor_lines,
)
from shopops.auth.permissions import Permission
from shopops.bootstrap import Container
from shopops.contexts import orders, payments
from shopops.kernel.errors import NotFound
from shopops.kernel.events import Actor
from shopops.kernel.money import to_minor

router = APIRouter(tags=["payments"])

READ = Depends(require(Permission.PAYMENTS_READ))
PAY = Depends(require(Permission.ORDERS_WRITE, Permission.PAYMENTS_READ))
REFUND = Depends(require(Permission.PAYMENTS_REFUND))


@router.post("/orders/{order_id}/payments", response_model=PaymentRead, status_code=201)
def pay_order(order_id: int, body: PaymentCreate, context: RequestContext = PAY) -> PaymentRead:
    """Charge what is due on a `pending_payment` order (sandbox gateway: authorize + capture).

    A captured payment marks the order paid. A decline is recorded and answered
    with `status: failed` and the gateway's `error_code`; the order stays unpaid.
    If the gateway does not answer: 503 `payments.gateway_unavailable` — pay
    again to resume the same payment (the gateway never charges twice).
    """
    payment = orders.pay_order(
        context.uow,
        context.container.payment_gateway,
        order_id=order_id,
        method=body.method,
        source=body.source,
    )
    return PaymentRead.of(payment)


@router.get("/payments", response_model=Page[PaymentRead])
def list_payments(
    order_id: int | None = None,
    status: str | None = Query(None, examples=["captured"]),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> Page[PaymentRead]:
    query = payments.PaymentFilter(order_id, status, after_id(cursor), limit + 1)
    with context.uow() as uow:
        rows = list(payments.list_payments(uow, query))
        return Page(
            items=[PaymentRead.of(p) for p in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/payments/{payment_id}", response_model=PaymentRead)
def get_payment(payment_id: int, context: RequestContext = READ) -> PaymentRead:
    with context.uow() as uow:
        return PaymentRead.of(payments.payment_detail(uow, payment_id))


@router.post("/orders/{order_id}/refunds", response_model=RefundRead, status_code=201)
def refund_order(
    order_id: int, body: RefundCreate, response: Response, context: RequestContext = REFUND
) -> RefundRead:
    """Refund part or all of what was captured — never more.

    `amount` is split across the order lines in proportion to what each can
    still refund (exactly, to the minor unit); `lines` gives per-line amounts.
    Above the captured amount: 409 `payments.refund_exceeds_captured`, and
    nothing changes. Answers 201 (`succeeded` or `failed`), or 202 with
    `requested` when the gateway did not answer: a job retries it.
    """
    with context.uow() as uow:
        currency = orders.get_order(uow, order_id).currency
    refund = orders.refund_order(
        context.uow,
        context.container.payment_gateway,
        order_id=order_id,
        reason=body.reason,
        amount_minor=None if body.amount is None else to_minor(body.amount, currency),
        line_amounts=minor_lines(body.lines, currency),
    )
    if refund.status == payments.RefundStatus.REQUESTED:
        response.status_code = 202
    return RefundRead.of(refund)


@router.get("/refunds", response_model=Page[RefundRead])
def list_refunds(
    order_id: int | None = None,
    status: str | None = Query(None, examples=["succeeded"]),
    return_id: int | None = None,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> Page[RefundRead]:
    query = payments.RefundFilter(order_id, status, return_id, after_id(cursor), limit + 1)
    with context.uow() as uow:
        rows = list(payments.list_refunds(uow, query))
        return Page(
            items=[RefundRead.of(r) for r in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/settlements/{day}", response_model=SettlementRead)
def settlement(day: date, context: RequestContext = READ) -> SettlementRead:
    """Captured, refunded, fees and net per currency for one business day (store time
    zone), and every mismatch between orders, payments and refunds touched that day."""
    with context.uow() as uow:
        return SettlementRead.of(orders.settlement_report(uow, day))


@router.post(
    "/payments/notifications/sandbox",
    response_model=NotificationAck,
    dependencies=[Depends(public("authenticated by the gateway's HMAC signature"))],
)
async def sandbox_notification(request: Request) -> NotificationAck:
    """Called by the sandbox gateway. A bad signature or stale timestamp is a 400
    `payments.invalid_signature`; a repeated event answers `duplicate` and changes nothing.
    (Each real gateway gets its own endpoint, verified by its own adapter.)"""
    container = get_container(request)
    if container.payment_gateway.name != "sandbox":
        raise NotFound("payments.unknown_gateway", "the sandbox gateway is not configured")
    body = await request.body()
    headers = dict(request.headers)
    return await run_in_threadpool(_receive, container, headers, body, request_id_of(request))


def _receive(
    container: Container, headers: dict[str, str], body: bytes, request_id: str
) -> NotificationAck:
    gateway = container.payment_gateway
    with container.uow(Actor.system(f"gateway:{gateway.name}"), request_id) as uow:
        outcome = orders.receive_notification(uow, gateway, headers=headers, body=body)
        uow.commit()
    return NotificationAck.of(outcome)
