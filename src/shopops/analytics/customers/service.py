"""Use cases: RFM and cohort reports, customer insights, fitting and applying CLV models.

Reads need ``analytics.read``. Each call reads the order history it needs from
the operational database (paid orders in the store currency, business dates in
the store time zone; see ``history``) and computes in memory with numpy.
Fitting a CLV model stores its parameters (``analytics_clv_models``); insights,
segments and predictions use the latest fit for the store currency.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select, text

from shopops.analytics.customers import cohorts, history, lifecycle, rfm
from shopops.analytics.customers.clv import bgnbd, gammagamma, paretonbd
from shopops.analytics.customers.clv.diagnostics import FitStatistics, calibration_vs_holdout
from shopops.analytics.customers.clv.summary import (
    CustomerSummary,
    Transactions,
    day_to_date,
    summarize,
)
from shopops.analytics.customers.clv.value import Discounting, PurchaseModel, lifetime_value
from shopops.analytics.customers.features import (
    CustomerFeatures,
    Predictions,
    Predictor,
    build_features,
)
from shopops.analytics.customers.models import ClvModel
from shopops.auth.permissions import Permission
from shopops.kernel.errors import NotFound, ValidationFailed
from shopops.uow import UnitOfWork

PURCHASE_MODELS = (bgnbd.NAME, paretonbd.NAME)
INSIGHT_HORIZON_DAYS = 90


@dataclass(frozen=True)
class Snapshot:
    """The order history as of one moment, in the store currency and time zone."""

    as_of: datetime
    as_of_day: int
    currency: str
    transactions: Transactions


def _setting(uow: UnitOfWork, name: str, default: str) -> str:
    return str(getattr(uow.settings, name, default) or default)


def snapshot(uow: UnitOfWork, as_of: datetime | None = None) -> Snapshot:
    moment = as_of or uow.now()
    if moment.tzinfo is None:
        raise ValidationFailed("analytics.naive_datetime", "as_of must carry a time zone")
    timezone = _setting(uow, "store_timezone", "UTC")
    currency = _setting(uow, "default_currency", "USD")
    local_day = moment.astimezone(ZoneInfo(timezone)).date()
    transactions = history.load_transactions(
        uow.session, currency=currency, timezone=timezone, until=moment
    )
    return Snapshot(moment, (local_day - date(1970, 1, 1)).days, currency, transactions)


# --- CLV models --------------------------------------------------------------------------


@dataclass(frozen=True)
class FitClv:
    purchase_model: str = bgnbd.NAME
    unit_days: float = 7.0
    holdout_days: int = 0  # > 0: also fit on the history before it and report the holdout check
    as_of: datetime | None = None


@dataclass(frozen=True)
class ClvModelView:
    id: int
    purchase_model: str
    currency: str
    unit_days: float
    calibration_end: date
    purchase_params: dict[str, float]
    spend_params: dict[str, float]
    diagnostics: dict[str, Any]
    customers: int
    fitted_at: datetime


def _model_view(row: ClvModel) -> ClvModelView:
    return ClvModelView(
        id=row.id,
        purchase_model=row.purchase_model,
        currency=row.currency,
        unit_days=row.unit_days,
        calibration_end=row.calibration_end.date(),
        purchase_params=dict(row.purchase_params),
        spend_params=dict(row.spend_params),
        diagnostics=dict(row.diagnostics),
        customers=row.customers,
        fitted_at=row.fitted_at,
    )


def _fit_purchases(name: str, summary: CustomerSummary) -> tuple[PurchaseModel, float, bool]:
    if name == bgnbd.NAME:
        fitted = bgnbd.fit(summary.frequency, summary.recency, summary.T)
        return fitted.params, fitted.log_likelihood, fitted.converged
    fitted_p = paretonbd.fit(summary.frequency, summary.recency, summary.T)
    return fitted_p.params, fitted_p.log_likelihood, fitted_p.converged


def fit_clv(uow: UnitOfWork, command: FitClv) -> ClvModelView:
    """Fit the purchase model and Gamma-Gamma on the history, store and return them."""
    uow.require(Permission.ANALYTICS_READ)
    if command.purchase_model not in PURCHASE_MODELS:
        raise ValidationFailed(
            "clv.unknown_model",
            f"unknown purchase model '{command.purchase_model}'; use one of: "
            + ", ".join(PURCHASE_MODELS),
        )
    if not 0 < command.unit_days <= 31 or command.holdout_days < 0:
        raise ValidationFailed(
            "clv.invalid_period", "unit_days must be in (0, 31] and holdout_days not negative"
        )
    data = snapshot(uow, command.as_of)
    diagnostics: dict[str, Any] = {}
    if command.holdout_days:
        calibration = summarize(
            data.transactions,
            calibration_end=data.as_of_day - command.holdout_days,
            observation_end=data.as_of_day,
            unit_days=command.unit_days,
        )
        model, _, _ = _fit_purchases(command.purchase_model, calibration)
        check = calibration_vs_holdout(model, calibration)
        diagnostics["holdout"] = {
            "days": command.holdout_days,
            "actual_total": check.actual_total,
            "predicted_total": check.predicted_total,
            "mean_absolute_error": check.mean_absolute_error,
            "by_frequency": [vars(row) for row in check.rows],
        }
    summary = summarize(
        data.transactions, calibration_end=data.as_of_day, unit_days=command.unit_days
    )
    purchases, log_likelihood, converged = _fit_purchases(command.purchase_model, summary)
    spend = gammagamma.fit(summary.frequency, summary.monetary)
    statistics = FitStatistics(log_likelihood, len(summary), 4)
    diagnostics.update(
        log_likelihood=log_likelihood,
        aic=statistics.aic,
        bic=statistics.bic,
        converged=converged and spend.converged,
        spend_log_likelihood=spend.log_likelihood,
        repeat_customers=spend.n_customers,
    )
    row = ClvModel(
        purchase_model=command.purchase_model,
        currency=data.currency,
        unit_days=float(command.unit_days),
        calibration_end=datetime.combine(day_to_date(data.as_of_day), time(), UTC),
        purchase_params=purchases.as_dict(),
        spend_params=spend.params.as_dict(),
        diagnostics=diagnostics,
        customers=len(summary),
        fitted_at=uow.now(),
        fitted_by=uow.actor.label,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit("clv.fitted", "analytics_clv_model", row.id, after=purchases.as_dict())
    return _model_view(row)


def latest_model(uow: UnitOfWork) -> ClvModelView | None:
    uow.require(Permission.ANALYTICS_READ)
    row = _latest_row(uow)
    return None if row is None else _model_view(row)


def _latest_row(uow: UnitOfWork) -> ClvModel | None:
    currency = _setting(uow, "default_currency", "USD")
    return uow.session.scalars(
        select(ClvModel)
        .where(ClvModel.currency == currency)
        .order_by(ClvModel.fitted_at.desc(), ClvModel.id.desc())
        .limit(1)
    ).first()


def purchase_model_of(view: ClvModelView) -> PurchaseModel:
    if view.purchase_model == bgnbd.NAME:
        return bgnbd.BgNbdParams(**view.purchase_params)
    return paretonbd.ParetoNbdParams(**view.purchase_params)


def predictor_for(view: ClvModelView, discounting: Discounting | None = None) -> Predictor:
    """A feature-table predictor applying the stored fit (CLV in minor units)."""
    purchases = purchase_model_of(view)
    spend = gammagamma.GammaGammaParams(**view.spend_params)

    def predict(summary: CustomerSummary) -> Predictions:
        with np.errstate(invalid="ignore", over="ignore"):
            clv = lifetime_value(
                purchases,
                spend,
                frequency=summary.frequency,
                recency=summary.recency,
                T=summary.T,
                monetary=summary.monetary,
                unit_days=view.unit_days,
                discounting=discounting,
            )
        return Predictions(
            customer_id=summary.customer_id,
            clv=np.where(np.isfinite(clv), clv, np.nan),
            probability_alive=purchases.probability_alive(
                summary.frequency, summary.recency, summary.T
            ),
            expected_purchases_90d=purchases.expected_purchases(
                INSIGHT_HORIZON_DAYS / view.unit_days, summary.frequency, summary.recency, summary.T
            ),
        )

    return predict


# --- the feature table and what reads it --------------------------------------------------


def features(
    uow: UnitOfWork,
    *,
    as_of: datetime | None = None,
    rfm_config: rfm.RfmConfig | None = None,
    windows: lifecycle.LifecycleWindows | None = None,
    discounting: Discounting | None = None,
) -> CustomerFeatures:
    """Every customer's features as of ``as_of`` (now by default)."""
    uow.require(Permission.ANALYTICS_READ)
    return feature_table(
        uow, as_of=as_of, rfm_config=rfm_config, windows=windows, discounting=discounting
    )


