"""Incremental refresh of the analytics store from the operational database.

One refresh is one DuckDB transaction: readers see the store before or after it,
never half of it, daily rollups included. Per source table a watermark (highest
id, latest ``updated_at``) says where the last refresh stopped; rows are read in
id order, in chunks of Arrow tables (see ``_chunks``), staged, compared with the
store's and upserted (delete by key, then insert). Children of moved parents
(order lines of changed orders) are read again with them. ``updated_at`` comes
from the writing process's clock and transactions commit in any order, so rows
updated up to ``OVERLAP`` before the watermark are read again; re-reading is
harmless. Around applying the changes, ``rollups.Delta`` keeps the daily rollups
current; an empty store, a new store time zone or a rebuild builds them afresh.

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
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, make_url

from shopops.analytics import rollups
from shopops.analytics.sources import (
    DUCKDB_TYPES,
    TABLES,
    TABLES_BY_NAME,
    SourceTable,
    promotions_of,
)
from shopops.analytics.store import (
    WATERMARKS,
    AnalyticsStore,
    create_schema,
    rollup_timezone,
    scalar,
    set_rollup_timezone,
)
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
    read_seconds: float = 0.0  # reading the operational database into the store's staging
    rollup_seconds: float = 0.0  # keeping the daily rollups current
    rollups: str = "unchanged"  # or "delta" (added the difference), "rebuilt"

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


def _updated_since(
    table: sa.TableClause, spec: SourceTable, mark: Watermark
) -> sa.ColumnElement[bool] | None:
    """Rows at or below the id watermark updated since it (less the overlap), if the table
    is watched for updates: a range of its ``updated_at`` index."""
    if spec.watermark != "updated" or mark.max_id is None or mark.max_updated_at is None:
        return None
    since = sa.bindparam("since", mark.max_updated_at - OVERLAP, type_=UTCDateTime())
    return sa.and_(sa.column("updated_at", UTCDateTime()) >= since, table.c.id <= mark.max_id)


def _changed(
    table: sa.TableClause, spec: SourceTable, mark: Watermark
) -> list[sa.ColumnElement[bool]]:
    """The new and changed rows as disjoint conditions, each a range of an index (new ids,
    then older rows updated since the watermark): ``id > ? OR updated_at >= ?`` would scan
    the whole table on SQLite, and so would the second ordered by id."""
    if mark.max_id is None:
        return [sa.true()]
    since = _updated_since(table, spec, mark)
    return [table.c.id > mark.max_id, *([since] if since is not None else [])]


# --- reading the operational database in Arrow chunks ------------------------------------------


def _select(
    spec: SourceTable, table: sa.TableClause, names: Sequence[str], postgres: bool
) -> list[sa.ColumnElement[Any]]:
    """The columns to read; on PostgreSQL timestamps as naive UTC (what the store holds)."""
    kinds = dict(spec.columns)
    out: list[sa.ColumnElement[Any]] = []
    for name in names:
        column: sa.ColumnElement[Any] = table.c[name]
        if postgres and kinds.get(name) == "ts":
            column = sa.func.timezone("UTC", column).label(name)
        out.append(column)
    return out


def _arrow_types(spec: SourceTable, names: Sequence[str], *, text: bool) -> list[pa.DataType]:
    """Arrow types of the columns as read: ints, else text (timestamps and booleans are
    cast by DuckDB, a column at a time, when the chunk is typed)."""
    kinds = dict(spec.columns)
    return [
        pa.int64()
        if kinds.get(n) == "int" or (kinds.get(n) == "bool" and not text)
        else pa.string()
        for n in names
    ]


def _chunks(
    connection: Connection, spec: SourceTable, query: sa.Select[Any], names: Sequence[str]
) -> Iterator[pa.Table]:
    """The query's rows as Arrow tables of up to ``CHUNK_ROWS`` rows (columns ``names``).

    SQLAlchemy builds the statement (parameters rendered as literals of their column
    types) and owns the transaction. On SQLite the rows come from a DB-API cursor and
    become Arrow in one pass (a struct array); on PostgreSQL the server writes CSV
    (``COPY ... TO STDOUT``) that Arrow parses: no Python object per value either way.
    """
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        yield from _copy_chunks(driver, spec, sql, names)
        return
    cursor = driver.cursor()
    struct = pa.struct(
        [pa.field(n, t) for n, t in zip(names, _arrow_types(spec, names, text=False), strict=True)]
    )
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            try:
                yield pa.Table.from_struct_array(pa.array(rows, type=struct))
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value of another type: infer
                yield to_arrow(spec, rows, names)
    finally:
        cursor.close()


def _copy_chunks(
    driver: Any, spec: SourceTable, sql: str, names: Sequence[str]
) -> Iterator[pa.Table]:
    types = _arrow_types(spec, names, text=True)
    options = {
        "read_options": pa_csv.ReadOptions(column_names=list(names)),
        "convert_options": pa_csv.ConvertOptions(
            column_types=dict(zip(names, types, strict=True)),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # NULL is unquoted, '' is quoted
        ),
    }
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        rows: list[bytes] = []
        for row in copy:  # one row per item
            rows.append(bytes(row))
            if len(rows) >= CHUNK_ROWS:
                yield pa_csv.read_csv(pa.py_buffer(b"".join(rows)), **options)
                rows = []
        if rows:
            yield pa_csv.read_csv(pa.py_buffer(b"".join(rows)), **options)


def to_arrow(
    spec: SourceTable, rows: Sequence[Sequence[Any]], names: Sequence[str] | None = None
) -> pa.Table:
    """Rows (columns ``names``, by default the spec's) -> an Arrow table, value by value.

    Timestamps stay text when SQLite gives text (``_typed`` casts them in DuckDB)
    and become naive UTC when a driver gives aware datetimes.
    """
    names = list(names or spec.column_names)
    kinds = dict(spec.columns)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for name, values in zip(names, columns, strict=True):
        kind = kinds.get(name, "str")
        if kind == "ts":
            sample = next((v for v in values if v is not None), None)
            if isinstance(sample, datetime):
                arrays.append(pc.cast(pa.array(values), pa.timestamp("us")))
            else:
                arrays.append(pa.array([None if v is None else str(v) for v in values]))
        elif kind == "str":
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
        else:
            arrays.append(pa.array(values, _ARROW_TYPES[kind]))
    return pa.Table.from_arrays(arrays, names=names)


def _cast_sql(spec: SourceTable, source: str) -> str:
    columns = ", ".join(f'CAST("{c}" AS {DUCKDB_TYPES[k]}) AS "{c}"' for c, k in spec.columns)
    return f"SELECT {columns} FROM {source}"  # noqa: S608


def _insert(
    con: duckdb.DuckDBPyConnection, target: str, spec: SourceTable, chunk: pa.Table
) -> None:
    """Append ``chunk`` to ``target``, cast to the store's column types."""
    con.register("_raw", chunk)
    try:
        con.execute(f'INSERT INTO "{target}" {_cast_sql(spec, "_raw")}')
    finally:
        con.unregister("_raw")


# --- watermarks ----------------------------------------------------------------------------


@dataclass
class Watermark:
    max_id: int | None = None
    max_updated_at: datetime | None = None
    rows_last: int = 0

    def advance(self, con: duckdb.DuckDBPyConnection, spec: SourceTable, source: str) -> None:
        """Move past the rows of the table ``source``."""
        if "id" not in spec.column_names:
            return
        latest = "max(updated_at)" if "updated_at" in spec.column_names else "NULL"
        top, moment = con.execute(f"SELECT max(id), {latest} FROM {source}").fetchall()[0]  # noqa: S608
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


def _save_watermarks(
    con: duckdb.DuckDBPyConnection,
    marks: dict[str, Watermark],
    moved: dict[str, int],
    now: datetime,
) -> None:
    """Every table's watermark, row count and rows moved, in two statements."""
    names = [spec.name for spec in TABLES]
    counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in names)  # noqa: S608
    totals = con.execute(f"SELECT {counts}").fetchall()[0]
    params: list[Any] = []
    for name, total in zip(names, totals, strict=True):
        mark = marks[name]
        updated = None if mark.max_updated_at is None else mark.max_updated_at.replace(tzinfo=None)
        params += [name, mark.max_id, updated, total or 0, moved[name], now.replace(tzinfo=None)]
    rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(names))
    con.execute(f"INSERT OR REPLACE INTO {WATERMARKS} VALUES {rows}", params)  # noqa: S608


