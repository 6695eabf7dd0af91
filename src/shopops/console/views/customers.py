"""What the customer pages show: the searchable list, a profile, segments and cohorts.

Personal data comes masked from the customers context unless the reader holds
``customers.pii.read``; the console never unmasks anything itself.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from shopops.analytics import customers as analytics
from shopops.analytics.customers.segment_service import NAME_MAX as SEGMENT_NAME_MAX
from shopops.analytics.customers.segments import FIELDS, OPERATORS, Kind, parse_rule
from shopops.auth.permissions import Permission
from shopops.console.formatting import money
from shopops.console.forms import FormErrors
from shopops.console.guards import Staff
from shopops.console.i18n import N_, gettext
from shopops.contexts import customers, loyalty, orders
from shopops.contexts.customers.rules import is_valid_email, is_valid_phone
from shopops.kernel.errors import DomainError, FieldError, NotFound, ValidationFailed
from shopops.kernel.money import currency_exponent

_ = gettext

PAGE_SIZE = 25
PROFILE_ORDERS = 20
SEARCH_KINDS = ("email", "phone", "name")
_PHONE_LIKE = re.compile(r"\+?[0-9 ().-]+")

ORDER_STATUS_LABELS: dict[str, str] = {
    "pending_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "processing": N_("Processing"),
    "partially_shipped": N_("Partly shipped"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "closed": N_("Closed"),
}
CHANNEL_LABELS: dict[str, str] = {
    "web": N_("Web"),
    "app": N_("App"),
    "mini_program": N_("Mini program"),
    "marketplace": N_("Marketplace"),
    "store": N_("Store"),
    "import": N_("Import"),
    "social": N_("Social"),
    "phone": N_("Phone"),
}
RFM_LABELS: dict[str, str] = {
    "Champions": N_("Champions"),
    "Loyal": N_("Loyal"),
    "Potential Loyalist": N_("Potential loyalist"),
    "New": N_("New"),
    "Promising": N_("Promising"),
    "Need Attention": N_("Need attention"),
    "About to Sleep": N_("About to sleep"),
    "At Risk": N_("At risk"),
    "Cannot Lose Them": N_("Cannot lose them"),
    "Hibernating": N_("Hibernating"),
    "Lost": N_("Lost"),
}
STAGE_LABELS: dict[str, str] = {
    "prospect": N_("Prospect"),
    "new": N_("New"),
    "active": N_("Active"),
    "high_value": N_("High value"),
    "long_term": N_("Long-term"),
    "at_risk": N_("At risk"),
    "churned": N_("Churned"),
    "reactivated": N_("Reactivated"),
}


def label(labels: Mapping[str, str], value: str | None) -> str:
    """The translated label of a known value; the value itself otherwise."""
    if value is None:
        return ""
    known = labels.get(value)
    return gettext(known) if known is not None else value


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerList:
    items: list[customers.CustomerView]
    next_after: int | None
    search_kind: str  # "", or how ``q`` was read: email, phone or name
    masked: bool


def search_kind(text: str) -> str:
    """How the search box is read: an e-mail (has @), a phone number, or a name."""
    if not text:
        return ""
    if "@" in text:
        return "email"
    if _PHONE_LIKE.fullmatch(text) and sum(ch.isdigit() for ch in text) >= 7:
        return "phone"
    return "name"


def read_customers(
    current: Staff,
    errors: FormErrors,
    *,
    q: str,
    tag: str,
    source_channel: str,
    after: int | None,
) -> CustomerList:
    """One page of customers (by id), searched by e-mail, phone or name, filtered."""
    text = " ".join(q.split())
    kind = search_kind(text)
    if kind == "email" and not is_valid_email(text.lower()):
        errors.add("q", "customers.search_email")
    if kind == "phone" and not is_valid_phone(text):
        errors.add("q", "customers.search_phone")
    query = customers.SearchCustomers(
        email=text if kind == "email" else None,
        phone=text if kind == "phone" else None,
        tag=tag or None,
        source_channel=source_channel or None,
        after_id=after,
        limit=PAGE_SIZE,
    )
    masked = not current.can(Permission.CUSTOMERS_PII_READ)
    if errors:
        return CustomerList([], None, kind, masked)
    try:
        with current.uow() as uow:
            if kind == "name":
                page = customers.search_by_name(uow, text, query)
            else:
                page = customers.search_customers(uow, query)
    except ValidationFailed as failed:
        errors.extend(failed)
        return CustomerList([], None, kind, masked)
    return CustomerList(page.items, page.next_after_id, kind, masked)


# --- a profile ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    status: str
    channel: str
    currency: str
    total_minor: int
    placed_at: Any


@dataclass(frozen=True)
class Profile:
    customer: customers.CustomerView
    account: loyalty.AccountView
    orders: list[OrderRow] | None  # None: the reader may not see orders
    more_orders: bool
    insights: analytics.CustomerInsights | None  # None: not computed (see insights_state)
    insights_state: str  # "ok", "forbidden" or "missing"


def read_profile(current: Staff, customer_id: int) -> Profile:
    with current.uow() as uow:
        view = customers.get_customer(uow, customer_id)
        account = loyalty.get_account(uow, customer_id)
        rows: list[OrderRow] | None = None
        more = False
        if current.can(Permission.ORDERS_READ):
            found = orders.search_orders(
                uow, orders.OrderFilter(customer_id=customer_id, limit=PROFILE_ORDERS + 1)
            ).orders
            more = len(found) > PROFILE_ORDERS
            rows = [
                OrderRow(
                    o.id, o.number, o.status, o.channel, o.currency, o.total_minor, o.placed_at
                )
                for o in found[:PROFILE_ORDERS]
            ]
        insights = None
        state = "forbidden"
        if current.can(Permission.ANALYTICS_READ):
            try:
                insights = analytics.customer_insights(uow, customer_id)
                state = "ok"
            except NotFound:
                state = "missing"
    return Profile(view, account, rows, more, insights, state)


# --- segments -----------------------------------------------------------------------------

FIELD_LABELS: dict[str, str] = {
    "total_spend": N_("Total spent"),
    "order_count": N_("Paid orders"),
    "average_order_value": N_("Average order value"),
    "recency_days": N_("Days since last order"),
    "days_since_first_order": N_("Days since first order"),
    "rfm_recency": N_("RFM recency score"),
    "rfm_frequency": N_("RFM frequency score"),
    "rfm_monetary": N_("RFM monetary score"),
    "predicted_clv": N_("Predicted lifetime value"),
    "probability_alive": N_("Probability still active"),
    "expected_purchases_90d": N_("Expected purchases in 90 days"),
    "tier": N_("Tier"),
    "region": N_("Region"),
    "source_channel": N_("Source channel"),
    "rfm_segment": N_("RFM segment"),
    "lifecycle_stage": N_("Lifecycle stage"),
    "tag": N_("Tags"),
    "bought_product": N_("Bought product (ids)"),
    "bought_category": N_("Bought category (ids)"),
}
OPERATOR_LABELS: dict[str, str] = {
    "eq": N_("equals"),
    "ne": N_("does not equal"),
    "gt": N_("more than"),
    "gte": N_("at least"),
    "lt": N_("less than"),
    "lte": N_("at most"),
    "between": N_("between"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "has": N_("has"),
    "has_any": N_("has any of"),
    "has_all": N_("has all of"),
    "has_none": N_("has none of"),
}
ALL_OPERATORS: tuple[str, ...] = tuple(OPERATOR_LABELS)
MONEY_FIELDS = frozenset({"total_spend", "average_order_value", "predicted_clv"})
LIST_OPERATORS = frozenset({"in", "not_in", "has_any", "has_all", "has_none"})
BUILDER_ROWS = 5
_ROW_PATH = re.compile(r"^rule\.(?:all|any)\[(\d+)\]\.(field|op|value)$")


@dataclass(frozen=True)
class ConditionRow:
    field: str = ""
    op: str = ""
    value: str = ""

    @property
    def blank(self) -> bool:
        return not (self.field or self.value.strip())


@dataclass
class SegmentForm:
    """The segment builder as submitted: rows of conditions, or a rule written as JSON."""

    name: str = ""
    description: str = ""
    match: str = "all"
    rows: list[ConditionRow] | None = None
    rule_json: str = ""

    def __post_init__(self) -> None:
        rows = list(self.rows or [])
        filled = [i for i, row in enumerate(rows) if not row.blank]
        wanted = max(BUILDER_ROWS, len(rows), (filled[-1] + 2) if filled else 0)
        while len(rows) < wanted:
            rows.append(ConditionRow())
        self.rows = rows

    @classmethod
    def of(cls, form: Mapping[str, Any]) -> SegmentForm:
        def text(key: str) -> str:
            value = form.get(key)
            return value.strip() if isinstance(value, str) else ""

        rows: list[ConditionRow] = []
        index = 0
        while f"c{index}_field" in form or f"c{index}_value" in form:
            rows.append(
                ConditionRow(text(f"c{index}_field"), text(f"c{index}_op"), text(f"c{index}_value"))
            )
            index += 1
        return cls(
            name=text("name"),
            description=text("description"),
            match="any" if text("match") == "any" else "all",
            rows=rows[:50],
            rule_json=text("rule_json"),
        )


def field_choices() -> list[tuple[str, str, str, list[str]]]:
    """(field, translated label, kind, allowed operators) for the builder's selects."""
    return [
        (name, gettext(FIELD_LABELS[name]), spec.kind.value, list(OPERATORS[spec.kind]))
        for name, spec in FIELDS.items()
    ]


