"""The audit trail: one row per change, with who, what, which entity, the diff and the request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopops.audit import AuditEntry, diff_fields
from shopops.bootstrap import Container
from shopops.kernel.errors import PermissionDenied, ValidationFailed
from shopops.kernel.time import FrozenClock

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def audited(make_container, clock: FrozenClock) -> Container:
    return make_container(clock=clock)


@pytest.fixture
def owner(audited: Container, staff_on):
    return staff_on(audited, "owner")


@pytest.fixture
def client(audited: Container, owner, client_on) -> TestClient:
    return client_on(audited, owner.token)


def _entries(container: Container, **filters: object) -> list[AuditEntry]:
    with container.session_factory() as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in filters.items():
            stmt = stmt.where(getattr(AuditEntry, name) == value)
        return list(session.scalars(stmt))


def _last(container: Container) -> AuditEntry:
    return _entries(container)[-1]


def _token_id(container: Container, staff) -> int:
    from shopops.auth.models import ApiToken

    with container.session_factory() as session:
        return session.scalars(select(ApiToken.id).where(ApiToken.user_id == staff.user.id)).one()


# --- every mutation --------------------------------------------------------------------


def test_creating_a_user_is_audited(
    audited: Container, client: TestClient, owner, clock: FrozenClock
) -> None:
    clock.advance(timedelta(minutes=3))
    response = client.post(
        "/v1/users",
        json={
            "email": "ana@example.com",
            "full_name": "Ana Lima",
            "role": "analyst",
            "password": "long enough pass",
        },
    )
    assert response.status_code == 201
    entry = _last(audited)
    assert entry.action == "user.created"
    assert (entry.entity_type, entry.entity_id) == ("user", str(response.json()["id"]))
    assert (entry.actor_kind, entry.actor_id) == ("token", _token_id(audited, owner))
    assert entry.actor_name == f"{owner.user.email}/test"
    assert entry.request_id == response.headers["X-Request-ID"]
    assert entry.occurred_at == T0 + timedelta(minutes=3)
    assert entry.changes == {
        "email": {"before": None, "after": "ana@example.com"},
        "full_name": {"before": None, "after": "Ana Lima"},
        "role": {"before": None, "after": "analyst"},
        "is_active": {"before": None, "after": True},
        "locale": {"before": None, "after": "en"},
    }
    assert "long enough pass" not in json.dumps(entry.changes)


def test_a_change_records_only_the_changed_fields(
    audited: Container, client: TestClient, staff_on
) -> None:
    analyst = staff_on(audited, "analyst")
    response = client.patch(
        f"/v1/users/{analyst.user.id}",
        json={"role": "finance", "full_name": analyst.user.full_name, "locale": "en"},
        headers={"X-Request-ID": "change-1"},
    )
    assert response.status_code == 200, response.text
    entry = _last(audited)
    assert (entry.action, entry.entity_type, entry.entity_id) == (
        "user.changed",
        "user",
        str(analyst.user.id),
    )
    assert entry.changes == {"role": {"before": "analyst", "after": "finance"}}
    assert entry.request_id == "change-1" == response.headers["X-Request-ID"]


def test_a_password_change_is_audited_without_the_password(
    audited: Container, client: TestClient, staff_on
) -> None:
    analyst = staff_on(audited, "analyst")
    response = client.patch(f"/v1/users/{analyst.user.id}", json={"password": "a new secret pw"})
    assert response.status_code == 200
    entry = _last(audited)
    assert entry.changes == {"password": {"before": "(hidden)", "after": "(changed)"}}
    assert "a new secret pw" not in json.dumps(entry.changes)


def test_sign_in_tokens_and_sign_out_are_audited(
    audited: Container, owner, client_on, clock: FrozenClock
) -> None:
    browser = client_on(audited)
    login = browser.post("/v1/auth/login", json={"email": owner.user.email, "password": PASSWORD})
    assert login.status_code == 200
    signed_in = _last(audited)
    assert (signed_in.action, signed_in.entity_id) == ("user.signed_in", str(owner.user.id))
    assert (signed_in.actor_kind, signed_in.actor_id) == ("user", owner.user.id)
    assert signed_in.request_id == login.headers["X-Request-ID"]
    assert signed_in.changes == {"client_address": {"before": None, "after": "testclient"}}

    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    clock.advance(timedelta(seconds=5))
    issued = browser.post(
        "/v1/tokens", json={"name": "shop", "scopes": ["audit.read"]}, headers=csrf
    )
    assert issued.status_code == 201
    entry = _last(audited)
    assert (entry.action, entry.entity_type, entry.entity_id) == (
        "api_token.issued",
        "api_token",
        str(issued.json()["id"]),
    )
    assert (entry.actor_kind, entry.actor_id) == ("user", owner.user.id)
    assert entry.request_id == issued.headers["X-Request-ID"]
    assert entry.occurred_at == T0 + timedelta(seconds=5)
    assert entry.changes == {
        "name": {"before": None, "after": "shop"},
        "scopes": {"before": None, "after": ["audit.read"]},
        "prefix": {"before": None, "after": issued.json()["prefix"]},
    }
    assert issued.json()["token"] not in json.dumps(entry.changes)

    revoked = browser.delete(f"/v1/tokens/{issued.json()['id']}", headers=csrf)
    assert revoked.status_code == 200
    entry = _last(audited)
    assert (entry.action, entry.changes) == (
        "api_token.revoked",
        {"revoked": {"before": False, "after": True}},
    )
    assert entry.request_id == revoked.headers["X-Request-ID"]
    count = len(_entries(audited))
    assert browser.delete(f"/v1/tokens/{issued.json()['id']}", headers=csrf).status_code == 200
    assert len(_entries(audited)) == count  # revoking again changes nothing: no row

    logout = browser.post("/v1/auth/logout", headers=csrf)
    assert logout.status_code == 204
    entry = _last(audited)
    assert (entry.action, entry.entity_id) == ("user.signed_out", str(owner.user.id))
    assert entry.request_id == logout.headers["X-Request-ID"]


def test_failed_commands_leave_no_audit_row(audited: Container, client: TestClient) -> None:
    count = len(_entries(audited))
    body = {
        "email": "x@example.com",
        "full_name": "X",
        "role": "analyst",
        "password": "long pass 1",
    }
    assert client.post("/v1/users", json=body).status_code == 201
    assert client.post("/v1/users", json=body).status_code == 409
    assert client.patch("/v1/users/999999", json={"role": "admin"}).status_code == 404
    assert len(_entries(audited)) == count + 1


def test_diff_fields() -> None:
    assert diff_fields({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {
        "b": {"before": 2, "after": 3}
    }
    assert diff_fields(None, None) == {}
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert diff_fields({"at": None}, {"at": moment}) == {
        "at": {"before": None, "after": "2026-01-01T00:00:00+00:00"}
    }


# --- querying ---------------------------------------------------------------------------


@pytest.fixture
def history(audited: Container, client: TestClient, staff_on, clock: FrozenClock):
    """Three users created at T0+1h, T0+2h, T0+3h; the second then changed at T0+4h."""
    ids = []
    for hour, name in enumerate(("ana", "bo", "cy"), start=1):
        clock.set(T0 + timedelta(hours=hour))
        response = client.post(
            "/v1/users",
            json={
                "email": f"{name}@example.com",
                "full_name": name,
                "role": "analyst",
                "password": "long enough pass",
            },
        )
        ids.append(response.json()["id"])
    clock.set(T0 + timedelta(hours=4))
    assert client.patch(f"/v1/users/{ids[1]}", json={"role": "finance"}).status_code == 200
    other = staff_on(audited, "admin")
    return ids, other


def test_query_by_entity(client: TestClient, history) -> None:
    ids, _ = history
    response = client.get("/v1/audit", params={"entity_type": "user", "entity_id": ids[1]})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["action"] for i in items] == ["user.changed", "user.created"]  # newest first
    assert {i["entity_id"] for i in items} == {str(ids[1])}


def test_query_by_actor(audited: Container, client: TestClient, owner, history) -> None:
    ids, _ = history
    token_id = _token_id(audited, owner)
    response = client.get("/v1/audit", params={"actor_kind": "token", "actor_id": token_id})
    items = response.json()["items"]
    assert [(i["action"], i["entity_id"]) for i in items] == [
        ("user.changed", str(ids[1])),
        ("user.created", str(ids[2])),
        ("user.created", str(ids[1])),
        ("user.created", str(ids[0])),
    ]
    system = client.get("/v1/audit", params={"actor_kind": "system"}).json()["items"]
    assert {i["actor_kind"] for i in system} == {"system"}
    assert len(system) == 2  # the owner and admin fixtures' users


def test_query_by_time_range(client: TestClient, history) -> None:
    ids, _ = history
    response = client.get(
        "/v1/audit",
        params={
            "entity_type": "user",
            "since": (T0 + timedelta(hours=2)).isoformat(),
            "until": (T0 + timedelta(hours=4)).isoformat(),
        },
    )
    assert response.status_code == 200
    items = response.json()["items"]
    # since is inclusive, until exclusive: the 2h and 3h creations only
    assert [(i["action"], i["entity_id"]) for i in items] == [
        ("user.created", str(ids[2])),
        ("user.created", str(ids[1])),
    ]
    assert items[0]["occurred_at"] == "2026-02-01T12:00:00Z"
    # the same instants written with another offset give the same answer
    shanghai = client.get(
        "/v1/audit",
        params={
            "entity_type": "user",
            "since": "2026-02-01T19:00:00+08:00",
            "until": "2026-02-01T21:00:00+08:00",
        },
    ).json()["items"]
    assert shanghai == items


def test_query_pages_with_a_cursor(client: TestClient, history) -> None:
    first = client.get("/v1/audit", params={"entity_type": "user", "limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = client.get(
        "/v1/audit", params={"entity_type": "user", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    ids_first = [i["id"] for i in first["items"]]
    ids_second = [i["id"] for i in second["items"]]
    assert max(ids_second) < min(ids_first)
    everything = client.get("/v1/audit", params={"entity_type": "user"}).json()
    assert [i["id"] for i in everything["items"]][:4] == ids_first + ids_second
    assert everything["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"since": "2026-02-01T12:00:00Z", "until": "2026-02-01T10:00:00Z"}, "reversed_range"),
        ({"since": "2026-02-01T12:00:00Z", "until": "2026-02-01T12:00:00Z"}, "reversed_range"),
        ({"since": "2026-02-01T12:00:00"}, "naive_datetime"),
        ({"until": "2026-02-01T12:00:00"}, "naive_datetime"),
        ({"since": "2026-02-01T10:00:00", "until": "2026-02-01T12:00:00Z"}, "naive_datetime"),
        ({"cursor": "not-a-cursor!"}, "invalid_cursor"),
    ],
)
def test_bad_ranges_are_refused(client: TestClient, params: dict[str, str], code: str) -> None:
    response = client.get("/v1/audit", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"].endswith(code)


# --- the CLI ----------------------------------------------------------------------------


def _cli_rows(result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_by_entity_actor_and_time(audited: Container, owner, history, cli) -> None:
    ids, _ = history
    by_entity = _cli_rows(
        cli(
            audited,
            "audit",
            "list",
            "--entity-type",
            "user",
            "--entity-id",
            str(ids[1]),
            "--format",
            "json",
        )
    )
    assert [r["action"] for r in by_entity] == ["user.changed", "user.created"]
    assert by_entity[0]["entity"] == f"user/{ids[1]}"
    assert by_entity[0]["actor"] == f"token:{owner.user.email}/test"
    assert json.loads(by_entity[0]["changes"]) == {
        "role": {"before": "analyst", "after": "finance"}
    }

    token_id = _token_id(audited, owner)
    by_actor = _cli_rows(
        cli(
            audited,
            "audit",
            "list",
            "--actor-kind",
            "token",
            "--actor-id",
            str(token_id),
            "--format",
            "json",
        )
    )
    assert len(by_actor) == 4

    by_time = _cli_rows(
        cli(
            audited,
            "audit",
            "list",
            "--entity-type",
            "user",
            "--since",
            "2026-02-01T19:00:00+08:00",
            "--until",
            "2026-02-01T13:00:00Z",
            "--format",
            "json",
        )
    )
    assert [r["entity"] for r in by_time] == [f"user/{ids[2]}", f"user/{ids[1]}"]
    assert by_time[0]["at"] == "2026-02-01T12:00:00+00:00"

    table = cli(audited, "audit", "list", "--entity-type", "user", "--entity-id", str(ids[0]))
    assert table.exit_code == 0
    assert "Audit" in table.stdout  # a rich table (80 columns wide under the test runner)


def test_cli_refuses_a_reversed_range(audited: Container, history, cli) -> None:
    result = cli(
        audited,
        "audit",
        "list",
        "--since",
        "2026-02-02T00:00:00Z",
        "--until",
        "2026-02-01T00:00:00Z",
    )
    assert isinstance(result.exception, ValidationFailed)
    assert result.exception.code == "validation.reversed_range"


def test_cli_needs_audit_read_when_acting_as_a_user(audited: Container, staff_on, cli) -> None:
    analyst = staff_on(audited, "analyst")
    result = cli(audited, "--as", analyst.user.email, "audit", "list")
    assert isinstance(result.exception, PermissionDenied)
    finance = staff_on(audited, "finance")  # finance holds audit.read
    assert cli(audited, "--as", finance.user.email, "audit", "list").exit_code == 0
