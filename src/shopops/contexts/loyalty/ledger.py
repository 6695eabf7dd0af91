"""Ledger primitives shared by the points operations and the jobs.

Callers hold the account row first (a conditional debit, or ``lock_account``)
and only then read and draw on its lots, so that the balance, the ledger and the
lots' ``remaining`` move together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shopops.contexts.loyalty import repository, rules
from shopops.contexts.loyalty.models import EntryKind, PointsEntry
from shopops.contexts.loyalty.program import ProgramView
from shopops.uow import UnitOfWork


def open_lots(uow: UnitOfWork, account_id: int) -> list[rules.Lot]:
    return [
        rules.Lot(e.id, e.remaining or 0, e.expires_at)
        for e in repository.open_lots(uow.session, account_id)
    ]


def expiry(program: ProgramView, moment: datetime) -> datetime | None:
    return rules.add_months(moment, program.expiry_months) if program.expiry_months else None


def add_lot(
    uow: UnitOfWork,
    account_id: int,
    kind: EntryKind,
    points: int,
    *,
    expires_at: datetime | None,
    source: str,
    order_id: int | None = None,
    order_reference: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> PointsEntry:
    """Credit the balance and record the points as a new lot."""
    repository.credit(uow.session, account_id, points, uow.now())
    lot = PointsEntry(
        account_id=account_id,
        kind=kind,
        points=points,
        remaining=points,
        order_id=order_id,
        order_reference=order_reference,
        source=source,
        reason=reason,
        details=details or {},
        actor=uow.actor.label,
        occurred_at=uow.now(),
        expires_at=expires_at,
    )
    uow.session.add(lot)
    uow.session.flush()
    return lot


def draw(
    uow: UnitOfWork,
    account_id: int,
    draws: Sequence[rules.Draw],
    kind: EntryKind,
    *,
    source: str,
    order_id: int | None = None,
    order_reference: str | None = None,
    reason: str | None = None,
) -> list[PointsEntry]:
    """Ledger rows for points already debited from the balance, one per lot drawn on."""
    entries: list[PointsEntry] = []
    for step in draws:
        if not repository.draw_from_lot(uow.session, step.lot_id, step.points):
            raise RuntimeError(f"lot {step.lot_id} holds fewer than {step.points} points")
        entries.append(
            PointsEntry(
                account_id=account_id,
                kind=kind,
                points=-step.points,
                lot_id=step.lot_id,
                order_id=order_id,
                order_reference=order_reference,
                source=source,
                reason=reason,
                details={},
                actor=uow.actor.label,
                occurred_at=uow.now(),
            )
        )
    uow.session.add_all(entries)
    uow.session.flush()
    return entries


def debit_all(uow: UnitOfWork, account_id: int, points: int) -> None:
    """Debit points the caller has just seen in the locked account's lots."""
    if points and not repository.debit(uow.session, account_id, points, uow.now()):
        raise RuntimeError(f"account {account_id}: balance and lots disagree")
