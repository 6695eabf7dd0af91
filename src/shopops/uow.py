"""Unit of work: one database transaction per command, with its events and audit rows.

Services receive a UnitOfWork, change state through ``uow.session``, record
what happened with ``uow.emit`` and ``uow.audit``, and never commit. The
entrypoint commits once; events go to the outbox in that same transaction, and
after the commit the ``on_commit`` hook (the in-process outbox drain in
development and tests) runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from shopops.audit import AuditEntry, entry_row
from shopops.db.bulk import reserve_ids, write_tables
from shopops.db.outbox import OutboxDelivery, OutboxEvent
from shopops.kernel.errors import PermissionDenied
from shopops.kernel.events import Actor, Event
from shopops.kernel.pii import PiiCipher
from shopops.kernel.time import Clock

Subscribers = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class DeliveredEvent:
    """What an outbox handler receives: the committed event as stored in the outbox."""

    id: int
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime


Handler = Callable[["UnitOfWork", DeliveredEvent], None]


class HandlerRegistrar(Protocol):
    """Where contexts subscribe handlers (``shopops.relay.HandlerRegistry``)."""

    def register(self, name: str, event_types: Sequence[str], handler: Handler) -> None: ...


class UnitOfWork:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        actor: Actor,
        clock: Clock,
        pii: PiiCipher,
        subscribers: Subscribers,
        on_commit: Callable[[], None] | None = None,
        request_id: str | None = None,
        settings: Any = None,
    ) -> None:
        self._session_factory = session_factory
        self.actor = actor
        self.clock = clock
        self.pii = pii
        self.settings = settings
        self.request_id = request_id
        self._subscribers = subscribers
        self._on_commit = on_commit
        self._events: list[tuple[Event, str, str | None]] = []
        self._audit_rows: list[dict[str, Any]] = []
        self._pending_rows: list[tuple[Table, Sequence[Mapping[str, Any]]]] = []
        self._flushed_events = 0
        self._session: Session | None = None
        self.committed_events = 0

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its 'with' block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self._events = []
        self._audit_rows = []
        self._pending_rows = []
        self._flushed_events = 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed but, unlike rollback(), leaves
        # the objects already loaded readable, so callers may build responses after
        # the block.
        self._events = []
        self._audit_rows = []
        self._pending_rows = []
        self.session.close()
        self._session = None

    def now(self) -> datetime:
        return self.clock.now()

    def require(self, permission: str) -> None:
        if not self.actor.can(permission):
            raise PermissionDenied(
                "auth.permission_denied",
                f"{self.actor.name} lacks the '{permission}' permission",
                details={"permission": str(permission)},
            )

    def emit(self, event: Event) -> None:
        self._events.append((event, self.actor.label, self.request_id))

    @contextmanager
    def acting_as(self, actor: Actor, request_id: str | None = None) -> Iterator[None]:
        """Record what follows under another principal (one batch, many callers)."""
        saved = self.actor, self.request_id
        self.actor, self.request_id = actor, request_id
        try:
            yield
        finally:
            self.actor, self.request_id = saved

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo what the block wrote if it raises — rows, events and audit entries alike —
        and keep the rest of the transaction (one order of a batch fails alone)."""
        # A flush inside the block swaps in new lists and writes the old ones' items (the
        # savepoint undoes those rows): keeping the old lists puts every item back.
        events, audit_rows, pending = self._events, self._audit_rows, self._pending_rows
        counts = len(events), len(audit_rows), self._flushed_events, len(pending)
        nested = self.session.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del events[counts[0] :], audit_rows[counts[1] :], pending[counts[3] :]
            self._events, self._audit_rows, self._flushed_events = events, audit_rows, counts[2]
            self._pending_rows = pending
            raise
        nested.commit()

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str | int,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self._audit_rows.append(
            entry_row(
                actor=self.actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                before=before,
                after=after,
                request_id=self.request_id,
                occurred_at=self.now(),
            )
        )

    def insert_later(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue plain rows for the next flush, which writes them before the audit and
        outbox rows, all in one round trip (see ``db.bulk.write_tables``).

        For hot paths' rows that nothing reads back before the flush, and that no ORM
        object of this unit of work refers to (the ORM flush runs first). Rows keep the
        order in which they were queued, so parents go before their children.
        """
        if rows:
            self._pending_rows.append((table, rows))

    def _outbox_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        """Rows for the pending events and their handler deliveries (keys reserved)."""
        if not self._events:
            return [], [], 0
        session = self.session
        now = self.now()
        ids = reserve_ids(session, OutboxEvent.__table__, len(self._events))  # type: ignore[arg-type]
        event_rows: list[dict[str, Any]] = []
        delivery_rows: list[dict[str, Any]] = []
        for event_id, (event, actor_label, request_id) in zip(ids, self._events, strict=True):
            event_rows.append(
                {
                    "id": event_id,
                    "event_type": event.event_type,
                    "aggregate_type": event.aggregate,
                    "aggregate_id": event.aggregate_id,
                    "payload": event.payload(),
                    "actor": actor_label,
                    "request_id": request_id,
                    "occurred_at": now,
                }
            )
            delivery_rows.extend(
                {
                    "event_id": event_id,
                    "handler": handler,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for handler in self._subscribers(event.event_type)
            )
        count = len(self._events)
        self._events = []
        return event_rows, delivery_rows, count

    def flush(self) -> None:
        """Write pending changes, audit rows and events into the open transaction now.

        Long use cases (bulk imports) call this between batches so memory stays
        flat; nothing is committed, and a rollback still discards all of it.
        """
        self.session.flush()
        tables = list(self._pending_rows)
        self._pending_rows = []  # a new list: a savepoint may hold on to the old one
        tables.append((AuditEntry.__table__, self._audit_rows))  # type: ignore[arg-type]
        self._audit_rows = []
        event_rows, delivery_rows, count = self._outbox_rows()
        tables.append((OutboxEvent.__table__, event_rows))  # type: ignore[arg-type]
        tables.append((OutboxDelivery.__table__, delivery_rows))  # type: ignore[arg-type]
        write_tables(self.session, tables)
        self._flushed_events += count

    def commit(self) -> None:
        self.flush()
        written, self._flushed_events = self._flushed_events, 0
        self.session.commit()
        self.committed_events += written
        if self._on_commit is not None:
            self._on_commit()

    def rollback(self) -> None:
        self._events = []
        self._audit_rows = []
        self._pending_rows = []
        self._flushed_events = 0
        self.session.rollback()


UnitOfWorkFactory = Callable[..., UnitOfWork]
