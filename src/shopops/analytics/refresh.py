"""Incremental refresh of the analytics store from the operational database.

One refresh is one DuckDB transaction: readers see the store before or after it,
never half of it. Per source table a watermark (highest id, latest
``updated_at``) says where the last refresh stopped; rows are read with
SQLAlchemy in id order, in chunks, turned into Arrow tables and upserted
(delete by key, then insert). Children of moved parents (order lines of changed
orders) are replaced together with them. ``updated_at`` comes from the writing
process's clock and transactions commit in any order, so rows updated up to
``OVERLAP`` before the watermark are read again; re-reading is harmless.

The operational database is read in one snapshot (a deferred read transaction
on SQLite with WAL, REPEATABLE READ on PostgreSQL) through an engine of our
own: the application's SQLite engine takes the write lock at BEGIN, which a
reader must not do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, make_url

from shopops.analytics.sources import (
    DUCKDB_TYPES,
    TABLES,
    TABLES_BY_NAME,
    SourceTable,
    promotions_of,
)
from shopops.analytics.store import WATERMARKS, AnalyticsStore, create_schema, scalar
from shopops.db.types import UTCDateTime

log = logging.getLogger("shopops.analytics")

OVERLAP = timedelta(minutes=2)
CHUNK_ROWS = 50_000
# Columns read only to derive another table: orders.pricing -> order_promotions.
DERIVED_FROM: dict[str, tuple[str, str]] = {"orders": ("pricing", "order_promotions")}

_ARROW_TYPES = {"int": pa.int64(), "str": pa.string(), "bool": pa.bool_()}


@dataclass
class TableRefresh:
    table: str
    rows: int = 0


@dataclass
class RefreshReport:
    full: bool
    tables: list[TableRefresh] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        mode = "rebuilt" if self.full else "refreshed"
        return f"{mode}: {self.rows} rows in {self.seconds:.3f}s"


# --- the operational side ------------------------------------------------------------------

_read_engines: dict[str, Engine] = {}
_read_engines_guard = threading.Lock()


def read_engine(database_url: str) -> Engine:
    """An engine for consistent reads of the operational database (one per URL and process)."""
    with _read_engines_guard:
        engine = _read_engines.get(database_url)
        if engine is None:
            engine = _make_read_engine(database_url)
            _read_engines[database_url] = engine
        return engine


def _make_read_engine(database_url: str) -> Engine:
    if make_url(database_url).get_backend_name() == "sqlite":
        engine = sa.create_engine(
            database_url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")  # deferred: a snapshot, no write lock

        return engine
    return sa.create_engine(
        database_url,
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=True,
        isolation_level="REPEATABLE READ",
        connect_args={"options": "-c timezone=UTC"},
    )


def dispose_read_engines() -> None:
    with _read_engines_guard:
        for engine in _read_engines.values():
            engine.dispose()
        _read_engines.clear()


def _source(spec: SourceTable, extra: Sequence[str] = ()) -> sa.TableClause:
    return sa.table(spec.name, *[sa.column(c) for c in (*spec.column_names, *extra)])


def _changed(table: sa.TableClause, spec: SourceTable, mark: Watermark) -> sa.ColumnElement[bool]:
    if mark.max_id is None:
        return sa.true()
    newer = table.c.id > mark.max_id
    if spec.watermark == "updated" and mark.max_updated_at is not None:
        since = sa.bindparam("since", mark.max_updated_at - OVERLAP, type_=UTCDateTime())
        return sa.or_(newer, sa.column("updated_at", UTCDateTime()) >= since)
    return newer


def _chunks(connection: Connection, query: sa.Select[Any]) -> Iterator[Sequence[Any]]:
    """The query's rows in chunks, as the driver returns them (plain tuples, raw values).

    SQLAlchemy builds the statement (parameters rendered as literals of their
    column types) and owns the transaction; the rows come from a DB-API cursor of
    that connection (server-side on PostgreSQL), skipping per-value result
    processing: timestamps are parsed by Arrow and DuckDB a column at a time.
    """
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    assert driver is not None
    postgres = connection.dialect.name == "postgresql"
    cursor = driver.cursor(name="analytics_refresh") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows
    finally:
        cursor.close()


def to_arrow(spec: SourceTable, rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Rows in the spec's column order -> an Arrow table.

    Timestamps stay text when SQLite gives text (``_typed`` casts them in DuckDB,
    much faster than value by value) and become naive UTC when PostgreSQL gives
    aware datetimes.
    """
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in spec.columns]
    arrays = []
    for (_, kind), values in zip(spec.columns, columns, strict=True):
        if kind == "ts":
            sample = next((v for v in values if v is not None), None)
            if isinstance(sample, datetime):
                arrays.append(pc.cast(pa.array(values), pa.timestamp("us")))
            else:
                arrays.append(pa.array(values, pa.string()))
        else:
            arrays.append(pa.array(values, _ARROW_TYPES[kind]))
    return pa.Table.from_arrays(arrays, names=list(spec.column_names))


