"""What every command shares: the container, the acting principal, output helpers."""

from __future__ import annotations

import csv
import getpass
import io
import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from shopops.auth.models import User
from shopops.auth.principal import actor_for_user
from shopops.bootstrap import Container, build
from shopops.kernel.errors import NotFound
from shopops.kernel.events import Actor
from shopops.uow import UnitOfWork

console = Console()
error_console = Console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class CliState:
    """Built lazily so `shopops --help` needs no database."""

    def __init__(self) -> None:
        self._container: Container | None = None
        self._owned = False
        self.acting_as: str | None = None

    @property
    def container(self) -> Container:
        if self._container is None:
            self._container = build()
            self._owned = True
        return self._container

    def use(self, container: Container) -> None:
        self._container = container
        self._owned = False

    def close(self) -> None:
        """Dispose the container this CLI built (not one handed in with ``use``)."""
        if self._container is not None and self._owned:
            self._container.dispose()
            self._container = None

    def actor(self) -> Actor:
        """The system operator by default; `--as EMAIL` acts with that user's role."""
        if self.acting_as is None:
            return Actor("system", None, f"cli:{_os_user()}", frozenset({"*"}))
        with self.container.session_factory() as session:
            user = session.scalars(
                select(User).where(User.email == self.acting_as.strip().lower())
            ).one_or_none()
        if user is None or not user.is_active:
            raise NotFound("access.user_not_found", f"no active user {self.acting_as}")
        return actor_for_user(user)

    def uow(self) -> UnitOfWork:
        return self.container.uow(self.actor())


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


state = CliState()


def emit_rows(
    rows: Iterable[Sequence[Any]], headers: Sequence[str], fmt: OutputFormat, title: str = ""
) -> None:
    materialized = [[_cell(v) for v in row] for row in rows]
    if fmt == OutputFormat.JSON:
        sys.stdout.write(
            json.dumps(
                [dict(zip(headers, row, strict=True)) for row in materialized],
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
        return
    if fmt == OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(materialized)
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(title=title or None)
    for header in headers:
        table.add_column(header)
    for row in materialized:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def _cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
