"""Customer analytics: RFM, lifecycle stages, dynamic segments, cohorts and lifetime value.

Pure computations (``rfm``, ``lifecycle``, ``segments``, ``cohorts``, ``clv``)
take numpy arrays or pandas frames, so they run the same on history from the
operational database or the analytics store; ``service`` and
``segment_service`` are the use cases over the operational database.
"""

from shopops.analytics.customers.segment_service import (
    CreateSegment,
    SegmentPreview,
    SegmentView,
    UpdateSegment,
    create_segment,
    delete_segment,
    export_csv,
    get_segment,
    list_segments,
    member_ids,
    preview_rule,
    refresh_all,
    refresh_segment,
    update_segment,
)
from shopops.analytics.customers.segments import ALLOWED_FIELDS, SegmentError, describe_fields
from shopops.analytics.customers.service import (
    PURCHASE_MODELS,
    ClvModelView,
    CustomerInsights,
    FitClv,
    RfmReport,
    RfmSegmentSummary,
    cohort_report,
    customer_insights,
    features,
    fit_clv,
    latest_model,
    rfm_report,
)

__all__ = [
    "ALLOWED_FIELDS",
    "PURCHASE_MODELS",
    "ClvModelView",
    "CreateSegment",
    "CustomerInsights",
    "FitClv",
    "RfmReport",
    "RfmSegmentSummary",
    "SegmentError",
    "SegmentPreview",
    "SegmentView",
    "UpdateSegment",
    "cohort_report",
    "create_segment",
    "customer_insights",
    "delete_segment",
    "describe_fields",
    "export_csv",
    "features",
    "fit_clv",
    "get_segment",
    "latest_model",
    "list_segments",
    "member_ids",
    "preview_rule",
    "refresh_all",
    "refresh_segment",
    "rfm_report",
    "update_segment",
]
