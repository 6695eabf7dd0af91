"""Daily rollups of the metric facts: small tables in the store that dashboards read.

Every fact that hangs off orders (sales, cohorts, payments, shipments, promotions)
has a table with one row per (currency, local day, breakdown, breakdown value):
the number of fact rows and each aggregate of the fact over the rows of that
day, computed by the fact's own definitions (``metrics/facts.py``). Each of those
aggregates adds up over days, as ``Fact.spread`` promises:

* a sum is kept with the count of its non-null inputs, so "no value" stays NULL;
* counts, and distinct counts of things that happen on one day (an order, a
  payment, a parcel, a buyer's first order), are summed.

Distinct counts of things that recur (``spread``: the buyers of a window) are
kept in ``analytics_rollup_spread``: for each breakdown value, day and *previous
day* the same buyer was active with that value, how many buyers. The buyers of a
bucket are those active on one of its days with no earlier activity in the bucket,
i.e. the rows whose previous day is before the bucket's first day.

Stock movements are summed per (day, SKU, warehouse) in ``analytics_rollup_stock``;
their value is taken at today's unit cost when reading, as on the raw path.

Customer analytics (RFM, cohorts; ``customers.history``) read two more: per currency and
registered customer their paid orders' count, amount and first and last day
(``analytics_rollup_customers``, rows replaced per buyer), and per currency, grain,
cohort and period the cohort's active customers, revenue and orders
(``analytics_rollup_customer_cohorts``, a sum over customers).

Days are local days of the time zone recorded in ``analytics_meta``
(``rollup_timezone``, the store time zone given to the refresh). A request is
answered from the rollups when its window starts and ends at local midnight in
that zone (``Period.local_days``) and its grain is a day, week, month or the
whole window; anything else (hours, another zone) reads the raw tables.

Keeping them current: every row of these facts belongs to one buyer (the buyer of
its order), so each rollup is a sum over buyers. A refresh collects the buyers
whose rows may change (orders, lines, promotions, payments and parcels that
moved; customers whose tier changed), computes their rows from the store before
it applies the refresh and again after, and adds the difference (the customer rows of
those buyers are replaced instead). New stock
movements are added likewise. A rebuild, a changed time zone, or catalogue or
warehouse edits that relabel something already sold recompute everything, a
partition of the buyers at a time so that memory stays bounded.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from shopops.analytics.metrics.facts import (
    FACTS,
    INVENTORY,
    NONE,
    PAID_OR_LATER,
    Fact,
    FactContext,
)
from shopops.analytics.periods import Period, utc_offsets
from shopops.analytics.sources import IBIS_TYPES, TABLES_BY_NAME, Sources, StoreSources

log = logging.getLogger("shopops.analytics")

ROLLUP_FACTS = ("sales", "cohorts", "payments", "shipments", "promotions")
SPREAD = "analytics_rollup_spread"
STOCK = "analytics_rollup_stock"
CUSTOMERS = "analytics_rollup_customers"
COHORTS = "analytics_rollup_customer_cohorts"
COHORT_GRAINS = ("month", "week")
ALL = ""  # the ``dim`` of rows that are not broken down
SCOPE = "_rollup_scope_orders"  # the orders whose buyers are being (re)computed
PARTITION_LINES = 4_000_000  # a full build takes about this many order lines at a time
FULL_SHARE = 0.3  # past this share of all orders, recomputing everything is cheaper

Cells = dict[tuple[int, str], dict[str, Any]]
_DUCKDB = "duckdb"


# --- what each fact's rollup holds ---------------------------------------------------------


@dataclass(frozen=True)
class RollupPlan:
    fact: Fact
    table: str
    sums: tuple[str, ...]  # a value column and "<name>__n", the count of non-null inputs
    counts: tuple[str, ...]
    spread: tuple[str, ...]

    @property
    def columns(self) -> list[tuple[str, str]]:
        out = [("currency", "VARCHAR"), ("day", "INTEGER"), ("dim", "VARCHAR")]
        out += [("value", "VARCHAR"), ("rows", "BIGINT")]
        for name in self.sums:
            out += [(name, "BIGINT"), (f"{name}__n", "BIGINT")]
        out += [(name, "BIGINT") for name in self.counts]
        return out

    @property
    def measures(self) -> list[str]:
        return [name for name, _ in self.columns[4:]]


KEYS = ("currency", "day", "dim", "value")
SPREAD_COLUMNS = (
    ("fact", "VARCHAR"),
    ("measure", "VARCHAR"),  # the aggregate's name
    ("currency", "VARCHAR"),
    ("dim", "VARCHAR"),
    ("value", "VARCHAR"),
    ("day", "INTEGER"),
    ("previous_day", "INTEGER"),  # NULL: no earlier activity
    ("buyers", "BIGINT"),
)
SPREAD_KEYS = tuple(name for name, _ in SPREAD_COLUMNS[:-1])
STOCK_COLUMNS = (
    ("day", "INTEGER"),
    ("sku", "VARCHAR"),
    ("warehouse_id", "BIGINT"),
    ("rows", "BIGINT"),
    ("quantity", "BIGINT"),
    ("sold_units", "BIGINT"),
    ("received_units", "BIGINT"),
)
STOCK_KEYS = ("day", "sku", "warehouse_id")
# Customer analytics (RFM, cohorts): per registered customer and currency, their paid
# orders (``PAID_OR_LATER``) as ``customers.history`` reads them: how many, what they
# spent, the first and last business day and the last moment. A customer's row is
# replaced whenever one of their orders moves.
CUSTOMER_COLUMNS = (
    ("currency", "VARCHAR"),
    ("customer_id", "BIGINT"),
    ("orders", "BIGINT"),
    ("monetary", "BIGINT"),
    ("first_day", "INTEGER"),
    ("last_day", "INTEGER"),
    ("last_at", "TIMESTAMP"),
)
CUSTOMER_KEYS = ("currency", "customer_id")
# Per currency, grain (month, week), cohort (period of a customer's first paid order) and
# period: the cohort's customers who ordered in the period, their revenue and orders.
# Sums over customers, kept like the daily rollups.
COHORT_COLUMNS = (
    ("currency", "VARCHAR"),
    ("grain", "VARCHAR"),
    ("cohort", "INTEGER"),
    ("period", "INTEGER"),
    ("customers", "BIGINT"),
    ("revenue", "BIGINT"),
    ("orders", "BIGINT"),
)
COHORT_KEYS = ("currency", "grain", "cohort", "period")


class _SchemaSources(Sources):
    """Unbound Ibis tables shaped like the store's: expressions compile without a connection.

    ``rename`` points a source at another table (the scoped orders, new movements)."""

    def __init__(self, rename: Mapping[str, str] | None = None) -> None:
        self.backend = None
        self._rename = dict(rename or {})

    def table(self, name: str) -> ir.Table:
        spec = TABLES_BY_NAME[name]
        schema = ibis.schema({column: IBIS_TYPES[kind] for column, kind in spec.columns})
        return ibis.table(schema, name=self._rename.get(name, name))


@cache
def plans() -> dict[str, RollupPlan]:
    """The rollup of each order-based fact, read off its aggregate definitions."""
    out: dict[str, RollupPlan] = {}
    for name in ROLLUP_FACTS:
        fact = FACTS[name]
        table = fact.build(_SchemaSources(), FactContext("XXX"))
        sums: list[str] = []
        counts: list[str] = []
        spread: list[str] = []
        for aggregate, build in fact.aggregates.items():
            op = build(table).op()
            if isinstance(op, ops.CountDistinct):
                (spread if aggregate in fact.spread else counts).append(aggregate)
            elif isinstance(op, ops.Count | ops.CountStar):
                counts.append(aggregate)
            elif isinstance(op, ops.Sum) and op.arg.dtype.is_integer():
                sums.append(aggregate)
            else:  # a new kind of aggregate needs its rule here first (and a test)
                raise TypeError(f"{name}.{aggregate} cannot be rolled up ({type(op).__name__})")
        out[name] = RollupPlan(
            fact, f"analytics_rollup_{name}", tuple(sums), tuple(counts), tuple(spread)
        )
    return out


def _table_ddl(name: str, columns: Iterable[tuple[str, str]]) -> str:
    body = ", ".join(f'"{column}" {kind}' for column, kind in columns)
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({body})'


def schema_statements() -> list[str]:
    """CREATE TABLE statements of every rollup table (part of the store's schema)."""
    out = [_table_ddl(plan.table, plan.columns) for plan in plans().values()]
    out.append(_table_ddl(SPREAD, SPREAD_COLUMNS))
    out.append(_table_ddl(STOCK, STOCK_COLUMNS))
    out.append(_table_ddl(CUSTOMERS, CUSTOMER_COLUMNS))
    out.append(_table_ddl(COHORTS, COHORT_COLUMNS))
    return out


def buyer_tables() -> list[str]:
    """The rollups that are sums over buyers: a refresh adds their difference."""
    return [*(plan.table for plan in plans().values()), SPREAD, COHORTS]


def table_names() -> list[str]:
    return [*buyer_tables(), CUSTOMERS, STOCK]


# --- computing rollup rows from facts -------------------------------------------------------


def _sql(expr: ir.Expr) -> str:
    return str(ibis.to_sql(expr, dialect=_DUCKDB))


def _quote(text: str) -> str:
    """A SQL string literal (currencies come from the data)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Input:
    """An aggregate read off its definition: what it reduces, under which condition."""

    name: str
    kind: str  # "sum", "count", "rows" (count of rows) or "distinct"
    value: str | None  # column of the fact rows holding what is summed, counted or distinct
    condition: str  # column holding the condition (a boolean)


@cache
def _inputs(fact_name: str) -> tuple[_Input, ...]:
    plan = plans()[fact_name]
    table = plan.fact.build(_SchemaSources(), FactContext("XXX"))
    out = []
    for name in (*plan.sums, *plan.counts, *plan.spread):
        op = plan.fact.aggregates[name](table).op()
        if isinstance(op, ops.CountStar):
            kind, value = "rows", None
        else:
            assert isinstance(op, ops.Sum | ops.Count | ops.CountDistinct)
            kind = {ops.Sum: "sum", ops.Count: "count", ops.CountDistinct: "distinct"}[type(op)]
            value = op.arg.name if kind == "distinct" else f"_a_{name}"
        out.append(_Input(name, kind, value, f"_w_{name}"))
    return tuple(out)


# Compiling a fact through Ibis takes ~0.1 s; it is done once per fact and process, with
# placeholders for the currency and the orders table that each use then fills in (a
# rebuild reads ``orders``, a refresh the orders of the buyers it touched).
_CURRENCY_SLOT = "QQQ"
_ORDERS_SLOT = "__shopops_orders_slot__"


def _fact_sql(fact_name: str, currency: str, orders: str) -> str:
    """The fact's rows for the orders in ``orders``: its moment, its breakdowns, and per
    aggregate the value it reduces (``_a_<name>``) and its condition (``_w_<name>``)."""
    template = _fact_template(fact_name)
    currency_slot, orders_slot = f"'{_CURRENCY_SLOT}'", f'"{_ORDERS_SLOT}"'
    if template.count(currency_slot) != 1 or template.count(orders_slot) != 1:
        return _compiled_fact(fact_name, currency, orders)  # not a plain substitution
    return template.replace(currency_slot, _quote(currency)).replace(orders_slot, f'"{orders}"')


@cache
def _fact_template(fact_name: str) -> str:
    return _compiled_fact(fact_name, _CURRENCY_SLOT, _ORDERS_SLOT)


def _compiled_fact(fact_name: str, currency: str, orders: str) -> str:
    plan = plans()[fact_name]
    table = plan.fact.build(_SchemaSources({"orders": orders}), FactContext(currency))
    table = table.filter(table.ts.notnull())
    columns: dict[str, ir.Value] = {"ts": table.ts}
    for dim in plan.fact.dimensions:
        columns[dim] = table[dim].cast("string")
    for spec in _inputs(fact_name):
        op = plan.fact.aggregates[spec.name](table).op()
        where = op.where.to_expr() if op.where is not None else ibis.literal(True)
        columns[spec.condition] = where
        if spec.kind == "distinct":
            assert isinstance(op, ops.CountDistinct)
            columns[op.arg.name] = op.arg.to_expr()
        elif spec.kind != "rows":
            assert isinstance(op, ops.Sum | ops.Count)
            columns[f"_a_{spec.name}"] = op.arg.to_expr()
    return _sql(table.select(**columns))


def _day_sql(column: str, segments: Sequence[tuple[int, int]]) -> str:
    """Local day number of a naive UTC timestamp column, as ``Period.bucket_expr`` buckets."""
    seconds = f'CAST(FLOOR(EPOCH(CAST("{column}" AS TIMESTAMP))) AS BIGINT)'
    if len(segments) == 1:
        offset = str(segments[0][1])
    else:
        cases = " ".join(
            f"WHEN {seconds} < {switch} THEN {before}"
            for (_, before), (switch, _) in itertools.pairwise(segments)
        )
        offset = f"(CASE {cases} ELSE {segments[-1][1]} END)"
    return f"CAST(FLOOR(({seconds} + {offset}) / 86400) AS INTEGER)"


def _long(fact_name: str, columns: Sequence[str]) -> str:
    """The rows of ``_rollup_fact_days`` as (day, dim, value, columns...): once not broken
    down, then once per breakdown. One scan whose rows are repeated by ``unnest`` (zipped
    lists); it plans and runs faster than a UNION ALL branch per breakdown, which matters
    for the small contributions of a refresh."""
    picked = "".join(f', "{c}"' for c in dict.fromkeys(columns))
    dims = plans()[fact_name].fact.dimensions
    names = ", ".join(f"'{dim}'" for dim in (ALL, *dims))
    values = ", ".join([f"'{NONE}'", *(f'"{dim}"' for dim in dims)])
    return (
        f"SELECT _day AS day, unnest([{names}]) AS dim, unnest([{values}]) AS value"  # noqa: S608
        f"{picked} FROM _rollup_fact_days"
    )


@cache
def _cells_sql(fact_name: str, currency: str) -> str:
    """Rollup rows of the rows in ``_rollup_fact_days``.

    Distinct counts are taken in two steps, much faster than COUNT(DISTINCT) with a
    filter per aggregate: per (day, value, thing) whether it meets each aggregate's
    condition, then per (day, value) how many things do."""
    plan = plans()[fact_name]
    inputs = [i for i in _inputs(fact_name) if i.name not in plan.spread]
    sums: list[str] = []
    needed: list[str] = []
    things: dict[str, list[_Input]] = {}
    for spec in inputs:
        needed.append(spec.condition)
        if spec.kind == "sum":
            needed.append(str(spec.value))
            sums.append(
                f'CAST(coalesce(sum("{spec.value}") FILTER ("{spec.condition}"), 0) AS BIGINT)'
                f' AS "{spec.name}", count("{spec.value}") FILTER ("{spec.condition}")'
                f' AS "{spec.name}__n"'
            )
        elif spec.kind == "count":
            needed.append(str(spec.value))
            sums.append(f'count("{spec.value}") FILTER ("{spec.condition}") AS "{spec.name}"')
        elif spec.kind == "rows":
            sums.append(f'count(*) FILTER ("{spec.condition}") AS "{spec.name}"')
        else:
            things.setdefault(str(spec.value), []).append(spec)
    cells = (
        f"SELECT day, dim, value, count(*) AS rows{''.join(', ' + x for x in sums)} "  # noqa: S608
        f"FROM ({_long(fact_name, needed)}) GROUP BY day, dim, value"
    )
    joins = []
    for index, (thing, specs) in enumerate(things.items()):
        flags = ", ".join(f'bool_or("{s.condition}") AS "{s.name}"' for s in specs)
        counts = ", ".join(f'count(*) FILTER ("{s.name}") AS "{s.name}"' for s in specs)
        rows = _long(fact_name, [thing, *(s.condition for s in specs)])
        joins.append(
            f"LEFT JOIN (SELECT day, dim, value, {counts} FROM (SELECT day, dim, value, "  # noqa: S608
            f'"{thing}", {flags} FROM ({rows}) WHERE "{thing}" IS NOT NULL '
            f'GROUP BY day, dim, value, "{thing}") GROUP BY day, dim, value) t{index} '
            "USING (day, dim, value)"
        )
    counted = {spec.name for specs in things.values() for spec in specs}
    selected = ", ".join(
        f'coalesce("{name}", 0) AS "{name}"' if name in counted else f'"{name}"'
        for name in plan.measures
    )
    return (
        f"SELECT {_quote(currency)} AS currency, day, dim, value, {selected} "  # noqa: S608
        f"FROM ({cells}) c {' '.join(joins)}"
    )


@cache
def _spread_sql(fact_name: str, currency: str) -> str | None:
    """Spread rows of the rows in ``_rollup_fact_days``: per breakdown value, day and the
    previous day the same thing was active with that value, how many things."""
    plan = plans()[fact_name]
    branches = []
    for spec in _inputs(fact_name):
        if spec.name not in plan.spread:
            continue
        active = (
            f'SELECT DISTINCT dim, value, "{spec.value}" AS thing, day '  # noqa: S608
            f"FROM ({_long(fact_name, [str(spec.value), spec.condition])}) "
            f'WHERE "{spec.condition}" AND "{spec.value}" IS NOT NULL'
        )
        branches.append(
            f"SELECT '{fact_name}' AS fact, '{spec.name}' AS measure, "  # noqa: S608
            f"{_quote(currency)} AS currency, dim, value, day, previous_day, count(*) AS buyers "
            "FROM (SELECT dim, value, day, CAST(lag(day) OVER (PARTITION BY dim, value, thing "
            f"ORDER BY day) AS INTEGER) AS previous_day FROM ({active})) "
            "GROUP BY dim, value, day, previous_day"
        )
    return " UNION ALL ".join(branches) if branches else None


@cache
def _stock_sql(movements: str) -> str:
    """Stock rollup rows of the movements in ``movements`` (their ``_day`` added by a view)."""
    src = _SchemaSources({"stock_movements": movements})
    fact = INVENTORY.build(src, FactContext("XXX"))
    return _sql(
        fact.filter(fact.ts.notnull()).select(
            "ts", "sku", "warehouse_id", "quantity", "sold_units", "received_units"
        )
    )


def _stock_cells_sql(days: str) -> str:
    return (
        f"SELECT _day AS day, sku, warehouse_id, count(*) AS rows, "  # noqa: S608
        "CAST(coalesce(sum(quantity), 0) AS BIGINT) AS quantity, "
        "CAST(coalesce(sum(sold_units), 0) AS BIGINT) AS sold_units, "
        "CAST(coalesce(sum(received_units), 0) AS BIGINT) AS received_units "
        f"FROM {days} GROUP BY ALL"
    )


# --- maintenance ---------------------------------------------------------------------------


def _segments(
    con: duckdb.DuckDBPyConnection, timezone: str, source: str
) -> list[tuple[int, int]] | None:
    """The zone's offsets over the moments in ``source`` (None: it has no rows)."""
    low, high = con.execute(f"SELECT min(ts), max(ts) FROM {source}").fetchall()[0]  # noqa: S608
    if low is None:
        return None
    return utc_offsets(timezone, low - timedelta(days=1), high)


def _columns_of(table: str) -> Sequence[tuple[str, str]]:
    fixed = {
        SPREAD: SPREAD_COLUMNS,
        STOCK: STOCK_COLUMNS,
        CUSTOMERS: CUSTOMER_COLUMNS,
        COHORTS: COHORT_COLUMNS,
    }
    if table in fixed:
        return fixed[table]
    return next(p for p in plans().values() if p.table == table).columns


def _temp_like(con: duckdb.DuckDBPyConnection, name: str, table: str) -> None:
    """An empty temp table shaped like the rollup ``table`` (declared, not copied: a copy of
    a table emptied earlier in the same transaction lost rows inserted into it later)."""
    body = ", ".join(f'"{column}" {kind}' for column, kind in _columns_of(table))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({body})")


def _currencies(con: duckdb.DuckDBPyConnection, orders: str) -> list[str]:
    rows = con.execute(
        f"SELECT DISTINCT currency FROM {orders} WHERE currency IS NOT NULL ORDER BY 1"  # noqa: S608
    ).fetchall()
    return [str(row[0]) for row in rows]


def contribute(
    con: duckdb.DuckDBPyConnection,
    timezone: str,
    orders: str,
    prefix: str,
    *,
    replaced: bool = True,
) -> None:
    """Append the rollup rows of the buyers whose orders are in ``orders`` (all their orders)
    to the temp tables ``<prefix><rollup table>``; without ``replaced``, not the rows of the
    tables whose rows are replaced rather than summed (``analytics_rollup_customers``)."""
    _contribute_customers(con, timezone, orders, prefix, replaced=replaced)
    for currency in _currencies(con, orders):
        for name, plan in plans().items():
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _rollup_fact AS {_fact_sql(name, currency, orders)}"
            )
            segments = _segments(con, timezone, "_rollup_fact")
            if segments is None:
                continue  # no rows of this fact
            day = _day_sql("ts", segments)
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW _rollup_fact_days AS "  # noqa: S608
                f"SELECT *, {day} AS _day FROM _rollup_fact"
            )
            con.execute(f"INSERT INTO {prefix}{plan.table} {_cells_sql(name, currency)}")
            spread = _spread_sql(name, currency)
            if spread is not None:
                con.execute(f"INSERT INTO {prefix}{SPREAD} {spread}")
    con.execute("DROP VIEW IF EXISTS _rollup_fact_days")
    con.execute("DROP TABLE IF EXISTS _rollup_fact")