# --- the refresh ---------------------------------------------------------------------------
#
# Reading: every table's new and changed rows are read first, in one snapshot of the
# operational database. On an empty store they go straight into its tables and the
# rollups are built at the end. Otherwise they are staged (``_stage_<table>``), the rows
# that differ from the store's are kept as ``_changed_<table>``, the rollups take note
# of what is about to change, the changes are applied (delete by key, insert), and the
# rollups add the difference (``rollups.Delta``).


def _stage_name(spec: SourceTable) -> str:
    return f"_stage_{spec.name}"


class _Target:
    """Where a table's rows go: the store's table itself on a first refresh, else its stage
    (``_stage_<table>``), created with the first rows (most tables have none)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spec: SourceTable, *, direct: bool):
        self.con = con
        self.spec = spec
        self.name = spec.name if direct else _stage_name(spec)
        self.ready = direct

    def create(self) -> None:
        if not self.ready:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self.name} AS "  # noqa: S608
                f'SELECT * FROM "{self.spec.name}" LIMIT 0'
            )
            self.ready = True

    def insert(self, chunk: pa.Table) -> None:
        self.create()
        _insert(self.con, self.name, self.spec, chunk)


def _read_table(
    connection: Connection,
    spec: SourceTable,
    mark: Watermark,
    target: _Target,
) -> tuple[int, list[int], list[tuple[int, str, int]]]:
    """Read new and changed rows of one table into ``target``.

    Returns the rows read, and for a table with a derived one (orders), the ids read
    and the derived rows."""
    extra_column, _ = DERIVED_FROM.get(spec.name, (None, None))
    names = [*spec.column_names, *([extra_column] if extra_column else [])]
    table = _source(spec, (extra_column,) if extra_column else ())
    postgres = connection.dialect.name == "postgresql"
    columns = _select(spec, table, names, postgres)
    derived: list[tuple[int, str, int]] = []
    parents: list[int] = []
    read = 0
    for index, condition in enumerate(_changed(table, spec, mark)):
        query = sa.select(*columns).where(condition)
        if index == 0:  # new rows in id order; updated ones by their index, unordered
            query = query.order_by(table.c.id)
        for chunk in _chunks(connection, spec, query, names):
            if extra_column:
                ids = chunk.column("id").to_pylist()
                parents.extend(ids)
                derived.extend(_derived_rows(ids, chunk.column(extra_column)))
                chunk = chunk.drop_columns([extra_column])
            target.insert(chunk)
            read += chunk.num_rows
    return read, parents, derived


def _derived_rows(ids: Sequence[int], pricing: pa.ChunkedArray) -> Iterator[tuple[int, str, int]]:
    """``order_promotions`` rows of the orders read: parsed only where the price breakdown
    can name a promotion (most orders have none)."""
    values = pricing.cast(pa.string()) if pricing.type != pa.string() else pricing
    hits = pc.or_(pc.match_substring(values, '"applied"'), pc.match_substring(values, "discount"))
    rows = pc.fill_null(hits, False).to_pylist()
    texts = values.to_pylist()
    for order_id, hit, text in zip(ids, rows, texts, strict=True):
        if hit:
            yield from promotions_of(order_id, text)


def _read_children(
    connection: Connection,
    spec: SourceTable,
    parent_mark: Watermark,
    fresh: bool,
    target: _Target,
) -> int:
    """Read the children of every parent read in this refresh into ``target``: of new
    parents through a range of the parent-key index, of updated ones by their ids."""
    assert spec.parent is not None
    assert spec.parent_key is not None
    parent_spec = TABLES_BY_NAME[spec.parent]
    child = _source(spec)
    parent = _source(parent_spec)
    names = list(spec.column_names)
    query = sa.select(*_select(spec, child, names, connection.dialect.name == "postgresql"))
    key = child.c[spec.parent_key]
    if fresh:
        queries = [query.order_by(child.c.id)]
    else:  # unordered: the staged rows are compared as a set, and order would cost a sort
        assert parent_mark.max_id is not None
        queries = [query.where(key > parent_mark.max_id)]
        updated = _updated_since(parent, parent_spec, parent_mark)
        if updated is not None:
            queries.append(query.where(key.in_(sa.select(parent.c.id).where(updated))))
    read = 0
    for one in queries:
        for chunk in _chunks(connection, spec, one, names):
            target.insert(chunk)
            read += chunk.num_rows
    return read


def _keep_changed(con: duckdb.DuckDBPyConnection, spec: SourceTable) -> int:
    """``_changed_<table>``: staged rows new or different from the store's; returns how many."""
    stage = _stage_name(spec)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _changed_{spec.name} AS SELECT * FROM {stage} EXCEPT "  # noqa: S608
        f'SELECT * FROM "{spec.name}" WHERE id IN (SELECT id FROM {stage})'
    )
    return int(scalar(con, f"SELECT count(*) FROM _changed_{spec.name}") or 0)  # noqa: S608


