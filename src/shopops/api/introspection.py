"""Walks the application's endpoints with the permission each one requires."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts


@dataclass(frozen=True)
class EndpointGuard:
    path: str
    method: str
    permissions: tuple[str, ...] | None  # None: no guard found
    public_reason: str | None


def _guards(dependant: Dependant) -> tuple[tuple[str, ...] | None, str | None]:
    """Every permission any guard in the dependency tree requires (None: no guard at all)."""
    permissions: set[str] | None = None
    public_reason: str | None = None
    for sub in dependant.dependencies:
        call: Any = sub.call
        if hasattr(call, "required_permissions"):
            permissions = (permissions or set()) | {str(p) for p in call.required_permissions}
        if hasattr(call, "public_reason"):
            public_reason = public_reason or str(call.public_reason)
        nested_permissions, nested_public = _guards(sub)
        if nested_permissions is not None:
            permissions = (permissions or set()) | set(nested_permissions)
        public_reason = public_reason or nested_public
    return (None if permissions is None else tuple(sorted(permissions))), public_reason


def iter_endpoints(app: FastAPI) -> Iterator[EndpointGuard]:
    """Every application endpoint (FastAPI's own docs routes excluded)."""
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        if dependant is None or context.path is None:
            continue
        permissions, public_reason = _guards(dependant)
        for method in sorted(context.methods or ()):
            yield EndpointGuard(context.path, method, permissions, public_reason)
