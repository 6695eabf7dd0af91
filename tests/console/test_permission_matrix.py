"""Every console page and action by every role: refused exactly when a permission is missing.

Console endpoints are discovered from the application like the API's; a denial
answers 403 with the stable code on the page and changes nothing, whether or
not the navigation would have shown the link.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from shopops.api.introspection import EndpointGuard, iter_endpoints
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from shopops.console.site import create_site
from tests.architecture.test_permission_matrix import _snapshot
from tests.console.conftest import ConsoleClient, ConsoleFactory

_PATH_PARAM = re.compile(r"\{[^}]+\}")


def _console_endpoints(app: FastAPI) -> list[EndpointGuard]:
    return sorted(
        (
            e
            for e in iter_endpoints(app)
            if e.path.startswith("/console") and e.method != "HEAD" and e.public_reason is None
        ),
        key=lambda e: (e.path, e.method),
    )


def _call(console: ConsoleClient, endpoint: EndpointGuard) -> Any:
    url = _PATH_PARAM.sub("1", endpoint.path)
    if endpoint.method == "GET":
        return console.get(url, follow_redirects=False)
    return console.request(
        endpoint.method, url, data={}, headers={"HX-Request": "true"}, follow_redirects=False
    )


@pytest.fixture
def bystander(container: Container, make_staff) -> None:
    make_staff(Role.OWNER)


@pytest.mark.parametrize("role", list(Role))
def test_console_role_matrix(
    role: Role, container: Container, bystander: None, console_as: ConsoleFactory
) -> None:
    console = console_as(role, raise_server_exceptions=False)
    held = {str(p) for p in permissions_for(role)}
    endpoints = _console_endpoints(create_site(container))
    assert len(endpoints) >= 2
    failures: list[str] = []
    # The database as it was before the next denial: a denial leaves it as it was, so the
    # snapshot after one is the baseline of the next; only an allowed call forces a new one.
    baseline: dict[str, list[tuple[Any, ...]]] | None = None
    for endpoint in endpoints:
        if endpoint.path == "/console/logout":
            continue  # signing out would end the walk; tested in test_session
        where = f"{role.value}: {endpoint.method} {endpoint.path}"
        assert endpoint.permissions is not None, endpoint
        missing = sorted(set(endpoint.permissions) - held)
        if missing and baseline is None:
            baseline = _snapshot(container)
        response = _call(console, endpoint)
        if missing:
            if (
                response.status_code != 403
                or 'data-code="auth.permission_denied"' not in response.text
            ):
                failures.append(f"{where} lacks {missing}: got {response.status_code}")
            after = _snapshot(container)
            if after != baseline:
                failures.append(f"{where} was denied but changed the database")
            baseline = after
            continue
        baseline = None  # an allowed call may change things
        if response.status_code in {401, 403} or response.status_code >= 500:
            failures.append(
                f"{where} is allowed but got {response.status_code} {response.text[:200]}"
            )
    assert failures == []


def test_without_a_session_every_console_endpoint_asks_to_sign_in(container: Container) -> None:
    from fastapi.testclient import TestClient

    app = create_site(container)
    with TestClient(app, base_url="http://testserver") as client:
        before = _snapshot(container)
        for endpoint in _console_endpoints(app):
            url = _PATH_PARAM.sub("1", endpoint.path)
            response = client.request(endpoint.method, url, follow_redirects=False)
            assert response.status_code == 303, endpoint
            assert response.headers["location"].startswith("/console/login?next="), endpoint
        assert _snapshot(container) == before
