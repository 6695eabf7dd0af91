"""Customer analytics schemas: insights, RFM, cohorts, segments, CLV fits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_RULE_EXAMPLE: dict[str, Any] = {
    "all": [
        {"field": "total_spend", "op": "gte", "value": 50000},
        {"field": "rfm_segment", "op": "in", "value": ["At Risk", "Cannot Lose Them"]},
        {"not": {"field": "tag", "op": "has", "value": "wholesale"}},
    ]
}


class CustomerInsightsRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 42,
                    "as_of": "2026-11-21",
                    "currency": "USD",
                    "order_count": 5,
                    "total_spend_minor": 48200,
                    "recency_days": 12,
                    "days_since_first_order": 400,
                    "rfm_recency": 5,
                    "rfm_frequency": 4,
                    "rfm_monetary": 4,
                    "rfm_segment": "Champions",
                    "lifecycle_stage": "long_term",
                    "probability_alive": 0.93,
                    "expected_purchases_90d": 0.8,
                    "predicted_clv_minor": 31000,
                    "clv_model_id": 3,
                }
            ]
        },
    )

    customer_id: int
    as_of: date
    currency: str
    order_count: int
    total_spend_minor: int
    recency_days: int | None = Field(description="Null for a customer without paid orders.")
    days_since_first_order: int | None
    rfm_recency: int | None
    rfm_frequency: int | None
    rfm_monetary: int | None
    rfm_segment: str | None
    lifecycle_stage: str
    probability_alive: float | None = Field(description="Null until a CLV model is fitted.")
    expected_purchases_90d: float | None
    predicted_clv_minor: int | None = Field(
        description="Expected discounted value of the next 12 months, minor units."
    )
    clv_model_id: int | None


class RfmSegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    segment: str
    customers: int
    share: float
    mean_recency_days: float
    mean_order_count: float
    mean_total_spend_minor: float


class RfmReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    as_of: date
    currency: str
    bins: int
    customers_scored: int
    segments: list[RfmSegmentRead]


class CohortRead(BaseModel):
    grain: Literal["month", "week"]
    measure: Literal["customers", "revenue"]
    cohorts: list[str] = Field(description="Cohort labels (month or week start), oldest first.")
    sizes: list[int] = Field(description="Customers acquired in each cohort.")
    values: list[list[float | None]] = Field(
        description="Customers or revenue (minor units) per cohort and offset; null: not yet."
    )
    rates: list[list[float | None]] = Field(
        description="Values over the cohort size (customers) or over offset 0 (revenue)."
    )


class SegmentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "High spenders at risk",
                    "description": "Win-back campaign target",
                    "rule": _RULE_EXAMPLE,
                }
            ]
        }
    )

    name: str = Field(max_length=200)
    description: str = ""
    rule: dict[str, Any] = Field(
        description="A rule tree; see `GET /v1/analytics/segment-fields` for fields/operators."
    )


class SegmentUpdate(BaseModel):
    """Only the fields sent change."""

    name: str | None = Field(default=None, max_length=200)
    description: str | None = None
    rule: dict[str, Any] | None = None


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    rule: dict[str, Any]
    member_count: int = Field(description="Members at the last refresh.")
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SegmentPreviewRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"rule": _RULE_EXAMPLE}]})

    rule: dict[str, Any]


class SegmentPreviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    member_count: int
    sample_customer_ids: list[int]


class SegmentMembersRead(BaseModel):
    segment_id: int
    customer_ids: list[int]


class SegmentFieldRead(BaseModel):
    field: str
    kind: Literal["number", "text", "set"]
    operators: list[str]
    description: str
    choices: list[str]


class ClvFitRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"purchase_model": "bgnbd", "unit_days": 7, "holdout_days": 90}]
        }
    )

    purchase_model: Literal["bgnbd", "paretonbd"] = "bgnbd"
    unit_days: float = Field(default=7.0, gt=0, le=31, description="Model time unit in days.")
    holdout_days: int = Field(
        default=0, ge=0, le=3650, description="> 0 also reports calibration against a holdout."
    )


class ClvModelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
