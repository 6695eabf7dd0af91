"""Use cases for promotions: create, update, validate, activate, deactivate, read.

Every change needs ``promotions.write``, is audited and emits an event; reads need
``promotions.read``. Definitions are checked in full (``validation``) and against the
catalog before anything is written, so a refused command changes nothing.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from shopops.auth.permissions import Permission
from shopops.contexts.promotions import repository
from shopops.contexts.promotions.commands import CreatePromotion, ListPromotions, UpdatePromotion
from shopops.contexts.promotions.definitions import PromotionRule, Scope
from shopops.contexts.promotions.errors import PromotionError
from shopops.contexts.promotions.events import (
    PromotionActivated,
    PromotionCreated,
    PromotionDeactivated,
    PromotionUpdated,
)
from shopops.contexts.promotions.models import FlashSaleQuota, Promotion
from shopops.contexts.promotions.rules import QUOTA_KINDS, Gift
from shopops.contexts.promotions.taxonomy import descendants
from shopops.contexts.promotions.validation import (
    TOP_FIELDS,
    definition_json,
    parse_definition,
    raise_collected,
)
from shopops.contexts.promotions.views import PromotionView, definition_of
from shopops.kernel.errors import Conflict, FieldErrorCollector, NotFound, ValidationFailed
from shopops.uow import UnitOfWork

ENTITY = "promotion"
STATUSES = ("draft", "active", "inactive")
SECTIONS = ("params", "scope", "schedule", "conditions", "stacking", "limits")
MAX_PAGE = 500


def _load(uow: UnitOfWork, promotion_id: int, *, for_update: bool = False) -> Promotion:
    row = repository.get(uow.session, promotion_id, for_update=for_update)
    if row is None:
        raise NotFound(PromotionError.NOT_FOUND, f"promotion {promotion_id} does not exist")
    return row


def _view(uow: UnitOfWork, row: Promotion) -> PromotionView:
    uow.session.flush()
    return PromotionView.of(row, repository.quotas(uow.session, [row.id]).get(row.id))


def _check_references(uow: UnitOfWork, rule: PromotionRule) -> None:
    """Every id and SKU a definition names exists."""
    errors = FieldErrorCollector()
    scope = rule.scope
    for name, kind in (
        ("products", "products"),
        ("categories", "categories"),
        ("brands", "brands"),
        ("exclude_products", "products"),
        ("exclude_categories", "categories"),
        ("exclude_brands", "brands"),
    ):
        wanted: frozenset[int] = getattr(scope, name)
        missing = sorted(wanted - repository.existing_ids(uow.session, kind, wanted))
        if missing:
            errors.add(f"scope.{name}", PromotionError.INVALID_SCOPE, f"unknown ids: {missing}")
    if isinstance(rule.params, Gift) and not repository.sku_facts(uow.session, [rule.params.sku]):
        errors.add("params.sku", PromotionError.UNKNOWN_GIFT_SKU, f"no SKU '{rule.params.sku}'")
    listed = rule.stacking.combinable_ids or frozenset()
    missing_ids = sorted(i for i in listed if repository.get(uow.session, i) is None)
    if missing_ids:
        errors.add(
            "stacking.combinable_with", PromotionError.INVALID_STACKING, f"unknown: {missing_ids}"
        )
    raise_collected(errors)


def _products(uow: UnitOfWork, scope: Scope, parents: Mapping[int, int | None]) -> set[int] | None:
    """The product ids a scope covers; None for "everything"."""
    excluded = set(scope.exclude_products)
    if scope.exclude_categories or scope.exclude_brands:
        excluded |= repository.products_in(
            uow.session, (), descendants(scope.exclude_categories, parents), scope.exclude_brands
        )
    if scope.is_all:
        return None if not excluded else repository.products_in(uow.session, (), (), ()) - excluded
    included = repository.products_in(
        uow.session, scope.products, descendants(scope.categories, parents), scope.brands
    )
    return included - excluded


def _windows_overlap(a: PromotionRule, b: PromotionRule) -> bool:
    """Whether the two [starts_at, ends_at) windows meet (an open end is unbounded)."""
    a_start, a_end = a.schedule.starts_at, a.schedule.ends_at
    b_start, b_end = b.schedule.starts_at, b.schedule.ends_at
    a_starts_before_b_ends = a_start is None or b_end is None or a_start < b_end
    b_starts_before_a_ends = b_start is None or a_end is None or b_start < a_end
    return a_starts_before_b_ends and b_starts_before_a_ends


def _check_no_overlap(uow: UnitOfWork, rule: PromotionRule) -> None:
    """Two live flash sales may not price the same product at the same time."""
    if rule.kind != "flash_price":
        return
    others = [
        parse_definition(definition_of(row, None), row.id)
        for row in repository.active_flash_sales(uow.session, other_than=rule.id)
    ]
    others = [other for other in others if _windows_overlap(rule, other)]
    if not others:
        return
    parents = repository.category_parents(uow.session)
    mine = _products(uow, rule.scope, parents)
    for other in others:
        theirs = _products(uow, other.scope, parents)
        if mine is None or theirs is None or mine & theirs:
            raise Conflict(
                PromotionError.OVERLAPPING_SCHEDULE,
                f"flash sale {other.id} prices some of the same products at the same time",
                details={"promotion_id": other.id},
            )


def _store(row: Promotion, rule: PromotionRule) -> dict[str, Any]:
    data = definition_json(rule)
    row.name, row.description, row.kind = rule.name, rule.description, rule.kind
    row.currency = rule.currency
    row.params, row.scope, row.conditions = data["params"], data["scope"], data["conditions"]
    row.starts_at, row.ends_at = rule.schedule.starts_at, rule.schedule.ends_at
    row.recurring = data["schedule"]["recurring"]
    row.requires_coupon = rule.requires_coupon
    row.stacking_group, row.priority = rule.group, rule.stacking.priority
    row.exclusive = rule.stacking.exclusive
    row.combinable_with = data["stacking"]["combinable_with"]
    row.max_discount_minor = rule.limits.max_discount_minor
    row.max_redemptions = rule.limits.max_redemptions
    row.per_customer_limit = rule.limits.per_customer
    row.fingerprint = uuid.uuid4().hex
    return data


def _store_quota(uow: UnitOfWork, row: Promotion, rule: PromotionRule) -> None:
    if rule.kind not in QUOTA_KINDS:
        return
    quota = repository.quotas(uow.session, [row.id]).get(row.id)
    if quota is None:
        quota = FlashSaleQuota(promotion_id=row.id, sold_units=0)
        uow.session.add(quota)
    quota.quota_units = rule.limits.quota_units
    quota.per_customer_units = rule.limits.per_customer_units


# --- reads ----------------------------------------------------------------------------


def get_promotion(uow: UnitOfWork, promotion_id: int) -> PromotionView:
    uow.require(Permission.PROMOTIONS_READ)
    return _view(uow, _load(uow, promotion_id))


def list_promotions(uow: UnitOfWork, query: ListPromotions) -> list[PromotionView]:
    uow.require(Permission.PROMOTIONS_READ)
    if query.status is not None and query.status not in STATUSES:
        raise ValidationFailed(
            PromotionError.INVALID_STATUS, f"status is one of {', '.join(STATUSES)}"
        )
    rows = repository.list_promotions(
        uow.session,
        status=query.status,
        kind=query.kind,
        after_id=query.after_id,
        limit=max(1, min(query.limit, MAX_PAGE)),
    )
    quotas = repository.quotas(uow.session, [r.id for r in rows])
    return [PromotionView.of(row, quotas.get(row.id)) for row in rows]


def validate_definition(uow: UnitOfWork, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a definition, checked like a create; nothing is written."""
    uow.require(Permission.PROMOTIONS_WRITE)
    rule = parse_definition(definition)
    _check_references(uow, rule)
    return definition_json(rule)


