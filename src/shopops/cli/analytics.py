"""kpi, funnel, analytics: KPI values, the conversion funnel, and the analytics store.

    shopops kpi gmv --last 30d --grain day --by channel --compare previous
    shopops kpi net_sales --from 2026-01-01 --to 2026-01-31 --grain week --format csv
    shopops funnel --last 7d --by channel
    shopops analytics refresh | rebuild | status | kpis | dashboard

KPIs are read from the analytics store; ``--engine database`` computes them
directly on the operational database instead (slower; the same definitions).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import typer

from shopops.analytics.engines import ENGINES, fact_context, sources_for, store_for
from shopops.analytics.engines import refresh as refresh_store
from shopops.analytics.funnel import STEPS, funnel, product_performance
from shopops.analytics.kpi import KpiAnswer, dashboard, kpi, money
from shopops.analytics.metrics import METRICS, Metric, breakdowns_of, get_metric
from shopops.analytics.periods import COMPARISONS, GRAINS, Compare, Period, parse_period
from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.kernel.errors import FieldError, ValidationFailed

analytics_app = typer.Typer(
    help="The analytics store: refresh, rebuild, status; KPI list; dashboard.",
    no_args_is_help=True,
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
LAST = typer.Option(None, "--last", help="48h, 30d, 12w or 6m (default 30d).")
START = typer.Option(None, "--from", help="First day, e.g. 2026-01-01 (store time zone).")
END = typer.Option(None, "--to", help="Last day, included.")
GRAIN = typer.Option("day", "--grain", help=f"{', '.join(GRAINS)} or total.")
ENGINE = typer.Option("store", "--engine", help="store (default) or database.")


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "validation.failed",
            "invalid date",
            errors=[FieldError(name, "validation.invalid_date", "a date like 2026-01-31")],
        ) from None


def _period(grain: str, start: str | None, end: str | None, last: str | None) -> Period:
    settings = state.container.settings
    return parse_period(
        tz=settings.store_timezone,
        now=state.container.clock.now(),
        grain=None if grain == "total" else grain,
        start=_date(start, "from"),
        end=_date(end, "to"),
        last=last,
    )


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise ValidationFailed(
            "validation.failed",
            f"unknown {name}",
            errors=[
                FieldError(name, f"analytics.unknown_{name}", f"allowed: {', '.join(allowed)}")
            ],
        )
    return value


def _shown(metric: Metric, value: float | int | None) -> Any:
    currency = state.container.settings.default_currency
    if metric.unit == "money":
        amount = money(value, currency)
        return None if amount is None else str(amount)
    return value


def _kpi_rows(answer: KpiAnswer) -> tuple[list[str], list[list[Any]]]:
    metric = answer.metric
    headers = ["period"]
    if answer.by:
        headers.append(answer.by)
    headers.append(metric.name)
    if answer.compare:
        headers += [answer.compare, "change"]
    rows: list[list[Any]] = []
    for row in [*answer.rows, answer.total]:
        line: list[Any] = [row.period if row is not answer.total else f"total {row.period}"]
        if answer.by:
            line.append(row.breakdown if row is not answer.total else "")
        line.append(_shown(metric, row.value))
        if answer.compare:
            change = row.change
            line += [_shown(metric, row.comparison), None if change is None else f"{change:+.1%}"]
        rows.append(line)
    return headers, rows


def kpi_command(
    name: str = typer.Argument(..., help="KPI name; `shopops analytics kpis` lists them."),
    last: str | None = LAST,
    start: str | None = START,
    end: str | None = END,
    grain: str = GRAIN,
    by: str | None = typer.Option(None, "--by", help="A breakdown the KPI supports."),
    compare: str | None = typer.Option(None, "--compare", help="previous or last_year."),
    engine: str = ENGINE,
    fmt: OutputFormat = FORMAT,
) -> None:
    """One KPI over a window, by time bucket and breakdown."""
    metric = get_metric(name)
    period = _period(grain, start, end, last)
    comparison: Compare | None = _choice(compare, COMPARISONS, "comparison")  # type: ignore[assignment]
    chosen = _choice(engine, ENGINES, "engine") or "store"
    settings = state.container.settings
    with sources_for(settings, chosen) as src:  # type: ignore[arg-type]
        answer = kpi(src, fact_context(settings), metric, period, by=by, compare=comparison)
    headers, rows = _kpi_rows(answer)
    emit_rows(rows, headers, fmt, f"{metric.title} ({settings.default_currency})")


def funnel_command(
    last: str | None = LAST,
    start: str | None = START,
    end: str | None = END,
    grain: str = GRAIN,
    by: str | None = typer.Option(None, "--by", help="channel"),
    products: bool = typer.Option(False, "--products", help="Per product instead."),
    engine: str = ENGINE,
    fmt: OutputFormat = FORMAT,
) -> None:
    """Sessions -> product views -> add to cart -> checkout -> paid, with step rates."""
    chosen = _choice(engine, ENGINES, "engine") or "store"
    if products:
        period = _period("total", start, end, last)
        with sources_for(state.container.settings, chosen) as src:  # type: ignore[arg-type]
            items = product_performance(src, period)
        emit_rows(
            [
                (
                    i.product,
                    i.impressions,
                    i.clicks,
                    i.click_through_rate,
                    i.view_sessions,
                    i.cart_sessions,
                    i.purchase_sessions,
                    i.units_purchased,
                    i.conversion_rate,
                )
                for i in items
            ],
            [
                "product",
                "impressions",
                "clicks",
                "ctr",
                "views",
                "carts",
                "purchases",
                "units",
                "conversion",
            ],
            fmt,
            "Product performance",
        )
        return
    period = _period(grain, start, end, last)
    with sources_for(state.container.settings, chosen) as src:  # type: ignore[arg-type]
        rows = funnel(src, period, by=by)
    steps = [name for name, _ in STEPS]
    headers = [
        "period",
        *(["channel"] if by else []),
        *steps,
        *[f"{s} rate" for s in steps[1:]],
        "conversion",
    ]
    emit_rows(
        [
            [
                r.period,
                *([r.channel] if by else []),
                *[r.counts[s] for s in steps],
                *[r.rates[s] for s in steps[1:]],
                r.rates["conversion"],
            ]
            for r in rows
        ],
        headers,
        fmt,
        "Conversion funnel",
    )


@analytics_app.command("refresh")
def refresh() -> None:
    """Copy new and changed rows from the database into the store."""
    report = refresh_store(state.container.settings)
    console.print(f"{report} ({report.rows_per_second:,.0f} rows/s)")


@analytics_app.command("rebuild")
def rebuild() -> None:
    """Delete the store and copy everything again (it is derived data)."""
    report = refresh_store(state.container.settings, full=True)
    console.print(f"{report} ({report.rows_per_second:,.0f} rows/s)")


@analytics_app.command("status")
def status(fmt: OutputFormat = FORMAT) -> None:
    """Rows, watermark and last refresh per store table."""
    store = store_for(state.container.settings)
    emit_rows(
        [
            (t.table, t.rows, t.max_id, t.max_updated_at, t.rows_last_refresh, t.refreshed_at)
            for t in store.status()
        ],
        ["table", "rows", "max_id", "max_updated_at", "rows_last_refresh", "refreshed_at"],
        fmt,
        f"Analytics store {store.path}" + ("" if store.exists() else " (not built yet)"),
    )


@analytics_app.command("kpis")
def kpis(fmt: OutputFormat = FORMAT) -> None:
    """Every KPI with its unit, formula and breakdowns."""
    emit_rows(
        [(m.name, m.unit, m.formula, ", ".join(breakdowns_of(m))) for m in METRICS],
        ["name", "unit", "formula", "breakdowns"],
        fmt,
        "KPIs",
    )


@analytics_app.command("dashboard")
def dashboard_command(
    last: str | None = typer.Option("30d", "--last"),
    grain: str = GRAIN,
    engine: str = ENGINE,
) -> None:
    """Every KPI by time bucket plus five breakdowns, as JSON."""
    settings = state.container.settings
    period = _period(grain, None, None, last)
    chosen = _choice(engine, ENGINES, "engine") or "store"
    started = datetime.now().astimezone()
    with sources_for(settings, chosen) as src:  # type: ignore[arg-type]
        board = dashboard(src, fact_context(settings), METRICS, period)
    labels = {b.key: b.label for b in period.buckets()}
    out = {
        "window": {
            "start": str(period.start.date()),
            "end": str(period.end.date()),
            "grain": period.grain,
            "time_zone": period.tz,
        },
        "series": {
            name: {labels.get(k, str(k)): _shown(s.metric, v) for (k, _), v in s.values.items()}
            for name, s in board.series.items()
        },
        "breakdowns": {
            b: {
                name: {dim: _shown(s.metric, v) for (_, dim), v in s.values.items()}
                for name, s in by_metric.items()
            }
            for b, by_metric in board.breakdowns.items()
        },
        "seconds": round((datetime.now().astimezone() - started).total_seconds(), 3),
    }
    sys.stdout.write(json.dumps(out, indent=2, default=str) + "\n")


def register(app: typer.Typer) -> None:
    app.command("kpi")(kpi_command)
    app.command("funnel")(funnel_command)
    app.add_typer(analytics_app, name="analytics")
