"""Reading order history and customer attributes from the operational database or the store.

SQLAlchemy Core over the tables by name (analytics imports no context): paid
orders (status paid or any later fulfilment state; cancelled and closed orders
do not count) of registered customers in one currency, their ``placed_at`` as a
business date in the store's time zone, and ``total_minor`` as the amount.

From the analytics store, ``store_transactions`` reads the same transactions;
``store_rfm`` and ``store_cohorts`` answer from the store's customer rollups
(``analytics.rollups``: per customer, and per cohort and period) when these hold
exactly those transactions (built in the same time zone, no paid order after
``until`` or ``as_of_day``), else from the transactions; the results are the same.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, String, column, select, table
from sqlalchemy.orm import Session

from shopops.analytics import rollups
from shopops.analytics.customers import cohorts, rfm
from shopops.analytics.customers.clv.summary import Transactions
from shopops.analytics.customers.features import CustomerAttributes, IntArray
from shopops.analytics.metrics.facts import PAID_OR_LATER
from shopops.analytics.periods import utc_offsets
from shopops.analytics.store import rollup_timezone
from shopops.db.types import JsonDocument, UTCDateTime

orders = table(
    "orders",
    column("id", BigInteger),
    column("customer_id", BigInteger),
    column("status", String),
    column("currency", String),
    column("placed_at", UTCDateTime()),
    column("total_minor", BigInteger),
)
order_lines = table("order_lines", column("order_id", BigInteger), column("sku", String))
variants = table("variants", column("sku", String), column("product_id", BigInteger))
products = table("products", column("id", BigInteger), column("category_id", BigInteger))
categories = table("categories", column("id", BigInteger), column("parent_id", BigInteger))
customers = table(
    "customers",
    column("id", BigInteger),
    column("tier", String),
    column("region", String),
    column("source_channel", String),
    column("tags", JsonDocument),
    column("erased_at", UTCDateTime()),
)


def _paid(currency: str, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        orders.c.status.in_(PAID_OR_LATER),
        orders.c.customer_id.is_not(None),
        orders.c.currency == currency,
    ]
    if until is not None:
        conditions.append(orders.c.placed_at <= until)
    return conditions


def load_transactions(
    session: Session, *, currency: str, timezone: str, until: datetime | None = None
) -> Transactions:
    rows = session.execute(
        select(orders.c.customer_id, orders.c.placed_at, orders.c.total_minor)
        .where(*_paid(currency, until))
        .order_by(orders.c.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["customer_id", "placed_at", "amount"])
    if frame.empty:
        empty = np.zeros(0, dtype=np.int64)
        return Transactions(empty, empty.copy(), np.zeros(0))
    return Transactions.from_frame(frame, timezone=timezone)


def store_transactions(
    con: duckdb.DuckDBPyConnection,
    *,
    currency: str,
    timezone: str,
    until: datetime | None = None,
) -> Transactions:
    """The same transactions as ``load_transactions``, read from the analytics store.

    Columnar all the way: the store gives numpy arrays and the business date is the
    UTC moment shifted by the zone's offset at that moment (DST included)."""
    statuses = ", ".join(f"'{status}'" for status in PAID_OR_LATER)
    sql = (
        "SELECT customer_id, epoch_us(placed_at) AS moment, total_minor FROM orders "  # noqa: S608
        f"WHERE status IN ({statuses}) AND customer_id IS NOT NULL AND currency = ?"
    )
    params: list[object] = [currency]
    if until is not None:
        sql += " AND placed_at <= ?"
        params.append(until.astimezone(UTC).replace(tzinfo=None))
    found = con.execute(sql, params).fetchnumpy()
    seconds = np.floor_divide(np.asarray(found["moment"], dtype=np.int64), 1_000_000)
    if len(seconds) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Transactions(empty, empty.copy(), np.zeros(0))
    first = datetime.fromtimestamp(int(seconds.min()), UTC).replace(tzinfo=None)
    last = datetime.fromtimestamp(int(seconds.max()), UTC).replace(tzinfo=None)
    segments = utc_offsets(timezone, first, last)
    starts = np.array([start for start, _ in segments], dtype=np.int64)
    offsets = np.array([offset for _, offset in segments], dtype=np.int64)
    segment = np.maximum(np.searchsorted(starts, seconds, side="right") - 1, 0)
    return Transactions.from_arrays(
        np.asarray(found["customer_id"], dtype=np.int64),
        np.floor_divide(seconds + offsets[segment], 86400),
        np.asarray(found["total_minor"], dtype=np.float64),
    )


def _rollups_cover(
    con: duckdb.DuckDBPyConnection,
    *,
    currency: str,
    timezone: str,
    until: datetime | None,
    as_of_day: int | None,
) -> tuple[bool, int | None]:
    """Whether the customer rollups hold exactly the transactions ``store_transactions``
    would read and a computation up to ``as_of_day`` would keep; and the last day with a
    paid order (None: there is none)."""
    if rollup_timezone(con) != timezone:
        return False, None
    last_at, last_day = con.execute(
        f"SELECT max(last_at), max(last_day) FROM {rollups.CUSTOMERS} WHERE currency = ?",  # noqa: S608
        [currency],
    ).fetchall()[0]
    if last_at is None:
        return True, None
    if until is not None and last_at > until.astimezone(UTC).replace(tzinfo=None):
        return False, None
    if as_of_day is not None and last_day > as_of_day:
        return False, None
    return True, int(last_day)


