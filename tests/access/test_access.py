"""Staff access: passwords, console sessions with CSRF, API tokens, throttling, owners."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shopops.auth.models import ApiToken, ConsoleSession, LoginAttempt, User
from shopops.auth.secrets import hash_password, verify_password
from shopops.bootstrap import Container, metadata
from shopops.kernel.time import FrozenClock

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
COOKIE = "shopops_session"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def box(make_container, clock: FrozenClock) -> Container:
    """Short sessions and a tight sign-in throttle, on a frozen clock."""
    return make_container(
        clock=clock, session_ttl_minutes=30, login_max_failures=3, login_window_seconds=600
    )


@pytest.fixture
def owner(box: Container, staff_on):
    return staff_on(box, "owner")


def _login(client: TestClient, email: str, password: str = PASSWORD):
    return client.post("/v1/auth/login", json={"email": email, "password": password})


def _signed_in(box: Container, client_on, email: str) -> tuple[TestClient, str]:
    browser = client_on(box)
    response = _login(browser, email)
    assert response.status_code == 200, response.text
    return browser, response.json()["csrf_token"]


# --- passwords --------------------------------------------------------------------------


def test_passwords_are_argon2id_hashes(box: Container, owner) -> None:
    with box.session_factory() as session:
        stored = session.get(User, owner.user.id)
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
    assert verify_password(stored.password_hash, PASSWORD)
    assert not verify_password(stored.password_hash, PASSWORD + "!")
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not-a-hash", PASSWORD)


def test_no_plaintext_password_anywhere_in_the_database(box: Container, owner, client_on) -> None:
    client = client_on(box, owner.token)
    client.post(
        "/v1/users",
        json={
            "email": "ana@example.com",
            "full_name": "Ana",
            "role": "analyst",
            "password": "plaintext-canary-1",
        },
    )
    with box.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                assert "plaintext-canary-1" not in repr(tuple(row)), table.name


def test_short_passwords_are_refused(box: Container, owner, client_on) -> None:
    client = client_on(box, owner.token)
    response = client.patch(f"/v1/users/{owner.user.id}", json={"password": "short"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


# --- console sessions -------------------------------------------------------------------


def test_login_sets_an_http_only_cookie(box: Container, owner, client_on) -> None:
    browser = client_on(box)
    response = _login(browser, owner.user.email)
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=sos_")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "max-age=1800" in cookie.lower()
    assert "secure" not in attributes  # only in production (plain http in tests)
    body = response.json()
    assert body["user"]["email"] == owner.user.email
    assert body["actor"] == f"user:{owner.user.id}"
    assert body["csrf_token"]
    # the cookie alone authenticates reads
    me = browser.get("/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["csrf_token"] == body["csrf_token"]
    # only a hash of the cookie is stored
    raw = browser.cookies[COOKIE]
    with box.session_factory() as session:
        stored = session.scalars(select(ConsoleSession)).one()
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert stored.expires_at == T0 + timedelta(minutes=30)


def test_wrong_password_and_unknown_user_look_the_same(box: Container, owner, client_on) -> None:
    browser = client_on(box)
    wrong = _login(browser, owner.user.email, "wrong password!")
    unknown = _login(browser, "nobody@example.com")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["code"] == "auth.invalid_credentials"
        assert response.json()["detail"] == "e-mail or password is incorrect"
        assert "set-cookie" not in response.headers


def test_csrf_is_required_for_unsafe_cookie_requests(box: Container, owner, client_on) -> None:
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    body = {
        "email": "ana@example.com",
        "full_name": "Ana",
        "role": "analyst",
        "password": "long enough pass",
    }
    missing = browser.post("/v1/users", json=body)
    forged = csrf[:-1] + ("A" if csrf[-1] != "A" else "B")  # always differs from csrf
    tampered = browser.post("/v1/users", json=body, headers={"X-CSRF-Token": forged})
    for response in (missing, tampered):
        assert response.status_code == 403
        assert response.json()["code"] == "auth.csrf_failed"
    with box.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    accepted = browser.post("/v1/users", json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201
    assert browser.get("/v1/users").status_code == 200  # safe methods need no token


def test_csrf_of_another_session_is_refused(box: Container, owner, staff_on, client_on) -> None:
    admin = staff_on(box, "admin")
    browser, _ = _signed_in(box, client_on, owner.user.email)
    _, other_csrf = _signed_in(box, client_on, admin.user.email)
    response = browser.patch(
        f"/v1/users/{admin.user.id}", json={"full_name": "X"}, headers={"X-CSRF-Token": other_csrf}
    )
    assert (response.status_code, response.json()["code"]) == (403, "auth.csrf_failed")


def test_bearer_tokens_need_no_csrf(box: Container, owner, client_on) -> None:
    client = client_on(box, owner.token)
    assert client.patch(f"/v1/users/{owner.user.id}", json={"locale": "zh_CN"}).status_code == 200


def test_logout_revokes_the_session(box: Container, owner, client_on) -> None:
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    raw = browser.cookies[COOKIE]
    refused = browser.post("/v1/auth/logout")  # logout is unsafe too: CSRF needed
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.csrf_failed")
    response = browser.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(f'{COOKIE}=""; ')
    assert "Max-Age=0" in cleared
    assert "Path=/" in cleared
    assert COOKIE not in browser.cookies
    with box.session_factory() as session:
        assert session.scalars(select(ConsoleSession.revoked_at)).one() == T0
    # the old cookie value no longer works, even if a client kept it
    replay = client_on(box)
    replay.cookies.set(COOKIE, raw)
    again = replay.get("/v1/auth/me")
    assert (again.status_code, again.json()["code"]) == (401, "auth.session_expired")


def test_sessions_expire(box: Container, owner, client_on, clock: FrozenClock) -> None:
    browser, _ = _signed_in(box, client_on, owner.user.email)
    clock.advance(timedelta(minutes=29, seconds=59))
    assert browser.get("/v1/auth/me").status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = browser.get("/v1/auth/me")
    assert (expired.status_code, expired.json()["code"]) == (401, "auth.session_expired")


def test_a_garbage_cookie_is_refused(box: Container, client_on) -> None:
    browser = client_on(box)
    browser.cookies.set(COOKIE, "sos_forged")
    response = browser.get("/v1/auth/me")
    assert (response.status_code, response.json()["code"]) == (401, "auth.session_expired")


# --- API tokens -------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_shown_once(box: Container, owner, client_on) -> None:
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    issued = browser.post(
        "/v1/tokens",
        json={"name": "storefront", "scopes": ["catalog.read", "orders.read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert issued.status_code == 201, issued.text
    secret = issued.json()["token"]
    assert secret.startswith("sot_")
    assert issued.json()["prefix"] == secret[:10]
    assert issued.json()["scopes"] == ["catalog.read", "orders.read"]
    with box.session_factory() as session:
        token = session.get(ApiToken, issued.json()["id"])
        assert token is not None
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with box.engine.connect() as connection:
        for row in connection.execute(select(ApiToken.__table__)):
            assert secret not in repr(tuple(row))
    listed = browser.get("/v1/tokens").json()
    assert issued.json()["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    assert secret not in browser.get("/v1/tokens").text


def test_token_scopes_limit_permissions(box: Container, owner, client_on) -> None:
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    secret = browser.post(
        "/v1/tokens",
        json={"name": "auditor", "scopes": ["audit.read"]},
        headers={"X-CSRF-Token": csrf},
    ).json()["token"]
    scoped = client_on(box, secret)
    assert scoped.get("/v1/audit").status_code == 200
    denied = scoped.get("/v1/users")
    assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")
    assert denied.json()["details"] == {"permission": "users.manage"}
    assert scoped.get("/v1/auth/me").json()["permissions"] == ["audit.read"]


def test_a_token_never_grants_more_than_its_owner_holds(
    box: Container, owner, staff_on, client_on
) -> None:
    admin = staff_on(box, "admin")  # token scoped to every permission
    client = client_on(box, admin.token)
    assert client.get("/v1/users").status_code == 200
    owner_client = client_on(box, owner.token)
    assert (
        owner_client.patch(f"/v1/users/{admin.user.id}", json={"role": "analyst"}).status_code
        == 200
    )
    denied = client.get("/v1/users")
    assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")


def test_a_revoked_token_is_refused(box: Container, owner, client_on) -> None:
    client = client_on(box, owner.token)
    assert client.get("/v1/auth/me").status_code == 200
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    token_id = browser.get("/v1/tokens").json()[0]["id"]
    revoked = browser.delete(f"/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf})
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = client.get("/v1/auth/me")
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")


def test_an_expired_token_is_refused(box: Container, owner, client_on, clock: FrozenClock) -> None:
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    secret = browser.post(
        "/v1/tokens",
        json={
            "name": "short",
            "scopes": ["audit.read"],
            "expires_at": (T0 + timedelta(hours=1)).isoformat(),
        },
        headers={"X-CSRF-Token": csrf},
    ).json()["token"]
    client = client_on(box, secret)
    assert client.get("/v1/audit").status_code == 200
    clock.advance(timedelta(hours=1))
    assert client.get("/v1/audit").json()["code"] == "auth.invalid_token"


def test_tokens_cannot_issue_tokens(box: Container, owner, client_on) -> None:
    client = client_on(box, owner.token)
    response = client.post("/v1/tokens", json={"name": "x", "scopes": ["audit.read"]})
    assert (response.status_code, response.json()["code"]) == (403, "access.user_required")


def test_a_token_in_the_past_is_refused(box: Container, owner, client_on) -> None:
    browser, csrf = _signed_in(box, client_on, owner.user.email)
    response = browser.post(
        "/v1/tokens",
        json={
            "name": "old",
            "scopes": ["audit.read"],
            "expires_at": (T0 - timedelta(seconds=1)).isoformat(),
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("expires_at", "validation.in_past")
    ]


# --- sign-in throttling ------------------------------------------------------------------


def test_login_is_rate_limited(box: Container, owner, client_on, clock: FrozenClock) -> None:
    browser = client_on(box)
    for _ in range(3):  # login_max_failures
        assert _login(browser, owner.user.email, "wrong password!").status_code == 401
    blocked = _login(browser, owner.user.email)  # even the right password
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "auth.rate_limited"
    assert blocked.headers["Retry-After"] == "601"
    assert "set-cookie" not in blocked.headers

    clock.advance(timedelta(seconds=300))
    still = _login(browser, owner.user.email)
    assert (still.status_code, still.headers["Retry-After"]) == (429, "301")
    with box.session_factory() as session:  # blocked attempts are not counted
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 3

    clock.advance(timedelta(seconds=301))  # the window has passed
    assert _login(browser, owner.user.email).status_code == 200


def test_the_throttle_counts_per_address_too(box: Container, owner, staff_on, client_on) -> None:
    other = staff_on(box, "analyst")
    browser = client_on(box)
    for _ in range(3):
        _login(browser, "someone@example.com", "guessing password")
    # same client address, another account: blocked as well
    assert _login(browser, other.user.email).status_code == 429


# --- owners and deactivation -------------------------------------------------------------


def test_the_last_owner_cannot_be_demoted_or_deactivated(box: Container, owner, client_on) -> None:
    client = client_on(box, owner.token)
    for change in ({"role": "admin"}, {"is_active": False}):
        response = client.patch(f"/v1/users/{owner.user.id}", json=change)
        assert (response.status_code, response.json()["code"]) == (409, "access.last_owner")
    with box.session_factory() as session:
        user = session.get(User, owner.user.id)
        assert user is not None
        assert (user.role, user.is_active) == ("owner", True)


def test_an_owner_can_be_demoted_while_another_remains(
    box: Container, owner, staff_on, client_on
) -> None:
    second = staff_on(box, "owner")
    client = client_on(box, owner.token)
    assert client.patch(f"/v1/users/{second.user.id}", json={"role": "admin"}).status_code == 200
    # now the owner is alone again
    response = client.patch(f"/v1/users/{owner.user.id}", json={"role": "admin"})
    assert response.json()["code"] == "access.last_owner"


def test_deactivating_a_user_ends_their_sessions_and_tokens(
    box: Container, owner, staff_on, client_on
) -> None:
    admin = staff_on(box, "admin")
    browser, _ = _signed_in(box, client_on, admin.user.email)
    token_client = client_on(box, admin.token)
    assert browser.get("/v1/auth/me").status_code == 200
    client = client_on(box, owner.token)
    assert client.patch(f"/v1/users/{admin.user.id}", json={"is_active": False}).status_code == 200
    with box.session_factory() as session:
        revoked = session.scalars(
            select(ConsoleSession.revoked_at).where(ConsoleSession.user_id == admin.user.id)
        ).all()
    assert revoked == [T0]
    assert browser.get("/v1/auth/me").status_code == 401
    assert token_client.get("/v1/auth/me").status_code == 401
    # and they cannot sign in again
    assert _login(client_on(box), admin.user.email).status_code == 401


def test_a_password_change_ends_sessions(box: Container, owner, staff_on, client_on) -> None:
    admin = staff_on(box, "admin")
    browser, _ = _signed_in(box, client_on, admin.user.email)
    client = client_on(box, owner.token)
    assert (
        client.patch(
            f"/v1/users/{admin.user.id}", json={"password": "a brand new pass"}
        ).status_code
        == 200
    )
    assert browser.get("/v1/auth/me").status_code == 401
    assert _login(client_on(box), admin.user.email, "a brand new pass").status_code == 200
