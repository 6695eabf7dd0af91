from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.audit.models import AuditEntry
from shopops.kernel.events import Actor, jsonable


def diff_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``{field: {"before": x, "after": y}}`` for the fields that changed."""
    before = before or {}
    after = after or {}
    changed: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(name)), jsonable(after.get(name))
        if old != new:
            changed[name] = {"before": old, "after": new}
    return changed


def entry_row(
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    request_id: str | None,
    occurred_at: datetime,
) -> dict[str, Any]:
    """One audit row, ready for a bulk insert at commit."""
    return {
        "occurred_at": occurred_at,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "changes": diff_fields(before, after),
        "request_id": request_id,
    }


@dataclass(frozen=True)
class AuditQuery:
    entity_type: str | None = None
    entity_id: str | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


def list_entries(session: Session, query: AuditQuery) -> Sequence[AuditEntry]:
    """Newest first; ``before_id`` is the keyset cursor."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(query.limit)
    if query.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == query.entity_type)
    if query.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == query.entity_id)
    if query.actor_kind:
        stmt = stmt.where(AuditEntry.actor_kind == query.actor_kind)
    if query.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == query.actor_id)
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.since:
        stmt = stmt.where(AuditEntry.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEntry.occurred_at < query.until)
    if query.before_id is not None:
        stmt = stmt.where(AuditEntry.id < query.before_id)
    return session.scalars(stmt).all()
