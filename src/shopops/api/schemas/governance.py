from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    request_id: str | None


class DeliveryRead(BaseModel):
    id: int
    event_id: int
    event_type: str
    aggregate_type: str
    aggregate_id: str
    handler: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    completed_at: datetime | None
    payload: dict[str, Any]
