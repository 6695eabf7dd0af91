"""Composition root: builds every long-lived object from Settings, in one place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shopops import models
from shopops.adapters.carriers import Carrier, make_carrier
from shopops.adapters.payments import PaymentGateway, gateway_from_settings
from shopops.analytics import customers as customer_analytics
from shopops.analytics import engines as analytics_engines
from shopops.analytics.refresh import BackgroundRefresher
from shopops.auth.token_cache import TokenCache, clear_on_access_changes
from shopops.batching import GroupCommitter
from shopops.config import Settings, get_settings
from shopops.contexts import (
    fulfilment,
    group_buying,
    inventory,
    loyalty,
    orders,
    returns,
    webhooks,
)
from shopops.db.engine import make_engine, make_session_factory
from shopops.kernel.errors import DomainError
from shopops.kernel.events import Actor
from shopops.kernel.pii import PiiCipher
from shopops.kernel.time import Clock, SystemClock
from shopops.relay import HandlerRegistry, OutboxRelay
from shopops.scheduler import Job, Scheduler
from shopops.uow import UnitOfWork

UowJob = Callable[[UnitOfWork], object]

# (name, period, use case run in its own unit of work as the system)
SCHEDULED_JOBS: list[tuple[str, timedelta, UowJob]] = [
    (
        "inventory.release_expired_reservations",
        timedelta(minutes=1),
        lambda uow: inventory.release_expired(uow),
    ),
    ("orders.close_unpaid", timedelta(minutes=1), lambda uow: orders.close_unpaid(uow)),
    (
        "fulfilment.complete_delivered",
        timedelta(hours=1),
        lambda uow: fulfilment.complete_delivered(uow),
    ),
    ("loyalty.expire_points", timedelta(hours=1), lambda uow: loyalty.expire_due(uow)),
    ("loyalty.recalculate_tiers", timedelta(days=1), lambda uow: loyalty.recalculate_tiers(uow)),
    (
        "analytics.refresh_segments",
        timedelta(hours=1),
        lambda uow: customer_analytics.refresh_all(uow),
    ),
]

# Jobs that call an outside service (carrier, gateway) get the container and open their own
# short units of work around the call, so that no network call happens inside a transaction.
CONTAINER_JOBS: list[tuple[str, timedelta, Callable[[Container], object]]] = [
    (
        "fulfilment.poll_tracking",
        timedelta(minutes=10),
        lambda c: fulfilment.poll_tracking(
            partial(c.uow, Actor.system("job:fulfilment.poll_tracking")), c.carrier
        ),
    ),
    (
        "payments.retry_stuck_refunds",
        timedelta(minutes=1),
        lambda c: orders.retry_stuck_refunds(
            partial(c.uow, Actor.system("job:payments.retry_stuck_refunds")), c.payment_gateway
        ),
    ),
    (
        "group_buying.expire_groups",
        timedelta(minutes=1),
        lambda c: group_buying.expire_groups(
            partial(c.uow, Actor.system("job:group_buying.expire_groups")), c.payment_gateway
        ),
    ),
    # Reads the database and writes the DuckDB store: no unit of work, no transaction held.
    ("analytics.refresh", timedelta(seconds=5), lambda c: analytics_engines.refresh(c.settings)),
]

# Each context with event handlers exposes ``register(registry)`` in its handlers.py.
HANDLER_REGISTRATIONS: list[Callable[[HandlerRegistry], None]] = [
    webhooks.register_handlers,
    returns.register_handlers,
    loyalty.register_handlers,
    orders.register_handlers,
    group_buying.register_handlers,
]


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
    carrier: Carrier = field(init=False)
    payment_gateway: PaymentGateway = field(init=False)
    token_cache: TokenCache = field(init=False)  # bearer token -> actor, for a few seconds
    _order_placer: GroupCommitter[orders.PlacementRequest, orders.PlacedOrder] | None = field(
        init=False, default=None
    )
    _analytics_refresher: BackgroundRefresher | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.relay = self.make_relay()
        self.carrier = make_carrier(
            self.settings.carrier_backend,
            production=self.settings.env == "production",
            clock=self.clock,
        )
        self.payment_gateway = gateway_from_settings(self.settings, self.clock)
        self.token_cache = TokenCache(self.settings.api_token_cache_seconds)
        clear_on_access_changes(self.session_factory, self.token_cache)

    def make_scheduler(self, owner: str) -> Scheduler:
        scheduler = Scheduler(self.session_factory, self.clock, owner)
        for name, every, use_case in SCHEDULED_JOBS:
            scheduler.add(Job(name, every, self._job_runner(name, use_case)))
        for name, every, container_job in CONTAINER_JOBS:
            scheduler.add(Job(name, every, partial(container_job, self)))
        return scheduler

    def _job_runner(self, name: str, use_case: UowJob) -> Callable[[], object]:
        def run() -> object:
            with self.uow(Actor.system(f"job:{name}")) as uow:
                result = use_case(uow)
                uow.commit()
                return result

        return run

    @property
    def order_placer(self) -> GroupCommitter[orders.PlacementRequest, orders.PlacedOrder]:
        """Concurrent checkouts share transactions (see ``shopops.batching``)."""
        if self._order_placer is None:
            self._order_placer = GroupCommitter(self._place_batch, name="order-placer")
        return self._order_placer

    def _place_batch(
        self, requests: Sequence[orders.PlacementRequest]
    ) -> list[orders.PlacedOrder | DomainError]:
        with self.uow(Actor.system("checkout")) as uow:
            results = orders.place_orders(uow, requests)
            uow.commit()
        return results

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
        if self.settings.refreshes_analytics_on_commit:
            on_commit = self._after_commit
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

    def _after_commit(self) -> None:
        """Inline outbox drain (if on), then a nudge to the analytics refresh thread."""
        if self.settings.drains_inline:
            self.relay.drain()
        if self._analytics_refresher is None:
            self._analytics_refresher = BackgroundRefresher(
                partial(analytics_engines.refresh, self.settings)
            )
        self._analytics_refresher.poke()

    def dispose(self) -> None:
        if self._order_placer is not None:
            self._order_placer.close()
        if self._analytics_refresher is not None:
            self._analytics_refresher.close()
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
