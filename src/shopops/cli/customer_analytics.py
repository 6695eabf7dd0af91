"""clv, rfm, cohorts, segments: customer analytics from the terminal.

Reads the paid-order history of the store database, like the API. `clv fit
--cdnow FILE` fits on a CDNOW-format file instead (the published benchmark,
see data/cdnow/) without touching the database.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer

from shopops.analytics import customers as analytics
from shopops.analytics.customers.clv import bgnbd, gammagamma, paretonbd
from shopops.analytics.customers.clv.diagnostics import calibration_vs_holdout
from shopops.analytics.customers.clv.summary import read_cdnow, summarize
from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.kernel.errors import NotFound, ValidationFailed

clv_app = typer.Typer(help="Customer lifetime value: fit models, predict.", no_args_is_help=True)
segments_app = typer.Typer(help="Dynamic customer segments.", no_args_is_help=True)
FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
MODEL = typer.Option("bgnbd", "--model", help="Purchase model: bgnbd or paretonbd.")


def _params(values: dict[str, float]) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in values.items())


@clv_app.command("fit")
def clv_fit(
    model: str = MODEL,
    unit_days: float = typer.Option(7.0, help="Model time unit in days (7: weeks)."),
    holdout_days: int = typer.Option(0, help="Also check the fit against this many last days."),
    cdnow: Path | None = typer.Option(None, help="Fit on a CDNOW file instead of the database."),
    master: bool = typer.Option(False, help="The CDNOW file is the master file (4 columns)."),
    calibration_end: str = typer.Option("1997-09-30", help="With --cdnow: calibration end."),
    observation_end: str = typer.Option("1998-06-30", help="With --cdnow: holdout end."),
) -> None:
    """Fit a purchase model with Gamma-Gamma and (from the database) store it."""
    if cdnow is None:
        with state.uow() as uow:
            view = analytics.fit_clv(uow, analytics.FitClv(model, unit_days, holdout_days))
            uow.commit()
        console.print(f"CLV model {view.id}: {view.purchase_model} on {view.customers} customers")
        console.print(f"  purchases: {_params(view.purchase_params)}")
        console.print(f"  spend: {_params(view.spend_params)}")
        console.print(f"  log-likelihood: {view.diagnostics['log_likelihood']:.1f}")
        return
    if model not in analytics.PURCHASE_MODELS:
        raise ValidationFailed("clv.unknown_model", f"unknown purchase model '{model}'")
    summary = summarize(
        read_cdnow(str(cdnow), master=master),
        calibration_end=date.fromisoformat(calibration_end),
        observation_end=date.fromisoformat(observation_end),
        unit_days=unit_days,
    )
    module = bgnbd if model == bgnbd.NAME else paretonbd
    fitted = module.fit(summary.frequency, summary.recency, summary.T)
    spend = gammagamma.fit(summary.frequency, summary.monetary)
    console.print(f"{model} on {len(summary)} customers: {_params(fitted.params.as_dict())}")
    console.print(f"  log-likelihood: {fitted.log_likelihood:.1f}")
    console.print(f"  gamma-gamma ({spend.n_customers} repeat customers): ")
    console.print(f"    {_params(spend.params.as_dict())}")
    check = calibration_vs_holdout(fitted.params, summary)
    emit_rows(
        [(r.frequency, r.customers, r.actual_mean, r.predicted_mean) for r in check.rows],
        ["frequency", "customers", "actual_holdout", "predicted_holdout"],
        OutputFormat.TABLE,
        f"Holdout ({check.holdout_length:.0f} units): calibration frequency vs purchases",
    )


@clv_app.command("predict")
def clv_predict(
    limit: int = typer.Option(100, min=1, max=10_000_000, help="At most this many customers."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Per customer (highest predicted CLV first): CLV, probability alive, next 90 days."""
    with state.uow() as uow:
        if analytics.latest_model(uow) is None:
            raise NotFound("clv.no_model", "no CLV model has been fitted yet: run `clv fit`")
        table = analytics.features(uow)
    clv = table.numeric["predicted_clv"]
    order = sorted((i for i in range(len(table)) if clv[i] == clv[i]), key=lambda i: -clv[i])[
        :limit
    ]
    rows = [
        (
            int(table.customer_id[i]),
            int(table.numeric["order_count"][i]),
            round(float(table.numeric["probability_alive"][i]), 4),
            round(float(table.numeric["expected_purchases_90d"][i]), 4),
            round(float(clv[i])),
        )
        for i in order
    ]
    headers = ["customer_id", "orders", "probability_alive", "expected_90d", "clv_minor"]
    emit_rows(rows, headers, fmt, "Predicted customer lifetime value")


