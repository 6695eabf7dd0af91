"""What analytics reads from the operational database: tables, columns, and how they change.

Analytics does not import the contexts: this module is the contract. Each
``SourceTable`` names an operational table, the columns copied into the store
(with a logical type), and how new and changed rows are found:

* ``updated``: rows with ``id`` above the watermark or ``updated_at`` at or after it
  (minus an overlap that covers transactions committing out of order);
* ``append``: rows with ``id`` above the watermark (the table is append-only);
* ``child``: rows whose parent (``parent``/``parent_key``) moved in the same refresh.

The same names and columns are what metric definitions see on every engine: the
DuckDB store holds exactly these columns, and ``OperationalSources`` projects the
operational tables onto them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis.expr.types as ir
import pandas as pd

Kind = Literal["int", "str", "ts", "bool"]
Watermark = Literal["updated", "append", "child", "derived"]

DUCKDB_TYPES: dict[Kind, str] = {
    "int": "BIGINT",
    "str": "VARCHAR",
    "ts": "TIMESTAMP",
    "bool": "BOOLEAN",
}
STAGED_PROMOTIONS = "analytics_staged_order_promotions"
IBIS_TYPES: dict[Kind, str] = {
    "int": "int64",
    "str": "string",
    "ts": "timestamp",
    "bool": "boolean",
}


@dataclass(frozen=True)
class SourceTable:
    name: str
    columns: tuple[tuple[str, Kind], ...]
    watermark: Watermark
    parent: str | None = None
    parent_key: str | None = None  # column of this table holding the parent's id

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def key(self) -> str:
        """Rows are replaced by this column: ``id``, or the parent key for derived rows."""
        return self.parent_key if self.watermark == "derived" and self.parent_key else "id"


def _cols(spec: str) -> tuple[tuple[str, Kind], ...]:
    """``"id:int status:str placed_at:ts"`` -> column specs."""
    out: list[tuple[str, Kind]] = []
    for item in spec.split():
        name, kind = item.split(":")
        assert kind in DUCKDB_TYPES, item
        out.append((name, kind))
    return tuple(out)


TABLES: tuple[SourceTable, ...] = (
    SourceTable("categories", _cols("id:int name:str parent_id:int updated_at:ts"), "updated"),
    SourceTable("brands", _cols("id:int name:str updated_at:ts"), "updated"),
    SourceTable(
        "products",
        _cols("id:int code:str name:str category_id:int brand_id:int status:str updated_at:ts"),
        "updated",
    ),
    SourceTable(
        "variants",
        _cols("id:int product_id:int sku:str price_minor:int cost_minor:int updated_at:ts"),
        "updated",
    ),
    SourceTable(
        "customers",
        _cols("id:int source_channel:str registered_at:ts region:str tier:str updated_at:ts"),
        "updated",
    ),
    SourceTable("warehouses", _cols("id:int code:str region:str updated_at:ts"), "updated"),
    SourceTable(
        "orders",
        _cols(
            "id:int number:str status:str channel:str customer_id:int guest_email_hash:str "
            "ship_region:str ship_country:str currency:str subtotal_minor:int "
            "discount_minor:int shipping_minor:int total_minor:int refunded_minor:int "
            "placed_at:ts paid_at:ts ship_by:ts shipped_at:ts delivered_at:ts "
            "cancelled_at:ts closed_at:ts updated_at:ts"
        ),
        "updated",
    ),
    SourceTable(
        "order_lines",
        _cols(
            "id:int order_id:int sku:str quantity:int unit_price_minor:int "
            "unit_cost_minor:int discount_minor:int total_minor:int shipped_quantity:int "
            "returned_quantity:int refunded_minor:int"
        ),
        "child",
        parent="orders",
        parent_key="order_id",
    ),
    # Promotions applied to an order, read from the order's price breakdown (JSON).
    SourceTable(
        "order_promotions",
        _cols("order_id:int promotion:str discount_minor:int"),
        "derived",
        parent="orders",
        parent_key="order_id",
    ),
    SourceTable(
        "payments",
        _cols(
            "id:int order_id:int amount_minor:int status:str method:str created_at:ts updated_at:ts"
        ),
        "updated",
    ),
    SourceTable(
        "refunds",
        _cols(
            "id:int order_id:int amount_minor:int status:str requested_at:ts "
            "completed_at:ts updated_at:ts"
        ),
        "updated",
    ),
    SourceTable(
        "shipments",
        _cols(
            "id:int order_id:int warehouse_id:int carrier:str status:str shipped_at:ts "
            "delivered_at:ts ship_by:ts updated_at:ts"
        ),
        "updated",
    ),
    SourceTable(
        "return_requests",
        _cols("id:int order_id:int status:str refund_minor:int requested_at:ts updated_at:ts"),
        "updated",
    ),
    SourceTable(
        "return_lines",
        _cols("id:int return_id:int order_line_id:int sku:str quantity:int refund_minor:int"),
        "child",
        parent="return_requests",
        parent_key="return_id",
    ),
    SourceTable(
        "stock_levels",
        _cols("id:int sku:str warehouse_id:int on_hand:int reserved:int updated_at:ts"),
        "updated",
    ),
    SourceTable(
        "stock_movements",
        _cols("id:int sku:str warehouse_id:int kind:str quantity:int occurred_at:ts"),
        "append",
    ),
    SourceTable(
        "tracked_events",
        _cols(
            "id:int message_id:str event:str anonymous_id:str user_id:str channel:str "
            "product_id:str sku:str order_id:str revenue_minor:int occurred_at:ts"
        ),
        "append",
    ),
    SourceTable(
        "tracked_event_products",
        _cols(
            "id:int event_id:int position:int product_id:str sku:str quantity:int price_minor:int"
        ),
        "append",
    ),
)

TABLES_BY_NAME: dict[str, SourceTable] = {t.name: t for t in TABLES}


def promotions_of(order_id: int, pricing: Any) -> Iterator[tuple[int, str, int]]:
    """(order_id, promotion, discount_minor) for each promotion in an order's price breakdown.

    The breakdown (``orders.pricing``, written by the promotions engine) lists the
    promotions that applied in ``applied`` (``promotion_id``, ``name``,
    ``discount_minor``); the promotion is named by its name, else its id. Without
    that list, the per-line ``discounts`` (which include each line's share of
    order-level promotions) are summed per promotion, else ``order_discounts``.
    """
    if isinstance(pricing, str | bytes):
        pricing = json.loads(pricing)
    if not isinstance(pricing, Mapping):
        return
    totals: dict[str, int] = {}

    def add(entry: Any, amount_key: str) -> None:
        if not isinstance(entry, Mapping):
            return
        key = entry.get("name") or entry.get("promotion_id") or entry.get("promotion_code")
        key = key or entry.get("code") or entry.get("promotion")
        amount = entry.get(amount_key, 0)
        if key is None or isinstance(amount, bool) or not isinstance(amount, int | float):
            return
        totals[str(key)] = totals.get(str(key), 0) + int(amount)

    applied = pricing.get("applied")
    if isinstance(applied, list) and applied:
        for entry in applied:
            add(entry, "discount_minor")
    else:
        for line in pricing.get("lines") or []:
            if isinstance(line, Mapping):
                for entry in line.get("discounts") or []:
                    add(entry, "amount_minor")
        if not totals:
            for entry in pricing.get("order_discounts") or []:
                add(entry, "amount_minor")
    for code in sorted(totals):
        yield order_id, code, totals[code]


_SQL_CACHE: dict[tuple[Hashable, ...], str] = {}
_SQL_CACHE_SIZE = 512


class Sources:
    """The source relations as Ibis tables, by name; metric definitions read only these.

    ``frame`` runs an expression and returns a DataFrame. Its SQL is compiled once
    per (dialect, key): a query's key names everything its SQL depends on, so
    repeated dashboards skip Ibis compilation and pay only for execution.
    """

    backend: Any

    def table(self, name: str) -> ir.Table:
        raise NotImplementedError

    def frame(self, key: Hashable, build: Callable[[], ir.Table]) -> pd.DataFrame:
        cache_key = (self.backend.name, key)
        sql = _SQL_CACHE.get(cache_key)
        if sql is None:
            sql = str(self.backend.compile(build()))
            if len(_SQL_CACHE) >= _SQL_CACHE_SIZE:
                _SQL_CACHE.clear()
            _SQL_CACHE[cache_key] = sql
        return self.fetch(sql)

    def fetch(self, sql: str) -> pd.DataFrame:
        cursor = self.backend.raw_sql(sql)
        try:
            columns = [d[0] for d in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
        finally:
            cursor.close()


class StoreSources(Sources):
    """The DuckDB store: its tables have exactly the source columns.

    ``rollup_timezone`` is the time zone of the store's daily rollups (see
    ``analytics.rollups``), or None when they are not to be read (not built, or the
    caller wants the raw tables); ``table`` also gives the rollup tables by name.
    """

    def __init__(self, backend: Any, rollup_timezone: str | None = None) -> None:
        self.backend = backend
        self.rollup_timezone = rollup_timezone
        self._tables: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        if name not in self._tables:
            spec = TABLES_BY_NAME.get(name)
            table = self.backend.table(name)
            self._tables[name] = table.select(*spec.column_names) if spec else table
        return self._tables[name]

    def fetch(self, sql: str) -> pd.DataFrame:
        frame: pd.DataFrame = self.backend.con.execute(sql).df()
        return frame


class OperationalSources(Sources):
    """The operational database itself (SQLite or PostgreSQL) through an Ibis backend.

    Each table is projected onto the source columns, cast to the store's types.
    ``order_promotions`` lives in JSON there, so it is staged by ``promotions_of``
    (the same code the refresh uses) into a temporary table on that engine.
    """

    def __init__(self, backend: Any, promotions: Sequence[tuple[int, str, int]]) -> None:
        self.backend = backend
        self._promotions = list(promotions)
        self._promotions_table: ir.Table | None = None
        self._tables: dict[str, ir.Table] = {}
        self.table("order_promotions")  # staged now: cached SQL may name it without building

    def table(self, name: str) -> ir.Table:
        if name not in self._tables:
            self._tables[name] = self._project(TABLES_BY_NAME[name])
        return self._tables[name]

    def _project(self, spec: SourceTable) -> ir.Table:
        if spec.name == "order_promotions":
            return self._promotion_table(spec)
        table = self.backend.table(spec.name)
        schema = table.schema()
        return table.select(
            *[
                table[column]
                if _same_family(schema[column], kind)
                else table[column].cast(IBIS_TYPES[kind]).name(column)
                for column, kind in spec.columns
            ]
        )

    def _promotion_table(self, spec: SourceTable) -> ir.Table:
        if self._promotions_table is None:
            marker = "?" if self.backend.name == "sqlite" else "%s"
            cursor = self.backend.con.cursor()
            try:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGED_PROMOTIONS}")
                cursor.execute(
                    f"CREATE TEMP TABLE {STAGED_PROMOTIONS} "
                    "(order_id BIGINT, promotion VARCHAR(200), discount_minor BIGINT)"
                )
                if self._promotions:
                    cursor.executemany(
                        f"INSERT INTO {STAGED_PROMOTIONS} VALUES ({marker}, {marker}, {marker})",  # noqa: S608
                        self._promotions,
                    )
            finally:
                cursor.close()
            staged = self.backend.table(STAGED_PROMOTIONS)
            self._promotions_table = staged.select(*spec.column_names)
        return self._promotions_table


def _same_family(dtype: Any, kind: Kind) -> bool:
    checks = {
        "int": dtype.is_integer(),
        "str": dtype.is_string(),
        "ts": dtype.is_timestamp(),
        "bool": dtype.is_boolean(),
    }
    return bool(checks[kind])
