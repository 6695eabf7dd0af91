"""Fixtures for the webhooks tests: a frozen clock, a loopback receiver, test events,
subscriptions and dispatchers on the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from shopops.bootstrap import Container
from shopops.contexts import webhooks
from shopops.contexts.webhooks.models import WebhookAttempt, WebhookMessage
from shopops.db.outbox import OutboxEvent
from shopops.kernel.events import Actor, Event
from shopops.kernel.time import FrozenClock
from tests.conftest import ContainerFactory
from tests.webhooks.receiver import Receiver

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")
# Short, fixed retry delays: 4 attempts in all, then the message is dead.
SCHEDULE = (timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40))


@dataclass(frozen=True)
class OrderPlaced(Event):
    event_type: ClassVar[str] = "order.placed"
    aggregate: ClassVar[str] = "order"
    id_field: ClassVar[str] = "order_id"

    order_id: int
    total_minor: int = 1250


@dataclass(frozen=True)
class OrderPaid(Event):
    event_type: ClassVar[str] = "order.paid"
    aggregate: ClassVar[str] = "order"
    id_field: ClassVar[str] = "order_id"

    order_id: int


@dataclass(frozen=True)
class StockLow(Event):
    event_type: ClassVar[str] = "stock.low"
    aggregate: ClassVar[str] = "sku"
    id_field: ClassVar[str] = "sku"

    sku: str
    available: int = 2


@dataclass(frozen=True)
class CustomerRegistered(Event):
    """Not in the webhook catalogue."""

    event_type: ClassVar[str] = "customer.registered"
    aggregate: ClassVar[str] = "customer"

    id: int


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def container(make_container: ContainerFactory, clock: FrozenClock) -> Container:
    return make_container(clock=clock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def emit(container: Container, *events: Event) -> list[int]:
    """Commit the events (the in-process relay fans them out); returns their outbox ids."""
    with container.session_factory() as session:
        last = session.scalar(select(func.max(OutboxEvent.id))) or 0
    with container.uow(SYSTEM) as uow:
        for event in events:
            uow.emit(event)
        uow.commit()
    with container.session_factory() as session:
        stmt = select(OutboxEvent.id).where(OutboxEvent.id > last).order_by(OutboxEvent.id)
        return list(session.scalars(stmt))


def subscribe(
    container: Container, url: str, *event_types: str, is_active: bool = True
) -> tuple[int, str]:
    """Create a subscription as the system; returns (id, secret)."""
    with container.uow(SYSTEM) as uow:
        created = webhooks.create_subscription(
            uow, webhooks.CreateSubscription(url, tuple(event_types), is_active=is_active)
        )
        uow.commit()
    return created.subscription.id, created.secret


def messages(container: Container, **where: Any) -> list[WebhookMessage]:
    with container.session_factory() as session:
        stmt = select(WebhookMessage).filter_by(**where).order_by(WebhookMessage.id)
        return list(session.scalars(stmt))


def attempts(container: Container, message_id: int) -> list[WebhookAttempt]:
    with container.session_factory() as session:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.message_id == message_id)
            .order_by(WebhookAttempt.number)
        )
        return list(session.scalars(stmt))


DispatcherFactory = Callable[..., webhooks.WebhookDispatcher]


@pytest.fixture
def make_dispatcher() -> Iterator[DispatcherFactory]:
    made: list[webhooks.WebhookDispatcher] = []

    def factory(container: Container, **options: Any) -> webhooks.WebhookDispatcher:
        settings: dict[str, Any] = {
            "worker_id": "test-worker",
            "lease_seconds": 30.0,
            "timeout_seconds": 5.0,
            "retry_schedule": SCHEDULE,
            "jitter": 0.0,
        }
        settings.update(options)
        dispatcher = webhooks.WebhookDispatcher(
            container.session_factory, container.clock, container.pii, **settings
        )
        made.append(dispatcher)
        return dispatcher

    yield factory
    for dispatcher in made:
        dispatcher.close()
