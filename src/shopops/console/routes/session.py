"""Sign in, sign out, and the interface language."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from shopops.api.deps import get_container, public, request_id_of
from shopops.console.errors import error_text
from shopops.console.guards import Staff, staff, use_locale
from shopops.console.i18n import LANGUAGE_COOKIE, LOCALES
from shopops.console.templating import NAVIGATION, render
from shopops.contexts import access
from shopops.kernel.errors import PermissionDenied, RateLimited
from shopops.kernel.events import Actor

router = APIRouter(include_in_schema=False)
HOME = "/console"


def _safe_next(target: str | None) -> str:
    """Only console paths on this site: never an open redirect."""
    if not target or not target.startswith("/console") or target.startswith("//"):
        return HOME
    return target


def _same_origin(request: Request) -> bool:
    """Login has no session yet to hold a CSRF token: refuse cross-site form posts instead."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return True
    return urlparse(origin).netloc == request.headers.get("host")


@router.get("/login", dependencies=[Depends(public("the sign-in page"))])
def login_page(request: Request, next: str | None = None, expired: int = 0) -> Response:
    use_locale(request)
    return render(request, "login.html", next=_safe_next(next), expired=bool(expired), error=None)


@router.post("/login", dependencies=[Depends(public("signing in needs no credentials"))])
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form(HOME),
) -> Response:
    use_locale(request)
    container = get_container(request)
    settings = container.settings
    target = _safe_next(next)
    if not _same_origin(request):
        raise PermissionDenied("auth.csrf_failed", "cross-site sign-in refused")
    client = request.client.host if request.client else "unknown"
    anonymous = Actor("anonymous", None, email.strip().lower())
    try:
        with container.uow(anonymous, request_id_of(request)) as uow:
            try:
                signed_in = access.sign_in(
                    uow,
                    access.SignIn(email, password, client),
                    ttl=timedelta(minutes=settings.session_ttl_minutes),
                    max_failures=settings.login_max_failures,
                    window=timedelta(seconds=settings.login_window_seconds),
                )
            except access.SignInFailed:
                uow.commit()  # the failed attempt throttles the next one
                raise
            uow.commit()
    except (access.SignInFailed, RateLimited) as failure:
        return render(
            request,
            "login.html",
            status_code=429 if isinstance(failure, RateLimited) else 401,
            next=target,
            expired=False,
            error=error_text(failure.code, failure.message),
            email=email,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        settings.session_cookie_name,
        signed_in.cookie_value,
        max_age=settings.session_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.env == "production",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, current: Staff = Depends(staff())) -> Response:
    with current.uow() as uow:
        access.sign_out(uow, current.session.id)
        uow.commit()
    response = RedirectResponse(f"{HOME}/login", status_code=303)
    response.delete_cookie(current.container.settings.session_cookie_name, path="/")
    return response


@router.get("/language/{locale}", dependencies=[Depends(public("a display preference"))])
def choose_language(locale: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LANGUAGE_COOKIE, locale, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("")
def home(request: Request, current: Staff = Depends(staff())) -> Response:
    """The first page the staff member may see (the dashboard for most roles)."""
    for item in NAVIGATION:
        if item.permission is None or current.can(item.permission):
            return RedirectResponse(item.path, status_code=303)
    raise PermissionDenied("auth.permission_denied", "no console page is open to this role")
