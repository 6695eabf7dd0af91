"""Console pages and actions, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from shopops.console.routes import (
    admin,
    catalog,
    customers,
    dashboard,
    finance,
    inventory,
    orders,
    promotions,
    session,
    shipping,
)

ROUTERS: list[APIRouter] = [
    session.router,
    dashboard.router,
    orders.router,
    inventory.router,
    catalog.router,
    customers.router,
    promotions.router,
    finance.router,
    shipping.router,
    admin.router,
]
