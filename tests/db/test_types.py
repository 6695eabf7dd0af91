"""Column types and connection setup, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from shopops.audit.models import AuditEntry
from shopops.auth.models import ApiToken
from shopops.bootstrap import Container
from shopops.db.types import UTCDateTime
from shopops.kernel.events import Actor

PLUS_8 = timezone(timedelta(hours=8))

_metadata = MetaData()
moments = Table(
    "test_utc_moments",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("moment", UTCDateTime()),
)


@pytest.fixture
def moments_table(container: Container) -> Iterator[Engine]:
    engine = container.engine
    _metadata.create_all(engine)
    yield engine
    _metadata.drop_all(engine)


def test_stores_utc_and_returns_aware_utc(moments_table: Engine) -> None:
    local = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=PLUS_8)
    with moments_table.begin() as connection:
        connection.execute(insert(moments).values(id=1, moment=local))
    with moments_table.connect() as connection:
        value = connection.execute(select(moments.c.moment).where(moments.c.id == 1)).scalar_one()
        if moments_table.dialect.name == "sqlite":
            stored = connection.execute(
                text("SELECT moment FROM test_utc_moments WHERE id = 1")
            ).scalar_one()
        else:
            stored = connection.execute(
                text(
                    "SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') "
                    "FROM test_utc_moments WHERE id = 1"
                )
            ).scalar_one()
    assert value == local  # the same instant
    assert value.tzinfo is UTC
    assert value == datetime(2026, 3, 1, 2, 30, 15, 123456, tzinfo=UTC)
    assert stored == "2026-03-01 02:30:15.123456"  # UTC wall time in the database


def test_comparisons_use_the_instant(moments_table: Engine) -> None:
    base = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    with moments_table.begin() as connection:
        for index, minutes in enumerate((-1, 0, 1), start=1):
            connection.execute(
                insert(moments).values(id=index, moment=base + timedelta(minutes=minutes))
            )
    # 10:00+08:00 is 02:00Z: "at or after" must find the 02:00 and 02:01 rows.
    with moments_table.connect() as connection:
        ids = connection.execute(
            select(moments.c.id)
            .where(moments.c.moment >= datetime(2026, 3, 1, 10, 0, tzinfo=PLUS_8))
            .order_by(moments.c.id)
        ).scalars()
        assert list(ids) == [2, 3]


def test_null_round_trips(moments_table: Engine) -> None:
    with moments_table.begin() as connection:
        connection.execute(insert(moments).values(id=1, moment=None))
        assert connection.execute(select(moments.c.moment)).scalar_one() is None


def test_naive_datetime_refused(moments_table: Engine) -> None:
    with moments_table.begin() as connection, pytest.raises(StatementError) as caught:
        connection.execute(insert(moments).values(id=1, moment=datetime(2026, 3, 1, 10, 30)))
    assert isinstance(caught.value.orig, ValueError)
    assert "naive" in str(caught.value.orig)


def test_mapped_models_return_aware_utc(container: Container) -> None:
    local = datetime(2026, 5, 4, 23, 0, tzinfo=PLUS_8)
    with container.uow(Actor.system("test")) as uow:
        uow.session.add(
            AuditEntry(
                occurred_at=local,
                actor_kind="system",
                actor_id=None,
                actor_name="test",
                action="x.done",
                entity_type="x",
                entity_id="1",
                changes={},
                request_id=None,
            )
        )
        uow.commit()
    with container.session_factory() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.occurred_at == datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
        assert entry.occurred_at.tzinfo is UTC


def test_sqlite_connection_pragmas(container: Container, db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("SQLite pragmas")
    with container.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000


def test_foreign_keys_are_enforced(container: Container) -> None:
    with container.session_factory() as session:
        session.add(ApiToken(user_id=424242, name="orphan", prefix="p", token_hash="h", scopes=[]))
        with pytest.raises(IntegrityError):
            session.commit()