_PAID = ", ".join(_quote(status) for status in PAID_OR_LATER)


def _period_sql(grain: str, day: str) -> str:
    """Cohort period of a day number, as ``customers.cohorts.period_of`` numbers it: months
    since January 1970, or weeks since Monday 29 December 1969."""
    if grain == "month":
        date = f"(DATE '1970-01-01' + {day})"
        return f"CAST((year({date}) - 1970) * 12 + month({date}) - 1 AS INTEGER)"
    return f"CAST(floor(({day} + 3) / 7) AS INTEGER)"


def _contribute_customers(
    con: duckdb.DuckDBPyConnection, timezone: str, orders: str, prefix: str, *, replaced: bool
) -> None:
    """Customer and cohort rows of the registered customers whose orders are in ``orders``:
    their paid orders in each currency, on business days of ``timezone`` (as
    ``customers.history`` reads transactions)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rollup_paid AS SELECT currency, customer_id, "  # noqa: S608
        f"placed_at AS ts, total_minor FROM {orders} WHERE status IN ({_PAID}) "
        "AND customer_id IS NOT NULL AND currency IS NOT NULL AND placed_at IS NOT NULL"
    )
    segments = _segments(con, timezone, "_rollup_paid")
    if segments is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rollup_paid_days AS SELECT currency, customer_id, "  # noqa: S608
            f"ts, total_minor, {_day_sql('ts', segments)} AS day FROM _rollup_paid"
        )
        if replaced:
            con.execute(
                f"INSERT INTO {prefix}{CUSTOMERS} SELECT currency, customer_id, count(*), "  # noqa: S608
                "CAST(sum(total_minor) AS BIGINT), min(day), max(day), max(ts) "
                "FROM _rollup_paid_days GROUP BY currency, customer_id"
            )
        periods = " UNION ALL ".join(
            f"SELECT currency, customer_id, '{grain}' AS grain, "  # noqa: S608
            f"{_period_sql(grain, 'day')} AS period, total_minor FROM _rollup_paid_days"
            for grain in COHORT_GRAINS
        )
        con.execute(
            f"INSERT INTO {prefix}{COHORTS} SELECT currency, grain, cohort, period, "  # noqa: S608
            "count(*), CAST(sum(revenue) AS BIGINT), CAST(sum(orders) AS BIGINT) FROM ("
            "SELECT *, min(period) OVER (PARTITION BY currency, grain, customer_id) AS cohort "
            "FROM (SELECT currency, grain, customer_id, period, sum(total_minor) AS revenue, "
            f"count(*) AS orders FROM ({periods}) GROUP BY ALL)) "
            "GROUP BY currency, grain, cohort, period"
        )
        con.execute("DROP TABLE _rollup_paid_days")
    con.execute("DROP TABLE _rollup_paid")


def contribute_stock(
    con: duckdb.DuckDBPyConnection, timezone: str, movements: str, target: str
) -> None:
    """Append stock rollup rows of the movements in ``movements`` to ``target``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rollup_moves AS {_stock_sql(movements)}")
    segments = _segments(con, timezone, "_rollup_moves")
    if segments is None:
        con.execute("DROP TABLE _rollup_moves")
        return
    day = _day_sql("ts", segments)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _rollup_moves_days AS SELECT *, {day} AS _day "  # noqa: S608
        "FROM _rollup_moves"
    )
    con.execute(f"INSERT INTO {target} {_stock_cells_sql('_rollup_moves_days')}")
    con.execute("DROP VIEW IF EXISTS _rollup_moves_days")
    con.execute("DROP TABLE IF EXISTS _rollup_moves")


