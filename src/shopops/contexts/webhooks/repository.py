"""Every query of the webhooks context, including the dispatcher's leasing queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shopops.contexts.webhooks.commands import ListMessages
from shopops.contexts.webhooks.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from shopops.contexts.webhooks.rules import AttemptOutcome, MessageStatus


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription | None:
    return session.get(WebhookSubscription, subscription_id)


def get_subscription_for_update(
    session: Session, subscription_id: int
) -> WebhookSubscription | None:
    return session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .with_for_update()
    ).one_or_none()


def list_subscriptions(
    session: Session, *, after_id: int | None, limit: int
) -> Sequence[WebhookSubscription]:
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(WebhookSubscription.id > after_id)
    return session.scalars(stmt).all()


def list_active_subscriptions(session: Session) -> Sequence[WebhookSubscription]:
    return session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.is_active.is_(True))
        .order_by(WebhookSubscription.id)
    ).all()


def subscription_ids_with_event(session: Session, event_id: int) -> set[int]:
    return set(
        session.scalars(
            select(WebhookMessage.subscription_id).where(WebhookMessage.event_id == event_id)
        )
    )


def get_message(session: Session, message_id: int) -> WebhookMessage | None:
    return session.get(WebhookMessage, message_id)


def get_message_for_update(session: Session, message_id: int) -> WebhookMessage | None:
    return session.scalars(
        select(WebhookMessage).where(WebhookMessage.id == message_id).with_for_update()
    ).one_or_none()


def list_messages(session: Session, query: ListMessages) -> Sequence[WebhookMessage]:
    """Newest first; ``query.limit`` rows from before ``query.before_id``."""
    stmt = select(WebhookMessage).order_by(WebhookMessage.id.desc()).limit(query.limit)
    if query.before_id is not None:
        stmt = stmt.where(WebhookMessage.id < query.before_id)
    if query.subscription_id is not None:
        stmt = stmt.where(WebhookMessage.subscription_id == query.subscription_id)
    if query.status is not None:
        stmt = stmt.where(WebhookMessage.status == query.status)
    if query.event_type is not None:
        stmt = stmt.where(WebhookMessage.event_type == query.event_type)
    return session.scalars(stmt).all()


def list_attempts(session: Session, message_id: int) -> Sequence[WebhookAttempt]:
    return session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.message_id == message_id)
        .order_by(WebhookAttempt.number)
    ).all()


# ---- the dispatcher's queries ----


def _unleased(now: datetime) -> Any:
    return or_(WebhookMessage.lease_expires_at.is_(None), WebhookMessage.lease_expires_at < now)


def lease_ready_messages(
    session: Session, *, now: datetime, limit: int, owner: str, lease_until: datetime
) -> list[int]:
    """Lease up to ``limit`` due messages of active subscriptions; returns their ids.

    PostgreSQL skips rows other workers hold (``FOR UPDATE SKIP LOCKED``); SQLite
    transactions here begin IMMEDIATE and so run one at a time. Either way the
    conditional UPDATE only takes rows that are still pending and unleased.
    """
    stmt = (
        select(WebhookMessage.id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookMessage.subscription_id)
        .where(
            WebhookMessage.status == MessageStatus.PENDING,
            WebhookMessage.next_attempt_at <= now,
            _unleased(now),
            WebhookSubscription.is_active.is_(True),
        )
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=WebhookMessage, skip_locked=True)
    candidates = list(session.scalars(stmt))
    if not candidates:
        return []
    leased = session.scalars(
        update(WebhookMessage)
        .where(
            WebhookMessage.id.in_(candidates),
            WebhookMessage.status == MessageStatus.PENDING,
            _unleased(now),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=lease_until,
            attempts=WebhookMessage.attempts + 1,
            total_attempts=WebhookMessage.total_attempts + 1,
        )
        .returning(WebhookMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(leased)


def load_leased(
    session: Session, message_ids: Sequence[int]
) -> list[tuple[WebhookMessage, WebhookSubscription]]:
    rows = session.execute(
        select(WebhookMessage, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookMessage.subscription_id)
        .where(WebhookMessage.id.in_(message_ids))
        .order_by(WebhookMessage.id)
    )
    return [(message, subscription) for message, subscription in rows]


def abandon_unfinished_attempts(session: Session, message_ids: Sequence[int]) -> int:
    """Attempts still "in flight" on a message whose lease we now hold lost their worker."""
    result = session.execute(
        update(WebhookAttempt)
        .where(
            WebhookAttempt.message_id.in_(message_ids),
            WebhookAttempt.outcome == AttemptOutcome.IN_FLIGHT,
        )
        .values(
            outcome=AttemptOutcome.ABANDONED,
            error="the worker stopped before recording a result; its lease expired",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def finish_attempt(session: Session, attempt_id: int, **values: Any) -> None:
    session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.id == attempt_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def settle_message(session: Session, message_id: int, owner: str, **values: Any) -> bool:
    """Record an outcome on a message only while ``owner`` still holds its lease."""
    result = session.execute(
        update(WebhookMessage)
        .where(
            WebhookMessage.id == message_id,
            WebhookMessage.lease_owner == owner,
            WebhookMessage.status == MessageStatus.PENDING,
        )
        .values(lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
