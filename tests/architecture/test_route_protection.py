"""Every endpoint declares who may call it: a permission guard, or an explicit public marker.

The walk is over the real application, so routes added later are covered
without touching this file.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from shopops.api.deps import RequestContext, authenticated_only, public, require
from shopops.api.introspection import EndpointGuard, iter_endpoints
from shopops.auth.permissions import Permission
from shopops.bootstrap import Container
from shopops.console.site import create_site as create_app

ALLOWED_PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/payments/notifications/sandbox"),  # authenticated by its HMAC signature
    ("GET", "/console/login"),
    ("POST", "/console/login"),  # cross-site posts refused by origin; throttled like the API's
    ("GET", "/console/language/{locale}"),  # sets a display preference cookie only
}


def protection_problems(app: FastAPI) -> list[str]:
    problems: list[str] = []
    for endpoint in iter_endpoints(app):
        where = f"{endpoint.method} {endpoint.path}"
        if endpoint.public_reason is not None:
            if (endpoint.method, endpoint.path) not in ALLOWED_PUBLIC:
                problems.append(f"{where} is marked public but is not on the public list")
            if endpoint.permissions:
                problems.append(f"{where} is both public and guarded")
        elif endpoint.permissions is None:
            problems.append(f"{where} has neither a permission guard nor a public marker")
    # Routes iter_endpoints cannot see into (plain Starlette routes, mounted apps)
    # would escape the check: only FastAPI's own docs routes and static files may.
    docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    for context in iter_route_contexts(app.routes):
        if getattr(context, "dependant", None) is not None:
            continue
        route = context.original_route
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            continue
        if context.path in docs:
            continue
        problems.append(f"{context.path} ({type(route).__name__}) cannot be checked for a guard")
    return problems


def test_every_endpoint_is_guarded_or_deliberately_public(container: Container) -> None:
    app = create_app(container)
    endpoints = list(iter_endpoints(app))
    # The walk really sees the application (a broken walk must not pass silently).
    seen = {(e.method, e.path) for e in endpoints}
    assert seen >= ALLOWED_PUBLIC
    assert {("GET", "/v1/users"), ("POST", "/v1/outbox/deliveries/{delivery_id}/retry")} <= seen
    assert {("GET", "/console/dashboard"), ("POST", "/console/logout")} <= seen
    assert protection_problems(app) == []


def test_the_public_endpoints_are_exactly_the_allowed_ones(container: Container) -> None:
    public_endpoints = {
        (e.method, e.path) for e in iter_endpoints(create_app(container)) if e.public_reason
    }
    assert public_endpoints == ALLOWED_PUBLIC


def test_known_guards_are_read_correctly(container: Container) -> None:
    guards = {(e.method, e.path): e for e in iter_endpoints(create_app(container))}
    assert guards[("GET", "/v1/audit")].permissions == ("audit.read",)
    assert guards[("POST", "/v1/outbox/deliveries/{delivery_id}/retry")].permissions == (
        "outbox.manage",
    )
    assert guards[("GET", "/v1/auth/me")].permissions == ()  # any signed-in principal
    assert guards[("GET", "/healthz")].public_reason == "liveness probe"


# --- the check itself can fail -----------------------------------------------------------


def _synthetic_app() -> FastAPI:
    app = FastAPI()

    @app.get("/open")
    def open_route() -> None:
        return None

    @app.get("/healthz", dependencies=[Depends(public("probe"))])
    def health() -> None:
        return None

    @app.get("/v1/sneaky", dependencies=[Depends(public("I said so"))])
    def sneaky() -> None:
        return None

    router = APIRouter(prefix="/v1", dependencies=[Depends(require(Permission.AUDIT_READ))])

    @router.get("/guarded-by-router")
    def guarded_by_router() -> None:
        return None

    app.include_router(router)

    @app.get("/v1/me")
    def me(_: RequestContext = Depends(authenticated_only())) -> None:
        return None

    app.mount("/sub", FastAPI())
    return app


def test_the_check_flags_unguarded_and_unlisted_routes() -> None:
    problems = protection_problems(_synthetic_app())
    assert problems == [
        "GET /open has neither a permission guard nor a public marker",
        "GET /v1/sneaky is marked public but is not on the public list",
        "/sub (Mount) cannot be checked for a guard",
    ]


def test_every_guard_of_an_endpoint_is_reported() -> None:
    app = FastAPI()

    @app.post(
        "/v1/two-guards",
        dependencies=[Depends(require(Permission.CATALOG_WRITE))],
    )
    def two_guards(_: RequestContext = Depends(require(Permission.CATALOG_IMPORT))) -> None:
        return None

    (endpoint,) = [e for e in iter_endpoints(app) if e.path == "/v1/two-guards"]
    assert endpoint == EndpointGuard(
        "/v1/two-guards", "POST", ("catalog.import", "catalog.write"), None
    )