def _measure_columns(table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if table == SPREAD:
        return SPREAD_KEYS, ("buyers",)
    if table == STOCK:
        return STOCK_KEYS, tuple(name for name, _ in STOCK_COLUMNS[3:])
    if table == COHORTS:
        return COHORT_KEYS, tuple(name for name, _ in COHORT_COLUMNS[4:])
    plan = next(p for p in plans().values() if p.table == table)
    return KEYS, tuple(plan.measures)


def _summed(source: str, keys: Sequence[str], measures: Sequence[str]) -> str:
    keys_sql = ", ".join(f'"{k}"' for k in keys)
    sums = ", ".join(f'CAST(sum("{m}") AS BIGINT) AS "{m}"' for m in measures)
    return f"SELECT {keys_sql}, {sums} FROM ({source}) GROUP BY {keys_sql}"  # noqa: S608


def merge_difference(con: duckdb.DuckDBPyConnection, table: str, new: str, old: str | None) -> int:
    """``table`` += rows of ``new`` - rows of ``old`` (summed by key); rows left empty go.

    Returns the number of keys that changed."""
    keys, measures = _measure_columns(table)
    count = measures[0]  # rows (or buyers): zero means the key has nothing left
    negated = ", ".join([*(f'"{k}"' for k in keys), *(f'-"{m}" AS "{m}"' for m in measures)])
    nonzero = " OR ".join(f'"{m}" <> 0' for m in measures)
    both = f"SELECT * FROM {new}"  # noqa: S608
    if old is not None:
        both += f" UNION ALL SELECT {negated} FROM {old}"  # noqa: S608
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rollup_delta AS SELECT * FROM ("  # noqa: S608
        + _summed(both, keys, measures)
        + f") WHERE {nonzero}"
    )
    changed = int(con.execute("SELECT count(*) FROM _rollup_delta").fetchall()[0][0])
    if not changed:
        con.execute("DROP TABLE _rollup_delta")
        return 0
    match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM d."{k}"' for k in keys)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rollup_merged AS "  # noqa: S608
        + _summed(
            f'SELECT t.* FROM "{table}" t SEMI JOIN _rollup_delta d ON {match} '  # noqa: S608
            "UNION ALL SELECT * FROM _rollup_delta",
            keys,
            measures,
        )
    )
    con.execute(f'DELETE FROM "{table}" t USING _rollup_delta d WHERE {match}')  # noqa: S608
    con.execute(
        f'INSERT INTO "{table}" SELECT * FROM _rollup_merged WHERE "{count}" <> 0'  # noqa: S608
    )
    con.execute("DROP TABLE _rollup_merged")
    con.execute("DROP TABLE _rollup_delta")
    return changed


