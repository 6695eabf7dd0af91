"""Signing in and out of the console, session expiry, CSRF, and the language switch."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shopops.auth.models import ConsoleSession
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.console.site import create_site
from tests.conftest import TEST_PASSWORD
from tests.console.conftest import ConsoleClient, ConsoleFactory


def _client(container: Container) -> TestClient:
    return TestClient(create_site(container), base_url="http://testserver")


def test_pages_send_strangers_to_the_sign_in_page(container: Container) -> None:
    with _client(container) as client:
        response = client.get("/console/dashboard", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?next=/console/dashboard"
        htmx = client.get("/console/dashboard", headers={"HX-Request": "true"})
        assert htmx.headers["HX-Redirect"] == "/console/login?next=/console/dashboard"


def test_wrong_password_shows_a_message_and_sets_no_cookie(
    container: Container, make_staff
) -> None:
    staff = make_staff(Role.OWNER)
    with _client(container) as client:
        response = client.post(
            "/console/login", data={"email": staff.user.email, "password": "nope"}
        )
        assert response.status_code == 401
        assert "E-mail or password is incorrect." in response.text
        assert container.settings.session_cookie_name not in client.cookies


def test_sign_in_lands_on_the_first_page_the_role_may_see(console_as: ConsoleFactory) -> None:
    owner = console_as(Role.OWNER)
    assert owner.get("/console", follow_redirects=False).headers["location"] == "/console/dashboard"
    warehouse = console_as(Role.WAREHOUSE)
    assert (
        warehouse.get("/console", follow_redirects=False).headers["location"] == "/console/orders"
    )


def test_next_never_leaves_the_console(container: Container, make_staff) -> None:
    staff = make_staff(Role.OWNER)
    with _client(container) as client:
        response = client.post(
            "/console/login",
            data={"email": staff.user.email, "password": TEST_PASSWORD, "next": "//evil.example"},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/console"


def test_cross_site_sign_in_is_refused(container: Container, make_staff) -> None:
    staff = make_staff(Role.OWNER)
    with _client(container) as client:
        response = client.post(
            "/console/login",
            data={"email": staff.user.email, "password": TEST_PASSWORD},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert container.settings.session_cookie_name not in client.cookies


def test_sign_out_ends_the_session(owner_console: ConsoleClient, container: Container) -> None:
    response = owner_console.post("/console/logout", htmx=False, follow_redirects=False)
    assert response.status_code == 303
    with container.session_factory() as session:
        assert session.scalars(select(ConsoleSession.revoked_at)).one() is not None
    assert owner_console.get("/console/dashboard", follow_redirects=False).status_code == 303


def test_an_expired_session_asks_to_sign_in_again(
    owner_console: ConsoleClient, container: Container
) -> None:
    with container.engine.begin() as connection:
        connection.execute(
            update(ConsoleSession).values(expires_at=container.clock.now() - timedelta(minutes=1))
        )
    response = owner_console.get("/console/dashboard", follow_redirects=False)
    assert response.headers["location"] == "/console/login?next=/console/dashboard&expired=1"
    page = owner_console.get(response.headers["location"])
    assert "Your session has expired" in page.text


def test_a_tampered_csrf_token_is_refused(
    owner_console: ConsoleClient, container: Container
) -> None:
    response = owner_console.client.post(
        "/console/logout", headers={"X-CSRF-Token": owner_console.csrf + "x"}
    )
    assert response.status_code == 403
    assert 'data-code="auth.csrf_failed"' in response.text
    missing = owner_console.client.post("/console/logout", data={"csrf_token": ""})
    assert missing.status_code == 403
    with container.session_factory() as session:
        assert session.scalars(select(ConsoleSession.revoked_at)).one() is None


def test_the_form_field_carries_the_token_for_plain_posts(owner_console: ConsoleClient) -> None:
    response = owner_console.client.post(
        "/console/logout", data={"csrf_token": owner_console.csrf}, follow_redirects=False
    )
    assert response.status_code == 303


def test_the_language_switch_translates_the_interface(owner_console: ConsoleClient) -> None:
    page = owner_console.get("/console/language/zh_CN?next=/console/orders", follow_redirects=False)
    assert page.headers["location"] == "/console/orders"
    chinese = owner_console.get("/console/login")
    assert "登录 shopops" in chinese.text
    assert 'lang="zh-CN"' in chinese.text
    owner_console.get("/console/language/en")
    assert "Sign in to shopops" in owner_console.get("/console/login").text


def test_accept_language_picks_chinese_for_a_new_visitor(container: Container) -> None:
    with _client(container) as client:
        page = client.get("/console/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        assert "登录 shopops" in page.text
