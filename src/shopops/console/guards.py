"""Who is using the console, and what they may do — checked on every request.

Pages and actions declare their permissions with ``staff(...)``; the same
marker the API uses (``required_permissions``) lets the route-protection and
permission-matrix tests walk console endpoints too. Unsafe requests must carry
the session's CSRF token, as the ``X-CSRF-Token`` header (htmx sends it on
every request) or as a ``csrf_token`` form field (plain form posts).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from shopops.api.deps import CSRF_HEADER, request_id_of
from shopops.auth.models import ConsoleSession, User
from shopops.auth.permissions import Permission
from shopops.auth.principal import actor_for_user, session_for_cookie
from shopops.bootstrap import Container
from shopops.console.i18n import LANGUAGE_COOKIE, current_locale, negotiate
from shopops.kernel.errors import PermissionDenied
from shopops.kernel.events import Actor
from shopops.uow import UnitOfWork

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: the console sends the browser to the sign-in page."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("sign in to use the console")
        self.expired = expired


@dataclass
class Staff:
    """The signed-in staff member behind one console request."""

    container: Container
    actor: Actor
    user: User
    session: ConsoleSession
    request_id: str

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    def can(self, permission: Permission | str) -> bool:
        return self.actor.can(permission)

    def uow(self) -> UnitOfWork:
        return self.container.uow(self.actor, self.request_id)


def use_locale(request: Request) -> str:
    locale = negotiate(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))
    current_locale.set(locale)
    request.state.locale = locale
    return locale


async def _csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    return sent is not None and secrets.compare_digest(sent, expected)


StaffCheck = Callable[[Request], Coroutine[Any, Any, Staff]]


def staff(*permissions: Permission) -> StaffCheck:
    """Dependency: a signed-in staff member holding every given permission."""

    async def check(request: Request) -> Staff:
        use_locale(request)
        container: Container = request.app.state.container
        cookie = request.cookies.get(container.settings.session_cookie_name)
        if not cookie:
            raise LoginRequired(expired=False)
        with container.session_factory() as session:
            found = session_for_cookie(session, cookie, container.clock.now())
            if found is None:
                raise LoginRequired(expired=True)
            console_session, user = found
            session.expunge_all()
        if request.method not in _SAFE_METHODS and not await _csrf_ok(
            request, console_session.csrf_token
        ):
            raise PermissionDenied("auth.csrf_failed", "the form is out of date; reload the page")
        actor = actor_for_user(user)
        for permission in permissions:
            if not actor.can(permission):
                raise PermissionDenied(
                    "auth.permission_denied",
                    f"this needs the '{permission}' permission",
                    details={"permission": str(permission)},
                )
        current = Staff(container, actor, user, console_session, request_id_of(request))
        request.state.staff = current
        return current

    check.required_permissions = permissions  # type: ignore[attr-defined]
    return check