def feature_table(
    uow: UnitOfWork,
    *,
    as_of: datetime | None = None,
    rfm_config: rfm.RfmConfig | None = None,
    windows: lifecycle.LifecycleWindows | None = None,
    discounting: Discounting | None = None,
) -> CustomerFeatures:
    """``features`` without the permission check, for use cases that made their own."""
    data = snapshot(uow, as_of)
    model = _latest_row(uow)
    summary = None
    predictor = None
    if model is not None:
        view = _model_view(model)
        summary = summarize(
            data.transactions, calibration_end=data.as_of_day, unit_days=view.unit_days
        )
        predictor = predictor_for(view, discounting)
    return build_features(
        data.transactions,
        history.load_attributes(uow.session),
        as_of_day=data.as_of_day,
        purchases=history.load_purchases(uow.session, currency=data.currency, until=data.as_of),
        rfm_config=rfm_config,
        windows=windows,
        summary=summary,
        predictor=predictor,
    )


# One customer's profile needs every customer's features (RFM bins are quantiles over all
# of them). Profiles are opened one after another, so the table of "now" is kept for up to
# a minute per database, and only while nothing it reads has changed: every order
# transition adds an order event, every payment or customer a row (newest ids compared).
FEATURES_TTL_SECONDS = 60.0
_recent: dict[str, tuple[float, tuple[Any, ...], CustomerFeatures]] = {}
_recent_lock = threading.Lock()
_FRESHNESS = text(
    "SELECT (SELECT max(id) FROM order_events), (SELECT max(id) FROM payments), "
    "(SELECT max(id) FROM customers), (SELECT max(id) FROM analytics_clv_models)"
)


