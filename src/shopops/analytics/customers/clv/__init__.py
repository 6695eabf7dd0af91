"""Lifetime value: BG/NBD and Pareto/NBD purchase models, the Gamma-Gamma spend model,
the transaction summary they are fitted on, discounted CLV and fit diagnostics."""

from shopops.analytics.customers.clv.bgnbd import BgNbdParams
from shopops.analytics.customers.clv.diagnostics import (
    FitStatistics,
    HoldoutCalibration,
    HoldoutRow,
    calibration_vs_holdout,
)
from shopops.analytics.customers.clv.fitting import ModelFit
from shopops.analytics.customers.clv.gammagamma import GammaGammaParams
from shopops.analytics.customers.clv.paretonbd import ParetoNbdParams
from shopops.analytics.customers.clv.summary import (
    CustomerSummary,
    Transactions,
    day_number,
    day_to_date,
    read_cdnow,
    summarize,
)
from shopops.analytics.customers.clv.value import Discounting, PurchaseModel, lifetime_value

__all__ = [
    "BgNbdParams",
    "CustomerSummary",
    "Discounting",
    "FitStatistics",
    "GammaGammaParams",
    "HoldoutCalibration",
    "HoldoutRow",
    "ModelFit",
    "ParetoNbdParams",
    "PurchaseModel",
    "Transactions",
    "calibration_vs_holdout",
    "day_number",
    "day_to_date",
    "lifetime_value",
    "read_cdnow",
    "summarize",
]
