"""Request-scoped dependencies: who is calling, and what they may do."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import update
from starlette.concurrency import run_in_threadpool

from shopops.auth.models import ApiToken, ConsoleSession
from shopops.auth.permissions import Permission
from shopops.auth.principal import actor_for_token, actor_for_user, session_for_cookie
from shopops.auth.secrets import token_digest
from shopops.bootstrap import Container
from shopops.kernel.errors import PermissionDenied, Unauthenticated
from shopops.kernel.events import Actor
from shopops.uow import UnitOfWork

bearer_scheme = HTTPBearer(auto_error=False, description="API token: `Bearer sot_...`")
cookie_scheme = APIKeyCookie(
    name="shopops_session",
    auto_error=False,
    description="Console session cookie (set by /v1/auth/login)",
)

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass
class RequestContext:
    container: Container
    actor: Actor
    request_id: str
    console_session: ConsoleSession | None = None

    def uow(self) -> UnitOfWork:
        return self.container.uow(self.actor, self.request_id)


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


async def authenticate(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
    cookie: str | None = Depends(cookie_scheme),
) -> RequestContext:
    """Who is calling. A bearer token checked a moment ago is answered from the
    process's token cache (``SHOPOPS_API_TOKEN_CACHE_SECONDS``) without a query and
    without a threadpool hop; everything else reads the database in the threadpool."""
    container = get_container(request)
    request_id = request_id_of(request)
    if bearer is not None:
        now = container.clock.now()
        digest = token_digest(bearer.credentials)
        cached = container.token_cache.get(digest, now)
        if cached is not None:
            return RequestContext(container, cached.actor, request_id)
        actor = await run_in_threadpool(_check_token, container, bearer.credentials, digest, now)
        return RequestContext(container, actor, request_id)
    cookie = request.cookies.get(container.settings.session_cookie_name) or cookie
    if cookie:
        return await run_in_threadpool(_check_cookie, container, request, cookie, request_id)
    raise Unauthenticated("auth.unauthenticated", "sign in or send an API token")


def _check_token(container: Container, secret: str, digest: str, now: datetime) -> Actor:
    with container.session_factory() as session:
        found = actor_for_token(session, secret, now)
        if found is None:
            raise Unauthenticated("auth.invalid_token", "the API token is invalid or revoked")
        actor, token = found
        if token.last_used_at is None or now - token.last_used_at > _TOKEN_TOUCH_INTERVAL:
            session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
            session.commit()
        container.token_cache.put(digest, actor, token.id, token.expires_at)
        return actor


def _check_cookie(
    container: Container, request: Request, cookie: str, request_id: str
) -> RequestContext:
    with container.session_factory() as session:
        found_session = session_for_cookie(session, cookie, container.clock.now())
        if found_session is None:
            raise Unauthenticated("auth.session_expired", "the session has expired; sign in")
        console_session, user = found_session
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None or not secrets.compare_digest(sent, console_session.csrf_token):
                raise PermissionDenied("auth.csrf_failed", f"missing or wrong {CSRF_HEADER} header")
        return RequestContext(container, actor_for_user(user), request_id, console_session)


PermissionCheck = Callable[..., Awaitable[RequestContext]]


def require(*permissions: Permission) -> PermissionCheck:
    """Dependency that authenticates and checks every given permission."""

    # Calls ``authenticate`` itself rather than depending on it: one dependency less to
    # resolve on every request (FastAPI's resolution is a visible share of checkout CPU).
    async def check(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
        cookie: str | None = Depends(cookie_scheme),
    ) -> RequestContext:
        context = await authenticate(request, bearer, cookie)
        for permission in permissions:
            if not context.actor.can(permission):
                raise PermissionDenied(
                    "auth.permission_denied",
                    f"this action needs the '{permission}' permission",
                    details={"permission": str(permission)},
                )
        return context

    check.required_permissions = permissions  # type: ignore[attr-defined]
    return check


def authenticated_only() -> PermissionCheck:
    """For endpoints every signed-in principal may use (e.g. who am I)."""

    async def check(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
        cookie: str | None = Depends(cookie_scheme),
    ) -> RequestContext:
        return await authenticate(request, bearer, cookie)

    check.required_permissions = ()  # type: ignore[attr-defined]
    return check


def public(reason: str) -> Callable[[], None]:
    """Marks an endpoint as deliberately open (health, login)."""

    def mark() -> None:
        return None

    mark.public_reason = reason  # type: ignore[attr-defined]
    return mark
