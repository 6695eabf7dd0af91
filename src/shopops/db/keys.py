"""Filters on long lists of integer keys."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, bindparam
from sqlalchemy.sql.elements import ColumnElement


def among(column: Any, keys: Collection[int]) -> ColumnElement[bool]:
    """``column IN (k1, k2, ...)`` with the keys written into the statement.

    Bound one by one, a thousand keys are a thousand parameters that psycopg rewrites
    into its own placeholders on every call (the text differs with every count, so
    nothing is cached): ~30 ms for 1,000 keys, against ~10 ms inline. Integers are
    safe to render as literals.
    """
    return column.in_(  # type: ignore[no-any-return]
        bindparam(None, sorted(keys), expanding=True, literal_execute=True, type_=BigInteger)
    )
