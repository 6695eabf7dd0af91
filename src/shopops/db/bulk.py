"""Bulk writes for hot paths: ids reserved up front, rows inserted with executemany.

ORM flushes that need generated keys back use multi-row INSERT ... RETURNING,
which the driver must parse anew for every batch size. Reserving ids first lets
hot paths insert plain rows with ``executemany`` (pipelined by psycopg 3), with
no RETURNING at all.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table`` (its integer ``id`` column).

    PostgreSQL takes them from the column's sequence. SQLite transactions hold
    the database write lock from BEGIN IMMEDIATE (see ``db.engine``), so the
    next ids after the current maximum are ours until commit.
    """
    return reserve_ids_for(session, [(table, count)])[0]


_NEXT_KEYS = (
    "ARRAY(SELECT nextval(q.s) FROM (SELECT pg_get_serial_sequence(:t{i}, 'id') AS s) q,"
    " generate_series(1, :n{i}))"
)


def reserve_ids_for(session: Session, wanted: Sequence[tuple[Table, int]]) -> list[list[int]]:
    """Fresh keys for several tables (``(table, count)`` each) in one round trip."""
    asked = [(index, table, count) for index, (table, count) in enumerate(wanted) if count > 0]
    found: list[list[int]] = [[] for _ in wanted]
    if not asked:
        return found
    if session.get_bind().dialect.name == "postgresql":
        # One row of arrays: each sequence is named once and fetched without a row per key.
        arrays = ", ".join(_NEXT_KEYS.format(i=i) for i, _, _ in asked)
        params: dict[str, Any] = {}
        for i, table, count in asked:
            params[f"t{i}"], params[f"n{i}"] = table.name, count
        row = session.execute(text(f"SELECT {arrays}"), params).one()
        for (i, _, _), keys in zip(asked, row, strict=True):
            found[i] = [int(key) for key in keys]
        return found
    # Our SQLite keys are rowid aliases without AUTOINCREMENT: SQLite itself would
    # also hand out max(id) + 1.
    handed_out: dict[str, int] = {}
    for i, table, count in asked:
        highest = handed_out.get(table.name)
        if highest is None:
            highest = int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)
        found[i] = list(range(highest + 1, highest + 1 + count))
        handed_out[table.name] = highest + count
    return found


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert plain rows; PostgreSQL takes them through COPY, the fastest bulk path."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= _COPY_THRESHOLD:
        _copy_rows(session, table, rows)
    else:
        session.execute(insert(table), list(rows))


_COPY_THRESHOLD = 8


def write_tables(
    session: Session, tables: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
) -> None:
    """Insert plain rows into several tables, in the order given, in one round trip.

    PostgreSQL gets one ``INSERT ... SELECT FROM jsonb_populate_recordset`` per table,
    all sent in one pipeline: the rows of a table travel as one JSON document, decoded
    by the server into the table's own column types (JSON columns nest as they are,
    timestamps and bytes go as ISO 8601 and hex text). A ``COPY`` per table costs two
    round trips and cannot be pipelined; under a row lock those round trips are what
    other transactions wait for.
    """
    pending = [(table, rows) for table, rows in tables if rows]
    if not pending:
        return
    if session.get_bind().dialect.name != "postgresql":
        for table, rows in pending:
            session.execute(insert(table), list(rows))
        return
    dbapi_connection: Any = session.connection().connection.dbapi_connection
    with dbapi_connection.pipeline(), dbapi_connection.cursor() as cursor:
        for table, rows in pending:
            cursor.execute(
                _json_insert(table, tuple(rows[0].keys())),
                (json.dumps(rows, default=_json_value, separators=(",", ":")),),
            )


@functools.cache
def _json_insert(table: Table, columns: tuple[str, ...]) -> str:
    column_list = ", ".join(f'"{name}"' for name in columns)
    # Names from our own table metadata; the rows are one bound parameter.
    return (
        f'INSERT INTO "{table.name}" ({column_list}) SELECT {column_list}'  # noqa: S608
        f' FROM jsonb_populate_recordset(NULL::"{table.name}", %s::jsonb)'
    )


def _json_value(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself, as PostgreSQL reads it from JSON text."""
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given to a bulk write; use an aware datetime")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} in bulk")


def _copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = tuple(rows[0].keys())
    json_positions = [
        position
        for position, name in enumerate(columns)
        if name in _json_columns(table, session.get_bind().dialect)
    ]
    take = itemgetter(*columns)
    dbapi_connection: Any = session.connection().connection.dbapi_connection
    column_list = ", ".join(f'"{name}"' for name in columns)
    with (
        dbapi_connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = take(row)
            if len(columns) == 1:
                values = (values,)
            if json_positions:
                values = list(values)
                for position in json_positions:
                    if values[position] is not None:
                        values[position] = Jsonb(values[position])
            copy.write_row(values)


_json_cache: dict[tuple[Table, str], frozenset[str]] = {}


def _json_columns(table: Table, dialect: Dialect) -> frozenset[str]:
    key = (table, dialect.name)
    found = _json_cache.get(key)
    if found is None:
        found = frozenset(
            column.name
            for column in table.columns
            if isinstance(column.type.dialect_impl(dialect), JSONB | JSON)
        )
        _json_cache[key] = found
    return found
