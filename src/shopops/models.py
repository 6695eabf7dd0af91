"""Every mapped class, imported once so ``Base.metadata`` is complete."""

from shopops.audit.models import AuditEntry
from shopops.auth.models import ApiToken, ConsoleSession, LoginAttempt, User
from shopops.db.base import Base
from shopops.db.idempotency import IdempotencyRecord
from shopops.db.outbox import OutboxDelivery, OutboxEvent

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "ConsoleSession",
    "IdempotencyRecord",
    "LoginAttempt",
    "OutboxDelivery",
    "OutboxEvent",
    "User",
]