def _number(field_name: str, raw: str, currency: str) -> float | int | None:
    """A number from the builder; money fields are in major units of the store currency."""
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    if field_name in MONEY_FIELDS:
        minor = amount.scaleb(currency_exponent(currency))
        if minor != minor.to_integral_value():
            return None
        return int(minor)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _condition(row: ConditionRow, currency: str) -> dict[str, Any]:
    """One row as a rule condition; values that do not parse go through unchanged, so the
    segment rules report them (with the field's allowed values)."""
    spec = FIELDS.get(row.field)
    raw = row.value
    value: Any = raw
    if spec is not None and spec.kind == Kind.NUMBER:
        if row.op == "between":
            parts = [p for p in re.split(r"\s*(?:,|;|\.\.)\s*", raw) if p]
            numbers = [_number(row.field, p, currency) for p in parts]
            if len(numbers) == 2 and all(n is not None for n in numbers):
                value = numbers
        elif raw:
            number = _number(row.field, raw, currency)
            value = raw if number is None else number
    elif row.op in LIST_OPERATORS:
        value = [part.strip() for part in raw.split(",") if part.strip()]
    return {"field": row.field, "op": row.op, "value": value}


def build_rule(form: SegmentForm, currency: str, errors: FormErrors) -> dict[str, Any] | None:
    """The rule document the form describes (checked by the segment rules later)."""
    if form.rule_json:
        try:
            document = json.loads(form.rule_json)
        except ValueError:
            errors.add("rule_json", "segments.invalid_json")
            return None
        if not isinstance(document, dict):
            errors.add("rule_json", "segments.invalid_json")
            return None
        return document
    assert form.rows is not None
    conditions = [_condition(row, currency) for row in form.rows if not row.blank]
    if not conditions:
        errors.add("_form", "segments.empty_rule")
        return None
    return {form.match: conditions}