# --- changes --------------------------------------------------------------------------


def create_promotion(uow: UnitOfWork, command: CreatePromotion) -> PromotionView:
    """A new promotion, as a draft: activate it to make it price carts."""
    uow.require(Permission.PROMOTIONS_WRITE)
    rule = parse_definition(command.definition)
    _check_references(uow, rule)
    row = Promotion(status="draft", revision=1, redemptions_used=0, discount_used_minor=0)
    data = _store(row, rule)
    uow.session.add(row)
    uow.session.flush()
    _store_quota(uow, row, rule)
    uow.audit("promotion.created", ENTITY, row.id, after=data)
    uow.emit(PromotionCreated(row.id, rule.name, rule.kind))
    return _view(uow, row)


def _merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if key in SECTIONS and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _check_counters_fit(row: Promotion, quota: FlashSaleQuota | None, rule: PromotionRule) -> None:
    """New limits cannot fall below what has already been used."""
    errors = FieldErrorCollector()
    limits = rule.limits
    used = [
        ("limits.max_redemptions", limits.max_redemptions, row.redemptions_used),
        ("limits.max_discount", limits.max_discount_minor, row.discount_used_minor),
        ("limits.quota_units", limits.quota_units, quota.sold_units if quota else 0),
    ]
    for field_name, limit, so_far in used:
        if limit is not None and limit < so_far:
            errors.add(field_name, PromotionError.INVALID_LIMITS, f"{so_far} already used")
    raise_collected(errors)


