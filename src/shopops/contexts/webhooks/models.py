"""Subscriptions, the messages owed to them, and the log of every delivery attempt.

Signing secrets are stored sealed with the PII key (they must be readable to sign,
so they cannot be hashed); response excerpts are sealed too, since a receiver may
echo personal data. A message's body is stored once, so each retry sends the same
bytes under the same ``webhook-id``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.contexts.webhooks.rules import AttemptOutcome, MessageStatus, subscribes_to
from shopops.db.base import Base, IdMixin
from shopops.db.types import BigIntId


class WebhookSubscription(IdMixin, Base):
    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def wants(self, event_type: str) -> bool:
        return self.is_active and subscribes_to(self.event_types, event_type)


class WebhookMessage(IdMixin, Base):
    """One event owed to one subscription; ``attempts`` counts the current retry cycle."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_messages_ready", "status", "next_attempt_at"),
    )

    subscription_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # None for test messages
    webhook_id: Mapped[str] = mapped_column(String(100), unique=True)
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    total_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookAttempt(IdMixin, Base):
    """The delivery log: one row per HTTP attempt, written when it starts and when it ends."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("message_id", "number"),)

    message_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    outcome: Mapped[str] = mapped_column(String(16), default=AttemptOutcome.IN_FLIGHT)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_excerpt_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
