"""Logging with the request id on every line."""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and access_log_switched_off(logger):
            # ``--no-access-log``: uvicorn has switched the access logger off before it
            # imports the app (in each worker process too); importing the app runs this
            # function again, which must not switch it back on.
            continue
        logger.handlers = []
        logger.propagate = True


def access_log_switched_off(logger: logging.Logger) -> bool:
    """What uvicorn does for ``access_log=False``: no handlers and no propagation."""
    return not logger.handlers and not logger.propagate
