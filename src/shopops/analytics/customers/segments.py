"""Dynamic segments: a small JSON rule language evaluated over the customer feature table.

A rule is one of::

    {"all": [rule, ...]}        every sub-rule holds
    {"any": [rule, ...]}        at least one holds
    {"not": rule}               the sub-rule does not hold
    {"field": "total_spend", "op": "gte", "value": 50000}

Fields come from a fixed list (``FIELDS``); each has a kind that decides its
operators (``OPERATORS``). Numbers compare with ``eq ne gt gte lt lte`` and
``between`` ([low, high], inclusive); text with ``eq ne in not_in``; sets
(tags, products and categories bought) with ``has has_any has_all has_none``.
A customer without orders has no recency, RFM or CLV: every comparison on
those is false for them (``not`` turns it true). Erased customers are never
members of a segment. Money is in minor units of the store currency.

Every problem of a rule is reported at once; an unknown field fails with the
code ``segments.unknown_field`` and the list of allowed fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopops.analytics.customers.features import CustomerFeatures
from shopops.analytics.customers.lifecycle import Stage
from shopops.analytics.customers.rfm import SEGMENTS
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed

Mask = NDArray[np.bool_]
MAX_DEPTH = 8
MAX_CONDITIONS = 100


class SegmentError(StrEnum):
    UNKNOWN_FIELD = "segments.unknown_field"
    UNKNOWN_OPERATOR = "segments.unknown_operator"
    INVALID_VALUE = "segments.invalid_value"
    INVALID_RULE = "segments.invalid_rule"
    NOT_FOUND = "segments.not_found"
    NAME_TAKEN = "segments.name_taken"


class Kind(StrEnum):
    NUMBER = "number"
    TEXT = "text"
    SET = "set"


@dataclass(frozen=True)
class FieldSpec:
    kind: Kind
    description: str
    choices: tuple[str, ...] = ()


FIELDS: dict[str, FieldSpec] = {
    "total_spend": FieldSpec(Kind.NUMBER, "Total spent on paid orders, minor units"),
    "order_count": FieldSpec(Kind.NUMBER, "Number of paid orders"),
    "average_order_value": FieldSpec(Kind.NUMBER, "Mean paid order total, minor units"),
    "recency_days": FieldSpec(Kind.NUMBER, "Days since the last paid order"),
    "days_since_first_order": FieldSpec(Kind.NUMBER, "Days since the first paid order"),
    "rfm_recency": FieldSpec(Kind.NUMBER, "RFM recency score (1 = worst)"),
    "rfm_frequency": FieldSpec(Kind.NUMBER, "RFM frequency score"),
    "rfm_monetary": FieldSpec(Kind.NUMBER, "RFM monetary score"),
    "predicted_clv": FieldSpec(Kind.NUMBER, "Expected discounted lifetime value, minor units"),
    "probability_alive": FieldSpec(Kind.NUMBER, "Probability the customer is still active"),
    "expected_purchases_90d": FieldSpec(Kind.NUMBER, "Expected purchases in the next 90 days"),
    "tier": FieldSpec(Kind.TEXT, "Customer tier"),
    "region": FieldSpec(Kind.TEXT, "Region code"),
    "source_channel": FieldSpec(Kind.TEXT, "Channel the customer came from"),
    "rfm_segment": FieldSpec(Kind.TEXT, "Named RFM segment", SEGMENTS),
    "lifecycle_stage": FieldSpec(Kind.TEXT, "Lifecycle stage", tuple(s.value for s in Stage)),
    "tag": FieldSpec(Kind.SET, "Customer tags"),
    "bought_product": FieldSpec(Kind.SET, "Product ids bought in paid orders"),
    "bought_category": FieldSpec(Kind.SET, "Category ids bought (a parent covers its children)"),
}

OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "between"),
    Kind.TEXT: ("eq", "ne", "in", "not_in"),
    Kind.SET: ("has", "has_any", "has_all", "has_none"),
}

ALLOWED_FIELDS = tuple(FIELDS)


# --- the parsed rule -------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    rule: Rule


Rule = Condition | AllOf | AnyOf | Not


def parse_rule(document: Any) -> Rule:
    """Validate a rule document; raises ValidationFailed listing every problem."""
    parser = _Parser()
    parsed = parser.rule(document, "rule", 0)
    problems = parser.problems
    if problems or parsed is None:
        allowed = ", ".join(ALLOWED_FIELDS)
        if parser.unknown_fields:
            names = ", ".join(sorted(parser.unknown_fields))
            raise ValidationFailed(
                SegmentError.UNKNOWN_FIELD,
                f"unknown field(s) {names}; allowed fields: {allowed}",
                errors=problems.items,
                details={"allowed_fields": list(ALLOWED_FIELDS)},
            )
        raise ValidationFailed(
            SegmentError.INVALID_RULE,
            f"{len(problems.items)} problem(s) in the segment rule",
            errors=problems.items,
        )
    return parsed


@dataclass
class _Parser:
    problems: FieldErrorCollector = field(default_factory=FieldErrorCollector)
    unknown_fields: set[str] = field(default_factory=set)
    conditions: int = 0

    def rule(self, node: Any, path: str, depth: int) -> Rule | None:
        if depth > MAX_DEPTH:
            self.problems.add(
                path, SegmentError.INVALID_RULE, f"rules nest at most {MAX_DEPTH} deep"
            )
            return None
        if not isinstance(node, Mapping):
            self.problems.add(path, SegmentError.INVALID_RULE, "a rule is a JSON object")
            return None
        keys = set(node)
        for combinator in ("all", "any"):
            if keys == {combinator}:
                return self.combination(combinator, node[combinator], f"{path}.{combinator}", depth)
        if keys == {"not"}:
            inner = self.rule(node["not"], f"{path}.not", depth + 1)
            return None if inner is None else Not(inner)
        if keys <= {"field", "op", "value"} and "field" in keys:
            self.conditions += 1
            if self.conditions == MAX_CONDITIONS + 1:
                self.problems.add(
                    path, SegmentError.INVALID_RULE, f"at most {MAX_CONDITIONS} conditions"
                )
            return self.condition(node, path)
        self.problems.add(
            path,
            SegmentError.INVALID_RULE,
            'expected {"all": [...]}, {"any": [...]}, {"not": {...}} '
            'or {"field": ..., "op": ..., "value": ...}',
        )
        return None

    def combination(self, combinator: str, children: Any, path: str, depth: int) -> Rule | None:
        if not isinstance(children, list) or not children:
            self.problems.add(path, SegmentError.INVALID_RULE, "a non-empty list of rules")
            return None
        parsed = [self.rule(child, f"{path}[{i}]", depth + 1) for i, child in enumerate(children)]
        rules = tuple(r for r in parsed if r is not None)
        return AllOf(rules) if combinator == "all" else AnyOf(rules)

    def condition(self, node: Mapping[str, Any], path: str) -> Rule | None:
        name, op = node.get("field"), node.get("op")
        spec = FIELDS.get(name) if isinstance(name, str) else None
        if spec is None:
            self.unknown_fields.add(str(name))
            self.problems.add(
                f"{path}.field",
                SegmentError.UNKNOWN_FIELD,
                f"unknown field '{name}'; allowed fields: {', '.join(ALLOWED_FIELDS)}",
            )
            return None
        operators = OPERATORS[spec.kind]
        if op not in operators:
            self.problems.add(
                f"{path}.op",
                SegmentError.UNKNOWN_OPERATOR,
                f"'{op}' does not apply to {name} ({spec.kind}); "
                f"use one of: {', '.join(operators)}",
            )
            return None
        if "value" not in node:
            self.problems.add(f"{path}.value", SegmentError.INVALID_VALUE, "a value is required")
            return None
        value = _value(spec, str(op), node["value"], f"{path}.value", self.problems)
        return None if value is None else Condition(str(name), str(op), value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _value(spec: FieldSpec, op: str, value: Any, path: str, problems: FieldErrorCollector) -> Any:
    def fail(message: str) -> None:
        problems.add(path, SegmentError.INVALID_VALUE, message)

    if spec.kind == Kind.NUMBER:
        if op == "between":
            if not (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))):
                return fail("between takes [low, high]")
            if value[0] > value[1]:
                return fail("between takes [low, high] with low <= high")
            return (float(value[0]), float(value[1]))
        return float(value) if _is_number(value) else fail("a number is required")
    many = op in {"in", "not_in", "has_any", "has_all", "has_none"}
    items = value if many else [value]
    if not isinstance(items, list) or not items:
        return fail("a non-empty list is required")
    if spec.kind == Kind.SET:
        ok = all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in items)
        if not ok:
            return fail("values are strings or integer ids")
        return tuple(str(v) for v in items)
    if not all(isinstance(v, str) for v in items):
        return fail("values are strings")
    if spec.choices:
        unknown = sorted(set(items) - set(spec.choices))
        if unknown:
            return fail(f"unknown value(s) {', '.join(unknown)}; one of: {', '.join(spec.choices)}")
    return tuple(items)


# --- evaluation --------------------------------------------------------------------------


def evaluate(rule: Rule, features: CustomerFeatures) -> Mask:
    """Members of the rule: a boolean mask over the feature table (erased customers excluded)."""
    return np.asarray(_mask(rule, features) & ~features.erased, dtype=bool)


def _mask(rule: Rule, features: CustomerFeatures) -> Mask:
    n = len(features)
    if isinstance(rule, AllOf):
        result = np.ones(n, dtype=bool)
        for child in rule.rules:
            result &= _mask(child, features)
        return result
    if isinstance(rule, AnyOf):
        result = np.zeros(n, dtype=bool)
        for child in rule.rules:
            result |= _mask(child, features)
        return result
    if isinstance(rule, Not):
        return ~_mask(rule.rule, features)
    return _condition_mask(rule, features)


def _condition_mask(condition: Condition, features: CustomerFeatures) -> Mask:
    kind = FIELDS[condition.field].kind
    op, value = condition.op, condition.value
    if kind == Kind.NUMBER:
        column = features.numeric[condition.field]
        with np.errstate(invalid="ignore"):
            if op == "between":
                return np.asarray((column >= value[0]) & (column <= value[1]), dtype=bool)
            compare = {
                "eq": np.equal,
                "ne": np.not_equal,
                "gt": np.greater,
                "gte": np.greater_equal,
                "lt": np.less,
                "lte": np.less_equal,
            }[op]
            return np.asarray(compare(column, value) & ~np.isnan(column), dtype=bool)
    if kind == Kind.TEXT:
        text = features.text[condition.field]
        inside = np.isin(text, np.array(value, dtype=np.str_))
        return np.asarray(~inside if op in {"ne", "not_in"} else inside, dtype=bool)
    index = features.sets[condition.field]
    holders = [index.get(v, np.zeros(0, dtype=np.int64)) for v in value]
    if op == "has_all":
        result = np.ones(len(features), dtype=bool)
        for ids in holders:
            result &= np.isin(features.customer_id, ids)
        return result
    union = np.isin(features.customer_id, np.concatenate(holders))
    return np.asarray(~union if op == "has_none" else union, dtype=bool)


def describe_fields() -> list[dict[str, Any]]:
    """The allowed fields with their kinds, operators and (for closed lists) values."""
    return [
        {
            "field": name,
            "kind": spec.kind.value,
            "operators": list(OPERATORS[spec.kind]),
            "description": spec.description,
            "choices": list(spec.choices),
        }
        for name, spec in FIELDS.items()
    ]


def member_ids(mask: Mask, features: CustomerFeatures) -> Sequence[int]:
    return [int(c) for c in features.customer_id[mask]]