def replace_customers(con: duckdb.DuckDBPyConnection, new: str) -> None:
    """The customer rows of the buyers in ``_rollup_buyers`` become those of ``new``."""
    con.execute(
        f'DELETE FROM "{CUSTOMERS}" WHERE customer_id IN '  # noqa: S608
        "(SELECT customer_id FROM _rollup_buyers WHERE customer_id IS NOT NULL)"
    )
    con.execute(f'INSERT INTO "{CUSTOMERS}" SELECT * FROM {new}')  # noqa: S608


def _buyer_sql(alias: str) -> str:
    """The buyer of an order, as ``facts._orders`` names it (customer, else guest key)."""
    return (
        f"CASE WHEN {alias}.customer_id IS NOT NULL THEN 'c:' || {alias}.customer_id "
        f"ELSE 'g:' || coalesce({alias}.guest_email_hash, {alias}.number) END"
    )


_ORDER = {CUSTOMERS: "customer_id", COHORTS: "cohort"}  # else by day


def rebuild(
    con: duckdb.DuckDBPyConnection, timezone: str, *, partitions: int | None = None
) -> float:
    """Recompute every rollup from the store's tables; returns the seconds it took.

    Buyers are split into ``partitions`` by a hash of their key (by default one per
    ``PARTITION_LINES`` order lines), each computed on its own, then summed."""
    started = time.perf_counter()
    lines = int(con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0])
    count = partitions or max(1, -(-lines // PARTITION_LINES))
    for table in table_names():
        _temp_like(con, f"_rollup_acc_{table}", table)
    if count == 1:
        contribute(con, timezone, "orders", "_rollup_acc_")
    else:
        for part in range(count):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT * FROM orders o "  # noqa: S608
                f"WHERE hash({_buyer_sql('o')}) % {count} = {part}"
            )
            contribute(con, timezone, SCOPE, "_rollup_acc_")
        con.execute(f"DROP TABLE {SCOPE}")
    contribute_stock(con, timezone, "stock_movements", f"_rollup_acc_{STOCK}")
    for table in table_names():
        source = f"SELECT * FROM _rollup_acc_{table}"  # noqa: S608
        if count > 1 and table in buyer_tables():  # rows of one key from several partitions
            source = _summed(source, *_measure_columns(table))
        con.execute(f'DELETE FROM "{table}"')  # noqa: S608
        con.execute(f'INSERT INTO "{table}" {source} ORDER BY "{_ORDER.get(table, "day")}"')
        con.execute(f"DROP TABLE _rollup_acc_{table}")
    seconds = time.perf_counter() - started
    log.info("analytics rollups rebuilt in %.3fs (%d partitions)", seconds, count)
    return seconds


# --- keeping them current during a refresh ----------------------------------------------------

# What changes which buyers' rows: the refresh stages the new or changed rows of each
# table as the temp table ``_changed_<table>`` before applying them.
_LABEL_TABLES = ("variants", "products", "categories", "brands", "warehouses")


@dataclass
class Delta:
    """One refresh's rollup maintenance: ``before`` the changes are applied, ``after``."""

    con: duckdb.DuckDBPyConnection
    timezone: str
    changed: frozenset[str]  # tables with a ``_changed_<table>`` temp table
    mode: str = "delta"  # or "rebuild"
    buyers: int = 0
    had_rows: bool = False  # the buyers had orders in the store before this refresh
    seconds: float = 0.0

    def _has(self, table: str) -> bool:
        return table in self.changed

    def before(self) -> None:
        started = time.perf_counter()
        con = self.con
        self._snapshot_labels()
        touched = []
        if self._has("orders"):
            touched.append("SELECT id FROM _changed_orders")
        for table in ("order_lines", "payments", "shipments"):
            if self._has(table):
                touched.append(f"SELECT order_id FROM _changed_{table}")  # noqa: S608
                touched.append(
                    f'SELECT order_id FROM "{table}" '  # noqa: S608
                    f"WHERE id IN (SELECT id FROM _changed_{table})"
                )
        if self._has("order_promotions"):
            touched.append("SELECT order_id FROM _changed_order_promotions")
        con.execute("CREATE OR REPLACE TEMP TABLE _rollup_orders (id BIGINT)")
        if touched:
            con.execute(f"INSERT INTO _rollup_orders {' UNION '.join(touched)}")
        versions = "SELECT id, customer_id, guest_email_hash, number FROM orders"
        if self._has("orders"):
            versions += (
                " UNION ALL SELECT id, customer_id, guest_email_hash, number FROM _changed_orders"
            )
        tiers = ""
        if self._has("customers"):
            tiers = (
                " UNION SELECT c.id, NULL FROM _changed_customers c "
                "LEFT JOIN customers old ON old.id = c.id WHERE c.tier IS DISTINCT FROM old.tier"
            )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rollup_buyers AS "  # noqa: S608
            "SELECT DISTINCT o.customer_id, CASE WHEN o.customer_id IS NULL "
            "THEN coalesce(o.guest_email_hash, o.number) END AS guest "
            f"FROM ({versions}) o WHERE o.id IN (SELECT id FROM _rollup_orders){tiers}"
        )
        self.buyers = int(con.execute("SELECT count(*) FROM _rollup_buyers").fetchall()[0][0])
        if self.mode == "delta" and self.buyers:
            scoped = self._scope()
            total = int(con.execute("SELECT count(*) FROM orders").fetchall()[0][0])
            if scoped > FULL_SHARE * max(total, 1) and scoped > 10_000:
                self.mode = "rebuild"
            elif scoped:  # else: new buyers only, nothing to take back
                self.had_rows = True
                self._create("_rollup_old_")
                contribute(con, self.timezone, SCOPE, "_rollup_old_", replaced=False)
        if self.mode == "delta" and self._has("stock_movements"):
            _temp_like(con, "_rollup_old_stock", STOCK)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _rollup_old_moves AS SELECT * FROM "
                "stock_movements WHERE id IN (SELECT id FROM _changed_stock_movements)"
            )
            contribute_stock(con, self.timezone, "_rollup_old_moves", "_rollup_old_stock")
        self.seconds += time.perf_counter() - started

    def after(self) -> None:
        started = time.perf_counter()
        con = self.con
        if self.mode == "delta" and self._relabelled():
            self.mode = "rebuild"
        if self.mode == "rebuild":
            rebuild(con, self.timezone)
        else:
            if self.buyers:
                self._scope()
                self._create("_rollup_new_")
                contribute(con, self.timezone, SCOPE, "_rollup_new_")
                for table in buyer_tables():
                    old = f"_rollup_old_{table}" if self.had_rows else None
                    merge_difference(con, table, f"_rollup_new_{table}", old)
                replace_customers(con, f"_rollup_new_{CUSTOMERS}")
            if self._has("stock_movements"):
                _temp_like(con, "_rollup_new_stock", STOCK)
                contribute_stock(
                    con, self.timezone, "_changed_stock_movements", "_rollup_new_stock"
                )
                merge_difference(con, STOCK, "_rollup_new_stock", "_rollup_old_stock")
        self._cleanup()
        self.seconds += time.perf_counter() - started

    def _scope(self) -> int:
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS "  # noqa: S608
            "SELECT o.* FROM orders o WHERE o.customer_id IN "
            "(SELECT customer_id FROM _rollup_buyers WHERE customer_id IS NOT NULL) "
            "UNION ALL SELECT o.* FROM orders o WHERE o.customer_id IS NULL AND "
            "coalesce(o.guest_email_hash, o.number) IN "
            "(SELECT guest FROM _rollup_buyers WHERE guest IS NOT NULL)"
        )
        return int(self.con.execute(f"SELECT count(*) FROM {SCOPE}").fetchall()[0][0])  # noqa: S608

    def _create(self, prefix: str) -> None:
        for table in (*buyer_tables(), CUSTOMERS):
            _temp_like(self.con, f"{prefix}{table}", table)

    # Catalogue and warehouse edits relabel the rows of every buyer who bought the SKU or
    # was shipped from the warehouse: that is recomputed in full, when something sold moved.

    def _snapshot_labels(self) -> None:
        if any(self._has(t) for t in _LABEL_TABLES):
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _rollup_labels AS {_LABELS_SQL}")

    def _relabelled(self) -> bool:
        if not any(self._has(t) for t in _LABEL_TABLES):
            return False
        con = self.con
        con.execute(f"CREATE OR REPLACE TEMP TABLE _rollup_labels_now AS {_LABELS_SQL}")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rollup_relabelled AS "
            "SELECT * FROM (SELECT * FROM _rollup_labels EXCEPT SELECT * FROM _rollup_labels_now) "
            "UNION SELECT * FROM "
            "(SELECT * FROM _rollup_labels_now EXCEPT SELECT * FROM _rollup_labels)"
        )
        sold = con.execute(
            "SELECT EXISTS (SELECT 1 FROM order_lines WHERE sku IN "
            "(SELECT key FROM _rollup_relabelled WHERE kind = 'sku')) OR EXISTS "
            "(SELECT 1 FROM shipments WHERE CAST(warehouse_id AS VARCHAR) IN "
            "(SELECT key FROM _rollup_relabelled WHERE kind = 'warehouse'))"
        ).fetchall()[0][0]
        return bool(sold)

    def _cleanup(self) -> None:
        temps = [
            "_rollup_orders",
            "_rollup_buyers",
            SCOPE,
            "_rollup_labels",
            "_rollup_labels_now",
            "_rollup_relabelled",
            "_rollup_old_moves",
            "_rollup_old_stock",
            "_rollup_new_stock",
        ]
        for prefix in ("_rollup_old_", "_rollup_new_"):
            temps += [f"{prefix}{table}" for table in (*buyer_tables(), CUSTOMERS)]
        for name in temps:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")