def _kind_hint(field_name: str, op: str, currency: str) -> str:
    spec = FIELDS[field_name]
    if spec.kind == Kind.NUMBER:
        if op == "between":
            return _("Enter two numbers, low then high, separated by a comma.")
        if field_name in MONEY_FIELDS:
            return _("Enter an amount in %(currency)s, such as 500.", currency=currency)
        return _("Enter a number.")
    if spec.choices:
        return _("Use one of: %(values)s", values=", ".join(spec.choices))
    if op in LIST_OPERATORS:
        return _("Enter one or more values, separated by commas.")
    return _("Enter a value.")


def rule_message(problem: FieldError, condition: Mapping[str, Any] | None, currency: str) -> str:
    """A segment-rule problem in the reader's language, listing what is allowed."""
    if problem.code == "segments.unknown_field":
        return _(
            "Unknown field. Allowed fields: %(fields)s",
            fields=", ".join(analytics.ALLOWED_FIELDS),
        )
    field_name = str((condition or {}).get("field", ""))
    spec = FIELDS.get(field_name)
    if problem.code == "segments.unknown_operator" and spec is not None:
        allowed = [gettext(OPERATOR_LABELS[op]) for op in OPERATORS[spec.kind]]
        return _(
            "This comparison does not apply to %(field)s. Use one of: %(operators)s",
            field=gettext(FIELD_LABELS[field_name]),
            operators=", ".join(allowed),
        )
    if problem.code == "segments.invalid_value" and spec is not None:
        return _kind_hint(field_name, str((condition or {}).get("op", "")), currency)
    return _("This part of the rule is not valid: %(problem)s", problem=problem.message)


