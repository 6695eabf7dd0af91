from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin
from shopops.kernel.time import utc_now


class AuditEntry(IdMixin, Base):
    """One change: who did what to which entity, with before/after of changed fields."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_actor", "actor_kind", "actor_id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(64))