def _typed(con: duckdb.DuckDBPyConnection, spec: SourceTable, chunk: pa.Table) -> None:
    """Materialise ``chunk`` as the temp table ``_chunk`` with the store's column types."""
    columns = ", ".join(f'CAST("{c}" AS {DUCKDB_TYPES[k]}) AS "{c}"' for c, k in spec.columns)
    con.register("_raw", chunk)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _chunk AS SELECT {columns} FROM _raw")  # noqa: S608
    finally:
        con.unregister("_raw")


# --- watermarks ----------------------------------------------------------------------------


@dataclass
class Watermark:
    max_id: int | None = None
    max_updated_at: datetime | None = None
    rows_last: int = 0

    def advance(self, con: duckdb.DuckDBPyConnection, spec: SourceTable) -> None:
        """Move past the rows of the ``_chunk`` temp table."""
        if "id" not in spec.column_names:
            return
        latest = "max(updated_at)" if "updated_at" in spec.column_names else "NULL"
        top, moment = con.execute(f"SELECT max(id), {latest} FROM _chunk").fetchall()[0]  # noqa: S608
        if top is None:
            return
        self.max_id = top if self.max_id is None else max(self.max_id, top)
        if moment is not None:
            moment = moment.replace(tzinfo=UTC)
            if self.max_updated_at is None or moment > self.max_updated_at:
                self.max_updated_at = moment


def _load_watermarks(con: duckdb.DuckDBPyConnection) -> dict[str, Watermark]:
    rows = con.execute(f"SELECT table_name, max_id, max_updated_at FROM {WATERMARKS}").fetchall()  # noqa: S608
    return {
        name: Watermark(max_id, None if moment is None else moment.replace(tzinfo=UTC))
        for name, max_id, moment in rows
    }


def _save_watermark(
    con: duckdb.DuckDBPyConnection, table: str, mark: Watermark, moved: int, now: datetime
) -> None:
    total = scalar(con, f'SELECT count(*) FROM "{table}"')  # noqa: S608
    updated = None if mark.max_updated_at is None else mark.max_updated_at.replace(tzinfo=None)
    con.execute(
        f"INSERT OR REPLACE INTO {WATERMARKS} VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
        [table, mark.max_id, updated, total or 0, moved, now.replace(tzinfo=None)],
    )


# --- the refresh ---------------------------------------------------------------------------


def _merge(con: duckdb.DuckDBPyConnection, spec: SourceTable, fresh: bool) -> int:
    """Upsert the ``_chunk`` temp table by id; returns the rows new or different from the store's."""  # noqa: E501
    if fresh:
        con.execute(f'INSERT INTO "{spec.name}" SELECT * FROM _chunk')  # noqa: S608
        return int(scalar(con, "SELECT count(*) FROM _chunk") or 0)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _changed AS SELECT * FROM _chunk EXCEPT "  # noqa: S608
        f'SELECT * FROM "{spec.name}" WHERE id IN (SELECT id FROM _chunk)'
    )
    con.execute(f'DELETE FROM "{spec.name}" WHERE id IN (SELECT id FROM _changed)')  # noqa: S608
    con.execute(f'INSERT INTO "{spec.name}" SELECT * FROM _changed')  # noqa: S608
    return int(scalar(con, "SELECT count(*) FROM _changed") or 0)


def _refresh_table(
    con: duckdb.DuckDBPyConnection,
    connection: Connection,
    spec: SourceTable,
    mark: Watermark,
) -> tuple[int, dict[str, int]]:
    """Upsert new and changed rows of one table (and of the tables derived from it).

    Returns the rows that moved, and those of derived tables by name.
    """
    extra_column, derived_name = DERIVED_FROM.get(spec.name, (None, None))
    table = _source(spec, (extra_column,) if extra_column else ())
    query = sa.select(table).where(_changed(table, spec, mark)).order_by(table.c.id)
    fresh = mark.max_id is None
    derived: list[tuple[int, str, int]] = []
    parents: list[int] = []
    moved = 0
    width = len(spec.columns)
    for rows in _chunks(connection, query):
        if extra_column:
            derived.extend(p for row in rows for p in promotions_of(row[0], row[width]))
            parents.extend(row[0] for row in rows)
            rows = [row[:width] for row in rows]
        _typed(con, spec, to_arrow(spec, rows))
        moved += _merge(con, spec, fresh)
        mark.advance(con, spec)
    if derived_name:
        spec_derived = TABLES_BY_NAME[derived_name]
        return moved, {derived_name: _replace_derived(con, spec_derived, parents, derived, fresh)}
    return moved, {}


