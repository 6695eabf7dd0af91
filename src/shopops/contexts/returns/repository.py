"""Every returns query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopops.contexts.returns.models import ReturnLine, ReturnRequest, ReturnStatus


def get(session: Session, return_id: int, *, for_update: bool = False) -> ReturnRequest | None:
    stmt = select(ReturnRequest).where(ReturnRequest.id == return_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def lines_of(session: Session, return_ids: Iterable[int]) -> dict[int, list[ReturnLine]]:
    """Lines of many returns in one query (no N+1 on lists)."""
    ids = sorted(set(return_ids))
    result: dict[int, list[ReturnLine]] = {i: [] for i in ids}
    if not ids:
        return result
    rows = session.scalars(
        select(ReturnLine).where(ReturnLine.return_id.in_(ids)).order_by(ReturnLine.id)
    )
    for line in rows:
        result[line.return_id].append(line)
    return result


def _quantities(session: Session, order_id: int, statuses: Sequence[str]) -> dict[int, int]:
    rows = session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status.in_(list(statuses)))
        .group_by(ReturnLine.order_line_id)
    )
    return {line_id: int(total) for line_id, total in rows}


def claimed_by_line(session: Session, order_id: int) -> dict[int, int]:
    """Quantities per order line in returns that are not rejected."""
    statuses = [s for s in ReturnStatus if s != ReturnStatus.REJECTED]
    return _quantities(session, order_id, statuses)


def refunded_units_by_line(session: Session, order_id: int) -> dict[int, int]:
    return _quantities(session, order_id, [ReturnStatus.REFUNDED])


@dataclass(frozen=True)
class ReturnFilter:
    order_id: int | None = None
    status: str | None = None
    after_id: int | None = None
    limit: int = 50


def search(session: Session, query: ReturnFilter) -> Sequence[ReturnRequest]:
    """Oldest first; keyset pagination on id."""
    stmt = select(ReturnRequest).order_by(ReturnRequest.id).limit(query.limit)
    if query.order_id is not None:
        stmt = stmt.where(ReturnRequest.order_id == query.order_id)
    if query.status:
        stmt = stmt.where(ReturnRequest.status == query.status)
    if query.after_id is not None:
        stmt = stmt.where(ReturnRequest.id > query.after_id)
    return session.scalars(stmt).all()
