"""Shared fixtures: a real database (SQLite or PostgreSQL), a container, API clients.

Choose the database with ``--db sqlite`` (default) or ``--db postgresql``; the
PostgreSQL server URL comes from ``SHOPOPS_TEST_PG_URL``. Each xdist worker gets
its own database; every test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text

from shopops.api.app import create_app
from shopops.auth.models import User
from shopops.auth.permissions import Permission, Role, permissions_for
from shopops.auth.principal import actor_for_user
from shopops.bootstrap import Container, build, metadata
from shopops.config import Settings
from shopops.console.site import create_site
from shopops.contexts import access
from shopops.kernel.events import Actor
from shopops.relay import HandlerRegistry

# No wall-clock deadlines (the machine is shared; speed is measured in bench/). In CI the
# examples are derandomized, so a submission sees the same cases on every run.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

PG_SERVER_URL = os.environ.get(
    "SHOPOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_PASSWORD = "correct horse battery"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("SHOPOPS_TEST_DB", "sqlite"),
        choices=["sqlite", "postgresql"],
        help="database to test against",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL")
    config.addinivalue_line(
        "markers", "sqlite_only: runs in the SQLite pass only (the browser tests, tests/e2e)"
    )


# Long tests that would otherwise be collected near the end, started first instead: xdist
# hands out tests in collection order, and the worker-kill test (10-20 s) collected last kept
# one worker busy while the other had run out of work. The other long ones (analytics,
# the stateful model, the demo) are collected early already. Order only: every test runs.
RUN_FIRST = (
    "tests/webhooks/test_worker_kill.py",
    "tests/outbox/test_two_workers.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests first; which tests run in which pass (see docs/postgresql.md).

    The SQLite pass skips ``postgres_only``. The PostgreSQL pass skips what cannot behave
    differently there: tests that never reach the test database (pure rules, properties,
    parsers: no ``db_kind`` among their fixtures, which every database fixture depends on),
    and the browser tests (``sqlite_only``: what they add over the console and API tests,
    which run on both, is the browser, not the database).
    """
    items.sort(key=lambda item: not item.nodeid.startswith(RUN_FIRST))  # stable
    if config.getoption("--db") == "postgresql":
        browser = pytest.mark.skip(
            reason="browser test: runs in the SQLite pass only (see docs/postgresql.md)"
        )
        no_database = pytest.mark.skip(
            reason="uses no database: runs in the SQLite pass only (see docs/postgresql.md)"
        )
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(browser)
            elif "db_kind" not in getattr(item, "fixturenames", ()):
                item.add_marker(no_database)
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only; run with --db postgresql")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


def _worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(db_kind: str) -> Iterator[str]:
    if db_kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="shopops-test-"))
        yield f"sqlite:///{directory / 'test.db'}"
        return
    # The pid keeps concurrent test runs on one server from dropping each other's database.
    name = f"shopops_test_{_worker_name()}_{os.getpid()}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # Tests need no crash durability; commits without waiting on the WAL flush are faster.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    base = PG_SERVER_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-0123456789abcdef0123",
        "pii_key": "test-pii-key-0123456789abcdef012345",
        "outbox_backoff_seconds": 0.01,
        "outbox_max_attempts": 3,
        # each container its own (lazily created) analytics store, never the repository's var/
        "analytics_store_path": str(
            Path(tempfile.gettempdir()) / f"shopops-analytics-{uuid.uuid4().hex}.duckdb"
        ),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def schema_engine(database_url: str) -> Iterator[Engine]:
    container = build(make_settings(database_url))
    metadata.create_all(container.engine)
    yield container.engine
    container.dispose()


