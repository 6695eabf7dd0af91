"""Every inventory query, including the locking reads and conditional updates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, column, func, or_, select, table, update
from sqlalchemy.orm import Session

from shopops.contexts.inventory.models import (
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockThreshold,
    Warehouse,
)

_variants = table("variants", column("sku"))


def get_warehouse(session: Session, warehouse_id: int) -> Warehouse | None:
    return session.get(Warehouse, warehouse_id)


def get_warehouse_by_code(session: Session, code: str) -> Warehouse | None:
    return session.scalars(select(Warehouse).where(Warehouse.code == code)).one_or_none()


def list_warehouses(
    session: Session,
    *,
    active_only: bool = False,
    after: tuple[int, int] | None = None,
    limit: int | None = None,
) -> Sequence[Warehouse]:
    """By (priority, id); ``after`` is the (priority, id) of the last row already seen."""
    stmt = select(Warehouse).order_by(Warehouse.priority, Warehouse.id)
    if active_only:
        stmt = stmt.where(Warehouse.is_active.is_(True))
    if after is not None:
        priority, warehouse_id = after
        stmt = stmt.where(
            or_(
                Warehouse.priority > priority,
                and_(Warehouse.priority == priority, Warehouse.id > warehouse_id),
            )
        )
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()


def existing_skus(session: Session, skus: Iterable[str]) -> set[str]:
    wanted = sorted(set(skus))
    if not wanted:
        return set()
    return set(session.scalars(select(_variants.c.sku).where(_variants.c.sku.in_(wanted))))


def stock_for_skus(session: Session, skus: Iterable[str]) -> list[tuple[StockLevel, Warehouse]]:
    """Stock of the SKUs in active warehouses (no lock: used for planning)."""
    stmt = (
        select(StockLevel, Warehouse)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.sku.in_(sorted(set(skus))), Warehouse.is_active.is_(True))
        .order_by(StockLevel.sku, StockLevel.warehouse_id)
    )
    return [(level, warehouse) for level, warehouse in session.execute(stmt)]


def lock_stock_for_skus(
    session: Session, skus: Iterable[str]
) -> list[tuple[StockLevel, Warehouse]]:
    """Stock rows of the SKUs in active warehouses, locked in (sku, warehouse) order."""
    stmt = (
        select(StockLevel, Warehouse)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.sku.in_(sorted(set(skus))), Warehouse.is_active.is_(True))
        .order_by(StockLevel.sku, StockLevel.warehouse_id)
        .with_for_update(of=StockLevel)
        .execution_options(populate_existing=True)
    )
    return [(level, warehouse) for level, warehouse in session.execute(stmt)]


def get_level(
    session: Session, sku: str, warehouse_id: int, *, for_update: bool = False
) -> StockLevel | None:
    stmt = select(StockLevel).where(StockLevel.sku == sku, StockLevel.warehouse_id == warehouse_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def try_reserve(session: Session, sku: str, warehouse_id: int, quantity: int) -> int | None:
    """reserved += quantity if that much is available; returns the new available or None."""
    row = session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku == sku,
            StockLevel.warehouse_id == warehouse_id,
            StockLevel.on_hand - StockLevel.reserved >= quantity,
        )
        .values(reserved=StockLevel.reserved + quantity)
        .returning(StockLevel.on_hand - StockLevel.reserved)
        .execution_options(synchronize_session=False)
    ).first()
    return None if row is None else int(row[0])


def change_reserved(
    session: Session, sku: str, warehouse_id: int, delta: int, consume: bool = False
) -> bool:
    """reserved += delta (negative to release); with ``consume`` on_hand falls too."""
    values: dict[str, object] = {"reserved": StockLevel.reserved + delta}
    if consume:
        values["on_hand"] = StockLevel.on_hand + delta
    result = session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku == sku,
            StockLevel.warehouse_id == warehouse_id,
            StockLevel.reserved + delta >= 0,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def try_move_on_hand(session: Session, sku: str, warehouse_id: int, delta: int) -> int | None:
    """on_hand += delta unless that would drop below what is reserved; returns new on_hand."""
    row = session.execute(
        update(StockLevel)
        .where(
            StockLevel.sku == sku,
            StockLevel.warehouse_id == warehouse_id,
            StockLevel.on_hand + delta >= StockLevel.reserved,
        )
        .values(on_hand=StockLevel.on_hand + delta)
        .returning(StockLevel.on_hand)
        .execution_options(synchronize_session=False)
    ).first()
    return None if row is None else int(row[0])


def total_available(session: Session, sku: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .where(StockLevel.sku == sku, Warehouse.is_active.is_(True))
        )
        or 0
    )


def threshold_for(session: Session, sku: str) -> int:
    row = session.get(StockThreshold, sku)
    return row.low_stock_threshold if row else 0


def active_reservations(
    session: Session, reference: str, *, warehouse_id: int | None = None
) -> Sequence[Reservation]:
    stmt = (
        select(Reservation)
        .where(Reservation.reference == reference, Reservation.status == ReservationStatus.ACTIVE)
        .order_by(Reservation.sku, Reservation.warehouse_id, Reservation.id)
    )
    if warehouse_id is not None:
        stmt = stmt.where(Reservation.warehouse_id == warehouse_id)
    return session.scalars(stmt).all()


def reservations_for(session: Session, reference: str) -> Sequence[Reservation]:
    return session.scalars(
        select(Reservation).where(Reservation.reference == reference).order_by(Reservation.id)
    ).all()


def expired_reservations(session: Session, now: datetime, limit: int) -> Sequence[Reservation]:
    return session.scalars(
        select(Reservation)
        .where(
            Reservation.status == ReservationStatus.ACTIVE,
            Reservation.expires_at.is_not(None),
            Reservation.expires_at <= now,
        )
        .order_by(Reservation.id)
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class StockFilter:
    sku: str | None = None
    warehouse_id: int | None = None
    low_only: bool = False
    after_id: int | None = None
    limit: int = 50


def list_stock(session: Session, query: StockFilter) -> list[tuple[StockLevel, int]]:
    """Stock levels with each SKU's alert threshold."""
    threshold = func.coalesce(StockThreshold.low_stock_threshold, 0)
    stmt = (
        select(StockLevel, threshold)
        .outerjoin(StockThreshold, StockThreshold.sku == StockLevel.sku)
        .order_by(StockLevel.id)
        .limit(query.limit)
    )
    if query.sku:
        stmt = stmt.where(StockLevel.sku == query.sku)
    if query.warehouse_id is not None:
        stmt = stmt.where(StockLevel.warehouse_id == query.warehouse_id)
    if query.low_only:
        stmt = stmt.where(StockLevel.on_hand - StockLevel.reserved <= threshold)
    if query.after_id is not None:
        stmt = stmt.where(StockLevel.id > query.after_id)
    return [(level, int(limit)) for level, limit in session.execute(stmt)]