def _keep_changed_derived(
    con: duckdb.DuckDBPyConnection, spec: SourceTable, parents: Sequence[int]
) -> int:
    """``_changed_<table>`` for rows replaced by parent: rows that appear or disappear."""
    stage = _stage_name(spec)
    con.execute("CREATE OR REPLACE TEMP TABLE _parents (id BIGINT)")
    if parents:
        con.register("_parent_ids", pa.table({"id": pa.array(parents, pa.int64())}))
        try:
            con.execute("INSERT INTO _parents SELECT DISTINCT id FROM _parent_ids")
        finally:
            con.unregister("_parent_ids")
    old = f'SELECT * FROM "{spec.name}" WHERE "{spec.parent_key}" IN (SELECT id FROM _parents)'  # noqa: S608
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _changed_{spec.name} AS "  # noqa: S608
        f"(SELECT * FROM {stage} EXCEPT {old}) UNION ALL ({old} EXCEPT SELECT * FROM {stage})"
    )
    return int(scalar(con, f"SELECT count(*) FROM _changed_{spec.name}") or 0)  # noqa: S608


def _apply(con: duckdb.DuckDBPyConnection, spec: SourceTable) -> None:
    if spec.watermark == "derived":
        con.execute(
            f'DELETE FROM "{spec.name}" WHERE "{spec.parent_key}" IN (SELECT id FROM _parents)'  # noqa: S608
        )
        con.execute(f'INSERT INTO "{spec.name}" SELECT * FROM {_stage_name(spec)}')  # noqa: S608
        return
    con.execute(f'DELETE FROM "{spec.name}" WHERE id IN (SELECT id FROM _changed_{spec.name})')  # noqa: S608
    con.execute(f'INSERT INTO "{spec.name}" SELECT * FROM _changed_{spec.name}')  # noqa: S608