def _truncate(engine: Engine) -> None:
    """Empty every table. DELETE, not TRUNCATE: on PostgreSQL, TRUNCATE of some fifty
    tiny tables costs most of a second per test, DELETE a few milliseconds."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f'DELETE FROM "{table}"'))
        if engine.dialect.name == "postgresql":  # ids start at 1 again, as on SQLite
            connection.execute(
                text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            )


ContainerFactory = Callable[..., Container]


@pytest.fixture
def make_container(database_url: str, schema_engine: Engine) -> Iterator[ContainerFactory]:
    """Build extra containers (other settings, extra handlers) on the test database."""
    built: list[Container] = []

    def factory(
        *,
        extra_handlers: Callable[[HandlerRegistry], None] | None = None,
        clock: object = None,
        **overrides: object,
    ) -> Container:
        container = build(
            make_settings(database_url, **overrides), extra_handlers=extra_handlers, clock=clock
        )  # type: ignore[arg-type]
        built.append(container)
        return container

    yield factory
    for container in built:
        container.dispose()
    _truncate(schema_engine)


@pytest.fixture
def container(make_container: ContainerFactory) -> Container:
    return make_container()


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("test")


@dataclass
class Staff:
    user: User
    actor: Actor
    token: str


StaffFactory = Callable[[Role | str], Staff]


@pytest.fixture
def make_staff(container: Container) -> StaffFactory:
    """Creates a user of a role and an API token carrying all that role's permissions."""
    counter = {"n": 0}

    def factory(role: Role | str) -> Staff:
        counter["n"] += 1
        role = Role(role)
        with container.uow(Actor.system("test")) as uow:
            user = access.create_user(
                uow,
                access.CreateUser(
                    f"{role.value}{counter['n']}@staff.example.com",
                    f"{role.value} {counter['n']}",
                    role.value,
                    TEST_PASSWORD,
                ),
            )
            uow.commit()
        actor = actor_for_user(user)
        issued = _issue_role_token(container, actor, role)
        return Staff(user, actor, issued.secret)

    return factory


# --- Applications lent to tests ---------------------------------------------------------
#
# Building the application is the dearest step of most API and console tests (FastAPI
# analyses every route's dependencies on each include_router: 0.3-1 s for the API, more for
# the console). The application holds no state of its own: everything it serves comes from
# ``app.state.container``. So each test process builds them as needed and lends them out,
# one client at a time, pointed at the borrowing test's container. An application comes
# back only as it was built (same routes, middleware, handlers, state); one a test changed
# (an extra route, an override) is dropped, never lent again.


_APP_BUILDERS: dict[str, Callable[[Container], FastAPI]] = {
    "api": create_app,  # the REST API
    "site": create_site,  # the API and the console
}


def _shape(app: FastAPI) -> tuple[Any, ...]:
    return (
        tuple(id(route) for route in app.router.routes),
        tuple(id(middleware) for middleware in app.user_middleware),
        tuple(app.exception_handlers.items()),
        tuple(app.dependency_overrides.items()),
        tuple(sorted(app.state._state)),
    )


class AppPool:
    def __init__(self) -> None:
        self._free: dict[str, list[FastAPI]] = {kind: [] for kind in _APP_BUILDERS}
        self._shapes: dict[int, tuple[Any, ...]] = {}

    def lend(self, kind: str, container: Container) -> FastAPI:
        free = self._free[kind]
        if free:
            app = free.pop()
        else:
            app = _APP_BUILDERS[kind](container)
            self._shapes[id(app)] = _shape(app)
        app.state.container = container
        return app

    def give_back(self, kind: str, app: FastAPI) -> None:
        app.openapi_schema = None  # built from the routes on demand; cheap to drop
        if _shape(app) == self._shapes.get(id(app)):
            self._free[kind].append(app)
        else:
            self._shapes.pop(id(app), None)


_APP_POOL = AppPool()

AppLender = Callable[[str, Container], FastAPI]


@pytest.fixture
def lend_app() -> Iterator[AppLender]:
    """``lend_app("api" | "site", container)``: an application serving ``container`` for this
    test (given back when the test ends)."""
    lent: list[tuple[str, FastAPI]] = []

    def lend(kind: str, container: Container) -> FastAPI:
        app = _APP_POOL.lend(kind, container)
        lent.append((kind, app))
        return app

    yield lend
    for kind, app in lent:
        _APP_POOL.give_back(kind, app)


@pytest.fixture
def app_client(container: Container, lend_app: AppLender) -> Iterator[TestClient]:
    with TestClient(lend_app("api", container)) as client:
        yield client


ClientFactory = Callable[[Role | str], TestClient]