def _recent_features(uow: UnitOfWork) -> CustomerFeatures:
    database = str(uow.session.get_bind().engine.url)
    local_day = snapshot_day(uow)
    key = (local_day, *uow.session.execute(_FRESHNESS).one())
    now = monotonic()
    with _recent_lock:
        cached = _recent.get(database)
    if cached is not None and cached[1] == key and now - cached[0] < FEATURES_TTL_SECONDS:
        return cached[2]
    table = feature_table(uow)
    with _recent_lock:
        _recent[database] = (now, key, table)
    return table


def snapshot_day(uow: UnitOfWork) -> date:
    timezone = _setting(uow, "store_timezone", "UTC")
    return uow.now().astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class CustomerInsights:
    customer_id: int
    as_of: date
    currency: str
    order_count: int
    total_spend_minor: int
    recency_days: int | None
    days_since_first_order: int | None
    rfm_recency: int | None
    rfm_frequency: int | None
    rfm_monetary: int | None
    rfm_segment: str | None
    lifecycle_stage: str
    probability_alive: float | None
    expected_purchases_90d: float | None
    predicted_clv_minor: int | None
    clv_model_id: int | None


def _number(table: CustomerFeatures, column: str, index: int) -> float | None:
    value = float(table.numeric[column][index])
    return None if np.isnan(value) else value


