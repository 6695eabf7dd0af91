"""Return requests: request -> approve | reject -> receive -> refund (or refund-only).

Every step locks the order row and then the return row (one lock order for
all of them), writes an order timeline entry and an audit row, and emits
``return.updated``. Receiving restocks a line into a warehouse (a ``return``
ledger movement) or writes it off (no movement). The refund step calls the
gateway and so lives in ``returns.refunding``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from shopops.auth.permissions import Permission
from shopops.contexts import inventory, orders
from shopops.contexts.returns import repository
from shopops.contexts.returns.commands import ReceiveReturn, RequestReturn
from shopops.contexts.returns.errors import ReturnError
from shopops.contexts.returns.events import ReturnUpdated
from shopops.contexts.returns.models import (
    Disposition,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from shopops.contexts.returns.repository import ReturnFilter
from shopops.contexts.returns.rules import can_transition
from shopops.kernel.errors import FieldErrorCollector, InvalidTransition, NotFound
from shopops.uow import UnitOfWork

_TIMESTAMP = {
    ReturnStatus.APPROVED: "decided_at",
    ReturnStatus.REJECTED: "decided_at",
    ReturnStatus.RECEIVED: "received_at",
    ReturnStatus.REFUNDED: "refunded_at",
}


@dataclass(frozen=True)
class ReturnDetail:
    request: ReturnRequest
    lines: list[ReturnLine]


def _line_view(line: ReturnLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "order_line_id": line.order_line_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "reason": line.reason,
        "disposition": line.disposition,
        "warehouse_id": line.warehouse_id,
        "refund_minor": line.refund_minor,
    }


def _get(uow: UnitOfWork, return_id: int, *, for_update: bool = False) -> ReturnRequest:
    found = repository.get(uow.session, return_id, for_update=for_update)
    if found is None:
        raise NotFound(ReturnError.NOT_FOUND, f"return {return_id} does not exist")
    return found


def lock(uow: UnitOfWork, return_id: int) -> tuple[orders.Order, ReturnRequest]:
    """The order row, then the return row: the one lock order of every return step."""
    order = orders.get_order(uow, _get(uow, return_id).order_id, for_update=True)
    return order, _get(uow, return_id, for_update=True)


def detail(uow: UnitOfWork, request: ReturnRequest) -> ReturnDetail:
    return ReturnDetail(request, repository.lines_of(uow.session, [request.id])[request.id])


def get_return(uow: UnitOfWork, return_id: int) -> ReturnDetail:
    uow.require(Permission.ORDERS_READ)
    return detail(uow, _get(uow, return_id))


def list_returns(uow: UnitOfWork, query: ReturnFilter) -> list[ReturnDetail]:
    uow.require(Permission.ORDERS_READ)
    found = repository.search(uow.session, query)
    lines = repository.lines_of(uow.session, [r.id for r in found])
    return [ReturnDetail(r, lines[r.id]) for r in found]


def record_step(
    uow: UnitOfWork,
    order: orders.Order,
    request: ReturnRequest,
    previous: str | None,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Timeline, audit and ``return.updated`` for a status change already applied."""
    lines = [
        _line_view(line) for line in repository.lines_of(uow.session, [request.id])[request.id]
    ]
    orders.record_timeline(
        uow,
        order,
        f"return_{request.status}",
        reason=reason,
        data={"return_id": request.id, **(data or {})},
    )
    uow.audit(
        f"return.{request.status}",
        "return",
        request.id,
        before={"status": previous} if previous else None,
        after={"status": request.status, "refund_minor": request.refund_minor, **(data or {})},
    )
    uow.emit(
        ReturnUpdated(
            request.id,
            request.order_id,
            request.status,
            previous,
            request.refund_only,
            request.refund_id,
            request.refund_minor,
            lines,
        )
    )


def check_transition(request: ReturnRequest, target: ReturnStatus) -> None:
    if not can_transition(request.status, target, refund_only=request.refund_only):
        kind = "refund-only " if request.refund_only else ""
        raise InvalidTransition(
            ReturnError.INVALID_TRANSITION,
            f"{kind}return {request.id} cannot go from {request.status} to {target}",
            details={"from": request.status, "to": str(target)},
        )


def _move(uow: UnitOfWork, request: ReturnRequest, target: ReturnStatus) -> str:
    check_transition(request, target)
    previous = request.status
    request.status = target
    setattr(request, _TIMESTAMP[target], uow.now())
    return previous


