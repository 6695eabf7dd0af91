"""Helpers for the customers tests: actors per role, one-shot units of work, the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from shopops.cli.context import state
from shopops.cli.main import app
from shopops.contexts import customers
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from shopops.uow import UnitOfWork
from tests.conftest import ContainerFactory

R = TypeVar("R")

JANE = {"email": "jane.doe@example.com", "phone": "13812345678", "name": "Jane Doe"}
JANE_MASKED = {"email": "j***@example.com", "phone": "138****5678", "name": "J*** D**"}
HOME = customers.AddressInput(
    recipient="Jane Doe",
    line1="88 Century Avenue",
    line2="Apt 1203",
    phone="13812345678",
    city="Shanghai",
    region="Shanghai",
    postal_code="200120",
    country="CN",
    label="home",
)


NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def container(make_container: ContainerFactory, clock: FrozenClock) -> Container:
    """The shared container, on a frozen clock so times can be asserted exactly."""
    return make_container(clock=clock)


def role_actor(role: Role | str, user_id: int = 900) -> Actor:
    """An actor holding exactly the permissions of ``role`` (no user row needed)."""
    permissions = frozenset(str(p) for p in permissions_for(Role(role)))
    return Actor("user", user_id, f"{Role(role).value}@staff.example.com", permissions)


Run = Callable[..., Any]


@pytest.fixture
def run(container: Container) -> Run:
    """``run(actor, fn, command)``: one unit of work that commits when ``fn`` returns."""

    def call(actor: Actor, fn: Callable[[UnitOfWork, Any], R], command: Any) -> R:
        with container.uow(actor) as uow:
            result = fn(uow, command)
            uow.commit()
            return result

    return call


@pytest.fixture
def register(run: Run, system_actor: Actor) -> Callable[..., customers.CustomerView]:
    """Register a customer as the system (defaults: Jane with her home address)."""

    def call(**fields: Any) -> customers.CustomerView:
        values: dict[str, Any] = {**JANE, "addresses": (HOME,)}
        values.update(fields)
        return run(system_actor, customers.register_customer, customers.RegisterCustomer(**values))

    return call


def audit_count(container: Container) -> int:
    with container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


CliInvoke = Callable[..., Result]


@pytest.fixture
def run_cli(container: Container) -> Iterator[CliInvoke]:
    """``run_cli("customers", "show", "1", input=None)`` against the test container."""
    runner = CliRunner()
    saved = (state._container, state.acting_as)
    state.use(container)

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    yield invoke
    state._container, state.acting_as = saved
