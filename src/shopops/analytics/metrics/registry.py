"""The KPI registry: metric names, their facts and the breakdowns each supports."""

from __future__ import annotations

from collections.abc import Sequence

from shopops.analytics.metrics.definitions import METRICS, Metric
from shopops.analytics.metrics.facts import FACTS
from shopops.kernel.errors import FieldError, NotFound, ValidationFailed

REGISTRY: dict[str, Metric] = {m.name: m for m in METRICS}
BREAKDOWNS: tuple[str, ...] = (
    "channel",
    "category",
    "brand",
    "region",
    "warehouse",
    "customer_tier",
    "promotion",
)


def breakdowns_of(metric: Metric) -> tuple[str, ...]:
    return FACTS[metric.fact].dimensions


def get_metric(name: str) -> Metric:
    metric = REGISTRY.get(name)
    if metric is None:
        raise NotFound(
            "analytics.unknown_metric",
            f"unknown metric '{name}'; known metrics: {', '.join(sorted(REGISTRY))}",
            details={"allowed": sorted(REGISTRY)},
        )
    return metric


def check_breakdown(metrics: Sequence[Metric], by: str | None) -> None:
    if by is None:
        return
    if by not in BREAKDOWNS:
        raise ValidationFailed(
            "validation.failed",
            "unknown breakdown",
            errors=[
                FieldError(
                    "by",
                    "analytics.unknown_breakdown",
                    f"unknown breakdown '{by}'; allowed: {', '.join(BREAKDOWNS)}",
                )
            ],
        )
    errors = [
        FieldError(
            "by",
            "analytics.unsupported_breakdown",
            f"{m.name} cannot be broken down by {by}; allowed: {', '.join(breakdowns_of(m))}",
        )
        for m in metrics
        if by not in breakdowns_of(m)
    ]
    if errors:
        raise ValidationFailed("validation.failed", "unsupported breakdown", errors=errors)
