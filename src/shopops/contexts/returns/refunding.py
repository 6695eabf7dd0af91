"""Refunding a return: the returned lines' value, through the orders refund flow.

(tx1) lock the order and the return, work out each line's amount — the value
of the returned units, capped by what the line can still refund — and reserve
the refund; (no tx) the gateway; (tx2, inside ``orders.complete_refund``) the
refund settles; (tx3) the return becomes ``refunded``. If the refund settles
later (retry job, gateway notification), the ``refund.issued`` handler does
tx3's work instead; both are idempotent.
"""

from __future__ import annotations

from shopops.adapters.payments import PaymentGateway
from shopops.auth.permissions import Permission
from shopops.contexts import orders, payments
from shopops.contexts.returns import repository
from shopops.contexts.returns.errors import ReturnError
from shopops.contexts.returns.models import ReturnRequest, ReturnStatus
from shopops.contexts.returns.rules import units_value
from shopops.contexts.returns.service import (
    ReturnDetail,
    check_transition,
    detail,
    lock,
    mark_refunded,
)
from shopops.kernel.errors import Conflict
from shopops.uow import UnitOfWork


def refund_return(
    uow_factory: orders.Transactions, gateway: PaymentGateway, *, return_id: int
) -> ReturnDetail:
    """Refund a received return (or an approved refund-only one)."""
    with uow_factory() as uow:
        uow.require(Permission.RETURNS_MANAGE)
        uow.require(Permission.PAYMENTS_REFUND)
        order, request = lock(uow, return_id)
        check_transition(request, ReturnStatus.REFUNDED)
        _refuse_if_in_flight(uow, request)
        amounts = _line_amounts(uow, order, request)
        refund_id: int | None = None
        if amounts:
            refund = orders.request_refund(
                uow,
                order,
                reason=f"return {request.id}",
                line_amounts=amounts,
                return_id=request.id,
            )
            request.refund_id = refund_id = refund.id
        else:  # the lines were refunded already (e.g. a goodwill refund): nothing is owed
            mark_refunded(uow, request.id, refund_id=None, amount_minor=0)
        uow.commit()
    if refund_id is not None:
        refund = orders.complete_refund(uow_factory, gateway, refund_id)
        with uow_factory() as uow:
            if refund.status == payments.RefundStatus.SUCCEEDED:
                mark_refunded(uow, return_id, refund_id=refund.id, amount_minor=refund.amount_minor)
            uow.commit()
    with uow_factory() as uow:
        result = detail(uow, repository.get(uow.session, return_id) or request)
        uow.session.expunge_all()
    return result


def _refuse_if_in_flight(uow: UnitOfWork, request: ReturnRequest) -> None:
    if request.refund_id is None:
        return
    previous = payments.get_refund(uow, request.refund_id)
    if previous.status == payments.RefundStatus.REQUESTED:
        raise Conflict(
            ReturnError.REFUND_IN_PROGRESS,
            f"refund {previous.id} of return {request.id} is still waiting for the gateway",
            details={"refund_id": previous.id},
        )


def _line_amounts(uow: UnitOfWork, order: orders.Order, request: ReturnRequest) -> dict[int, int]:
    order_lines = {line.id: line for line in orders.lines_of(uow.session, order.id)}
    refundable = orders.refundable_by_line(uow, order.id)
    done_units = repository.refunded_units_by_line(uow.session, order.id)
    amounts: dict[int, int] = {}
    for line in repository.lines_of(uow.session, [request.id])[request.id]:
        source = order_lines[line.order_line_id]
        start = done_units.get(source.id, 0)
        value = units_value(source.total_minor, source.quantity, start, line.quantity)
        done_units[source.id] = start + line.quantity
        amount = max(0, min(value, refundable.get(source.id, 0) - amounts.get(source.id, 0)))
        line.refund_minor = amount
        if amount:
            amounts[source.id] = amounts.get(source.id, 0) + amount
    return amounts
