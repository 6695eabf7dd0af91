"""Idempotency-Key on creating POSTs: replay, refuse a reused key, scope keys per caller."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shopops.auth.models import User
from shopops.bootstrap import Container
from shopops.db.idempotency import IdempotencyRecord

NEW_USER = {
    "email": "ana@example.com",
    "full_name": "Ana Lima",
    "role": "analyst",
    "password": "long enough pass",
}


def _users(container: Container, email: str = "ana@example.com") -> int:
    with container.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0
        )


def test_same_key_same_body_replays_the_first_response(
    container: Container, owner_client: TestClient
) -> None:
    headers = {"Idempotency-Key": "create-ana-1"}
    first = owner_client.post("/v1/users", json=NEW_USER, headers=headers)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    second = owner_client.post("/v1/users", json=NEW_USER, headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["content-type"] == first.headers["content-type"]
    # the replay is a new request: it has its own request id
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert _users(container) == 1


def test_without_a_key_a_repeat_is_a_new_request(owner_client: TestClient) -> None:
    assert owner_client.post("/v1/users", json=NEW_USER).status_code == 201
    repeat = owner_client.post("/v1/users", json=NEW_USER)
    assert (repeat.status_code, repeat.json()["code"]) == (409, "access.email_taken")


def test_same_key_different_body_is_refused(container: Container, owner_client: TestClient) -> None:
    headers = {"Idempotency-Key": "create-ana-2"}
    assert owner_client.post("/v1/users", json=NEW_USER, headers=headers).status_code == 201
    other = {**NEW_USER, "email": "bo@example.com"}
    refused = owner_client.post("/v1/users", json=other, headers=headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "idempotency.key_reused"
    assert _users(container, "bo@example.com") == 0


def test_same_key_on_another_path_is_refused(owner_client: TestClient) -> None:
    headers = {"Idempotency-Key": "shared"}
    assert owner_client.post("/v1/users", json=NEW_USER, headers=headers).status_code == 201
    refused = owner_client.post("/v1/outbox/deliveries/1/retry", json=NEW_USER, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency.key_reused")


def test_different_principals_do_not_collide(container: Container, client_as) -> None:
    owner, admin = client_as("owner"), client_as("admin")
    headers = {"Idempotency-Key": "same-key"}
    first = owner.post("/v1/users", json=NEW_USER, headers=headers)
    other_body = {**NEW_USER, "email": "bo@example.com"}
    second = admin.post("/v1/users", json=other_body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["email"] == "bo@example.com"
    assert second.json()["id"] != first.json()["id"]
    assert _users(container) == _users(container, "bo@example.com") == 1
    with container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


def test_errors_are_replayed_but_auth_failures_are_not_stored(
    container: Container, owner_client: TestClient, client_as
) -> None:
    headers = {"Idempotency-Key": "k"}
    invalid = owner_client.post("/v1/users", json={}, headers=headers)
    assert invalid.status_code == 422
    replay = owner_client.post("/v1/users", json={}, headers=headers)
    assert replay.status_code == 422
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["errors"] == invalid.json()["errors"]

    analyst = client_as("analyst")
    denied = analyst.post("/v1/users", json=NEW_USER, headers={"Idempotency-Key": "k2"})
    assert denied.status_code == 403
    with container.session_factory() as session:
        keys = sorted(session.scalars(select(IdempotencyRecord.key)))
    assert keys == ["k"]  # the 403 left nothing behind, so a retry is evaluated afresh


def test_key_length_is_checked(owner_client: TestClient) -> None:
    response = owner_client.post("/v1/users", json=NEW_USER, headers={"Idempotency-Key": "x" * 256})
    assert (response.status_code, response.json()["code"]) == (422, "idempotency.invalid_key")