def request_return(uow: UnitOfWork, command: RequestReturn) -> ReturnDetail:
    """Open a return; each line at most what shipped minus what other returns claim."""
    uow.require(Permission.RETURNS_MANAGE)
    order = orders.get_order(uow, command.order_id, for_update=True)
    order_lines = {line.id: line for line in orders.lines_of(uow.session, order.id)}
    claimed = repository.claimed_by_line(uow.session, order.id)
    errors = FieldErrorCollector()
    if not command.lines:
        errors.add("lines", "validation.required", "a return needs at least one line")
    wanted: dict[int, int] = {}
    for index, item in enumerate(command.lines):
        field = f"lines.{index}"
        line = order_lines.get(item.order_line_id)
        if line is None:
            errors.add(
                f"{field}.order_line_id",
                ReturnError.UNKNOWN_ORDER_LINE,
                f"line {item.order_line_id} is not on order {order.number}",
            )
            continue
        if item.reason not in set(ReturnReason):
            errors.add(
                f"{field}.reason",
                ReturnError.INVALID_REASON,
                f"reason must be one of: {', '.join(ReturnReason)}",
            )
        if item.quantity <= 0:
            errors.add(f"{field}.quantity", ReturnError.INVALID_QUANTITY, "must be positive")
            continue
        wanted[line.id] = wanted.get(line.id, 0) + item.quantity
        returnable = line.shipped_quantity - claimed.get(line.id, 0)
        if wanted[line.id] > returnable:
            errors.add(
                f"{field}.quantity",
                ReturnError.QUANTITY_EXCEEDS_RETURNABLE,
                f"{line.sku}: {line.shipped_quantity} shipped, {claimed.get(line.id, 0)} "
                f"already in returns; at most {max(returnable, 0)} can be returned",
            )
    too_many = any(e.code == ReturnError.QUANTITY_EXCEEDS_RETURNABLE for e in errors.items)
    errors.raise_if_any(
        ReturnError.QUANTITY_EXCEEDS_RETURNABLE if too_many else "validation.failed"
    )
    request = ReturnRequest(
        order_id=order.id,
        status=ReturnStatus.REQUESTED,
        refund_only=command.refund_only,
        currency=order.currency,
        note=(command.note or "").strip() or None,
        refund_minor=0,
        requested_by=uow.actor.label,
        requested_at=uow.now(),
    )
    uow.session.add(request)
    uow.session.flush()
    uow.session.add_all(
        ReturnLine(
            return_id=request.id,
            order_line_id=item.order_line_id,
            sku=order_lines[item.order_line_id].sku,
            quantity=item.quantity,
            reason=item.reason,
            note=item.note,
            refund_minor=0,
        )
        for item in command.lines
    )
    uow.session.flush()
    record_step(uow, order, request, None, reason=request.note)
    return detail(uow, request)


def approve_return(uow: UnitOfWork, return_id: int, *, note: str | None = None) -> ReturnDetail:
    uow.require(Permission.RETURNS_MANAGE)
    order, request = lock(uow, return_id)
    previous = _move(uow, request, ReturnStatus.APPROVED)
    request.decision_note = (note or "").strip() or None
    record_step(uow, order, request, previous, reason=request.decision_note)
    return detail(uow, request)


def reject_return(uow: UnitOfWork, return_id: int, *, reason: str) -> ReturnDetail:
    uow.require(Permission.RETURNS_MANAGE)
    errors = FieldErrorCollector()
    if not reason.strip():
        errors.add("reason", "validation.required", "a rejection needs a reason")
    errors.raise_if_any()
    order, request = lock(uow, return_id)
    previous = _move(uow, request, ReturnStatus.REJECTED)
    request.decision_note = reason.strip()
    record_step(uow, order, request, previous, reason=request.decision_note)
    return detail(uow, request)


def receive_return(uow: UnitOfWork, command: ReceiveReturn) -> ReturnDetail:
    """Goods are back: per line restock into a warehouse or write off."""
    uow.require(Permission.RETURNS_MANAGE)
    order, request = lock(uow, command.return_id)
    check_transition(request, ReturnStatus.RECEIVED)
    lines = repository.lines_of(uow.session, [request.id])[request.id]
    given = {receipt.return_line_id: receipt for receipt in command.lines}
    errors = FieldErrorCollector()
    for index, line in enumerate(lines):
        receipt = given.pop(line.id, None)
        field = f"lines.{index}"
        if receipt is None:
            errors.add(field, "validation.required", f"return line {line.id} needs a disposition")
        elif receipt.disposition not in set(Disposition):
            errors.add(
                f"{field}.disposition",
                ReturnError.INVALID_DISPOSITION,
                "disposition is restock or write_off",
            )
        elif receipt.disposition == Disposition.RESTOCK and receipt.warehouse_id is None:
            errors.add(
                f"{field}.warehouse_id",
                ReturnError.WAREHOUSE_REQUIRED,
                "restocking needs a warehouse",
            )
    for unknown in given:
        errors.add("lines", ReturnError.UNKNOWN_ORDER_LINE, f"line {unknown} is not on this return")
    errors.raise_if_any()
    receipts = {receipt.return_line_id: receipt for receipt in command.lines}
    for line in lines:
        receipt = receipts[line.id]
        line.disposition = receipt.disposition
        if receipt.disposition == Disposition.RESTOCK:
            assert receipt.warehouse_id is not None
            warehouse = inventory.get_warehouse(uow, receipt.warehouse_id)
            line.warehouse_id = warehouse.id
            inventory.restock(
                uow,
                reference=f"return:{request.id}",
                warehouse_id=warehouse.id,
                sku=line.sku,
                quantity=line.quantity,
            )
        orders.record_returned(uow, line.order_line_id, line.quantity)
    previous = _move(uow, request, ReturnStatus.RECEIVED)
    record_step(
        uow,
        order,
        request,
        previous,
        data={"dispositions": {str(line.id): line.disposition for line in lines}},
    )
    return detail(uow, request)


def mark_refunded(
    uow: UnitOfWork, return_id: int, *, refund_id: int | None, amount_minor: int
) -> bool:
    """Approved/received -> refunded once; False if it already was (idempotent)."""
    order, request = lock(uow, return_id)
    previous = request.status
    moved = uow.session.execute(
        update(ReturnRequest)
        .where(
            ReturnRequest.id == return_id,
            ReturnRequest.status.in_([ReturnStatus.APPROVED, ReturnStatus.RECEIVED]),
        )
        .values(
            status=ReturnStatus.REFUNDED,
            refund_id=refund_id,
            refund_minor=amount_minor,
            refunded_at=uow.now(),
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    uow.session.refresh(request)
    record_step(uow, order, request, previous, data={"refund_id": refund_id})
    return True
