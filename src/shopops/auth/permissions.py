"""The one list of permissions and the roles built from them."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    CATALOG_IMPORT = "catalog.import"
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    CUSTOMERS_PII_READ = "customers.pii.read"
    CUSTOMERS_EXPORT = "customers.export"
    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    ORDERS_READ = "orders.read"
    ORDERS_WRITE = "orders.write"
    PAYMENTS_READ = "payments.read"
    PAYMENTS_REFUND = "payments.refund"
    FULFILMENT_WRITE = "fulfilment.write"
    RETURNS_MANAGE = "returns.manage"
    PROMOTIONS_READ = "promotions.read"
    PROMOTIONS_WRITE = "promotions.write"
    LOYALTY_MANAGE = "loyalty.manage"
    ANALYTICS_READ = "analytics.read"
    EVENTS_WRITE = "events.write"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    TOKENS_MANAGE = "tokens.manage"
    OUTBOX_READ = "outbox.read"
    OUTBOX_MANAGE = "outbox.manage"
    WEBHOOKS_MANAGE = "webhooks.manage"
    SHIPPING_READ = "shipping.read"
    SHIPPING_MANAGE = "shipping.manage"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    OPS_MANAGER = "ops_manager"
    ANALYST = "analyst"
    CS_AGENT = "cs_agent"
    WAREHOUSE = "warehouse"
    MARKETING = "marketing"
    FINANCE = "finance"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission),
    Role.OPS_MANAGER: frozenset(
        {
            P.CATALOG_READ,
            P.CATALOG_WRITE,
            P.CATALOG_IMPORT,
            P.CUSTOMERS_READ,
            P.CUSTOMERS_WRITE,
            P.INVENTORY_READ,
            P.INVENTORY_WRITE,
            P.ORDERS_READ,
            P.ORDERS_WRITE,
            P.PAYMENTS_READ,
            P.FULFILMENT_WRITE,
            P.RETURNS_MANAGE,
            P.PROMOTIONS_READ,
            P.ANALYTICS_READ,
            P.AUDIT_READ,
            P.OUTBOX_READ,
            P.OUTBOX_MANAGE,
            P.WEBHOOKS_MANAGE,
            P.SHIPPING_READ,
            P.SHIPPING_MANAGE,
        }
    ),
    Role.ANALYST: frozenset(
        {
            P.CATALOG_READ,
            P.CUSTOMERS_READ,
            P.CUSTOMERS_EXPORT,
            P.INVENTORY_READ,
            P.ORDERS_READ,
            P.PAYMENTS_READ,
            P.PROMOTIONS_READ,
            P.ANALYTICS_READ,
            P.SHIPPING_READ,
        }
    ),
    Role.CS_AGENT: frozenset(
        {
            P.CATALOG_READ,
            P.CUSTOMERS_READ,
            P.CUSTOMERS_WRITE,
            P.CUSTOMERS_PII_READ,
            P.INVENTORY_READ,
            P.ORDERS_READ,
            P.ORDERS_WRITE,
            P.PAYMENTS_READ,
            P.RETURNS_MANAGE,
            P.SHIPPING_READ,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {
            P.CATALOG_READ,
            P.INVENTORY_READ,
            P.INVENTORY_WRITE,
            P.ORDERS_READ,
            P.FULFILMENT_WRITE,
            P.RETURNS_MANAGE,
            P.SHIPPING_READ,
        }
    ),
    Role.MARKETING: frozenset(
        {
            P.CATALOG_READ,
            P.CUSTOMERS_READ,
            P.CUSTOMERS_EXPORT,
            P.PROMOTIONS_READ,
            P.PROMOTIONS_WRITE,
            P.LOYALTY_MANAGE,
            P.ANALYTICS_READ,
            P.SHIPPING_READ,
        }
    ),
    Role.FINANCE: frozenset(
        {
            P.CATALOG_READ,
            P.CUSTOMERS_READ,
            P.ORDERS_READ,
            P.PAYMENTS_READ,
            P.PAYMENTS_REFUND,
            P.ANALYTICS_READ,
            P.AUDIT_READ,
            P.SHIPPING_READ,
        }
    ),
}


def permissions_for(role: Role | str) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[Role(role)]
