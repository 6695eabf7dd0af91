"""What the admin pages show: webhooks and their delivery log, the audit trail, staff users
and roles, and the outbox's dead letters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shopops.audit import AuditEntry
from shopops.auth.models import ApiToken, User
from shopops.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from shopops.console.i18n import N_
from shopops.contexts import access, webhooks
from shopops.contexts.webhooks.models import WebhookAttempt, WebhookMessage
from shopops.contexts.webhooks.views import attempt_view
from shopops.db.outbox import DeliveryStatus, OutboxDelivery, OutboxEvent
from shopops.relay import list_deliveries
from shopops.uow import UnitOfWork

PAGE_SIZE = 25

# --- webhooks ---------------------------------------------------------------------------

MESSAGE_STATUSES: dict[str, str] = {
    webhooks.MessageStatus.PENDING: N_("Pending"),
    webhooks.MessageStatus.DELIVERED: N_("Delivered"),
    webhooks.MessageStatus.FAILED: N_("Failed"),
}
ATTEMPT_OUTCOMES: dict[str, str] = {
    webhooks.AttemptOutcome.IN_FLIGHT: N_("Sending"),
    webhooks.AttemptOutcome.SUCCEEDED: N_("Succeeded"),
    webhooks.AttemptOutcome.FAILED: N_("Failed"),
    webhooks.AttemptOutcome.ABANDONED: N_("Abandoned"),
}
TONE: dict[str, str] = {
    "delivered": "good",
    "succeeded": "good",
    "pending": "warn",
    "in_flight": "warn",
    "failed": "bad",
    "abandoned": "bad",
    "dead": "bad",
}


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: webhooks.SubscriptionView
    failed: int
    pending: int
    delivered: int


@dataclass(frozen=True)
class WebhooksView:
    rows: list[SubscriptionRow]
    after: int | None  # this page starts after this id
    next_after: int | None
    event_types: tuple[str, ...]


def read_webhooks(uow: UnitOfWork, *, after: int | None) -> WebhooksView:
    page = webhooks.list_subscriptions(uow, after_id=after, limit=PAGE_SIZE)
    ids = [s.id for s in page.items]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        found = uow.session.execute(
            select(WebhookMessage.subscription_id, WebhookMessage.status, func.count())
            .where(WebhookMessage.subscription_id.in_(ids))
            .group_by(WebhookMessage.subscription_id, WebhookMessage.status)
        ).all()
        counts = {(sid, status): int(n) for sid, status, n in found}
    rows = [
        SubscriptionRow(
            s,
            counts.get((s.id, webhooks.MessageStatus.FAILED), 0),
            counts.get((s.id, webhooks.MessageStatus.PENDING), 0),
            counts.get((s.id, webhooks.MessageStatus.DELIVERED), 0),
        )
        for s in page.items
    ]
    return WebhooksView(rows, after, page.next_after_id, webhooks.EVENT_TYPES)


@dataclass(frozen=True)
class DeliveryRow:
    message: webhooks.MessageView
    attempts: list[webhooks.AttemptView]


@dataclass(frozen=True)
class DeliveryLog:
    subscription: webhooks.SubscriptionView
    rows: list[DeliveryRow]
    status: str
    before: int | None
    older: int | None  # pass as ``before`` for the next page


def read_delivery_log(
    uow: UnitOfWork, subscription_id: int, *, status: str | None, before: int | None
) -> DeliveryLog:
    """The subscription's messages, newest first, each with every attempt (oldest first)."""
    subscription = webhooks.get_subscription(uow, subscription_id)
    page = webhooks.list_messages(
        uow,
        webhooks.ListMessages(
            subscription_id=subscription_id, status=status, before_id=before, limit=PAGE_SIZE
        ),
    )
    ids = [m.id for m in page.items]
    attempts: dict[int, list[webhooks.AttemptView]] = {i: [] for i in ids}
    if ids:
        for row in uow.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.message_id.in_(ids))
            .order_by(WebhookAttempt.message_id, WebhookAttempt.number)
        ):
            attempts[row.message_id].append(attempt_view(row, uow.pii))
    return DeliveryLog(
        subscription,
        [DeliveryRow(m, attempts[m.id]) for m in page.items],
        status or "",
        before,
        page.next_before_id,
    )


# --- audit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    first: date | None = None
    last: date | None = None
    before: int | None = None


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    changes: list[Change]


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    older: int | None
    entity_types: list[str]


MISSING = "\u2013"