def _replace_derived(
    con: duckdb.DuckDBPyConnection,
    spec: SourceTable,
    parents: Sequence[int],
    rows: Sequence[Sequence[Any]],
    fresh: bool,
) -> int:
    """Replace the derived rows of the parents that were read; returns the rows that differ."""
    _typed(con, spec, to_arrow(spec, rows))
    if fresh:
        con.execute(f'INSERT INTO "{spec.name}" SELECT * FROM _chunk')  # noqa: S608
        return len(rows)
    con.register("_parents", pa.table({"id": pa.array(parents, pa.int64())}))
    try:
        old = f'SELECT * FROM "{spec.name}" WHERE "{spec.parent_key}" IN (SELECT id FROM _parents)'  # noqa: S608
        counted = scalar(
            con,
            f"SELECT (SELECT count(*) FROM (SELECT * FROM _chunk EXCEPT {old})) + "  # noqa: S608
            f"(SELECT count(*) FROM ({old} EXCEPT SELECT * FROM _chunk))",
        )
        con.execute(
            f'DELETE FROM "{spec.name}" WHERE "{spec.parent_key}" IN (SELECT id FROM _parents)'  # noqa: S608
        )
        con.execute(f'INSERT INTO "{spec.name}" SELECT * FROM _chunk')  # noqa: S608
        return int(counted or 0)
    finally:
        con.unregister("_parents")


def _refresh_children(
    con: duckdb.DuckDBPyConnection,
    connection: Connection,
    spec: SourceTable,
    parent_mark: Watermark,
    fresh: bool,
) -> int:
    """Re-read the children of every parent read in this refresh; upsert those that changed."""
    assert spec.parent is not None
    assert spec.parent_key is not None
    parent_spec = TABLES_BY_NAME[spec.parent]
    child = _source(spec)
    parent = _source(parent_spec)
    query = sa.select(child)
    if not fresh:  # parent ids first, then the children through their parent-key index
        moved_parents = sa.select(parent.c.id).where(_changed(parent, parent_spec, parent_mark))
        query = query.where(child.c[spec.parent_key].in_(moved_parents))
    moved = 0
    for rows in _chunks(connection, query.order_by(child.c.id)):
        _typed(con, spec, to_arrow(spec, rows))
        moved += _merge(con, spec, fresh)
    return moved


def refresh_store(store: AnalyticsStore, database_url: str, *, full: bool = False) -> RefreshReport:
    """Bring the store up to date with the operational database; ``full`` starts from empty."""
    started = time.perf_counter()
    with store.write_lock:
        if full:
            store.remove()
        with store.connect() as con:
            if store.needs_rebuild(con):
                full = True
                for spec in TABLES:
                    con.execute(f'DROP TABLE IF EXISTS "{spec.name}"')
                con.execute(f"DELETE FROM {WATERMARKS}")  # noqa: S608
                con.execute("DROP TABLE IF EXISTS analytics_meta")
                create_schema(con)
            report = RefreshReport(full)
            marks = _load_watermarks(con)
            previous = {name: Watermark(m.max_id, m.max_updated_at) for name, m in marks.items()}
            now = datetime.now(UTC)
            con.execute("BEGIN TRANSACTION")
            try:
                with read_engine(database_url).connect() as connection, connection.begin():
                    derived: dict[str, int] = {}
                    for spec in TABLES:
                        mark = marks.setdefault(spec.name, Watermark())
                        if spec.watermark in ("updated", "append"):
                            moved, also = _refresh_table(con, connection, spec, mark)
                            derived.update(also)
                        elif spec.watermark == "child":
                            assert spec.parent is not None
                            parent_before = previous.get(spec.parent, Watermark())
                            moved = _refresh_children(
                                con, connection, spec, parent_before, parent_before.max_id is None
                            )
                        else:
                            moved = derived.get(spec.name, 0)
                        _save_watermark(con, spec.name, mark, moved, now)
                        report.tables.append(TableRefresh(spec.name, moved))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    report.seconds = time.perf_counter() - started
    log.info("analytics store %s", report)
    return report


class BackgroundRefresher:
    """Refreshes the store in a daemon thread, about ``debounce`` seconds after a poke.

    ``poke`` only sets a flag, so committing (an order placement, say) never waits
    for analytics; a burst of commits leads to one refresh.
    """

    def __init__(self, refresh: Callable[[], object], *, debounce: float = 1.0) -> None:
        self._refresh = refresh
        self._debounce = debounce
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def poke(self) -> None:
        self._wanted.set()
        if self._thread is None:
            with self._guard:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="analytics-refresh", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._wanted.wait(timeout=0.5):
                continue
            if self._stopping.wait(self._debounce):
                return
            self._wanted.clear()
            try:
                self._refresh()
            except Exception:  # the next poke or the scheduled job tries again
                log.exception("analytics refresh failed")

    def close(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
