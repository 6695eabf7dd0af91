"""The Alembic history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from tests.conftest import PG_SERVER_URL

from shopops.bootstrap import metadata
from shopops.db import migrate


@pytest.fixture
def empty_engine(db_kind: str) -> Iterator[Engine]:
    if db_kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="shopops-migrations-"))
        engine = create_engine(f"sqlite:///{directory / 'm.db'}")
        yield engine
        engine.dispose()
        return
    name = f"shopops_migrations_{os.getpid()}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(PG_SERVER_URL.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, metadata))


def test_upgrade_from_empty_matches_the_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert _differences(empty_engine) == []
    assert migrate.current_revision(empty_engine) is not None


def test_models_without_migration_are_detected(empty_engine: Engine) -> None:
    """The check itself can fail: a table the history lacks shows up as a difference."""
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(text("DROP TABLE scheduled_jobs"))
    differences = _differences(empty_engine)
    assert any("scheduled_jobs" in str(d) for d in differences)


def test_downgrade_to_base_removes_everything(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
