"""Every mapped class, imported once so ``Base.metadata`` is complete."""

from shopops.analytics import tracking_models as analytics_tracking_models
from shopops.analytics.customers import models as customer_analytics_models
from shopops.audit.models import AuditEntry
from shopops.auth.models import ApiToken, ConsoleSession, LoginAttempt, User

# Context models register themselves on Base.metadata when their module is imported.
from shopops.contexts.catalog import models as catalog_models
from shopops.contexts.customers import models as customers_models
from shopops.contexts.fulfilment import models as fulfilment_models
from shopops.contexts.group_buying import models as group_buying_models
from shopops.contexts.inventory import models as inventory_models
from shopops.contexts.loyalty import models as loyalty_models
from shopops.contexts.orders import models as orders_models
from shopops.contexts.payments import models as payments_models
from shopops.contexts.presales import models as presales_models
from shopops.contexts.promotions import models as promotions_models
from shopops.contexts.returns import models as returns_models
from shopops.contexts.shipping import models as shipping_models
from shopops.contexts.webhooks import models as webhooks_models
from shopops.db.base import Base
from shopops.db.idempotency import IdempotencyRecord
from shopops.db.jobs import ScheduledJob
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
    "ScheduledJob",
    "User",
    "analytics_tracking_models",
    "catalog_models",
    "customer_analytics_models",
    "customers_models",
    "fulfilment_models",
    "group_buying_models",
    "inventory_models",
    "loyalty_models",
    "orders_models",
    "payments_models",
    "presales_models",
    "promotions_models",
    "returns_models",
    "shipping_models",
    "webhooks_models",
]