# What a SKU or a warehouse is called in the facts (facts._products, facts.shipments).
_LABELS_SQL = (
    "SELECT 'sku' AS kind, v.sku AS key, "
    "coalesce(CAST(c.name AS VARCHAR), '(none)') || chr(31) || "
    "coalesce(CAST(b.name AS VARCHAR), '(none)') AS label "
    "FROM variants v LEFT JOIN products p ON p.id = v.product_id "
    "LEFT JOIN categories c ON c.id = p.category_id LEFT JOIN brands b ON b.id = p.brand_id "
    "UNION ALL SELECT 'warehouse', CAST(id AS VARCHAR), code FROM warehouses"
)


# --- reading ----------------------------------------------------------------------------------


def usable(src: Sources, period: Period) -> bool:
    """Whether ``period`` can be read from ``src``'s rollups."""
    if not isinstance(src, StoreSources) or src.rollup_timezone is None:
        return False
    return src.rollup_timezone == period.tz and period.local_days() is not None


def _window(table: ir.Table, period: Period) -> ir.Table:
    first, end = period.local_days() or (0, 0)
    return table.filter(table.day >= first, table.day < end)


def _branch(
    table: ir.Table,
    period: Period,
    by: str | None,
    index: int,
    currency: str,
    group: Sequence[str],
    measures: Callable[[ir.Table], dict[str, ir.Value]],
) -> ir.Table:
    rows = _window(table, period)
    rows = rows.filter(rows.dim == (by or ALL), rows.currency == currency)
    rows = rows.mutate(_bucket=period.day_bucket_expr(rows.day), _dim=rows.value)
    grouped = rows.group_by(["_bucket", "_dim", *group]).aggregate(**measures(rows))
    return grouped.mutate(_request=ibis.literal(index, type="int64"))


