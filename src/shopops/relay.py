"""The outbox relay: runs registered handlers for committed events, after the commit.

Each (event, handler) pair is a delivery row. A relay claims ready deliveries
with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on
SQLite), runs the handler inside a fresh unit of work, and marks the delivery
done in that same transaction only if it still holds the lease: the handler's
writes and the "done" mark commit together or not at all, so a handler takes
effect once per event even with several workers. Failures are retried with
exponential backoff and dead-lettered after ``max_attempts``.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shopops.db.outbox import DeliveryStatus, OutboxDelivery, OutboxEvent
from shopops.kernel.errors import Conflict, NotFound
from shopops.kernel.events import Actor
from shopops.kernel.time import Clock
from shopops.uow import DeliveredEvent, Handler, UnitOfWork

log = logging.getLogger("shopops.relay")


ALL_EVENTS = "*"


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._subscriptions: dict[str, list[str]] = {}

    def register(self, name: str, event_types: Sequence[str], handler: Handler) -> None:
        if name in self._handlers:
            raise ValueError(f"handler '{name}' is already registered")
        self._handlers[name] = handler
        for event_type in event_types:
            self._subscriptions.setdefault(event_type, []).append(name)

    def handler_names_for(self, event_type: str) -> list[str]:
        # Each handler once, even if subscribed to the type and to "*": one delivery per
        # (event, handler) is also what the outbox's unique constraint demands.
        names = [
            *self._subscriptions.get(event_type, []),
            *self._subscriptions.get(ALL_EVENTS, []),
        ]
        return list(dict.fromkeys(names))

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._handlers)


class OutboxRelay:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        registry: HandlerRegistry,
        uow_factory: Callable[[Actor], UnitOfWork],
        clock: Clock,
        *,
        max_attempts: int,
        backoff_seconds: float,
        lease_seconds: float,
        worker_id: str | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._registry = registry
        self._uow_factory = uow_factory
        self._clock = clock
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.lease_seconds = lease_seconds
        self.worker_id = worker_id or uuid.uuid4().hex[:16]
        self._draining = False

    def claim(self, batch_size: int) -> list[int]:
        now = self._clock.now()
        with self._session_factory() as session, session.begin():
            stmt = (
                select(OutboxDelivery.id)
                .where(
                    OutboxDelivery.status == DeliveryStatus.PENDING,
                    OutboxDelivery.next_attempt_at <= now,
                    (OutboxDelivery.lease_expires_at.is_(None))
                    | (OutboxDelivery.lease_expires_at < now),
                )
                .order_by(OutboxDelivery.id)
                .limit(batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ids = list(session.scalars(stmt))
            if ids:
                session.execute(
                    update(OutboxDelivery)
                    .where(OutboxDelivery.id.in_(ids))
                    .values(
                        lease_owner=self.worker_id,
                        lease_expires_at=now + timedelta(seconds=self.lease_seconds),
                    )
                )
        return ids

    def process(self, delivery_id: int) -> str:
        """Run one claimed delivery; returns the resulting status."""
        with self._session_factory() as session:
            row = session.execute(
                select(OutboxDelivery, OutboxEvent)
                .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
                .where(OutboxDelivery.id == delivery_id)
            ).one_or_none()
            if row is None:
                return "missing"
            delivery, event_row = row
            if delivery.status != DeliveryStatus.PENDING or delivery.lease_owner != self.worker_id:
                # Done, dead, never claimed, or re-claimed by another worker after our
                # lease expired: running the handler now would repeat its side effects.
                return "lease_lost"
            handler_name = delivery.handler
            event = DeliveredEvent(
                id=event_row.id,
                event_type=event_row.event_type,
                aggregate_type=event_row.aggregate_type,
                aggregate_id=event_row.aggregate_id,
                payload=dict(event_row.payload),
                occurred_at=event_row.occurred_at,
            )
        handler = self._registry.get(handler_name)
        try:
            if handler is None:
                raise LookupError(f"no handler named '{handler_name}' is registered")
            with self._uow_factory(Actor.system(f"outbox:{handler_name}")) as uow:
                handler(uow, event)
                finished = uow.session.execute(
                    update(OutboxDelivery)
                    .where(
                        OutboxDelivery.id == delivery_id,
                        OutboxDelivery.lease_owner == self.worker_id,
                        OutboxDelivery.status == DeliveryStatus.PENDING,
                    )
                    .values(
                        status=DeliveryStatus.DONE,
                        completed_at=self._clock.now(),
                        lease_owner=None,
                        lease_expires_at=None,
                        attempts=OutboxDelivery.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
                if finished.rowcount != 1:  # type: ignore[attr-defined]
                    uow.rollback()
                    return "lease_lost"
                uow.commit()
            return DeliveryStatus.DONE
        except Exception as exc:
            log.warning("handler %s failed on event %s: %s", handler_name, event.id, exc)
            return self._record_failure(delivery_id, exc)

    def _record_failure(self, delivery_id: int, exc: BaseException) -> str:
        now = self._clock.now()
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        with self._session_factory() as session, session.begin():
            delivery = session.get(OutboxDelivery, delivery_id)
            if delivery is None or delivery.lease_owner != self.worker_id:
                return "lease_lost"
            delivery.attempts += 1
            delivery.last_error = detail
            delivery.lease_owner = None
            delivery.lease_expires_at = None
            if delivery.attempts >= self.max_attempts:
                delivery.status = DeliveryStatus.DEAD
            else:
                delay = self.backoff_seconds * (2 ** (delivery.attempts - 1))
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            return delivery.status

    def run_once(self, batch_size: int = 50) -> int:
        ids = self.claim(batch_size)
        for delivery_id in ids:
            self.process(delivery_id)
        return len(ids)

    def drain(self, max_rounds: int = 100) -> int:
        """Process ready deliveries until none are left (used in-process after commits)."""
        if self._draining:
            return 0  # a handler's own commit: the outer loop picks its events up
        self._draining = True
        try:
            total = 0
            for _ in range(max_rounds):
                processed = self.run_once()
                total += processed
                if processed == 0:
                    break
            return total
        finally:
            self._draining = False


def list_deliveries(
    session: Session,
    *,
    status: str | None = None,
    handler: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[tuple[OutboxDelivery, OutboxEvent]]:
    stmt = (
        select(OutboxDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .order_by(OutboxDelivery.id)
        .limit(limit)
    )
    if status:
        stmt = stmt.where(OutboxDelivery.status == status)
    if handler:
        stmt = stmt.where(OutboxDelivery.handler == handler)
    if after_id is not None:
        stmt = stmt.where(OutboxDelivery.id > after_id)
    return [(d, e) for d, e in session.execute(stmt)]


def retry_dead_letter(uow: UnitOfWork, delivery_id: int) -> OutboxDelivery:
    """Put a dead-lettered delivery back in the queue with a fresh attempt budget."""
    uow.require("outbox.manage")
    delivery = uow.session.get(OutboxDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("outbox.delivery_not_found", f"delivery {delivery_id} does not exist")
    if delivery.status != DeliveryStatus.DEAD:
        raise Conflict(
            "outbox.not_dead_lettered",
            f"delivery {delivery_id} is {delivery.status}; only dead letters can be retried",
        )
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = uow.now()
    uow.audit(
        "outbox.dead_letter_retried",
        "outbox_delivery",
        delivery.id,
        before=before,
        after={"status": delivery.status, "attempts": 0},
    )
    return delivery
