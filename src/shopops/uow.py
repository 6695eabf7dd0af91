"""Unit of work: one database transaction per command, with its events and audit rows.

Services receive a UnitOfWork, change state through ``uow.session``, record
what happened with ``uow.emit`` and ``uow.audit``, and never commit. The
entrypoint commits once; events go to the outbox in that same transaction, and
after the commit the ``on_commit`` hook (the in-process outbox drain in
development and tests) runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shopops.audit import record_entry
from shopops.db.outbox import OutboxDelivery, OutboxEvent
from shopops.kernel.errors import PermissionDenied
from shopops.kernel.events import Actor, Event
from shopops.kernel.pii import PiiCipher
from shopops.kernel.time import Clock

Subscribers = Callable[[str], Sequence[str]]


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
        self._events: list[Event] = []
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
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()  # no-op after commit; discards everything otherwise
        finally:
            session.close()
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
        self._events.append(event)

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str | int,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        record_entry(
            self.session,
            actor=self.actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            request_id=self.request_id,
            occurred_at=self.now(),
        )

    def _write_outbox(self) -> int:
        if not self._events:
            return 0
        session = self.session
        rows: list[tuple[OutboxEvent, Sequence[str]]] = []
        for event in self._events:
            row = OutboxEvent(
                event_type=event.event_type,
                aggregate_type=event.aggregate,
                aggregate_id=event.aggregate_id,
                payload=event.payload(),
                actor=self.actor.label,
                request_id=self.request_id,
                occurred_at=self.now(),
            )
            session.add(row)
            rows.append((row, self._subscribers(event.event_type)))
        session.flush()
        now = self.now()
        for row, handlers in rows:
            for handler in handlers:
                session.add(OutboxDelivery(event_id=row.id, handler=handler, next_attempt_at=now))
        count = len(self._events)
        self._events = []
        return count

    def commit(self) -> None:
        written = self._write_outbox()
        self.session.commit()
        self.committed_events += written
        if self._on_commit is not None:
            self._on_commit()

    def rollback(self) -> None:
        self._events = []
        self.session.rollback()


UnitOfWorkFactory = Callable[..., UnitOfWork]
