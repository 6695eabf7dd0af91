"""Every endpoint by every role: denied exactly when a required permission is missing.

Endpoints are discovered from the application, so the matrix grows with it.
Each call uses placeholder path parameters (``1``) and an empty JSON body: a
denial must come before any validation or lookup, and must change nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopops.api.introspection import EndpointGuard, iter_endpoints
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container, metadata

_PATH_PARAM = re.compile(r"\{[^}]+\}")


def _endpoints(client: TestClient) -> list[EndpointGuard]:
    """The endpoints of the application behind ``client`` (building an app is not free)."""
    app = client.app
    assert isinstance(app, FastAPI)
    return sorted(
        (e for e in iter_endpoints(app) if e.method != "HEAD"),
        key=lambda e: (e.path, e.method),
    )


def _call(client: TestClient, endpoint: EndpointGuard) -> Any:
    url = _PATH_PARAM.sub("1", endpoint.path)
    if endpoint.method in {"GET", "DELETE", "OPTIONS"}:
        return client.request(endpoint.method, url)
    return client.request(endpoint.method, url, json={})


def _snapshot(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the test database holds only a handful)."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    with container.engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            state[table.name] = [
                tuple(r) for r in connection.execute(select(table).order_by(*order))
            ]
    return state


@pytest.fixture
def bystander(container: Container, make_staff) -> None:
    """An owner created first, so placeholder id 1 names a user and a token nobody calls with."""
    make_staff(Role.OWNER)


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(
    role: Role, container: Container, bystander: None, make_staff, client_on
) -> None:
    staff = make_staff(role)
    client = client_on(container, staff.token, raise_server_exceptions=False)
    assert client.get("/v1/auth/me").status_code == 200  # the token is live (and touched)
    held = {str(p) for p in permissions_for(role)}
    failures: list[str] = []
    endpoints = _endpoints(client)
    assert len(endpoints) >= 15
    baseline: dict[str, list[tuple[Any, ...]]] | None = None  # None: retake before a denial
    for endpoint in endpoints:
        where = f"{role.value}: {endpoint.method} {endpoint.path}"
        if endpoint.public_reason is not None:
            # Public endpoints answer everyone (their own checks, e.g. a signature, apply).
            response = _call(client, endpoint)
            baseline = None
            if response.status_code >= 500:
                failures.append(f"{where} answered {response.status_code} {response.text[:200]}")
            continue
        assert endpoint.permissions is not None, endpoint  # see test_route_protection
        missing = sorted(set(endpoint.permissions) - held)
        if missing and baseline is None:
            baseline = _snapshot(container)
        before = baseline
        response = _call(client, endpoint)
        if missing:
            body = response.json() if response.content else {}
            if response.status_code != 403 or body.get("code") != "auth.permission_denied":
                failures.append(
                    f"{where} lacks {missing}: expected 403 auth.permission_denied, "
                    f"got {response.status_code} {response.text[:200]}"
                )
            if body.get("details", {}).get("permission") not in missing:
                failures.append(f"{where}: the denial names {body.get('details')}, not {missing}")
            after = _snapshot(container)
            assert before is not None
            if after["audit_entries"] != before["audit_entries"]:
                failures.append(f"{where} was denied but wrote audit rows")
            if after != before:
                changed = sorted(name for name in after if after[name] != before[name])
                failures.append(f"{where} was denied but changed {changed}")
            baseline = after
        else:
            baseline = None  # an allowed call may change things
            if response.status_code in {401, 403}:
                failures.append(
                    f"{where} holds {list(endpoint.permissions)} but got "
                    f"{response.status_code} {response.text[:200]}"
                )
            if response.status_code >= 500:
                failures.append(f"{where} answered {response.status_code} {response.text[:200]}")
    assert failures == []


def test_no_credentials_is_401_everywhere(container: Container, bystander: None, client_on) -> None:
    client = client_on(container, raise_server_exceptions=False)
    failures: list[str] = []
    guarded = [e for e in _endpoints(client) if e.public_reason is None]
    assert guarded
    before = _snapshot(container)
    for endpoint in guarded:
        response = _call(client, endpoint)
        code = response.json().get("code") if response.content else None
        if (response.status_code, code) != (401, "auth.unauthenticated"):
            failures.append(
                f"{endpoint.method} {endpoint.path}: {response.status_code} {response.text[:200]}"
            )
    assert failures == []
    assert _snapshot(container) == before


def test_a_bad_token_is_401_everywhere(container: Container, bystander: None, client_on) -> None:
    client = client_on(container, "sot_not-a-real-token", raise_server_exceptions=False)
    for endpoint in (e for e in _endpoints(client) if e.public_reason is None):
        response = _call(client, endpoint)
        assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_token"), (
            endpoint
        )