def _node(document: Any, path: str) -> Any:
    """The part of a rule document at an error path such as ``rule.all[2].value``."""
    node = document
    for key, index in re.findall(r"\.(\w+)(?:\[(\d+)\])?", path[len("rule") :]):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
        if index:
            if not isinstance(node, list) or int(index) >= len(node):
                return None
            node = node[int(index)]
    return node


def rule_errors(
    failed: ValidationFailed,
    form: SegmentForm,
    document: Mapping[str, Any],
    currency: str,
    errors: FormErrors,
) -> None:
    """Place the rule's problems beside the builder rows (or the JSON box) they concern."""
    if not failed.errors:
        errors.add("_form", failed.code, failed.message)
        return
    assert form.rows is not None
    used_rows = [i for i, row in enumerate(form.rows) if not row.blank]
    combined: list[str] = []
    for problem in failed.errors:
        parent = re.sub(r"\.(field|op|value)$", "", problem.field)
        condition = _node(document, parent)
        message = rule_message(
            problem, condition if isinstance(condition, Mapping) else None, currency
        )
        found = _ROW_PATH.match(problem.field)
        if not form.rule_json and found and int(found.group(1)) < len(used_rows):
            key = f"c{used_rows[int(found.group(1))]}_{found.group(2)}"
            errors.fields.setdefault(key, message)
        else:
            place = problem.field.removeprefix("rule").lstrip(".") or "rule"
            combined.append(f"{place}: {message}")
    if combined:
        errors.fields.setdefault("rule_json" if form.rule_json else "_form", " · ".join(combined))


def describe_rule(rule: Any, currency: str) -> str:
    """A rule in words: "Total spent at least $500.00 and Tags has any of vip"."""
    if isinstance(rule, Mapping):
        if "all" in rule or "any" in rule:
            key = "all" if "all" in rule else "any"
            word = _("and") if key == "all" else _("or")
            joiner = f" {word} "
            parts = [describe_rule(child, currency) for child in rule[key] or []]
            text = joiner.join(parts)
            return f"({text})" if len(parts) > 1 else text
        if "not" in rule:
            negation = _("not")
            return f"{negation} {describe_rule(rule['not'], currency)}"
        field_name = str(rule.get("field", ""))
        value = rule.get("value")

        def shown(item: Any) -> str:
            if field_name in MONEY_FIELDS and isinstance(item, (int, float)):
                return money(item, currency)
            return str(item)

        values = value if isinstance(value, list) else [value]
        separator = " \u2013 " if rule.get("op") == "between" else ", "
        joined = separator.join(shown(v) for v in values)
        return " ".join(
            (
                label(FIELD_LABELS, field_name),
                label(OPERATOR_LABELS, str(rule.get("op", ""))),
                joined,
            )
        )
    return str(rule)


@dataclass(frozen=True)
class SegmentsView:
    segments: list[analytics.SegmentView]


def read_segments(current: Staff) -> SegmentsView:
    with current.uow() as uow:
        return SegmentsView(analytics.list_segments(uow))


