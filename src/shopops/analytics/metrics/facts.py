"""Fact relations and their aggregates, as Ibis expressions over the source tables.

A fact is one row per thing that happened (an order line, a payment attempt, a
shipment, a stock movement), with ``ts`` (the moment that decides its period),
the breakdown columns it supports and its measures. Aggregates are named
reductions over a fact; metrics (``definitions.py``) combine aggregates. The
expressions use only operations every engine compiles alike (integer epoch
arithmetic, CASE, COUNT DISTINCT with FILTER), so one definition runs on the
DuckDB store and on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from shopops.analytics.periods import epoch
from shopops.analytics.sources import Sources

NONE = "(none)"
CANCELLED = ("cancelled", "closed")  # closed: never paid within the payment window
# Paid, or any later fulfilment state: the orders customer analytics (RFM, cohorts, lifetime
# value) count as purchases.
PAID_OR_LATER = ("paid", "processing", "partially_shipped", "shipped", "delivered", "completed")
PAYMENT_SUCCESS = ("authorized", "captured", "partially_refunded", "refunded", "voided")

Aggregate = Callable[[ir.Table], ir.Scalar]


@dataclass(frozen=True)
class FactContext:
    currency: str


@dataclass(frozen=True)
class Fact:
    """A fact relation, the breakdowns it supports and its aggregates.

    ``spread`` names the distinct counts whose things can occur on several days (a
    buyer orders on many days); every other aggregate adds up over days (a sum, a
    count, or a distinct count of things that happen once: an order, a payment, a
    buyer's first order), which the daily rollups (``analytics.rollups``) rely on.
    """

    name: str
    build: Callable[[Sources, FactContext], ir.Table]
    dimensions: tuple[str, ...]
    aggregates: Mapping[str, Aggregate]
    spread: frozenset[str] = frozenset()


def _label(column: ir.Value) -> ir.StringValue:
    return column.cast("string").fill_null(NONE)


def _orders(src: Sources, ctx: FactContext) -> ir.Table:
    orders = src.table("orders")
    orders = orders.filter(orders.currency == ctx.currency)
    customers = src.table("customers").select(_customer_id="id", _tier="tier")
    joined = orders.left_join(customers, orders.customer_id == customers._customer_id)
    buyer = ibis.ifelse(
        joined.customer_id.notnull(),
        ibis.literal("c:") + joined.customer_id.cast("string"),
        ibis.literal("g:") + joined.guest_email_hash.fill_null(joined.number),
    )
    tier = ibis.ifelse(joined.customer_id.isnull(), ibis.literal("guest"), _label(joined._tier))
    return joined.select(
        order_id=joined.id,
        placed_at=joined.placed_at,
        paid_at=joined.paid_at,
        status=joined.status,
        valid=~joined.status.isin(CANCELLED),
        buyer=buyer,
        channel=_label(joined.channel),
        region=_label(joined.ship_region.fill_null(joined.ship_country)),
        customer_tier=tier,
        subtotal_minor=joined.subtotal_minor,
        order_discount_minor=joined.discount_minor,
        order_refunded_minor=joined.refunded_minor,
    )


def _first_orders(orders: ir.Table) -> ir.Table:
    valid = orders.filter(orders.valid)
    return valid.group_by(_buyer="buyer").aggregate(first_at=valid.placed_at.min())


def _order_promotion(src: Sources) -> ir.Table:
    promotions = src.table("order_promotions")
    return promotions.group_by(_promo_order="order_id").aggregate(
        promotion=promotions.promotion.min()
    )


def _products(src: Sources) -> ir.Table:
    variants = src.table("variants").select("sku", "product_id", _cost="cost_minor")
    products = src.table("products").select("category_id", "brand_id", _product="id")
    categories = src.table("categories").select(_category="id", _category_name="name")
    brands = src.table("brands").select(_brand="id", _brand_name="name")
    joined = (
        variants.left_join(products, variants.product_id == products._product)
        .left_join(categories, products.category_id == categories._category)
        .left_join(brands, products.brand_id == brands._brand)
    )
    return joined.select(
        _sku=joined.sku,
        unit_cost_now=joined._cost,
        category=_label(joined._category_name),
        brand=_label(joined._brand_name),
    )


# --- sales: one row per order line of an order placed in the store currency -------------


def sales_lines(src: Sources, ctx: FactContext) -> ir.Table:
    base = _orders(src, ctx)
    first = _first_orders(base)
    orders = base.view()  # joined with an aggregate of itself: a self-join needs a view
    orders = orders.left_join(first, orders.buyer == first._buyer)
    orders = orders.mutate(is_first=orders.valid & (orders.placed_at == orders.first_at))
    promo = _order_promotion(src)
    orders = orders.left_join(promo, orders.order_id == promo._promo_order)
    lines = src.table("order_lines")
    products = _products(src)
    joined = lines.join(orders, lines.order_id == orders.order_id).left_join(
        products, lines.sku == products._sku
    )
    return joined.select(
        ts=joined.placed_at,
        order_id=joined.order_id,
        sku=joined.sku,
        buyer=joined.buyer,
        valid=joined.valid,
        cancelled=~joined.valid,
        is_first=joined.is_first,
        channel=joined.channel,
        region=joined.region,
        customer_tier=joined.customer_tier,
        category=joined.category,
        brand=joined.brand,
        promotion=_label(joined.promotion),
        quantity=joined.quantity,
        gross=joined.quantity * joined.unit_price_minor,
        discount=joined.discount_minor,
        net=joined.total_minor,
        refunded=joined.refunded_minor,
        returned_quantity=joined.returned_quantity,
        returned_value=joined.returned_quantity * joined.unit_price_minor,
        cost=joined.quantity * joined.unit_cost_minor,
    )


SALES_AGGREGATES: dict[str, Aggregate] = {
    "gmv": lambda t: t.gross.sum(where=t.valid),
    "discounts": lambda t: t.discount.sum(where=t.valid),
    "net_lines": lambda t: t.net.sum(where=t.valid),
    "refunds": lambda t: t.refunded.sum(where=t.valid),
    "orders": lambda t: t.order_id.nunique(where=t.valid),
    "units": lambda t: t.quantity.sum(where=t.valid),
    "buyers": lambda t: t.buyer.nunique(where=t.valid),
    "new_buyers": lambda t: t.buyer.nunique(where=t.is_first),
    "placed_orders": lambda t: t.order_id.nunique(),
    "placed_value": lambda t: t.gross.sum(),
    "cancelled_orders": lambda t: t.order_id.nunique(where=t.cancelled),
    "cancelled_value": lambda t: t.gross.sum(where=t.cancelled),
    "refunded_orders": lambda t: t.order_id.nunique(where=t.valid & (t.refunded > 0)),
    "returned_value": lambda t: t.returned_value.sum(where=t.valid),
    "returned_orders": lambda t: t.order_id.nunique(where=t.valid & (t.returned_quantity > 0)),
    "costed_net": lambda t: t.net.sum(where=t.valid & t.cost.notnull()),
    "costed_cost": lambda t: t.cost.sum(where=t.valid & t.cost.notnull()),
}


# --- buyers: one row per buyer, at their first order (repurchase cohorts) ---------------


def buyer_cohorts(src: Sources, ctx: FactContext) -> ir.Table:
    orders = _orders(src, ctx)
    first = _first_orders(orders)
    view = orders.view()  # joined with an aggregate of itself: a self-join needs a view
    valid = view.filter(view.valid)
    firsts = valid.join(first, (valid.buyer == first._buyer) & (valid.placed_at == first.first_at))
    one = firsts.group_by("buyer").aggregate(
        first_at=firsts.placed_at.min(),
        channel=firsts.channel.min(),
        region=firsts.region.min(),
        customer_tier=firsts.customer_tier.min(),
    )
    view = orders.view()
    valid = view.filter(view.valid)
    later = valid.join(first, valid.buyer == first._buyer)
    later = later.filter(later.placed_at > later.first_at)
    second = later.group_by(_second_buyer="buyer").aggregate(second_at=later.placed_at.min())
    joined = one.left_join(second, one.buyer == second._second_buyer)
    gap = epoch(joined.second_at) - epoch(joined.first_at)
    return joined.select(
        ts=joined.first_at,
        buyer=joined.buyer,
        channel=joined.channel,
        region=joined.region,
        customer_tier=joined.customer_tier,
        gap_seconds=gap,
    )


def _repurchased(days: int) -> Aggregate:
    return lambda t: t.buyer.nunique(where=t.gap_seconds <= days * 86400)


COHORT_AGGREGATES: dict[str, Aggregate] = {
    "cohort_buyers": lambda t: t.buyer.nunique(),
    "repurchased_30d": _repurchased(30),
    "repurchased_90d": _repurchased(90),
    "repurchased_365d": _repurchased(365),
}


# --- payments: one row per payment attempt ---------------------------------------------


def payment_attempts(src: Sources, ctx: FactContext) -> ir.Table:
    payments = src.table("payments")
    orders = _orders(src, ctx)
    joined = payments.join(orders, payments.order_id == orders.order_id)
    return joined.select(
        ts=joined.created_at,
        payment_id=joined.id,
        succeeded=joined.status.isin(PAYMENT_SUCCESS),
        failed=joined.status == "failed",
        channel=joined.channel,
        region=joined.region,
        customer_tier=joined.customer_tier,
    )


PAYMENT_AGGREGATES: dict[str, Aggregate] = {
    "payments_succeeded": lambda t: t.payment_id.nunique(where=t.succeeded),
    "payments_failed": lambda t: t.payment_id.nunique(where=t.failed),
}


# --- shipments: one row per parcel, at its ship time -----------------------------------


def shipments(src: Sources, ctx: FactContext) -> ir.Table:
    parcels = src.table("shipments")
    orders = _orders(src, ctx)
    warehouses = src.table("warehouses").select(_warehouse="id", _warehouse_code="code")
    joined = parcels.join(orders, parcels.order_id == orders.order_id).left_join(
        warehouses, parcels.warehouse_id == warehouses._warehouse
    )
    shipped = epoch(joined.shipped_at)
    return joined.select(
        ts=joined.shipped_at,
        shipment_id=joined.id,
        has_deadline=joined.ship_by.notnull(),
        on_time=joined.ship_by.notnull() & (joined.shipped_at <= joined.ship_by),
        ship_seconds=shipped - epoch(joined.paid_at),
        deliver_seconds=epoch(joined.delivered_at) - shipped,
        warehouse=_label(joined._warehouse_code),
        channel=joined.channel,
        region=joined.region,
        customer_tier=joined.customer_tier,
    )


SHIPMENT_AGGREGATES: dict[str, Aggregate] = {
    "shipments_with_deadline": lambda t: t.shipment_id.nunique(where=t.has_deadline),
    "shipments_on_time": lambda t: t.shipment_id.nunique(where=t.on_time),
    "ship_seconds_total": lambda t: t.ship_seconds.sum(),
    "ship_seconds_count": lambda t: t.ship_seconds.count(),
    "deliver_seconds_total": lambda t: t.deliver_seconds.sum(),
    "deliver_seconds_count": lambda t: t.deliver_seconds.count(),
}


# --- promotions: one row per (order, promotion) redemption -----------------------------


def redemptions(src: Sources, ctx: FactContext) -> ir.Table:
    promotions = src.table("order_promotions")
    orders = _orders(src, ctx)
    orders = orders.filter(orders.valid)
    joined = promotions.join(orders, promotions.order_id == orders.order_id)
    return joined.select(
        ts=joined.placed_at,
        order_id=joined.order_id,
        promotion=joined.promotion,
        promotion_discount=joined.discount_minor,
        order_net=joined.subtotal_minor - joined.order_discount_minor - joined.order_refunded_minor,
        channel=joined.channel,
        region=joined.region,
        customer_tier=joined.customer_tier,
    )


PROMOTION_AGGREGATES: dict[str, Aggregate] = {
    "redemptions": lambda t: t.count(),
    "promotion_discount": lambda t: t.promotion_discount.sum(),
    "promoted_net": lambda t: t.order_net.sum(),
}


# --- inventory: stock movements and current stock per (sku, warehouse) ------------------


def stock_positions(src: Sources, table: ir.Table) -> ir.Table:
    """``table`` (with ``sku``, ``warehouse_id``) with the position's breakdowns and unit cost."""
    products = _products(src)
    warehouses = src.table("warehouses").select(
        _warehouse="id", _warehouse_code="code", _warehouse_region="region"
    )
    joined = table.left_join(products, table.sku == products._sku).left_join(
        warehouses, table.warehouse_id == warehouses._warehouse
    )
    return joined.mutate(
        cost_each=joined.unit_cost_now.fill_null(0),
        warehouse=_label(joined._warehouse_code),
        region=_label(joined._warehouse_region),
    )


def stock_movements(src: Sources, ctx: FactContext) -> ir.Table:
    joined = stock_positions(src, src.table("stock_movements"))
    sold = ibis.ifelse(joined.kind == "sale", -joined.quantity, 0)
    return joined.select(
        ts=joined.occurred_at,
        sku=joined.sku,
        warehouse_id=joined.warehouse_id,
        category=joined.category,
        brand=joined.brand,
        warehouse=joined.warehouse,
        region=joined.region,
        quantity=joined.quantity,
        value=joined.quantity * joined.cost_each,
        sold_units=sold,
        sold_value=sold * joined.cost_each,
        received_units=ibis.ifelse(joined.kind == "receipt", joined.quantity, 0),
    )


def stock_now(src: Sources, ctx: FactContext) -> ir.Table:
    joined = stock_positions(src, src.table("stock_levels"))
    return joined.select(
        sku=joined.sku,
        warehouse_id=joined.warehouse_id,
        category=joined.category,
        brand=joined.brand,
        warehouse=joined.warehouse,
        region=joined.region,
        quantity=joined.on_hand,
        value=joined.on_hand * joined.cost_each,
    )


MOVEMENT_AGGREGATES: dict[str, Aggregate] = {
    "moved_units": lambda t: t.quantity.sum(),
    "moved_value": lambda t: t.value.sum(),
    "sold_units": lambda t: t.sold_units.sum(),
    "sold_value": lambda t: t.sold_value.sum(),
    "received_units": lambda t: t.received_units.sum(),
}

SALES = Fact(
    "sales",
    sales_lines,
    ("channel", "category", "brand", "region", "customer_tier", "promotion"),
    SALES_AGGREGATES,
    spread=frozenset({"buyers"}),
)
COHORTS = Fact("cohorts", buyer_cohorts, ("channel", "region", "customer_tier"), COHORT_AGGREGATES)
PAYMENTS = Fact(
    "payments", payment_attempts, ("channel", "region", "customer_tier"), PAYMENT_AGGREGATES
)
SHIPMENTS = Fact(
    "shipments",
    shipments,
    ("warehouse", "channel", "region", "customer_tier"),
    SHIPMENT_AGGREGATES,
)
PROMOTIONS = Fact(
    "promotions",
    redemptions,
    ("promotion", "channel", "region", "customer_tier"),
    PROMOTION_AGGREGATES,
)
INVENTORY = Fact(
    "inventory",
    stock_movements,
    ("category", "brand", "warehouse", "region"),
    MOVEMENT_AGGREGATES,
)
FACTS: dict[str, Fact] = {
    f.name: f for f in (SALES, COHORTS, PAYMENTS, SHIPMENTS, PROMOTIONS, INVENTORY)
}
