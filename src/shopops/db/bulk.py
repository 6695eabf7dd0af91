"""Bulk writes for hot paths: ids reserved up front, rows inserted with executemany.

ORM flushes that need generated keys back use multi-row INSERT ... RETURNING,
which the driver must parse anew for every batch size. Reserving ids first lets
hot paths insert plain rows with ``executemany`` (pipelined by psycopg 3), with
no RETURNING at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table`` (its integer ``id`` column).

    PostgreSQL takes them from the column's sequence. SQLite transactions hold
    the database write lock from BEGIN IMMEDIATE (see ``db.engine``), so the
    next ids after the current maximum are ours until commit.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        )
        return [int(row[0]) for row in rows]
    # Our SQLite keys are rowid aliases without AUTOINCREMENT: SQLite itself would
    # also hand out max(id) + 1.
    highest = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(int(highest) + 1, int(highest) + 1 + count))


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert plain rows; PostgreSQL takes them through COPY, the fastest bulk path."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= _COPY_THRESHOLD:
        _copy_rows(session, table, rows)
    else:
        session.execute(insert(table), list(rows))


_COPY_THRESHOLD = 8


def _copy_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = list(rows[0].keys())
    json_columns = {
        name
        for name in columns
        if isinstance(table.c[name].type.dialect_impl(session.get_bind().dialect), JSONB | JSON)
    }
    dbapi_connection: Any = session.connection().connection.dbapi_connection
    column_list = ", ".join(f'"{name}"' for name in columns)
    with (
        dbapi_connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    Jsonb(row[name])
                    if name in json_columns and row[name] is not None
                    else row[name]
                    for name in columns
                ]
            )
