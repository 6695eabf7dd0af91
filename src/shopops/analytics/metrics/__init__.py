"""Engine-portable metric definitions: facts and aggregates (Ibis), KPI formulas, registry."""

from shopops.analytics.metrics.definitions import METRICS, Metric
from shopops.analytics.metrics.facts import FACTS, Fact, FactContext
from shopops.analytics.metrics.registry import BREAKDOWNS, REGISTRY, breakdowns_of, get_metric

__all__ = [
    "BREAKDOWNS",
    "FACTS",
    "METRICS",
    "REGISTRY",
    "Fact",
    "FactContext",
    "Metric",
    "breakdowns_of",
    "get_metric",
]
