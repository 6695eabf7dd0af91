"""Promotion definitions in, typed ``PromotionRule`` out — or every problem at once.

A definition is the JSON the API and the CLI accept (money as decimal strings
in the promotion's currency, percentages as numbers). ``parse_definition``
checks all of it and raises one ``ValidationFailed`` listing each field error
with a stable code; ``definition_json`` writes the canonical form back, which
is also what is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shopops.contexts.promotions.definitions import (
    DEFAULT_PRIORITY,
    Conditions,
    Limits,
    PromotionRule,
    Recurrence,
    Schedule,
    Scope,
    Stacking,
)
from shopops.contexts.promotions.errors import PromotionError
from shopops.contexts.promotions.rules import KINDS, PARSERS, QUOTA_KINDS, Reader, RuleParams
from shopops.contexts.promotions.rules.base import major
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.kernel.money import normalize_currency

TOP_FIELDS = (
    "name",
    "description",
    "kind",
    "currency",
    "params",
    "scope",
    "schedule",
    "conditions",
    "requires_coupon",
    "stacking",
    "limits",
)
SCOPE_FIELDS = (
    "products",
    "categories",
    "brands",
    "exclude_products",
    "exclude_categories",
    "exclude_brands",
)
SCHEDULE_FIELDS = ("starts_at", "ends_at", "recurring")
RECURRING_FIELDS = ("weekdays", "days_of_month", "start_time", "end_time", "timezone")
CONDITION_FIELDS = (
    "min_spend",
    "min_quantity",
    "channels",
    "tiers",
    "segments",
    "first_order_only",
)
STACKING_FIELDS = ("group", "priority", "exclusive", "combinable_with")
LIMIT_FIELDS = (
    "max_discount",
    "max_redemptions",
    "per_customer",
    "quota_units",
    "per_customer_units",
)


def raise_collected(
    errors: FieldErrorCollector, fallback: str = PromotionError.INVALID_DEFINITION
) -> None:
    """One error for everything found; its code is the problems' code when they share one."""
    if not errors:
        return
    codes = {e.code for e in errors.items}
    code = codes.pop() if len(codes) == 1 else fallback
    first = errors.items[0]
    if len(errors.items) == 1:
        message = f"{first.field}: {first.message}"
    else:
        message = f"{len(errors.items)} problems"
    raise ValidationFailed(code, message, errors=errors.items)


def _section(raw: Mapping[str, Any], name: str, errors: FieldErrorCollector) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.add(name, PromotionError.INVALID_DEFINITION, "must be an object")
        return {}
    return dict(value)


def _ids(reader: Reader, name: str) -> frozenset[int]:
    value = reader.raw.get(name, [])
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        reader.error(name, PromotionError.INVALID_SCOPE, "a list of ids")
        return frozenset()
    return frozenset(value)


def _scope(reader: Reader) -> Scope:
    reader.reject_unknown(SCOPE_FIELDS)
    return Scope(*(_ids(reader, name) for name in SCOPE_FIELDS))


def _moment(reader: Reader, name: str) -> datetime | None:
    value = reader.raw.get(name)
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        reader.error(name, PromotionError.INVALID_SCHEDULE, "an ISO 8601 date-time")
        return None
    if moment.tzinfo is None:
        reader.error(name, PromotionError.INVALID_SCHEDULE, "needs a time zone offset, e.g. Z")
        return None
    return moment


def _clock(reader: Reader, name: str) -> time | None:
    value = reader.raw.get(name)
    if value is None:
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        reader.error(name, PromotionError.INVALID_SCHEDULE, "a time of day, HH:MM")
        return None


def _numbers(reader: Reader, name: str, low: int, high: int) -> frozenset[int]:
    value = reader.raw.get(name, [])
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value
    ):
        reader.error(name, PromotionError.INVALID_SCHEDULE, f"whole numbers from {low} to {high}")
        return frozenset()
    return frozenset(value)