@pytest.fixture
def client_as(
    container: Container, make_staff: StaffFactory, lend_app: AppLender
) -> Iterator[ClientFactory]:
    """An API client authenticated with a token for a fresh user of the given role."""
    clients: list[TestClient] = []

    def factory(role: Role | str) -> TestClient:
        staff = make_staff(role)
        client = TestClient(
            lend_app("api", container), headers={"Authorization": f"Bearer {staff.token}"}
        )
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def owner_client(client_as: ClientFactory) -> TestClient:
    return client_as(Role.OWNER)


ALL_PERMISSIONS = frozenset(str(p) for p in Permission)


# --- Helpers for tests that build their own container (other settings, a FrozenClock) ---

_staff_numbers = iter(range(1, 1_000_000))


def create_staff(container: Container, role: Role | str, *, email: str | None = None) -> Staff:
    """Like ``make_staff`` but on any container: a user of ``role`` and a full-role API token."""
    role = Role(role)
    number = next(_staff_numbers)
    with container.uow(Actor.system("test")) as uow:
        user = access.create_user(
            uow,
            access.CreateUser(
                email or f"{role.value}.{number}@staff.example.com",
                f"{role.value} {number}",
                role.value,
                TEST_PASSWORD,
            ),
        )
        uow.commit()
    actor = actor_for_user(user)
    issued = _issue_role_token(container, actor, role)
    return Staff(user, actor, issued.secret)


def _issue_role_token(container: Container, actor: Actor, role: Role) -> access.IssuedToken:
    """A token scoped to every permission of ``role``, for the user behind ``actor``.

    Only roles holding ``tokens.manage`` may issue tokens, so the test issues it
    with that one permission added; the token still grants no more than the
    user's role (scopes are intersected with the role at every request).
    """
    issuer = replace(actor, permissions=actor.permissions | {str(Permission.TOKENS_MANAGE)})
    with container.uow(issuer) as uow:
        issued = access.issue_token(
            uow, access.IssueToken("test", tuple(sorted(str(p) for p in permissions_for(role))))
        )
        uow.commit()
    return issued


@pytest.fixture
def staff_on() -> Callable[..., Staff]:
    """``staff_on(container, role, email=None)``: see ``create_staff``."""
    return create_staff


ClientOn = Callable[..., TestClient]


@pytest.fixture
def client_on(lend_app: AppLender) -> Iterator[ClientOn]:
    """``client_on(container, token=None, raise_server_exceptions=True)``: an API client."""
    clients: list[TestClient] = []

    def factory(
        container: Container, token: str | None = None, *, raise_server_exceptions: bool = True
    ) -> TestClient:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        client = TestClient(
            lend_app("api", container),
            headers=headers,
            raise_server_exceptions=raise_server_exceptions,
        )
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


CliInvoke = Callable[..., "CliResult"]


@pytest.fixture
def cli() -> Iterator[CliInvoke]:
    """``cli(container, "outbox", "list", ...)`` runs the `shopops` CLI against ``container``.

    The CLI's module-level state is pointed at the container for the call and
    restored afterwards. Domain errors are left in ``result.exception``. (Imported
    here, not at the top, so a broken CLI module fails only the tests that use it.)
    """
    from typer.testing import CliRunner

    from shopops.cli.context import state as cli_state
    from shopops.cli.main import app as cli_app

    runner = CliRunner()
    saved = (cli_state._container, cli_state.acting_as)

    def invoke(container: Container, *args: str) -> CliResult:
        cli_state.use(container)
        return runner.invoke(cli_app, list(args))

    yield invoke
    cli_state._container, cli_state.acting_as = saved


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Cheap argon2id parameters in tests (the defaults cost ~0.1-0.4 s per hash here).

    Still argon2id, still verified the same way: the parameters travel in the hash.
    """
    from argon2 import PasswordHasher

    from shopops.auth import secrets as auth_secrets

    production = auth_secrets._hasher, auth_secrets._DUMMY_HASH
    auth_secrets._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth_secrets._DUMMY_HASH = auth_secrets._hasher.hash("not-a-real-password")
    yield
    auth_secrets._hasher, auth_secrets._DUMMY_HASH = production


if TYPE_CHECKING:
    from click.testing import Result as CliResult