def _insert_derived(spec: SourceTable, target: _Target, rows: Sequence[Any]) -> None:
    if rows:
        target.insert(to_arrow(spec, rows))


def refresh_store(
    store: AnalyticsStore,
    database_url: str,
    *,
    full: bool = False,
    timezone: str | None = None,
) -> RefreshReport:
    """Bring the store up to date with the operational database; ``full`` starts from empty.

    ``timezone`` is the store time zone: the daily rollups count days in it (by
    default the zone they were built in, else UTC); a different zone rebuilds them.
    """
    started = time.perf_counter()
    with store.write_lock:
        if full:
            store.remove()
        with store.connect() as con:
            if store.needs_rebuild(con):
                full = True
                for name in (*[s.name for s in TABLES], *rollups.table_names()):
                    con.execute(f'DROP TABLE IF EXISTS "{name}"')
                con.execute(f"DELETE FROM {WATERMARKS}")  # noqa: S608
                con.execute("DROP TABLE IF EXISTS analytics_meta")
                create_schema(con)
            report = RefreshReport(full)
            marks = _load_watermarks(con)
            previous = {name: Watermark(m.max_id, m.max_updated_at) for name, m in marks.items()}
            built_in = rollup_timezone(con)
            zone = timezone or built_in or "UTC"
            empty = all(m.max_id is None for m in marks.values())
            now = datetime.now(UTC)
            con.execute("BEGIN TRANSACTION")
            try:
                with read_engine(database_url).connect() as connection, connection.begin():
                    _refresh(con, connection, report, marks, previous, empty, zone, built_in)
                moved = {t.table: t.rows for t in report.tables}
                _save_watermarks(con, marks, moved, now)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    report.seconds = time.perf_counter() - started
    log.info("analytics store %s", report)
    return report


