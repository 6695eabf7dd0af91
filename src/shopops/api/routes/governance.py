"""Audit trail and the outbox's dead letters."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, after_id, encode_cursor
from shopops.api.schemas.governance import AuditEntryRead, DeliveryRead
from shopops.audit import AuditQuery, list_entries
from shopops.auth.permissions import Permission
from shopops.db.outbox import DeliveryStatus, OutboxDelivery, OutboxEvent
from shopops.kernel.errors import ValidationFailed
from shopops.relay import list_deliveries, retry_dead_letter

router = APIRouter(tags=["governance"])


@router.get("/audit", response_model=Page[AuditEntryRead])
def query_audit(
    entity_type: str | None = Query(None, examples=["product"]),
    entity_id: str | None = None,
    actor_kind: str | None = Query(None, pattern="^(user|token|system|anonymous)$"),
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = Query(None, description="Inclusive, ISO 8601 with offset"),
    until: datetime | None = Query(None, description="Exclusive, ISO 8601 with offset"),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = Depends(require(Permission.AUDIT_READ)),
) -> Page[AuditEntryRead]:
    """Audit entries, newest first, filtered by entity, actor, action and time range."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(
                "validation.naive_datetime",
                f"{name} needs a time zone offset, e.g. 2026-01-01T00:00:00Z",
            )
    if since and until and since >= until:
        raise ValidationFailed("validation.reversed_range", "since must be before until")
    before = after_id(cursor)
    with context.container.session_factory() as session:
        rows = list(
            list_entries(
                session,
                AuditQuery(
                    entity_type,
                    entity_id,
                    actor_kind,
                    actor_id,
                    action,
                    since,
                    until,
                    before,
                    limit + 1,
                ),
            )
        )
        items = [AuditEntryRead.model_validate(r) for r in rows[:limit]]
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _delivery_read(delivery: OutboxDelivery, event: OutboxEvent) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        event_id=event.id,
        event_type=event.event_type,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        handler=delivery.handler,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        completed_at=delivery.completed_at,
        payload=event.payload,
    )


@router.get("/outbox/deliveries", response_model=Page[DeliveryRead])
def query_deliveries(
    status: DeliveryStatus | None = Query(None, examples=["dead"]),
    handler: str | None = None,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = Depends(require(Permission.OUTBOX_READ)),
) -> Page[DeliveryRead]:
    """Outbox deliveries; `status=dead` lists the dead letters."""
    with context.container.session_factory() as session:
        rows = list_deliveries(
            session, status=status, handler=handler, after_id=after_id(cursor), limit=limit + 1
        )
        items = [_delivery_read(d, e) for d, e in rows[:limit]]
    next_cursor = encode_cursor({"id": rows[limit - 1][0].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.post("/outbox/deliveries/{delivery_id}/retry", response_model=DeliveryRead)
def retry_delivery(
    delivery_id: int,
    context: RequestContext = Depends(require(Permission.OUTBOX_MANAGE)),
) -> DeliveryRead:
    """Re-queue a dead-lettered delivery with a fresh attempt budget."""
    with context.uow() as uow:
        delivery = retry_dead_letter(uow, delivery_id)
        uow.commit()
    with context.container.session_factory() as session:
        row = session.get(OutboxDelivery, delivery.id)
        event = session.get(OutboxEvent, delivery.event_id)
        assert row is not None
        assert event is not None
        return _delivery_read(row, event)
