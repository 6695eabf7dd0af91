"""Request ids on every response and log line; one problem+json shape for every error."""

from __future__ import annotations

import logging

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

import shopops.models  # noqa: F401  (every context's errors are defined on import)
from shopops.api.app import create_app
from shopops.api.deps import public
from shopops.api.errors import PROBLEM_JSON, status_for
from shopops.bootstrap import Container
from shopops.kernel.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unprocessable,
    ValidationFailed,
)
from shopops.kernel.logs import RequestIdFilter

log = logging.getLogger("shopops.tests.api")


@pytest.fixture
def app(container: Container) -> FastAPI:
    """The real app plus two test-only public routes: one that logs, one that crashes."""
    application = create_app(container)

    def logs_something() -> dict[str, str]:
        log.warning("handling the test request")
        return {"ok": "yes"}

    def crashes() -> None:
        log.warning("about to crash")
        raise RuntimeError("secret-internal-detail")

    def raises_domain_error(kind: str) -> None:
        errors: dict[str, DomainError] = {
            "conflict": Conflict("test.conflict", "clash"),
            "not_found": NotFound("test.missing", "gone"),
            "domain": DomainError("test.plain", "plain"),
            "rate": RateLimited("test.slow", "slow down", details={"retry_after": 7}),
        }
        raise errors[kind]

    marker = [Depends(public("test route"))]
    application.add_api_route("/test/log", logs_something, dependencies=marker)
    application.add_api_route("/test/crash", crashes, dependencies=marker)
    application.add_api_route("/test/raise/{kind}", raises_domain_error, dependencies=marker)
    return application


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _is_generated_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


# --- request ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/v1/users", 401),
        ("POST", "/v1/auth/login", 422),
        ("GET", "/v1/no-such-route", 404),
        ("DELETE", "/healthz", 405),
        ("GET", "/test/raise/conflict", 409),
        ("GET", "/test/crash", 500),
    ],
)
def test_every_response_has_a_request_id(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    generated = response.headers["X-Request-ID"]
    assert _is_generated_id(generated)
    again = client.request(method, path)
    assert again.headers["X-Request-ID"] != generated  # a fresh id per request

    echoed = client.request(method, path, headers={"X-Request-ID": "client-id_42.a"})
    assert echoed.status_code == status
    assert echoed.headers["X-Request-ID"] == "client-id_42.a"
    if status >= 400:
        assert echoed.headers["content-type"] == PROBLEM_JSON
        assert echoed.json()["request_id"] == "client-id_42.a"


@pytest.mark.parametrize(
    "bad", [b"has space", b"x" * 65, b"semi;colon", "\u00fcnicode".encode(), b"tab\there", b""]
)
def test_invalid_client_request_ids_are_replaced(client: TestClient, bad: bytes) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert _is_generated_id(response.headers["X-Request-ID"])


def test_log_lines_carry_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.get("/test/log", headers={"X-Request-ID": "trace-1"})
        assert response.status_code == 200
        client.get("/test/log", headers={"X-Request-ID": "trace-2"})
    mine = [r for r in caplog.records if r.name == "shopops.tests.api"]
    assert [(r.getMessage(), r.request_id) for r in mine] == [
        ("handling the test request", "trace-1"),
        ("handling the test request", "trace-2"),
    ]


def test_logs_outside_a_request_have_a_dash(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        log.warning("no request")
    assert [r.request_id for r in caplog.records] == ["-"]


def test_an_unexpected_error_is_logged_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.get("/test/crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["request_id"] == "crash-1"
    assert "secret-internal-detail" not in response.text  # no internals leak to the client
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the crash was not logged"
    assert all(r.request_id == "crash-1" for r in errors)
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in errors)


# --- problem+json ------------------------------------------------------------------------


def test_validation_errors_list_every_field(owner_client: TestClient) -> None:
    response = owner_client.post(
        "/v1/users",
        json={"email": "not-an-email", "role": "emperor", "password": "short", "locale": "xx"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "validation.failed"
    assert body["status"] == 422
    assert body["title"] == "Unprocessable Content"
    assert body["type"] == "https://shopops.dev/problems/validation.failed"
    assert body["instance"] == "/v1/users"
    assert body["request_id"] == response.headers["X-Request-ID"]
    fields = {e["field"]: e["code"] for e in body["errors"]}
    assert fields == {
        "email": "validation.value_error",
        "full_name": "validation.missing",
        "role": "validation.enum",
        "password": "validation.string_too_short",
        "locale": "validation.string_pattern_mismatch",
    }
    assert body["detail"] == "5 invalid field(s)"
    assert all(e["message"] for e in body["errors"])


def test_query_and_body_errors_are_reported_together(owner_client: TestClient) -> None:
    response = owner_client.get(
        "/v1/audit", params={"limit": 0, "actor_kind": "robot", "actor_id": "x"}
    )
    assert response.status_code == 422
    fields = sorted(e["field"] for e in response.json()["errors"])
    assert fields == ["actor_id", "actor_kind", "limit"]


def test_malformed_json_is_a_problem(owner_client: TestClient) -> None:
    response = owner_client.post(
        "/v1/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "validation.failed"


def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["code"] == "http.not_found"
    assert missing.json()["instance"] == "/v1/nothing-here"
    wrong = client.delete("/v1/auth/me")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == PROBLEM_JSON
    assert wrong.json()["code"] == "http.method_not_allowed"


def test_domain_errors_map_to_their_status(client: TestClient) -> None:
    conflict = client.get("/test/raise/conflict")
    assert (conflict.status_code, conflict.json()["code"]) == (409, "test.conflict")
    assert conflict.json()["detail"] == "clash"
    assert (client.get("/test/raise/not_found").status_code) == 404
    assert client.get("/test/raise/domain").status_code == 400
    rate = client.get("/test/raise/rate")
    assert rate.status_code == 429
    assert rate.headers["Retry-After"] == "7"
    assert rate.json()["details"] == {"retry_after": 7}


def test_unauthenticated_problem_has_www_authenticate(client: TestClient) -> None:
    response = client.get("/v1/users")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "auth.unauthenticated"


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        (ValidationFailed, 422),
        (Unprocessable, 422),
        (NotFound, 404),
        (Conflict, 409),
        (Unauthenticated, 401),
        (PermissionDenied, 403),
        (RateLimited, 429),
        (DomainError, 400),
    ],
)
def test_status_mapping(error_type: type[DomainError], status: int) -> None:
    assert status_for(error_type()) == status


def test_no_business_error_is_ever_a_500() -> None:
    # Every DomainError subclass defined anywhere in shopops (contexts included).
    for error_type in {DomainError, *_all_subclasses(DomainError)}:
        try:
            error = error_type()
        except TypeError:  # subclasses with their own required arguments
            error = error_type.__new__(error_type)
        status = status_for(error)
        assert status != 500, error_type
        # client errors, or 503 for an outside service that is down (retry later)
        assert 400 <= status < 500 or status == 503, error_type
