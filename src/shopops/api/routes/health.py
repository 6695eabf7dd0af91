from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shopops import __version__
from shopops.api.deps import get_container, public

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[Depends(public("liveness probe"))])
def healthz() -> dict[str, str]:
    """Liveness: the process is up."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", dependencies=[Depends(public("readiness probe"))])
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers."""
    container = get_container(request)
    try:
        with container.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})