def fact_cells(
    src: StoreSources,
    ctx: FactContext,
    fact_name: str,
    needs: set[str],
    requests: Sequence[tuple[Period, str | None]],
) -> list[Cells]:
    """Aggregates of an order-based fact for each (period, breakdown) from the rollups, each
    period ``usable``: the same cells as the raw path gives (``kpi.fact_cells``)."""
    plan = plans()[fact_name]
    names = sorted(n for n in needs if n in plan.fact.aggregates)
    sums = [n for n in names if n in plan.sums]
    counts = [n for n in names if n in plan.counts]
    spread = [n for n in names if n in plan.spread]
    columns = ["rows", *sums, *(f"{n}__n" for n in sums), *counts]
    signature = tuple((p.start, p.end, p.tz, p.grain, by) for p, by in requests)

    def cells_query() -> ir.Table:
        table = src.table(plan.table)
        branches = [
            _branch(
                table,
                period,
                by,
                index,
                ctx.currency,
                [],
                lambda t: {c: t[c].sum() for c in columns},
            )
            for index, (period, by) in enumerate(requests)
        ]
        return ibis.union(*branches, distinct=False) if len(branches) > 1 else branches[0]

    frame = src.frame(("rollup", fact_name, tuple(names), ctx, signature), cells_query)
    out: list[Cells] = [{} for _ in requests]
    values = {name: frame[name].tolist() for name in ["_request", "_bucket", "_dim", *columns]}
    for row, rows in enumerate(values["rows"]):
        if not rows:
            continue
        cell: dict[str, Any] = {}
        for name in sums:
            cell[name] = float(values[name][row]) if values[f"{name}__n"][row] else None
        for name in counts:
            cell[name] = float(values[name][row])
        for name in spread:
            cell[name] = 0.0  # distinct count of nothing
        key = (int(values["_bucket"][row]), str(values["_dim"][row]))
        out[int(values["_request"][row])][key] = cell
    if spread:

        def spread_query() -> ir.Table:
            table = src.table(SPREAD)
            table = table.filter(table.fact == fact_name, table.measure.isin(spread))
            branches = []
            for index, (period, by) in enumerate(requests):
                # a buyer counts once per bucket: on its first active day in the bucket
                first = table.filter(
                    table.previous_day.isnull()
                    | (table.previous_day < period.day_bucket_start(table.day))
                )
                branches.append(
                    _branch(
                        first,
                        period,
                        by,
                        index,
                        ctx.currency,
                        ["measure"],
                        lambda t: {"buyers": t.buyers.sum()},
                    )
                )
            return ibis.union(*branches, distinct=False) if len(branches) > 1 else branches[0]

        counted = src.frame(
            ("rollup_spread", fact_name, tuple(spread), ctx, signature), spread_query
        )
        for request, bucket, dim, name, buyers in zip(
            counted["_request"].tolist(),
            counted["_bucket"].tolist(),
            counted["_dim"].tolist(),
            counted["measure"].tolist(),
            counted["buyers"].tolist(),
            strict=True,
        ):
            found = out[int(request)].get((int(bucket), str(dim)))
            if found is not None:
                found[str(name)] = float(buyers)
    return out


def stock_after(src: StoreSources, period: Period) -> ir.Table:
    """Units moved per position from the window's end on (as the raw query sums them)."""
    table = src.table(STOCK)
    _, end = period.local_days() or (0, 0)
    later = table.filter(table.day >= end)
    return later.group_by(["sku", "warehouse_id"]).aggregate(
        units=later.quantity.sum().cast("float64")
    )


def stock_within(src: StoreSources, period: Period) -> ir.Table:
    """Units moved, sold and received per position and bucket inside the window."""
    table = _window(src.table(STOCK), period)
    table = table.mutate(_bucket=period.day_bucket_expr(table.day))
    return table.group_by(["sku", "warehouse_id", "_bucket"]).aggregate(
        units=table.quantity.sum().cast("float64"),
        sold_units=table.sold_units.sum().cast("float64"),
        received_units=table.received_units.sum().cast("float64"),
    )
