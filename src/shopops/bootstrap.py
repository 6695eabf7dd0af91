"""Composition root: builds every long-lived object from Settings, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shopops import models
from shopops.config import Settings, get_settings
from shopops.db.engine import make_engine, make_session_factory
from shopops.kernel.events import Actor
from shopops.kernel.pii import PiiCipher
from shopops.kernel.time import Clock, SystemClock
from shopops.relay import HandlerRegistry, OutboxRelay
from shopops.uow import UnitOfWork

# Each context with event handlers exposes ``register(registry)`` in its handlers.py.
HANDLER_REGISTRATIONS: list[Callable[[HandlerRegistry], None]] = []


metadata = models.Base.metadata


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    pii: PiiCipher
    handlers: HandlerRegistry
    relay: OutboxRelay = field(init=False)

    def __post_init__(self) -> None:
        self.relay = self.make_relay()

    def make_relay(self, worker_id: str | None = None) -> OutboxRelay:
        return OutboxRelay(
            self.session_factory,
            self.handlers,
            lambda actor: self.uow(actor),
            self.clock,
            max_attempts=self.settings.outbox_max_attempts,
            backoff_seconds=self.settings.outbox_backoff_seconds,
            lease_seconds=self.settings.outbox_lease_seconds,
            worker_id=worker_id,
        )

    def uow(self, actor: Actor, request_id: str | None = None) -> UnitOfWork:
        on_commit: Callable[[], None] | None = None
        if self.settings.drains_inline:
            on_commit = self._drain_inline
        return UnitOfWork(
            self.session_factory,
            actor=actor,
            clock=self.clock,
            pii=self.pii,
            subscribers=self.handlers.handler_names_for,
            on_commit=on_commit,
            request_id=request_id,
            settings=self.settings,
        )

    def _drain_inline(self) -> None:
        self.relay.drain()

    def dispose(self) -> None:
        self.engine.dispose()


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    extra_handlers: Callable[[HandlerRegistry], None] | None = None,
) -> Container:
    settings = settings or get_settings()
    engine = make_engine(
        settings.database_url, echo=settings.database_echo, pool_size=settings.database_pool_size
    )
    registry = HandlerRegistry()
    for register in HANDLER_REGISTRATIONS:
        register(registry)
    if extra_handlers is not None:
        extra_handlers(registry)
    return Container(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        pii=PiiCipher(settings.pii_key),
        handlers=registry,
    )
