"""The whole web application: the REST API under /v1 and the console under /console."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from shopops.api.app import create_app
from shopops.api.errors import status_for
from shopops.bootstrap import Container
from shopops.console.errors import error_text
from shopops.console.guards import LoginRequired, use_locale
from shopops.console.routes import ROUTERS
from shopops.console.templating import is_htmx, render
from shopops.kernel.errors import DomainError

CONSOLE_PREFIX = "/console"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_site(container: Container | None = None) -> FastAPI:
    app = create_app(container)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.mount(f"{CONSOLE_PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    for router in ROUTERS:
        app.include_router(router, prefix=CONSOLE_PREFIX)
    _install_console_errors(app)
    return app


def _in_console(request: Request) -> bool:
    return request.url.path.startswith(CONSOLE_PREFIX)


def _install_console_errors(app: FastAPI) -> None:
    api_handler: Any = app.exception_handlers[DomainError]

    async def login_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequired)
        target = f"{CONSOLE_PREFIX}/login?next={quote(request.url.path)}"
        if error.expired:
            target += "&expired=1"
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def domain_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, DomainError)
        if not _in_console(request):
            response: Response = await api_handler(request, error)
            return response
        use_locale(request)
        status = status_for(error)
        return render(
            request,
            "error_fragment.html" if is_htmx(request) else "error.html",
            status_code=status,
            status=status,
            code=error.code,
            message=error_text(error.code, error.message),
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
            if is_htmx(request)
            else None,
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(DomainError, domain_error)