def _recurrence(reader: Reader) -> Recurrence:
    reader.reject_unknown(RECURRING_FIELDS)
    zone = str(reader.raw.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.error("timezone", PromotionError.INVALID_SCHEDULE, f"unknown time zone '{zone}'")
        zone = "UTC"
    start, end = _clock(reader, "start_time"), _clock(reader, "end_time")
    if (start is None) != (end is None):
        reader.error("end_time", PromotionError.INVALID_SCHEDULE, "give both times or neither")
    elif start is not None and end is not None and start >= end:
        reader.error("end_time", PromotionError.INVALID_SCHEDULE, "must be after start_time")
    weekdays = _numbers(reader, "weekdays", 0, 6)
    days = _numbers(reader, "days_of_month", 1, 31)
    if not weekdays and not days and start is None:
        reader.error("", PromotionError.INVALID_SCHEDULE, "give weekdays, days or a time window")
    return Recurrence(weekdays, days, start, end, zone)


def _schedule(reader: Reader) -> Schedule:
    reader.reject_unknown(SCHEDULE_FIELDS)
    starts, ends = _moment(reader, "starts_at"), _moment(reader, "ends_at")
    if starts is not None and ends is not None and ends <= starts:
        reader.error("ends_at", PromotionError.INVALID_SCHEDULE, "must be after starts_at")
    recurring = reader.raw.get("recurring")
    recurrence = None
    if recurring is not None:
        if isinstance(recurring, Mapping):
            recurrence = _recurrence(reader.child(recurring, f"{reader.prefix}.recurring"))
        else:
            reader.error("recurring", PromotionError.INVALID_SCHEDULE, "must be an object")
    return Schedule(starts, ends, recurrence)


def _flag(reader: Reader, name: str, code: str) -> bool:
    value = reader.raw.get(name, False)
    if not isinstance(value, bool):
        reader.error(name, code, "true or false")
        return False
    return value


def _conditions(reader: Reader) -> Conditions:
    reader.reject_unknown(CONDITION_FIELDS)
    return Conditions(
        min_spend_minor=reader.money("min_spend", required=False),
        min_quantity=reader.integer("min_quantity", required=False),
        channels=frozenset(reader.texts("channels")),
        tiers=frozenset(reader.texts("tiers")),
        segments=frozenset(reader.texts("segments")),
        first_order_only=_flag(reader, "first_order_only", PromotionError.INVALID_CONDITIONS),
    )


def _stacking(reader: Reader) -> Stacking:
    reader.reject_unknown(STACKING_FIELDS)
    code = PromotionError.INVALID_STACKING
    group = reader.raw.get("group", "")
    if not isinstance(group, str) or len(group) > 40:
        reader.error("group", code, "a name of up to 40 characters")
        group = ""
    priority = reader.raw.get("priority", DEFAULT_PRIORITY)
    if (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not 0 <= priority <= 1_000_000
    ):
        reader.error("priority", code, "a whole number from 0 to 1,000,000; lower applies first")
        priority = DEFAULT_PRIORITY
    exclusive = _flag(reader, "exclusive", code)
    listed = reader.raw.get("combinable_with")
    ids: frozenset[int] | None = None
    groups: frozenset[str] = frozenset()
    if listed is not None:
        if not isinstance(listed, list) or not all(
            (isinstance(v, int) and not isinstance(v, bool) and v > 0) or (isinstance(v, str) and v)
            for v in listed
        ):
            reader.error("combinable_with", code, "a list of promotion ids and group names")
        else:
            ids = frozenset(v for v in listed if isinstance(v, int))
            groups = frozenset(v for v in listed if isinstance(v, str))
        if exclusive:
            reader.error("combinable_with", code, "an exclusive promotion combines with nothing")
    return Stacking(group.strip(), priority, exclusive, ids, groups)


def _limits(reader: Reader, kind: str) -> Limits:
    reader.reject_unknown(LIMIT_FIELDS)
    quota_units = reader.integer("quota_units", required=False)
    per_customer_units = reader.integer("per_customer_units", required=False)
    if kind not in QUOTA_KINDS and (quota_units or per_customer_units):
        reader.error(
            "quota_units",
            PromotionError.INVALID_LIMITS,
            "unit quotas are for flash sales and gifts",
        )
    return Limits(
        max_discount_minor=reader.money("max_discount", required=False),
        max_redemptions=reader.integer("max_redemptions", required=False),
        per_customer=reader.integer("per_customer", required=False),
        quota_units=quota_units,
        per_customer_units=per_customer_units,
    )


def parse_definition(raw: Mapping[str, Any], promotion_id: int = 0) -> PromotionRule:
    """The checked rule (id ``promotion_id``), or ValidationFailed listing every problem."""
    errors = FieldErrorCollector()
    top = Reader(raw, None, errors, prefix="")
    for key in sorted(set(raw) - set(TOP_FIELDS)):
        errors.add(
            key, PromotionError.UNKNOWN_FIELD, f"unknown field; known: {', '.join(TOP_FIELDS)}"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        errors.add("name", PromotionError.INVALID_NAME, "1 to 200 characters")
        name = ""
    description = raw.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        errors.add("description", PromotionError.INVALID_NAME, "up to 2,000 characters")
        description = ""
    currency = None
    if raw.get("currency") is not None:
        try:
            currency = normalize_currency(str(raw["currency"]))
        except ValidationFailed as problem:
            errors.add("currency", PromotionError.INVALID_CURRENCY, problem.message)
    kind = raw.get("kind")
    params: RuleParams | None = None
    if kind not in PARSERS:
        errors.add("kind", PromotionError.UNKNOWN_KIND, f"one of {', '.join(KINDS)}")
        kind = ""
    else:
        params_raw = _section(raw, "params", errors)
        params = PARSERS[str(kind)](Reader(params_raw, currency, errors, "params"))
    sections = {
        name_: _section(raw, name_, errors)
        for name_ in ("scope", "schedule", "conditions", "stacking", "limits")
    }
    scope = _scope(top.child(sections["scope"], "scope"))
    schedule = _schedule(top.child(sections["schedule"], "schedule"))
    conditions = _conditions(Reader(sections["conditions"], currency, errors, "conditions"))
    stacking = _stacking(top.child(sections["stacking"], "stacking"))
    limits = _limits(Reader(sections["limits"], currency, errors, "limits"), str(kind))
    requires_coupon = _flag(top, "requires_coupon", PromotionError.INVALID_DEFINITION)
    raise_collected(errors)
    assert params is not None
    return PromotionRule(
        id=promotion_id,
        name=str(name).strip(),
        kind=str(kind),
        params=params,
        currency=currency,
        scope=scope,
        schedule=schedule,
        conditions=conditions,
        stacking=stacking,
        limits=limits,
        requires_coupon=requires_coupon,
        description=str(description),
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def definition_json(rule: PromotionRule) -> dict[str, Any]:
    """The canonical definition: what is stored and what readers see."""
    currency = rule.currency
    scope = rule.scope
    recurrence = rule.schedule.recurrence
    stacking = rule.stacking
    combinable: list[int | str] | None = None
    if stacking.combinable_ids is not None:
        combinable = [*sorted(stacking.combinable_ids), *sorted(stacking.combinable_groups)]
    conditions = rule.conditions
    limits = rule.limits
    return {
        "name": rule.name,
        "description": rule.description,
        "kind": rule.kind,
        "currency": currency,
        "params": rule.params.to_json(currency),
        "scope": {name: sorted(getattr(scope, name)) for name in SCOPE_FIELDS},
        "schedule": {
            "starts_at": _iso(rule.schedule.starts_at),
            "ends_at": _iso(rule.schedule.ends_at),
            "recurring": None
            if recurrence is None
            else {
                "weekdays": sorted(recurrence.weekdays),
                "days_of_month": sorted(recurrence.days_of_month),
                "start_time": None
                if recurrence.start_time is None
                else recurrence.start_time.isoformat("minutes"),
                "end_time": None
                if recurrence.end_time is None
                else recurrence.end_time.isoformat("minutes"),
                "timezone": recurrence.timezone,
            },
        },
        "conditions": {
            "min_spend": major(conditions.min_spend_minor, currency),
            "min_quantity": conditions.min_quantity,
            "channels": sorted(conditions.channels),
            "tiers": sorted(conditions.tiers),
            "segments": sorted(conditions.segments),
            "first_order_only": conditions.first_order_only,
        },
        "requires_coupon": rule.requires_coupon,
        "stacking": {
            "group": rule.group,
            "priority": stacking.priority,
            "exclusive": stacking.exclusive,
            "combinable_with": combinable,
        },
        "limits": {
            "max_discount": major(limits.max_discount_minor, currency),
            "max_redemptions": limits.max_redemptions,
            "per_customer": limits.per_customer,
            "quota_units": limits.quota_units,
            "per_customer_units": limits.per_customer_units,
        },
    }