def readable(value: Any) -> str:
    """An audited value as a person reads it: text as is, lists joined, the rest as JSON."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value) if value else "[]"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(raw: dict[str, Any]) -> list[Change]:
    found = []
    for name in sorted(raw):
        change = raw[name]
        if isinstance(change, dict) and set(change) <= {"before", "after"}:
            found.append(
                Change(name, readable(change.get("before")), readable(change.get("after")))
            )
        else:
            found.append(Change(name, MISSING, readable(change)))
    return found


def local_day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(timezone))


def read_audit(session: Session, query: AuditFilter, *, timezone: str) -> AuditPage:
    """Entries newest first; ``first``..``last`` are business days (both included)."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)
    if query.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == query.entity_type)
    if query.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == query.entity_id)
    if query.actor:
        if query.actor == "system":
            stmt = stmt.where(AuditEntry.actor_kind == "system")
        else:  # a staff member's e-mail: their own actions and those of their API tokens
            stmt = stmt.where(
                or_(
                    AuditEntry.actor_name == query.actor,
                    AuditEntry.actor_name.startswith(query.actor + "/", autoescape=True),
                )
            )
    if query.first:
        stmt = stmt.where(AuditEntry.occurred_at >= local_day_start(query.first, timezone))
    if query.last:
        end = local_day_start(query.last + timedelta(days=1), timezone)
        stmt = stmt.where(AuditEntry.occurred_at < end)
    if query.before is not None:
        stmt = stmt.where(AuditEntry.id < query.before)
    found = list(session.scalars(stmt))
    rows = [AuditRow(e, _changes(e.changes or {})) for e in found[:PAGE_SIZE]]
    older = rows[-1].entry.id if len(found) > PAGE_SIZE else None
    types = list(
        session.scalars(
            select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type).limit(200)
        )
    )
    return AuditPage(rows, older, types)


# --- users, roles, tokens ---------------------------------------------------------------

ROLE_LABELS: dict[str, str] = {
    Role.OWNER: N_("Owner"),
    Role.ADMIN: N_("Administrator"),
    Role.OPS_MANAGER: N_("Operations manager"),
    Role.ANALYST: N_("Analyst"),
    Role.CS_AGENT: N_("Customer service"),
    Role.WAREHOUSE: N_("Warehouse"),
    Role.MARKETING: N_("Marketing"),
    Role.FINANCE: N_("Finance"),
}


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    full_name: str
    role: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    owner: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class UsersView:
    users: list[UserRow]
    after: int | None
    next_after: int | None
    roles: list[str]
    permissions: list[str]
    grants: dict[str, frozenset[str]]
    tokens: list[TokenRow] | None  # None: the viewer may not manage tokens


def _user_row(user: User) -> UserRow:
    return UserRow(
        user.id,
        user.email,
        user.full_name,
        user.role,
        user.is_active,
        user.last_login_at,
        user.created_at,
    )


def read_tokens(uow: UnitOfWork) -> list[TokenRow]:
    tokens: list[ApiToken] = list(access.list_tokens(uow))
    owner_ids = sorted({t.user_id for t in tokens})
    owners: dict[int, str] = {}
    if owner_ids:
        emails = uow.session.execute(select(User.id, User.email).where(User.id.in_(owner_ids)))
        owners = {row.id: row.email for row in emails}
    return [
        TokenRow(
            t.id,
            t.name,
            t.prefix,
            owners.get(t.user_id, str(t.user_id)),
            list(t.scopes),
            t.created_at,
            t.expires_at,
            t.revoked_at,
            t.last_used_at,
        )
        for t in reversed(tokens)  # newest first
    ]


def read_users(uow: UnitOfWork, *, after: int | None, with_tokens: bool) -> UsersView:
    found = list(access.list_users(uow, after_id=after, limit=PAGE_SIZE + 1))
    users = [_user_row(u) for u in found[:PAGE_SIZE]]
    next_after = users[-1].id if len(found) > PAGE_SIZE else None
    return UsersView(
        users=users,
        after=after,
        next_after=next_after,
        roles=[r.value for r in Role],
        permissions=[p.value for p in Permission],
        grants={r.value: frozenset(p.value for p in ROLE_PERMISSIONS[r]) for r in Role},
        tokens=read_tokens(uow) if with_tokens else None,
    )


# --- dead letters -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    id: int
    event_id: int
    event_type: str
    aggregate: str
    handler: str
    attempts: int
    last_error: str | None
    occurred_at: datetime
    failed_at: datetime


@dataclass(frozen=True)
class DeadLettersView:
    rows: list[DeadLetter]
    after: int | None
    next_after: int | None


def read_dead_letters(session: Session, *, after: int | None) -> DeadLettersView:
    """Dead-lettered deliveries, oldest first (the order the relay gave up on them)."""
    found = list_deliveries(
        session, status=DeliveryStatus.DEAD, after_id=after, limit=PAGE_SIZE + 1
    )
    rows = [_dead_letter(d, e) for d, e in found[:PAGE_SIZE]]
    next_after = rows[-1].id if len(found) > PAGE_SIZE else None
    return DeadLettersView(rows, after, next_after)


def _dead_letter(delivery: OutboxDelivery, event: OutboxEvent) -> DeadLetter:
    return DeadLetter(
        id=delivery.id,
        event_id=event.id,
        event_type=event.event_type,
        aggregate=f"{event.aggregate_type} {event.aggregate_id}",
        handler=delivery.handler,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        occurred_at=event.occurred_at,
        # a dead letter's last attempt scheduled its (never taken) next one
        failed_at=delivery.next_attempt_at,
    )