def _whole(table: CustomerFeatures, column: str, index: int) -> int | None:
    value = _number(table, column, index)
    return None if value is None else round(value)


def customer_insights(
    uow: UnitOfWork, customer_id: int, *, as_of: datetime | None = None
) -> CustomerInsights:
    uow.require(Permission.ANALYTICS_READ)
    table = feature_table(uow, as_of=as_of) if as_of is not None else _recent_features(uow)
    index = table.index_of(customer_id)
    if index is None:
        raise NotFound("analytics.customer_not_found", f"no customer {customer_id}")
    model = _latest_row(uow)
    segment = str(table.text["rfm_segment"][index])
    return CustomerInsights(
        customer_id=customer_id,
        as_of=day_to_date(table.as_of_day),
        currency=_setting(uow, "default_currency", "USD"),
        order_count=int(table.numeric["order_count"][index]),
        total_spend_minor=int(table.numeric["total_spend"][index]),
        recency_days=_whole(table, "recency_days", index),
        days_since_first_order=_whole(table, "days_since_first_order", index),
        rfm_recency=_whole(table, "rfm_recency", index),
        rfm_frequency=_whole(table, "rfm_frequency", index),
        rfm_monetary=_whole(table, "rfm_monetary", index),
        rfm_segment=segment or None,
        lifecycle_stage=str(table.text["lifecycle_stage"][index]),
        probability_alive=_number(table, "probability_alive", index),
        expected_purchases_90d=_number(table, "expected_purchases_90d", index),
        predicted_clv_minor=_whole(table, "predicted_clv", index),
        clv_model_id=None if model is None else model.id,
    )


@dataclass(frozen=True)
class RfmSegmentSummary:
    segment: str
    customers: int
    share: float
    mean_recency_days: float
    mean_order_count: float
    mean_total_spend_minor: float


@dataclass(frozen=True)
class RfmReport:
    as_of: date
    currency: str
    bins: int
    customers_scored: int
    segments: tuple[RfmSegmentSummary, ...]
    table: CustomerFeatures


def rfm_report(uow: UnitOfWork, *, bins: int = 5, as_of: datetime | None = None) -> RfmReport:
    """Customers per named RFM segment (every segment listed, in the standard order)."""
    table = features(uow, as_of=as_of, rfm_config=rfm.RfmConfig(bins=bins))
    segment = table.text["rfm_segment"]
    scored = int((segment != "").sum())
    rows = []
    for name in rfm.SEGMENTS:
        members = segment == name
        count = int(members.sum())

        def mean(column: str, members: np.ndarray[Any, Any] = members, count: int = count) -> float:
            return float(table.numeric[column][members].mean()) if count else 0.0

        rows.append(
            RfmSegmentSummary(
                segment=name,
                customers=count,
                share=count / scored if scored else 0.0,
                mean_recency_days=mean("recency_days"),
                mean_order_count=mean("order_count"),
                mean_total_spend_minor=mean("total_spend"),
            )
        )
    return RfmReport(
        as_of=day_to_date(table.as_of_day),
        currency=_setting(uow, "default_currency", "USD"),
        bins=bins,
        customers_scored=scored,
        segments=tuple(rows),
        table=table,
    )


def cohort_report(
    uow: UnitOfWork,
    *,
    grain: str = "month",
    measure: str = "customers",
    periods: int = 24,
    as_of: datetime | None = None,
) -> cohorts.CohortMatrix:
    uow.require(Permission.ANALYTICS_READ)
    try:
        grain_value, measure_value = cohorts.Grain(grain), cohorts.Measure(measure)
    except ValueError:
        raise ValidationFailed(
            "cohorts.invalid_option", "grain is month or week; measure is customers or revenue"
        ) from None
    data = snapshot(uow, as_of)
    return cohorts.cohort_matrix(
        data.transactions,
        grain=grain_value,
        measure=measure_value,
        periods=periods,
        as_of_day=data.as_of_day,
    )