def preview(current: Staff, rule: dict[str, Any]) -> analytics.SegmentPreview:
    with current.uow() as uow:
        return analytics.preview_rule(uow, rule)


def save_segment(current: Staff, form: SegmentForm, rule: dict[str, Any]) -> analytics.SegmentView:
    """Define the segment and compute its members at once (both need promotions.write)."""
    with current.uow() as uow:
        created = analytics.create_segment(
            uow, analytics.CreateSegment(form.name, rule, form.description)
        )
        view = analytics.refresh_segment(uow, created.id)
        uow.commit()
    return view


def refresh_segment(current: Staff, segment_id: int) -> analytics.SegmentView:
    with current.uow() as uow:
        view = analytics.refresh_segment(uow, segment_id)
        uow.commit()
    return view


def delete_segment(current: Staff, segment_id: int) -> None:
    with current.uow() as uow:
        analytics.delete_segment(uow, segment_id)
        uow.commit()


def export_segment(current: Staff, segment_id: int) -> str:
    with current.uow() as uow:
        text = analytics.export_csv(uow, segment_id)
        uow.commit()  # the audit entry of the export
    return text


def check_segment(form: SegmentForm, currency: str, errors: FormErrors) -> dict[str, Any] | None:
    """The form's rule, checked with the segment rules; every problem goes into ``errors``."""
    if not form.name:
        errors.add("name", "segments.required")
    elif len(form.name) > SEGMENT_NAME_MAX:
        errors.add("name", "segments.too_long")
    document = build_rule(form, currency, errors)
    if document is None:
        return None
    try:
        parse_rule(document)
    except ValidationFailed as failed:
        rule_errors(failed, form, document, currency, errors)
        return None
    return document


def saving_failed(error: DomainError, errors: FormErrors) -> None:
    """A save refused by the service (a name already taken, mostly): beside the name."""
    if error.code.startswith("segments.") and error.code != "segments.not_found":
        field_name = (
            "name"
            if error.code
            in {
                "segments.name_taken",
                "segments.required",
                "segments.too_long",
            }
            else "_form"
        )
        errors.add(field_name, error.code, error.message)
    else:
        errors.add("_form", error.code, error.message)


# --- cohorts ------------------------------------------------------------------------------

MEASURES: dict[str, str] = {"customers": N_("By customers"), "revenue": N_("By revenue")}
PERIOD_CHOICES = (6, 12, 24)


@dataclass(frozen=True)
class CohortView:
    measure: str
    periods: int
    cohorts: list[str]
    sizes: list[int]
    rates: list[list[float | None]]  # cohorts x months since the first order
    chart: dict[str, Any]

    @property
    def empty(self) -> bool:
        return not self.cohorts


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def read_cohorts(current: Staff, *, measure: str, periods: int) -> CohortView:
    with current.uow() as uow:
        matrix = analytics.cohort_report(uow, grain="month", measure=measure, periods=periods)
    rates = [[_finite(float(v)) for v in row] for row in matrix.rates.tolist()]
    offsets = matrix.offsets
    later = matrix.rates[:, 1:] if offsets > 1 else np.zeros((0, 0))
    top = float(np.nanmax(later)) * 100 if later.size and np.isfinite(later).any() else 100.0
    rows = [f"{c} ({int(n)})" for c, n in zip(matrix.cohorts, matrix.sizes, strict=True)]
    cells = [
        [column, row, round(value * 100, 1)]
        for row, values in enumerate(rates)
        for column, value in enumerate(values)
        if value is not None
    ]
    chart = {
        "kind": "heatmap",
        "columns": [str(k) for k in range(offsets)],
        "rows": rows,
        "cells": cells,
        # a tiny early cohort can return many times its first month: cap the colour scale so
        # the ordinary cohorts stay readable (the cells still show the exact figure)
        "max": min(math.ceil(top), 100) if top > 0 else 100,
    }
    return CohortView(
        measure=measure,
        periods=periods,
        cohorts=list(matrix.cohorts),
        sizes=[int(s) for s in matrix.sizes],
        rates=rates,
        chart=chart,
    )
