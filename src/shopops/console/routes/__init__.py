"""Console pages and actions, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from shopops.console.routes import dashboard, session

ROUTERS: list[APIRouter] = [session.router, dashboard.router]