def update_promotion(uow: UnitOfWork, command: UpdatePromotion) -> PromotionView:
    uow.require(Permission.PROMOTIONS_WRITE)
    unknown = sorted(set(command.changes) - set(TOP_FIELDS))
    if unknown:
        raise ValidationFailed(PromotionError.UNKNOWN_FIELD, f"unknown fields: {unknown}")
    row = _load(uow, command.promotion_id, for_update=True)
    quota = repository.quotas(uow.session, [row.id]).get(row.id)
    before = definition_of(row, quota)
    if "kind" in command.changes and command.changes["kind"] != row.kind:
        raise ValidationFailed(
            PromotionError.KIND_CHANGE, "the kind of a promotion cannot change; create a new one"
        )
    rule = parse_definition(_merge(before, command.changes), row.id)
    _check_references(uow, rule)
    _check_counters_fit(row, quota, rule)
    if row.status == "active":
        _check_no_overlap(uow, rule)
    after = definition_json(rule)
    changed = tuple(key for key in TOP_FIELDS if before.get(key) != after.get(key))
    if not changed:
        return _view(uow, row)
    _store(row, rule)
    _store_quota(uow, row, rule)
    row.revision += 1
    uow.audit(
        "promotion.updated",
        ENTITY,
        row.id,
        before={k: before.get(k) for k in changed},
        after={k: after.get(k) for k in changed},
    )
    uow.emit(PromotionUpdated(row.id, changed, row.revision))
    return _view(uow, row)


def activate_promotion(uow: UnitOfWork, promotion_id: int) -> PromotionView:
    """Start pricing carts with it (from draft or inactive)."""
    uow.require(Permission.PROMOTIONS_WRITE)
    row = _load(uow, promotion_id, for_update=True)
    if row.status == "active":
        raise Conflict(PromotionError.INVALID_STATUS, f"promotion {promotion_id} is already active")
    if row.ends_at is not None and row.ends_at <= uow.now():
        raise ValidationFailed(
            PromotionError.INVALID_SCHEDULE,
            f"promotion {promotion_id} ended at {row.ends_at.isoformat()}; change its schedule",
        )
    _check_no_overlap(uow, parse_definition(definition_of(row, None), row.id))
    previous, row.status = row.status, "active"
    uow.audit(
        "promotion.activated",
        ENTITY,
        row.id,
        before={"status": previous},
        after={"status": "active"},
    )
    uow.emit(PromotionActivated(row.id))
    return _view(uow, row)


def deactivate_promotion(uow: UnitOfWork, promotion_id: int) -> PromotionView:
    """Stop pricing carts with it; redemptions so far stay on the books."""
    uow.require(Permission.PROMOTIONS_WRITE)
    row = _load(uow, promotion_id, for_update=True)
    if row.status != "active":
        raise Conflict(PromotionError.INVALID_STATUS, f"promotion {promotion_id} is not active")
    row.status = "inactive"
    uow.audit(
        "promotion.deactivated",
        ENTITY,
        row.id,
        before={"status": "active"},
        after={"status": "inactive"},
    )
    uow.emit(PromotionDeactivated(row.id))
    return _view(uow, row)
