"""Use cases for dynamic segments: define, preview, refresh, export.

Defining, changing, deleting and refreshing a segment need
``promotions.write`` (segments are promotion targets); reading and previewing
need ``analytics.read``; the CSV export of members needs ``customers.export``
and is audited. A refresh re-evaluates the rule over the current feature table
and replaces the stored members; ``refresh_all`` is the scheduled job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, select

from shopops.analytics.customers import service
from shopops.analytics.customers.features import CustomerFeatures
from shopops.analytics.customers.models import SegmentDefinition, SegmentMember
from shopops.analytics.customers.segments import SegmentError, evaluate, parse_rule
from shopops.auth.permissions import Permission
from shopops.db.bulk import insert_rows
from shopops.kernel.errors import Conflict, FieldErrorCollector, NotFound
from shopops.uow import UnitOfWork

NAME_MAX = 100
PREVIEW_SAMPLE = 20


@dataclass(frozen=True)
class CreateSegment:
    name: str
    rule: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class UpdateSegment:
    segment_id: int
    name: str | None = None
    rule: dict[str, Any] | None = None
    description: str | None = None


@dataclass(frozen=True)
class SegmentView:
    id: int
    name: str
    description: str
    rule: dict[str, Any]
    member_count: int
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SegmentPreview:
    member_count: int
    sample_customer_ids: list[int]


def _view(row: SegmentDefinition) -> SegmentView:
    return SegmentView(
        id=row.id,
        name=row.name,
        description=row.description,
        rule=dict(row.rule),
        member_count=row.member_count,
        refreshed_at=row.refreshed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    problems = FieldErrorCollector()
    if not cleaned:
        problems.add("name", "segments.required", "a name is required")
    elif len(cleaned) > NAME_MAX:
        problems.add("name", "segments.too_long", f"at most {NAME_MAX} characters")
    problems.raise_if_any()
    return cleaned


def _name_free(uow: UnitOfWork, name: str, own_id: int | None = None) -> None:
    existing = uow.session.scalars(
        select(SegmentDefinition.id).where(SegmentDefinition.name == name)
    ).first()
    if existing is not None and existing != own_id:
        raise Conflict(SegmentError.NAME_TAKEN, f"a segment named '{name}' exists")


def _get(uow: UnitOfWork, segment_id: int) -> SegmentDefinition:
    row = uow.session.get(SegmentDefinition, segment_id)
    if row is None:
        raise NotFound(SegmentError.NOT_FOUND, f"no segment {segment_id}")
    return row


def create_segment(uow: UnitOfWork, command: CreateSegment) -> SegmentView:
    uow.require(Permission.PROMOTIONS_WRITE)
    name = _clean_name(command.name)
    parse_rule(command.rule)
    _name_free(uow, name)
    row = SegmentDefinition(
        name=name, description=command.description.strip(), rule=command.rule, member_count=0
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit("segment.created", "analytics_segment", row.id, after={"name": name})
    return _view(row)


def update_segment(uow: UnitOfWork, command: UpdateSegment) -> SegmentView:
    uow.require(Permission.PROMOTIONS_WRITE)
    row = _get(uow, command.segment_id)
    before = {"name": row.name, "rule": row.rule}
    if command.name is not None:
        name = _clean_name(command.name)
        _name_free(uow, name, row.id)
        row.name = name
    if command.rule is not None:
        parse_rule(command.rule)
        row.rule = command.rule
    if command.description is not None:
        row.description = command.description.strip()
    uow.session.flush()
    uow.audit(
        "segment.updated",
        "analytics_segment",
        row.id,
        before=before,
        after={"name": row.name, "rule": row.rule},
    )
    return _view(row)


def delete_segment(uow: UnitOfWork, segment_id: int) -> None:
    uow.require(Permission.PROMOTIONS_WRITE)
    row = _get(uow, segment_id)
    uow.session.execute(delete(SegmentMember).where(SegmentMember.segment_id == row.id))
    uow.session.delete(row)
    uow.session.flush()
    uow.audit("segment.deleted", "analytics_segment", segment_id, before={"name": row.name})


def get_segment(uow: UnitOfWork, segment_id: int) -> SegmentView:
    uow.require(Permission.ANALYTICS_READ)
    return _view(_get(uow, segment_id))


def list_segments(uow: UnitOfWork) -> list[SegmentView]:
    uow.require(Permission.ANALYTICS_READ)
    rows = uow.session.scalars(select(SegmentDefinition).order_by(SegmentDefinition.id))
    return [_view(row) for row in rows]


def preview_rule(
    uow: UnitOfWork, rule: dict[str, Any], *, as_of: datetime | None = None
) -> SegmentPreview:
    """How many customers a rule selects now, and a few of them (nothing is stored)."""
    uow.require(Permission.ANALYTICS_READ)
    parsed = parse_rule(rule)
    table = service.feature_table(uow, as_of=as_of)
    members = table.customer_id[evaluate(parsed, table)]
    return SegmentPreview(
        member_count=len(members),
        sample_customer_ids=[int(c) for c in members[:PREVIEW_SAMPLE]],
    )


def _store_members(uow: UnitOfWork, row: SegmentDefinition, table: CustomerFeatures) -> None:
    members = table.customer_id[evaluate(parse_rule(row.rule), table)]
    uow.session.execute(delete(SegmentMember).where(SegmentMember.segment_id == row.id))
    insert_rows(
        uow.session,
        SegmentMember.__table__,  # type: ignore[arg-type]
        [{"segment_id": row.id, "customer_id": int(c)} for c in members],
    )
    row.member_count = len(members)
    row.refreshed_at = uow.now()


def refresh_segment(uow: UnitOfWork, segment_id: int) -> SegmentView:
    uow.require(Permission.PROMOTIONS_WRITE)
    row = _get(uow, segment_id)
    _store_members(uow, row, service.feature_table(uow))
    uow.session.flush()
    return _view(row)


def refresh_all(uow: UnitOfWork) -> int:
    """Refresh every segment from one feature table; returns how many were refreshed."""
    uow.require(Permission.PROMOTIONS_WRITE)
    rows = list(uow.session.scalars(select(SegmentDefinition).order_by(SegmentDefinition.id)))
    if not rows:
        return 0
    table = service.feature_table(uow)
    for row in rows:
        _store_members(uow, row, table)
    uow.session.flush()
    return len(rows)


def member_ids(uow: UnitOfWork, segment_id: int) -> list[int]:
    """The stored members (as of the last refresh): what promotions target."""
    uow.require(Permission.ANALYTICS_READ)
    _get(uow, segment_id)
    return _member_ids(uow, segment_id)


def _member_ids(uow: UnitOfWork, segment_id: int) -> list[int]:
    return list(
        uow.session.scalars(
            select(SegmentMember.customer_id)
            .where(SegmentMember.segment_id == segment_id)
            .order_by(SegmentMember.customer_id)
        )
    )


def export_csv(uow: UnitOfWork, segment_id: int) -> str:
    """The stored members with their current features, as CSV (no personal data)."""
    uow.require(Permission.CUSTOMERS_EXPORT)
    row = _get(uow, segment_id)
    ids = np.asarray(_member_ids(uow, segment_id), dtype=np.int64)
    table = service.feature_table(uow)
    uow.audit("segment.exported", "analytics_segment", row.id, after={"members": len(ids)})
    return table.csv_text(np.isin(table.customer_id, ids))