def rfm_command(
    bins: int = typer.Option(5, min=2, max=10, help="Quantile bins per score."),
    customers: bool = typer.Option(False, "--customers", help="One row per customer instead."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """RFM segments: customers per segment, or each customer's scores."""
    with state.uow() as uow:
        report = analytics.rfm_report(uow, bins=bins)
    if not customers:
        emit_rows(
            [
                (
                    s.segment,
                    s.customers,
                    round(s.share, 4),
                    round(s.mean_recency_days, 1),
                    round(s.mean_order_count, 2),
                    round(s.mean_total_spend_minor),
                )
                for s in report.segments
            ],
            ["segment", "customers", "share", "recency_days", "orders", "spend_minor"],
            fmt,
            f"RFM segments as of {report.as_of} ({report.customers_scored} customers)",
        )
        return
    table = report.table
    scored = [i for i in range(len(table)) if table.text["rfm_segment"][i]]
    rows = [
        (
            int(table.customer_id[i]),
            *(
                int(table.numeric[f"rfm_{score}"][i])
                for score in ("recency", "frequency", "monetary")
            ),
            str(table.text["rfm_segment"][i]),
            str(table.text["lifecycle_stage"][i]),
        )
        for i in scored
    ]
    headers = ["customer_id", "r", "f", "m", "segment", "lifecycle_stage"]
    emit_rows(rows, headers, fmt, f"RFM scores as of {report.as_of}")


def cohorts_command(
    grain: str = typer.Option("month", help="month or week."),
    measure: str = typer.Option("customers", help="customers or revenue."),
    periods: int = typer.Option(24, min=1, max=520, help="Cohorts and offsets shown."),
    png: Path | None = typer.Option(None, "--png", help="Also write a heatmap PNG here."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Acquisition-cohort retention matrix (rates), optionally as a heatmap PNG."""
    with state.uow() as uow:
        matrix = analytics.cohort_report(uow, grain=grain, measure=measure, periods=periods)
    if png is not None:
        matrix.heatmap(png)
        print(f"heatmap written to {png}", file=sys.stderr)
    if fmt == OutputFormat.CSV:
        sys.stdout.write(matrix.csv_text())
        return
    offsets = [str(k) for k in range(matrix.offsets)]
    rows = [
        (label, int(size), *(None if v != v else round(float(v), 4) for v in rates))
        for label, size, rates in zip(matrix.cohorts, matrix.sizes, matrix.rates, strict=True)
    ]
    emit_rows(rows, ["cohort", "customers", *offsets], fmt, f"{measure} retention by {grain}")


def _rule(text: str) -> dict[str, Any]:
    """A rule given inline as JSON, or as @path to a JSON file."""
    raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValidationFailed("segments.invalid_rule", f"the rule is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValidationFailed("segments.invalid_rule", "a rule is a JSON object")
    return document


RULE = typer.Option(..., "--rule", help="The rule as JSON, or @file.json.")
SEGMENT_HEADERS = ["id", "name", "members", "refreshed_at", "rule"]


def _segment_row(view: analytics.SegmentView) -> list[Any]:
    return [view.id, view.name, view.member_count, view.refreshed_at, view.rule]


@segments_app.command("create")
def segments_create(
    name: str = typer.Argument(...),
    rule: str = RULE,
    description: str = typer.Option("", help="What the segment is for."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Define a segment (members are computed by `segments refresh` or the hourly job)."""
    with state.uow() as uow:
        view = analytics.create_segment(
            uow, analytics.CreateSegment(name, _rule(rule), description)
        )
        uow.commit()
    emit_rows([_segment_row(view)], SEGMENT_HEADERS, fmt, "Segment created")


@segments_app.command("list")
def segments_list(fmt: OutputFormat = FORMAT) -> None:
    with state.uow() as uow:
        views = analytics.list_segments(uow)
    emit_rows([_segment_row(v) for v in views], SEGMENT_HEADERS, fmt, "Segments")


@segments_app.command("fields")
def segments_fields(fmt: OutputFormat = FORMAT) -> None:
    """The fields a rule may use and their operators."""
    rows = [
        (f["field"], f["kind"], " ".join(f["operators"]), f["description"])
        for f in analytics.describe_fields()
    ]
    emit_rows(rows, ["field", "kind", "operators", "description"], fmt, "Segment rule fields")


@segments_app.command("preview")
def segments_preview(rule: str = RULE) -> None:
    """How many customers a rule selects now (nothing is stored)."""
    with state.uow() as uow:
        preview = analytics.preview_rule(uow, _rule(rule))
    console.print(f"{preview.member_count} customers")
    if preview.sample_customer_ids:
        console.print("e.g. " + ", ".join(str(c) for c in preview.sample_customer_ids))


@segments_app.command("refresh")
def segments_refresh(
    segment_id: int | None = typer.Argument(None, help="A segment id; all segments if omitted."),
) -> None:
    """Re-evaluate segment rules and store their members."""
    with state.uow() as uow:
        if segment_id is None:
            count = analytics.refresh_all(uow)
            uow.commit()
            console.print(f"refreshed {count} segment(s)")
            return
        view = analytics.refresh_segment(uow, segment_id)
        uow.commit()
    console.print(f"segment {view.id} ({view.name}): {view.member_count} members")


@segments_app.command("export")
def segments_export(
    segment_id: int = typer.Argument(...),
    output: Path | None = typer.Option(
        None, "--output", help="Write the CSV here (default: stdout)."
    ),
) -> None:
    """Members as of the last refresh, with their features, as CSV (audited)."""
    with state.uow() as uow:
        text = analytics.export_csv(uow, segment_id)
        uow.commit()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


@segments_app.command("delete")
def segments_delete(segment_id: int = typer.Argument(...)) -> None:
    with state.uow() as uow:
        analytics.delete_segment(uow, segment_id)
        uow.commit()
    console.print(f"segment {segment_id} deleted")


def register(app: typer.Typer) -> None:
    app.add_typer(clv_app, name="clv")
    app.add_typer(segments_app, name="segments")
    app.command("rfm")(rfm_command)
    app.command("cohorts")(cohorts_command)
