"""Logging setup: one handler on the root logger, and uvicorn's access log only when asked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shopops.kernel.logs import configure_logging

NAMES = ("", "uvicorn", "uvicorn.access", "uvicorn.error")


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    saved = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in NAMES
    }
    level = logging.getLogger().level
    yield
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers = handlers
        logger.propagate = propagate
    logging.getLogger().setLevel(level)


def test_uvicorn_loggers_go_through_the_root_handler() -> None:
    access = logging.getLogger("uvicorn.access")
    access.handlers = [logging.NullHandler()]  # uvicorn's own configuration
    access.propagate = False
    configure_logging()
    assert (access.handlers, access.propagate) == ([], True)
    assert access.hasHandlers()


def test_an_access_log_switched_off_by_uvicorn_stays_off() -> None:
    """``shopops serve --no-access-log``: uvicorn switches the access logger off, then
    imports the app, whose module configures logging again."""
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    configure_logging()
    assert not access.hasHandlers()  # what uvicorn checks before logging a request
    assert logging.getLogger("uvicorn.error").propagate
