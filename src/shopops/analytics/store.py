"""The analytics store: one DuckDB file of derived data, safe to delete and rebuild.

DuckDB lets one process at a time open a database file for writing, so every
operation opens the file, does its work and closes it again; a caller that
finds the file locked by another process (a refresh in ``shopops worker``, a
``shopops kpi`` in a terminal) waits and retries for up to ``lock_timeout``
seconds, then gets ``analytics.store_busy``. Within one process, DuckDB shares
one database instance between connections, so threads do not lock each other out.

Nothing here downloads: extension auto-install is switched off, and the
operational data arrives through ``shopops.analytics.refresh`` (SQLAlchemy and
Arrow), never through DuckDB's sqlite or postgres scanners.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis

from shopops.analytics import rollups
from shopops.analytics.sources import DUCKDB_TYPES, TABLES, StoreSources
from shopops.kernel.errors import Unavailable

DUCKDB_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": True,
}
WATERMARKS = "analytics_watermarks"
META = "analytics_meta"
ROLLUP_TIMEZONE = "rollup_timezone"  # META key: the time zone of the daily rollups, once built


@functools.cache  # the shapes are fixed for the process; every connection checks it
def schema_fingerprint() -> str:
    """Changes whenever the store's tables change shape; a mismatch means: rebuild."""
    text = ";".join(f"{t.name}({','.join(f'{c}:{k}' for c, k in t.columns)})" for t in TABLES)
    text += ";" + ";".join(rollups.schema_statements())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create whatever is missing (nothing, when the recorded schema is this one)."""
    try:
        recorded = scalar(con, f"SELECT value FROM {META} WHERE key = 'schema'")  # noqa: S608
    except duckdb.CatalogException:
        recorded = None
    if recorded == schema_fingerprint():
        return
    for table in TABLES:
        columns = ", ".join(f'"{name}" {DUCKDB_TYPES[kind]}' for name, kind in table.columns)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{table.name}" ({columns})')
    for statement in rollups.schema_statements():
        con.execute(statement)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {WATERMARKS} (table_name VARCHAR PRIMARY KEY, "
        "max_id BIGINT, max_updated_at TIMESTAMP, rows_total BIGINT, "
        "rows_last BIGINT, refreshed_at TIMESTAMP)"
    )
    con.execute(f"CREATE TABLE IF NOT EXISTS {META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(
        f"INSERT INTO {META} VALUES ('schema', ?) ON CONFLICT (key) DO NOTHING",  # noqa: S608
        [schema_fingerprint()],
    )


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row, or None; reads the whole result (DuckDB wants that)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def rollup_timezone(con: duckdb.DuckDBPyConnection) -> str | None:
    """The time zone the daily rollups were built in, or None when there are none."""
    found = scalar(con, f"SELECT value FROM {META} WHERE key = ?", [ROLLUP_TIMEZONE])  # noqa: S608
    return None if found is None else str(found)


def set_rollup_timezone(con: duckdb.DuckDBPyConnection, timezone: str | None) -> None:
    con.execute(f"DELETE FROM {META} WHERE key = ?", [ROLLUP_TIMEZONE])  # noqa: S608
    if timezone is not None:
        con.execute(f"INSERT INTO {META} VALUES (?, ?)", [ROLLUP_TIMEZONE, timezone])  # noqa: S608


def build_rollups(con: duckdb.DuckDBPyConnection, timezone: str) -> float:
    """Recompute the daily rollups from the store's tables (one transaction); seconds taken."""
    con.execute("BEGIN TRANSACTION")
    try:
        seconds = rollups.rebuild(con, timezone)
        set_rollup_timezone(con, timezone)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return seconds


@dataclass(frozen=True)
class TableStatus:
    table: str
    rows: int
    max_id: int | None
    max_updated_at: datetime | None
    rows_last_refresh: int
    refreshed_at: datetime | None


_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


class AnalyticsStore:
    """``settings``: DuckDB settings for every connection (e.g. ``memory_limit``, ``threads``),
    on top of ``DUCKDB_CONFIG``."""

    def __init__(
        self,
        path: str | Path,
        *,
        lock_timeout: float = 15.0,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.config = {**DUCKDB_CONFIG, **(settings or {})}

    def exists(self) -> bool:
        return self.path.exists()

    @property
    def write_lock(self) -> threading.Lock:
        """Serialises refreshes within this process (across processes DuckDB's file lock does)."""
        key = str(self.path.resolve())
        with _process_locks_guard:
            return _process_locks.setdefault(key, threading.Lock())

    @contextmanager
    def connect(self, *, create: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the store; without ``create``, a missing store reads as empty."""
        if not create and not self.exists():
            con = duckdb.connect(":memory:", config=self.config)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = self._open()
        try:
            create_schema(con)
            yield con
        finally:
            con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), config=self.config)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                    raise Unavailable(
                        "analytics.store_busy",
                        f"the analytics store {self.path} is in use by another process; "
                        "try again in a moment",
                    ) from error
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    @contextmanager
    def sources(self, *, rollups: bool = True) -> Iterator[StoreSources]:
        """The store's tables for metric definitions (read-only use); with ``rollups``,
        requests the daily rollups can answer are read from them."""
        with self.connect(create=False) as con:
            timezone = rollup_timezone(con) if rollups else None
            yield StoreSources(ibis.duckdb.from_connection(con), timezone)

    def needs_rebuild(self, con: duckdb.DuckDBPyConnection) -> bool:
        found = scalar(con, f"SELECT value FROM {META} WHERE key = 'schema'")  # noqa: S608
        return bool(found != schema_fingerprint())

    def remove(self) -> None:
        """Delete the store file (and its WAL); the next refresh recreates it from scratch."""
        for candidate in (self.path, self.path.with_name(self.path.name + ".wal")):
            candidate.unlink(missing_ok=True)

    def status(self) -> list[TableStatus]:
        with self.connect(create=False) as con:
            marks = {
                row[0]: row[1:]
                for row in con.execute(
                    f"SELECT table_name, max_id, max_updated_at, rows_last, refreshed_at "  # noqa: S608
                    f"FROM {WATERMARKS}"
                ).fetchall()
            }
            out = []
            for table in TABLES:
                counted = scalar(con, f'SELECT count(*) FROM "{table.name}"')  # noqa: S608
                max_id, max_updated_at, rows_last, refreshed_at = marks.get(
                    table.name, (None, None, 0, None)
                )
                out.append(
                    TableStatus(
                        table.name,
                        int(counted or 0),
                        max_id,
                        max_updated_at,
                        int(rows_last or 0),
                        refreshed_at,
                    )
                )
            return out

    def last_refreshed_at(self) -> datetime | None:
        with self.connect(create=False) as con:
            found: datetime | None = scalar(con, f"SELECT max(refreshed_at) FROM {WATERMARKS}")  # noqa: S608
            return found


def refreshed_at(sources: StoreSources) -> datetime | None:
    """When the store behind ``sources`` was last refreshed (aware UTC), or None if never."""
    moment = scalar(sources.backend.con, f"SELECT max(refreshed_at) FROM {WATERMARKS}")  # noqa: S608
    return None if moment is None else moment.replace(tzinfo=UTC)