@dataclass(frozen=True)
class MovementFilter:
    sku: str | None = None
    warehouse_id: int | None = None
    kind: str | None = None
    reference: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


def list_movements(session: Session, query: MovementFilter) -> Sequence[StockMovement]:
    """Newest first."""
    stmt = select(StockMovement).order_by(StockMovement.id.desc()).limit(query.limit)
    if query.sku:
        stmt = stmt.where(StockMovement.sku == query.sku)
    if query.warehouse_id is not None:
        stmt = stmt.where(StockMovement.warehouse_id == query.warehouse_id)
    if query.kind:
        stmt = stmt.where(StockMovement.kind == query.kind)
    if query.reference:
        stmt = stmt.where(StockMovement.reference == query.reference)
    if query.since:
        stmt = stmt.where(StockMovement.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(StockMovement.occurred_at < query.until)
    if query.before_id is not None:
        stmt = stmt.where(StockMovement.id < query.before_id)
    return session.scalars(stmt).all()


def ledger_discrepancies(session: Session) -> list[tuple[str, int, int, int]]:
    """(sku, warehouse_id, on_hand, ledger_sum) wherever they disagree."""
    ledger = (
        select(
            StockMovement.sku,
            StockMovement.warehouse_id,
            func.sum(StockMovement.quantity).label("total"),
        )
        .group_by(StockMovement.sku, StockMovement.warehouse_id)
        .subquery()
    )
    stmt = (
        select(
            StockLevel.sku,
            StockLevel.warehouse_id,
            StockLevel.on_hand,
            func.coalesce(ledger.c.total, 0),
        )
        .outerjoin(
            ledger,
            (ledger.c.sku == StockLevel.sku) & (ledger.c.warehouse_id == StockLevel.warehouse_id),
        )
        .where(StockLevel.on_hand != func.coalesce(ledger.c.total, 0))
    )
    return [(s, int(w), int(o), int(t)) for s, w, o, t in session.execute(stmt)]


def clear_expiry(session: Session, reference: str) -> int:
    """Active reservations of ``reference`` stop expiring; returns how many."""
    result = session.execute(
        update(Reservation)
        .where(
            Reservation.reference == reference,
            Reservation.status == ReservationStatus.ACTIVE,
            Reservation.expires_at.is_not(None),
        )
        .values(expires_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
