"""Reserving stock for orders, and what happens to a reservation afterwards.

Reservation never oversells: the plan is made from an unlocked read, then each
line is applied with ``reserved = reserved + q WHERE on_hand - reserved >= q``
in (sku, warehouse) order. If a concurrent buyer took the stock between plan
and update, the savepoint is rolled back and the plan is made again from fresh
numbers; when nothing is left the caller gets ``inventory.insufficient_stock``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from shopops.contexts.inventory import repository
from shopops.contexts.inventory.commands import ReserveStock
from shopops.contexts.inventory.errors import InventoryError
from shopops.contexts.inventory.events import ReservationExpired
from shopops.contexts.inventory.models import (
    MovementKind,
    Reservation,
    ReservationStatus,
)
from shopops.contexts.inventory.rules import (
    AllocationPlan,
    PlannedReservation,
    WarehouseStock,
    plan_allocation,
)
from shopops.contexts.inventory.service import (
    check_alerts,
    check_quantity,
    ensure_level,
    post_movement,
    require_skus,
)
from shopops.kernel.errors import Conflict, FieldErrorCollector
from shopops.uow import UnitOfWork

_PLAN_ATTEMPTS = 5


class InsufficientStock(Conflict):
    def __init__(self, shortfall: Mapping[str, int]) -> None:
        listed = ", ".join(f"{sku} short by {qty}" for sku, qty in sorted(shortfall.items()))
        super().__init__(
            InventoryError.INSUFFICIENT_STOCK,
            f"not enough stock: {listed}",
            details={"shortfall": dict(sorted(shortfall.items()))},
        )


def validate_lines(lines: Mapping[str, int], field: str = "lines") -> None:
    errors = FieldErrorCollector()
    if not lines:
        errors.add(field, "validation.required", "at least one line is needed")
    for sku, quantity in lines.items():
        check_quantity(errors, f"{field}.{sku}", quantity)
    errors.raise_if_any()


def _plan(uow: UnitOfWork, command: ReserveStock) -> AllocationPlan:
    stock: dict[str, list[WarehouseStock]] = defaultdict(list)
    for level, warehouse in repository.stock_for_skus(uow.session, command.lines):
        stock[level.sku].append(
            WarehouseStock(warehouse.id, warehouse.region, warehouse.priority, level.available)
        )
    return plan_allocation(
        command.lines,
        stock,
        customer_region=command.customer_region,
        allow_split=command.allow_split,
    )


def reserve(uow: UnitOfWork, command: ReserveStock) -> list[Reservation]:
    """Hold stock for ``command.reference``; all lines or none."""
    validate_lines(command.lines)
    require_skus(uow, command.lines)
    available_before = {
        sku: repository.total_available(uow.session, sku) for sku in sorted(command.lines)
    }
    for _ in range(_PLAN_ATTEMPTS):
        uow.session.expire_all()
        plan = _plan(uow, command)
        if not plan.complete:
            raise InsufficientStock(plan.shortfall)
        savepoint = uow.session.begin_nested()
        applied = True
        for line in sorted(plan.lines, key=lambda p: (p.sku, p.warehouse_id)):
            if (
                repository.try_reserve(uow.session, line.sku, line.warehouse_id, line.quantity)
                is None
            ):
                applied = False
                break
        if applied:
            savepoint.commit()
            break
        savepoint.rollback()  # a concurrent buyer got there first: plan again
    else:
        raise InsufficientStock(dict(command.lines))
    expires_at = (
        uow.now() + timedelta(seconds=command.expires_in_seconds)
        if command.expires_in_seconds
        else None
    )
    reservations = [
        Reservation(
            reference=command.reference,
            sku=line.sku,
            warehouse_id=line.warehouse_id,
            quantity=line.quantity,
            expires_at=expires_at,
            created_at=uow.now(),
        )
        for line in plan.lines
    ]
    uow.session.add_all(reservations)
    for sku, before in available_before.items():
        check_alerts(uow, sku, before)
    return reservations


@dataclass(frozen=True)
class BatchPlan:
    """Where each order of a batch would take its stock, against rows locked for the batch.

    Nothing is written until ``apply_plans``; an order dropped in between (its promotions
    or points could not be redeemed) leaves no trace, and the orders planned after it
    stay valid (they were planned with less stock than is now left)."""

    skus: tuple[str, ...]
    available_before: dict[str, int]  # per SKU, summed over warehouses, before the batch
    outcomes: list[tuple[PlannedReservation, ...] | InsufficientStock]
    commands: list[ReserveStock]


def plan_many(uow: UnitOfWork, commands: Sequence[ReserveStock]) -> BatchPlan:
    """Lock every involved stock row once, in (sku, warehouse) order, and plan the orders
    one after another in arrival order against the locked numbers. Writes nothing.
    Commands must already be validated (``validate_lines``, ``require_skus``)."""
    skus = sorted({sku for command in commands for sku in command.lines})
    available: dict[str, dict[int, int]] = {sku: {} for sku in skus}
    meta: dict[int, tuple[str, int]] = {}
    for level, warehouse in repository.lock_stock_for_skus(uow.session, skus):
        available[level.sku][warehouse.id] = level.on_hand - level.reserved
        meta[warehouse.id] = (warehouse.region, warehouse.priority)
    before = {sku: sum(per_warehouse.values()) for sku, per_warehouse in available.items()}
    outcomes: list[tuple[PlannedReservation, ...] | InsufficientStock] = []
    for command in commands:
        stock = {
            sku: [WarehouseStock(w, *meta[w], quantity) for w, quantity in available[sku].items()]
            for sku in command.lines
        }
        plan = plan_allocation(
            command.lines,
            stock,
            customer_region=command.customer_region,
            allow_split=command.allow_split,
        )
        if not plan.complete:
            outcomes.append(InsufficientStock(plan.shortfall))
            continue
        for line in plan.lines:
            available[line.sku][line.warehouse_id] -= line.quantity
        outcomes.append(plan.lines)
    return BatchPlan(tuple(skus), before, outcomes, list(commands))


def apply_plans(uow: UnitOfWork, batch: BatchPlan, keep: Sequence[int]) -> list[dict[str, object]]:
    """Reserve what ``batch`` planned for the orders at positions ``keep``: one UPDATE per
    stock row for all of them, the reservation rows in bulk, then the stock alerts.

    The reservation rows are written by the unit of work's next flush (with the rest of
    the batch's rows, in one round trip while the stock rows are locked); they are
    returned in insertion order."""
    increments: dict[tuple[str, int], int] = defaultdict(int)
    rows: list[dict[str, object]] = []
    now = uow.now()
    for position in keep:
        planned = batch.outcomes[position]
        if isinstance(planned, InsufficientStock):
            raise ValueError(f"order {position} of the batch has no plan")
        command = batch.commands[position]
        expires_at = (
            now + timedelta(seconds=command.expires_in_seconds)
            if command.expires_in_seconds
            else None
        )
        for line in planned:
            increments[(line.sku, line.warehouse_id)] += line.quantity
            rows.append(
                {
                    "reference": command.reference,
                    "sku": line.sku,
                    "warehouse_id": line.warehouse_id,
                    "quantity": line.quantity,
                    "status": ReservationStatus.ACTIVE,
                    "expires_at": expires_at,
                    "created_at": now,
                }
            )
    for (sku, warehouse_id), quantity in sorted(increments.items()):
        if repository.try_reserve(uow.session, sku, warehouse_id, quantity) is None:
            # Impossible while we hold the row locks; refuse loudly rather than oversell.
            raise InsufficientStock({sku: quantity})
    uow.insert_later(Reservation.__table__, rows)  # type: ignore[arg-type]
    taken: dict[str, int] = defaultdict(int)
    for (sku, _), quantity in increments.items():
        taken[sku] += quantity
    for sku in batch.skus:
        before = batch.available_before[sku]
        check_alerts(uow, sku, before, before - taken[sku])
    return rows


def reserve_many(
    uow: UnitOfWork, commands: Sequence[ReserveStock]
) -> list[tuple[PlannedReservation, ...] | InsufficientStock]:
    """Reserve for many orders in one transaction (group commit for hot SKUs).

    ``plan_many`` then ``apply_plans`` for every order that could be planned: each
    order gets all its lines or an ``InsufficientStock`` of its own; the others are
    unaffected.
    """
    batch = plan_many(uow, commands)
    apply_plans(
        uow,
        batch,
        [i for i, o in enumerate(batch.outcomes) if not isinstance(o, InsufficientStock)],
    )
    return batch.outcomes


def _close(uow: UnitOfWork, reservations: Sequence[Reservation], *, consume: bool) -> None:
    status = ReservationStatus.CONSUMED if consume else ReservationStatus.RELEASED
    for reservation in reservations:
        if not repository.change_reserved(
            uow.session, reservation.sku, reservation.warehouse_id, -reservation.quantity
        ):
            raise Conflict(
                InventoryError.NOTHING_RESERVED,
                f"{reservation.sku}: reservation bookkeeping is inconsistent",
            )
        reservation.status = status
        reservation.closed_at = uow.now()


def keep(uow: UnitOfWork, reference: str) -> int:
    """Paid: hold the stock for ``reference`` until it ships or is released (no expiry)."""
    return repository.clear_expiry(uow.session, reference)


def release(uow: UnitOfWork, reference: str) -> list[Reservation]:
    """Give back everything still held for ``reference`` (cancel, close, expiry)."""
    reservations = list(repository.active_reservations(uow.session, reference))
    _close(uow, reservations, consume=False)
    return reservations


def consume(
    uow: UnitOfWork, reference: str, warehouse_id: int, lines: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Turn held stock into a sale when it ships from ``warehouse_id``.

    ``lines`` limits what ships (sku -> quantity); by default everything held
    there ships. Returns what was consumed per SKU.
    """
    held = repository.active_reservations(uow.session, reference, warehouse_id=warehouse_id)
    wanted = dict(lines) if lines is not None else None
    shipped: dict[str, int] = {}
    for reservation in held:
        quantity = reservation.quantity
        if wanted is not None:
            quantity = min(quantity, wanted.get(reservation.sku, 0))
            if quantity == 0:
                continue
            wanted[reservation.sku] -= quantity
        repository.change_reserved(uow.session, reservation.sku, warehouse_id, -quantity)
        post_movement(
            uow,
            sku=reservation.sku,
            warehouse_id=warehouse_id,
            kind=MovementKind.SALE,
            quantity=-quantity,
            reason="shipped",
            reference=reference,
        )
        if quantity == reservation.quantity:
            reservation.status = ReservationStatus.CONSUMED
            reservation.closed_at = uow.now()
        else:
            reservation.quantity -= quantity
        shipped[reservation.sku] = shipped.get(reservation.sku, 0) + quantity
    if wanted is not None and any(q > 0 for q in wanted.values()):
        missing = {sku: q for sku, q in wanted.items() if q > 0}
        raise Conflict(
            InventoryError.NOTHING_RESERVED,
            f"not held in this warehouse for {reference}: {missing}",
            details={"missing": missing},
        )
    return shipped


def restock(
    uow: UnitOfWork,
    *,
    reference: str,
    warehouse_id: int,
    sku: str,
    quantity: int,
    reason: str = "customer return",
) -> int:
    """Returned goods back on the shelf."""
    ensure_level(uow, sku, warehouse_id)
    return post_movement(
        uow,
        sku=sku,
        warehouse_id=warehouse_id,
        kind=MovementKind.RETURN,
        quantity=quantity,
        reason=reason,
        reference=reference,
    )


def release_expired(uow: UnitOfWork, *, limit: int = 500) -> int:
    """Scheduled job: release reservations past their expiry."""
    expired = list(repository.expired_reservations(uow.session, uow.now(), limit))
    for reservation in expired:
        uow.emit(
            ReservationExpired(
                reservation.reference,
                reservation.sku,
                reservation.warehouse_id,
                reservation.quantity,
            )
        )
    _close(uow, expired, consume=False)
    return len(expired)
