"""Console clients: a staff member signed in through the sign-in form, with the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopops.auth.models import ConsoleSession, User
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from tests.conftest import TEST_PASSWORD, AppLender, StaffFactory

_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


class ConsoleClient:
    """A browser stand-in: session cookie from signing in, CSRF header on unsafe requests."""

    def __init__(self, client: TestClient, container: Container, email: str) -> None:
        self.client = client
        self.container = container
        self.email = email
        self.csrf = ""

    def sign_in(self, password: str = TEST_PASSWORD) -> None:
        response = self.client.post(
            "/console/login",
            data={"email": self.email, "password": password, "next": "/console"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:300]
        with self.container.session_factory() as session:
            self.csrf = session.scalars(
                select(ConsoleSession.csrf_token)
                .join(User, User.id == ConsoleSession.user_id)
                .where(User.email == self.email)
                .order_by(ConsoleSession.id.desc())
                .limit(1)
            ).one()

    def csrf_on(self, html: str) -> str:
        """The token a rendered page carries (what htmx sends back)."""
        found = _CSRF.search(html)
        assert found, html[:300]
        return found.group(1)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: Any = None, *, htmx: bool = True, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data, headers=headers, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)


ConsoleFactory = Callable[..., ConsoleClient]


@pytest.fixture
def console_as(
    container: Container, make_staff: StaffFactory, lend_app: AppLender
) -> Iterator[ConsoleFactory]:
    """``console_as(role)``: a fresh staff member of ``role`` signed in to the console."""
    clients: list[TestClient] = []

    def factory(role: Role | str, *, raise_server_exceptions: bool = True) -> ConsoleClient:
        staff = make_staff(role)
        client = TestClient(
            lend_app("site", container),
            base_url="http://testserver",
            raise_server_exceptions=raise_server_exceptions,
        )
        client.__enter__()
        clients.append(client)
        console = ConsoleClient(client, container, staff.user.email)
        console.sign_in()
        return console

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def owner_console(console_as: ConsoleFactory) -> ConsoleClient:
    return console_as(Role.OWNER)