def store_rfm(
    con: duckdb.DuckDBPyConnection,
    *,
    currency: str,
    timezone: str,
    as_of_day: int,
    until: datetime | None = None,
    config: rfm.RfmConfig | None = None,
) -> rfm.CustomerRfm:
    """``rfm.from_transactions`` of ``store_transactions``, from the per-customer rollup
    when it covers them (one row per buyer instead of one per order)."""
    covered, _ = _rollups_cover(
        con, currency=currency, timezone=timezone, until=until, as_of_day=as_of_day
    )
    if not covered:
        found = store_transactions(con, currency=currency, timezone=timezone, until=until)
        return rfm.from_transactions(found, as_of_day, config)
    totals = con.sql(
        "SELECT customer_id, CAST(last_day AS BIGINT) AS last_day, orders, monetary "  # noqa: S608
        f"FROM {rollups.CUSTOMERS} WHERE currency = ?",
        params=[currency],
    ).to_arrow_table()
    ids, days, orders, spent = (totals.column(n).to_numpy() for n in totals.column_names)
    return rfm.from_totals(ids, days, orders, spent, as_of_day, config)


def store_cohorts(
    con: duckdb.DuckDBPyConnection,
    *,
    currency: str,
    timezone: str,
    grain: cohorts.Grain | str = cohorts.Grain.MONTH,
    measure: cohorts.Measure | str = cohorts.Measure.CUSTOMERS,
    periods: int = 24,
    as_of_day: int | None = None,
    until: datetime | None = None,
) -> cohorts.CohortMatrix:
    """``cohorts.cohort_matrix`` of ``store_transactions``, from the cohort rollup when the
    rollups cover them (a few hundred cells instead of one row per order)."""
    grain, measure = cohorts.Grain(grain), cohorts.Measure(measure)
    covered, last_day = _rollups_cover(
        con, currency=currency, timezone=timezone, until=until, as_of_day=as_of_day
    )
    if not covered or last_day is None:  # no paid order: the empty matrix, as computed
        found = store_transactions(con, currency=currency, timezone=timezone, until=until)
        return cohorts.cohort_matrix(
            found, grain=grain, measure=measure, periods=periods, as_of_day=as_of_day
        )
    cells = con.execute(
        f"SELECT cohort, period, customers, revenue FROM {rollups.COHORTS} "  # noqa: S608
        "WHERE currency = ? AND grain = ?",
        [currency, grain.value],
    ).fetchnumpy()
    return cohorts.from_cells(
        np.asarray(cells["cohort"], dtype=np.int64),
        np.asarray(cells["period"], dtype=np.int64),
        np.asarray(cells["customers"], dtype=np.int64),
        np.asarray(cells["revenue"], dtype=np.float64),
        grain=grain,
        measure=measure,
        periods=periods,
        as_of_day=last_day if as_of_day is None else as_of_day,
    )


def load_attributes(session: Session) -> CustomerAttributes:
    rows = session.execute(
        select(
            customers.c.id,
            customers.c.tier,
            customers.c.region,
            customers.c.source_channel,
            customers.c.tags,
            customers.c.erased_at,
        ).order_by(customers.c.id)
    ).all()
    return CustomerAttributes(
        customer_id=np.asarray([r.id for r in rows], dtype=np.int64),
        tier=[r.tier for r in rows],
        region=[r.region for r in rows],
        source_channel=[r.source_channel for r in rows],
        tags=[list(r.tags or []) for r in rows],
        erased=np.asarray([r.erased_at is not None for r in rows], dtype=bool),
    )


def load_purchases(
    session: Session, *, currency: str, until: datetime | None = None
) -> dict[str, tuple[IntArray, list[str]]]:
    """(customer, product id) and (customer, category id) pairs bought in paid orders.

    A category covers its subcategories: buying in "Shoes > Running" also counts
    as buying in "Shoes".
    """
    pairs = session.execute(
        select(orders.c.customer_id, products.c.id, products.c.category_id)
        .select_from(
            orders.join(order_lines, order_lines.c.order_id == orders.c.id)
            .join(variants, variants.c.sku == order_lines.c.sku)
            .join(products, products.c.id == variants.c.product_id)
        )
        .where(*_paid(currency, until))
        .distinct()
    ).all()
    parents: dict[int, int | None] = {
        row.id: row.parent_id
        for row in session.execute(select(categories.c.id, categories.c.parent_id))
    }
    ancestors: dict[int, list[int]] = defaultdict(list)
    for category in parents:
        seen: set[int] = set()
        current: int | None = category
        while current is not None and current not in seen:  # a cycle cannot loop forever
            seen.add(current)
            ancestors[category].append(current)
            current = parents.get(current)
    product_pairs: set[tuple[int, str]] = set()
    category_pairs: set[tuple[int, str]] = set()
    for customer_id, product_id, category_id in pairs:
        product_pairs.add((int(customer_id), str(product_id)))
        if category_id is not None:
            for category in ancestors.get(category_id, [category_id]):
                category_pairs.add((int(customer_id), str(category)))
    return {
        "bought_product": _split(product_pairs),
        "bought_category": _split(category_pairs),
    }


def _split(pairs: set[tuple[int, str]]) -> tuple[IntArray, list[str]]:
    ordered = sorted(pairs)
    return np.asarray([c for c, _ in ordered], dtype=np.int64), [v for _, v in ordered]