def _refresh(
    con: duckdb.DuckDBPyConnection,
    connection: Connection,
    report: RefreshReport,
    marks: dict[str, Watermark],
    previous: dict[str, Watermark],
    empty: bool,
    zone: str,
    built_in: str | None,
) -> None:
    reading = time.perf_counter()
    derived: dict[str, tuple[list[int], list[tuple[int, str, int]]]] = {}
    moved: dict[str, int] = {}
    for spec in TABLES:
        mark = marks.setdefault(spec.name, Watermark())
        target = _Target(con, spec, direct=empty)
        if spec.watermark in ("updated", "append"):
            read, parents, rows = _read_table(connection, spec, mark, target)
            if read:
                mark.advance(con, spec, f'"{target.name}"')
            if spec.name in DERIVED_FROM:
                derived[DERIVED_FROM[spec.name][1]] = (parents, rows)
        elif spec.watermark == "child":
            assert spec.parent is not None
            parent_before = previous.get(spec.parent, Watermark())
            read = _read_children(
                connection, spec, parent_before, parent_before.max_id is None, target
            )
        else:
            parents, rows = derived.get(spec.name, ([], []))
            _insert_derived(spec, target, rows)
            read = len(rows)
            if not empty and parents:
                target.create()  # rows that disappear are found against it
                moved[spec.name] = _keep_changed_derived(con, spec, parents)
        if empty or not read:
            moved.setdefault(spec.name, read)
        elif spec.watermark != "derived":
            moved[spec.name] = _keep_changed(con, spec)
    report.read_seconds = time.perf_counter() - reading
    changed = frozenset(name for name, rows in moved.items() if rows)
    rebuild = empty or built_in != zone
    delta = None
    if not rebuild and changed:
        delta = rollups.Delta(con, zone, changed)
        delta.before()
    if not empty:
        for spec in TABLES:
            if spec.name in changed:
                _apply(con, spec)
    if rebuild:
        report.rollup_seconds = rollups.rebuild(con, zone)
        report.rollups = "rebuilt"
        set_rollup_timezone(con, zone)
    elif delta is not None:
        delta.after()
        report.rollup_seconds = delta.seconds
        report.rollups = delta.mode
    for spec in TABLES:
        report.tables.append(TableRefresh(spec.name, moved.get(spec.name, 0)))
        if not empty:
            con.execute(f"DROP TABLE IF EXISTS {_stage_name(spec)}")
            if spec.name in changed:
                con.execute(f"DROP TABLE IF EXISTS _changed_{spec.name}")
    con.execute("DROP TABLE IF EXISTS _parents")


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
