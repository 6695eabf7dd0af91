"""The KPIs: each one a formula over aggregates of one fact (see ``facts.py``).

Aggregates are exact integers computed by the engine; the formula that turns
them into a rate or an average runs here, in Python, the same for every engine.
``formula`` is the text shown in the registry and in docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Unit = Literal["money", "count", "ratio", "hours", "days", "times"]
Values = Mapping[str, int | float | None]


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    fact: str
    unit: Unit
    formula: str
    needs: tuple[str, ...]
    compute: Callable[[Values], float | int | None]
    description: str = ""


def _n(values: Values, name: str) -> float:
    value = values.get(name)
    return 0 if value is None else value


def _ratio(
    numerator: Callable[[Values], float], denominator: Callable[[Values], float]
) -> Callable[[Values], float | None]:
    def compute(values: Values) -> float | None:
        below = denominator(values)
        if not below:
            return None
        return round(numerator(values) / below, 6)

    return compute


def _get(name: str) -> Callable[[Values], float]:
    return lambda v: _n(v, name)


def _sum(name: str) -> Callable[[Values], int | float]:
    return lambda v: _n(v, name)


def _rate(numerator: str, denominator: str) -> Callable[[Values], float | None]:
    return _ratio(_get(numerator), _get(denominator))


def _net_sales(v: Values) -> float:
    return _n(v, "net_lines") - _n(v, "refunds")


def _average_stock_value(v: Values) -> float:
    return (_n(v, "stock_start_value") + _n(v, "stock_end_value")) / 2


def _daily_units_sold(v: Values) -> float:
    days = _n(v, "bucket_days")
    return _n(v, "sold_units") / days if days else 0


def _promotion_roi(v: Values) -> float | None:
    spent = _n(v, "promotion_discount")
    if not spent:
        return None
    return round((_n(v, "promoted_net") - spent) / spent, 6)


def _new(
    name: str,
    title: str,
    fact: str,
    unit: Unit,
    formula: str,
    needs: tuple[str, ...],
    compute: Callable[[Values], float | int | None],
) -> Metric:
    return Metric(name, title, fact, unit, formula, needs, compute)


METRICS: tuple[Metric, ...] = (
    _new(
        "gmv",
        "Gross merchandise value",
        "sales",
        "money",
        "Σ unit price x quantity of lines of valid orders",
        ("gmv",),
        _sum("gmv"),
    ),
    _new(
        "net_sales",
        "Net sales",
        "sales",
        "money",
        "Σ line totals (after discounts) - Σ refunded, valid orders",
        ("net_lines", "refunds"),
        _net_sales,
    ),
    _new(
        "orders", "Orders", "sales", "count", "count of valid orders", ("orders",), _sum("orders")
    ),
    _new(
        "units", "Units", "sales", "count", "Σ quantity of valid orders", ("units",), _sum("units")
    ),
    _new(
        "average_order_value",
        "Average order value",
        "sales",
        "money",
        "Σ line totals (after discounts) ÷ orders",
        ("net_lines", "orders"),
        _rate("net_lines", "orders"),
    ),
    _new(
        "units_per_order",
        "Units per order",
        "sales",
        "ratio",
        "units ÷ orders",
        ("units", "orders"),
        _rate("units", "orders"),
    ),
    _new(
        "buyers",
        "Buyers",
        "sales",
        "count",
        "distinct customers (or guest e-mails) with a valid order",
        ("buyers",),
        _sum("buyers"),
    ),
    _new(
        "new_buyers",
        "New buyers",
        "sales",
        "count",
        "buyers whose first valid order ever is in the period",
        ("new_buyers",),
        _sum("new_buyers"),
    ),
    _new(
        "returning_buyers",
        "Returning buyers",
        "sales",
        "count",
        "buyers - new buyers",
        ("buyers", "new_buyers"),
        lambda v: _n(v, "buyers") - _n(v, "new_buyers"),
    ),
    _new(
        "repurchase_rate_30d",
        "Repurchase rate (30 days)",
        "cohorts",
        "ratio",
        "buyers with a first order in the period who ordered again within 30 days ÷ those buyers",
        ("repurchased_30d", "cohort_buyers"),
        _rate("repurchased_30d", "cohort_buyers"),
    ),
    _new(
        "repurchase_rate_90d",
        "Repurchase rate (90 days)",
        "cohorts",
        "ratio",
        "as the 30-day rate, within 90 days",
        ("repurchased_90d", "cohort_buyers"),
        _rate("repurchased_90d", "cohort_buyers"),
    ),
    _new(
        "repurchase_rate_365d",
        "Repurchase rate (365 days)",
        "cohorts",
        "ratio",
        "as the 30-day rate, within 365 days",
        ("repurchased_365d", "cohort_buyers"),
        _rate("repurchased_365d", "cohort_buyers"),
    ),
    _new(
        "cancellation_rate",
        "Cancellation rate (count)",
        "sales",
        "ratio",
        "cancelled or unpaid-closed orders ÷ placed orders",
        ("cancelled_orders", "placed_orders"),
        _rate("cancelled_orders", "placed_orders"),
    ),
    _new(
        "cancellation_rate_value",
        "Cancellation rate (value)",
        "sales",
        "ratio",
        "gross value of cancelled orders ÷ gross value of placed orders",
        ("cancelled_value", "placed_value"),
        _rate("cancelled_value", "placed_value"),
    ),
    _new(
        "refund_rate",
        "Refund rate (count)",
        "sales",
        "ratio",
        "valid orders with a refund ÷ valid orders",
        ("refunded_orders", "orders"),
        _rate("refunded_orders", "orders"),
    ),
    _new(
        "refund_rate_value",
        "Refund rate (value)",
        "sales",
        "ratio",
        "Σ refunded ÷ Σ line totals (after discounts)",
        ("refunds", "net_lines"),
        _rate("refunds", "net_lines"),
    ),
    _new(
        "return_rate",
        "Return rate (count)",
        "sales",
        "ratio",
        "valid orders with a returned unit ÷ valid orders",
        ("returned_orders", "orders"),
        _rate("returned_orders", "orders"),
    ),
    _new(
        "return_rate_value",
        "Return rate (value)",
        "sales",
        "ratio",
        "Σ returned quantity x unit price ÷ GMV",
        ("returned_value", "gmv"),
        _rate("returned_value", "gmv"),
    ),
    _new(
        "discount_rate",
        "Discount rate",
        "sales",
        "ratio",
        "Σ line discounts ÷ GMV",
        ("discounts", "gmv"),
        _rate("discounts", "gmv"),
    ),
    _new(
        "gross_margin",
        "Gross margin",
        "sales",
        "ratio",
        "(Σ line totals - Σ quantity x unit cost) ÷ Σ line totals, lines with a known cost",
        ("costed_net", "costed_cost"),
        _ratio(lambda v: _n(v, "costed_net") - _n(v, "costed_cost"), _get("costed_net")),
    ),
    _new(
        "payment_success_rate",
        "Payment success rate",
        "payments",
        "ratio",
        "successful attempts ÷ (successful + failed); pending attempts are not counted",
        ("payments_succeeded", "payments_failed"),
        _ratio(
            _get("payments_succeeded"),
            lambda v: _n(v, "payments_succeeded") + _n(v, "payments_failed"),
        ),
    ),
    _new(
        "on_time_shipment_rate",
        "On-time shipment rate",
        "shipments",
        "ratio",
        "parcels shipped by their ship-by time ÷ parcels with a ship-by time",
        ("shipments_on_time", "shipments_with_deadline"),
        _rate("shipments_on_time", "shipments_with_deadline"),
    ),
    _new(
        "average_hours_to_ship",
        "Average hours to ship",
        "shipments",
        "hours",
        "mean of (shipped at - order paid at), in hours",
        ("ship_seconds_total", "ship_seconds_count"),
        _ratio(lambda v: _n(v, "ship_seconds_total") / 3600, _get("ship_seconds_count")),
    ),
    _new(
        "average_days_to_deliver",
        "Average days to deliver",
        "shipments",
        "days",
        "mean of (delivered at - shipped at), in days, delivered parcels by ship date",
        ("deliver_seconds_total", "deliver_seconds_count"),
        _ratio(lambda v: _n(v, "deliver_seconds_total") / 86400, _get("deliver_seconds_count")),
    ),
    _new(
        "inventory_turnover",
        "Inventory turnover",
        "inventory",
        "times",
        "cost of units sold ÷ average stock value ((start + end) ÷ 2), at current unit cost",
        ("sold_value", "stock_start_value", "stock_end_value"),
        _ratio(_get("sold_value"), _average_stock_value),
    ),
    _new(
        "days_of_cover",
        "Days of cover",
        "inventory",
        "days",
        "units on hand at the end ÷ units sold per day in the period",
        ("stock_end_units", "sold_units", "bucket_days"),
        _ratio(_get("stock_end_units"), _daily_units_sold),
    ),
    _new(
        "stockout_rate",
        "Stockout rate",
        "inventory",
        "ratio",
        "stock positions (SKU x warehouse) with nothing on hand at the end ÷ positions",
        ("positions_out", "positions"),
        _rate("positions_out", "positions"),
    ),
    _new(
        "sell_through",
        "Sell-through",
        "inventory",
        "ratio",
        "units sold ÷ (units on hand at the start + units received)",
        ("sold_units", "stock_start_units", "received_units"),
        _ratio(_get("sold_units"), lambda v: _n(v, "stock_start_units") + _n(v, "received_units")),
    ),
    _new(
        "promotion_redemptions",
        "Promotion redemptions",
        "promotions",
        "count",
        "(valid order, promotion) pairs",
        ("redemptions",),
        _sum("redemptions"),
    ),
    _new(
        "promotion_roi",
        "Promotion ROI",
        "promotions",
        "ratio",
        "(net of redeeming orders - promotion discount) ÷ promotion discount",
        ("promoted_net", "promotion_discount"),
        _promotion_roi,
    ),
)
