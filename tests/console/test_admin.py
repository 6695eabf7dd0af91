"""The admin pages: webhooks and their delivery log, the audit log, users, roles and tokens,
and the outbox's dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit import AuditEntry
from shopops.auth.models import ApiToken, ConsoleSession, User
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.console.views import admin as admin_views
from shopops.console.views.admin import MISSING
from shopops.contexts.webhooks.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from shopops.db.outbox import DeliveryStatus, OutboxDelivery, OutboxEvent
from shopops.kernel.time import FrozenClock
from tests.architecture.test_permission_matrix import _snapshot
from tests.conftest import StaffFactory
from tests.console.conftest import ConsoleClient, ConsoleFactory
from tests.console.markup import find, one, parse

NOW = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def container(make_container: Any, clock: FrozenClock) -> Container:
    # no inline outbox drain: a retried delivery stays queued where the test can see it
    return make_container(clock=clock, outbox_inline=False)


def count(container: Container, model: Any, *where: Any) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _ids(html: str, attribute: str) -> list[int]:
    return [int(e.attrs[attribute]) for e in parse(html).having(attribute)]


# --- webhooks ---------------------------------------------------------------------------


def _subscription(container: Container, console: ConsoleClient, url: str) -> int:
    response = console.post(
        "/console/webhooks", {"url": url, "event_types": ["order.paid", "refund.issued"]}
    )
    assert response.status_code == 200, response.text[:500]
    with container.session_factory() as session:
        return int(
            session.scalars(
                select(WebhookSubscription.id).where(WebhookSubscription.url == url)
            ).one()
        )


def test_webhooks_page_empty_then_created_with_the_secret_shown_once(
    owner_console: ConsoleClient, container: Container
) -> None:
    empty = owner_console.get("/console/webhooks")
    assert empty.status_code == 200
    assert "No webhook subscriptions yet." in empty.text
    created = owner_console.post(
        "/console/webhooks",
        {
            "url": " https://hooks.example.com/shop ",
            "description": "ERP",
            "event_types": ["refund.issued", "order.paid"],
        },
    )
    assert created.status_code == 200
    secret = one(created.text, data_secret="").text
    assert secret.startswith("whsec_")
    with container.session_factory() as session:
        row = session.scalars(select(WebhookSubscription)).one()
        assert (row.url, row.description, row.event_types, row.is_active) == (
            "https://hooks.example.com/shop",
            "ERP",
            ["order.paid", "refund.issued"],
            True,
        )
        assert container.pii.decrypt(row.secret_encrypted) == secret
    listed = one(created.text, "tr", data_subscription=str(row.id))
    assert "https://hooks.example.com/shop" in listed.text
    assert [c.text for c in listed.find("code")] == ["order.paid", "refund.issued"]
    # later visits never show the secret again
    again = owner_console.get("/console/webhooks")
    assert secret not in again.text
    assert not find(again.text, data_secret="")


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"url": "", "event_types": ["order.paid"]}, "url", "This field is required."),
        (
            {"url": "not a url", "event_types": ["order.paid"]},
            "url",
            "Enter an absolute http or https URL.",
        ),
        (
            {"url": "ftp://files.example.com/in", "event_types": ["order.paid"]},
            "url",
            "Only http and https URLs are allowed.",
        ),
        (
            {"url": "https://user:pw@example.com/h", "event_types": ["order.paid"]},
            "url",
            "Do not put a user name or password in the URL.",
        ),
        ({"url": "https://example.com/h"}, "event_types", "Choose at least one event type."),
        (
            {"url": "https://example.com/h", "event_types": ["order.paid", "order.exploded"]},
            "event_types",
            "Choose event types from the list.",
        ),
        (
            {"url": "https://example.com/h", "event_types": ["*"], "description": "x" * 501},
            "description",
            "Write a description of at most 500 characters.",
        ),
    ],
)
def test_an_invalid_subscription_is_explained_and_nothing_is_created(
    owner_console: ConsoleClient,
    container: Container,
    form: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = _snapshot(container)
    response = owner_console.post("/console/webhooks", form)
    assert response.status_code == 422
    page = parse(response.text)
    assert page.one(data_field=field).text == message
    assert "<html" not in response.text  # the htmx body, with what was typed kept
    assert page.one("input", name="url").attrs["value"] == form["url"]
    assert not page.find(data_secret="")
    assert _snapshot(container) == before


def test_disable_enable_and_delete_a_subscription(
    owner_console: ConsoleClient, container: Container
) -> None:
    sub = _subscription(container, owner_console, "https://a.example.com/h")
    disabled = owner_console.post(f"/console/webhooks/{sub}/disable")
    assert disabled.status_code == 200
    assert one(disabled.text, "tr", data_subscription=str(sub)).one(data_status="disabled")
    assert one(disabled.text, data_notice="").text == "Subscription disabled."
    assert count(container, WebhookSubscription, WebhookSubscription.is_active.is_(False)) == 1
    enabled = owner_console.post(f"/console/webhooks/{sub}/enable")
    assert one(enabled.text, "tr", data_subscription=str(sub)).one(data_status="active")
    assert count(container, WebhookSubscription, WebhookSubscription.is_active.is_(True)) == 1
    form = one(enabled.text, "form", hx_post=f"/console/webhooks/{sub}/delete")
    assert "Delete the subscription to https://a.example.com/h" in form.attrs["hx-confirm"]
    deleted = owner_console.post(f"/console/webhooks/{sub}/delete")
    assert deleted.status_code == 200
    assert one(deleted.text, data_notice="").text == "Subscription deleted."
    assert count(container, WebhookSubscription) == 0
    # a plain form post (no JavaScript) is sent back to the page
    again = _subscription(container, owner_console, "https://b.example.com/h")
    plain = owner_console.client.post(
        f"/console/webhooks/{again}/disable",
        data={"csrf_token": owner_console.csrf},
        follow_redirects=False,
    )
    assert (plain.status_code, plain.headers["location"]) == (303, "/console/webhooks")
    assert count(container, WebhookSubscription, WebhookSubscription.is_active.is_(False)) == 1
    missing = owner_console.post("/console/webhooks/999/delete")
    assert missing.status_code == 404
    assert "This webhook subscription does not exist." in missing.text


def _message(
    container: Container, subscription_id: int, status: str, attempts: list[dict[str, Any]]
) -> int:
    with container.session_factory() as session, session.begin():
        message = WebhookMessage(
            subscription_id=subscription_id,
            event_id=None,
            webhook_id=f"msg_test_{status}_{len(attempts)}",
            event_type="order.paid",
            body=json.dumps({"type": "order.paid", "data": {}}),
            status=status,
            attempts=len(attempts),
            total_attempts=len(attempts),
            next_attempt_at=NOW,
            last_response_status=attempts[-1].get("response_status") if attempts else None,
            last_error=attempts[-1].get("error") if attempts else None,
            delivered_at=NOW if status == "delivered" else None,
            created_at=NOW - timedelta(hours=3),
        )
        session.add(message)
        session.flush()
        for number, attempt in enumerate(attempts, start=1):
            session.add(
                WebhookAttempt(
                    message_id=message.id,
                    number=number,
                    worker="w1",
                    url="https://a.example.com/h",
                    outcome=attempt["outcome"],
                    started_at=NOW - timedelta(hours=3) + timedelta(minutes=number),
                    finished_at=NOW - timedelta(hours=3) + timedelta(minutes=number),
                    duration_ms=120,
                    response_status=attempt.get("response_status"),
                    error=attempt.get("error"),
                )
            )
        return int(message.id)


def test_the_delivery_log_shows_every_attempt_and_retries_a_failed_message(
    owner_console: ConsoleClient, container: Container
) -> None:
    sub = _subscription(container, owner_console, "https://a.example.com/h")
    empty = owner_console.get(f"/console/webhooks/{sub}")
    assert empty.status_code == 200
    assert "Nothing has been sent to this subscription yet." in empty.text
    delivered = _message(
        container, sub, "delivered", [{"outcome": "succeeded", "response_status": 204}]
    )
    failed = _message(
        container,
        sub,
        "failed",
        [
            {"outcome": "failed", "response_status": 503, "error": "HTTP 503"},
            {"outcome": "failed", "error": "connection refused"},
        ],
    )
    page = owner_console.get(f"/console/webhooks/{sub}")
    assert page.status_code == 200
    assert _ids(page.text, "data-message") == [failed, delivered]
    attempts = one(page.text, "tr", data_attempts_of=str(failed)).find("tr", data_attempt="1")
    assert attempts[0].cells()[:4] == ["1", "Failed", "503", "HTTP 503"]
    second = one(page.text, "tr", data_attempts_of=str(failed)).one("tr", data_attempt="2")
    assert second.cells()[:4] == ["2", "Failed", MISSING, "connection refused"]
    assert one(page.text, "tr", data_attempts_of=str(delivered)).one(
        "tr", data_attempt="1"
    ).cells()[:3] == ["1", "Succeeded", "204"]
    # only the failed message offers a retry
    assert find(page.text, "form", hx_post=f"/console/webhooks/messages/{failed}/retry")
    assert not find(page.text, "form", hx_post=f"/console/webhooks/messages/{delivered}/retry")
    only_failed = owner_console.get(f"/console/webhooks/{sub}?status=failed")
    assert _ids(only_failed.text, "data-message") == [failed]
    retried = owner_console.post(f"/console/webhooks/messages/{failed}/retry")
    assert retried.status_code == 200
    assert one(retried.text, data_notice="").text == "The delivery is queued again."
    with container.session_factory() as session:
        row = session.get(WebhookMessage, failed)
        assert row is not None
        assert (row.status, row.attempts, row.total_attempts) == ("pending", 0, 2)
    assert one(retried.text, "tr", data_message=str(failed)).attrs["data-status"] == "pending"
    bad = owner_console.get(f"/console/webhooks/{sub}?status=lost")
    assert bad.status_code == 422
    assert one(bad.text, data_field="status").text == "This value is not valid."
    missing = owner_console.get("/console/webhooks/999")
    assert missing.status_code == 404


def test_webhooks_need_webhooks_manage(
    console_as: ConsoleFactory, owner_console: ConsoleClient, container: Container
) -> None:
    sub = _subscription(container, owner_console, "https://a.example.com/h")
    failed = _message(container, sub, "failed", [{"outcome": "failed", "error": "timeout"}])
    for role in (Role.FINANCE, Role.ANALYST, Role.WAREHOUSE):
        console = console_as(role)
        before = _snapshot(container)
        for method, url, data in (
            ("GET", "/console/webhooks", None),
            ("GET", f"/console/webhooks/{sub}", None),
            ("POST", "/console/webhooks", {"url": "https://x.example.com", "event_types": ["*"]}),
            ("POST", f"/console/webhooks/{sub}/disable", None),
            ("POST", f"/console/webhooks/{sub}/delete", None),
            ("POST", f"/console/webhooks/messages/{failed}/retry", None),
        ):
            response = console.get(url) if method == "GET" else console.post(url, data)
            assert response.status_code == 403, (role, url)
            assert 'data-code="auth.permission_denied"' in response.text
        assert _snapshot(container) == before
    ops = console_as(Role.OPS_MANAGER)
    assert ops.get("/console/webhooks").status_code == 200


# --- audit ------------------------------------------------------------------------------


def _audit(container: Container, *entries: dict[str, Any]) -> list[int]:
    with container.session_factory() as session, session.begin():
        rows = [
            AuditEntry(
                occurred_at=e["at"],
                actor_kind=e.get("kind", "user"),
                actor_id=e.get("actor_id"),
                actor_name=e["actor"],
                action=e["action"],
                entity_type=e["type"],
                entity_id=e["id"],
                changes=e.get("changes", {}),
                request_id=None,
            )
            for e in entries
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


@pytest.fixture
def trail(container: Container) -> list[int]:
    return _audit(
        container,
        {
            "at": datetime(2026, 3, 1, 10, tzinfo=UTC),
            "actor": "ana@staff.example.com",
            "action": "user.changed",
            "type": "user",
            "id": "7",
            "changes": {"role": {"before": "analyst", "after": "finance"}},
        },
        {
            "at": datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
            "actor": "ana@staff.example.com/reporting",
            "kind": "token",
            "action": "webhooks.subscription_created",
            "type": "webhook_subscription",
            "id": "3",
            "changes": {
                "event_types": {"before": None, "after": ["order.paid", "refund.issued"]},
                "is_active": {"before": None, "after": True},
                "url": {"before": None, "after": "https://hooks.example.com"},
            },
        },
        {
            "at": datetime(2026, 3, 5, 8, tzinfo=UTC),
            "actor": "outbox:loyalty",
            "kind": "system",
            "action": "loyalty.points_accrued",
            "type": "customer",
            "id": "7",
            "changes": {
                "points": {"before": 10, "after": 35},
                "tier": {"before": {"name": "silver"}, "after": {"name": "gold"}},
            },
        },
    )


def test_the_audit_log_shows_changes_readably(trail: list[int], console_as: ConsoleFactory) -> None:
    finance = console_as(Role.FINANCE)
    response = finance.get("/console/audit?to=2026-03-31")
    assert response.status_code == 200
    assert _ids(response.text, "data-entry") == [trail[2], trail[1], trail[0]]
    first = one(response.text, "tr", data_entry=str(trail[0]))
    assert first.one("tr", data_field_name="role").cells() == ["role", "analyst", "finance"]
    created = one(response.text, "tr", data_entry=str(trail[1]))
    assert created.one("tr", data_field_name="event_types").cells() == [
        "event_types",
        MISSING,
        "order.paid, refund.issued",
    ]
    assert created.one("tr", data_field_name="is_active").cells() == ["is_active", MISSING, "true"]
    accrued = one(response.text, "tr", data_entry=str(trail[2]))
    assert accrued.one("tr", data_field_name="points").cells() == ["points", "10", "35"]
    assert accrued.one("tr", data_field_name="tier").cells() == [
        "tier",
        '{"name": "silver"}',
        '{"name": "gold"}',
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("entity_type=user", [0]),
        ("entity_type=customer&entity_id=7", [2]),
        ("entity_id=7", [2, 0]),
        ("actor=ana@staff.example.com", [1, 0]),  # her own actions and her tokens'
        ("actor=system", [2]),
        ("from=2026-03-02&to=2026-03-02", [1]),  # 23:30 UTC is still the 2nd in UTC
        ("from=2026-03-03&to=2026-03-31", [2]),
        ("entity_type=order", []),
    ],
)
def test_audit_filters(
    trail: list[int], console_as: ConsoleFactory, query: str, expected: list[int]
) -> None:
    # (signing staff in writes audit entries too: today's, which "to" leaves out)
    if "to=" not in query:
        query += "&to=2026-03-31"
    response = console_as(Role.FINANCE).get(
        f"/console/audit?{query}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert _ids(response.text, "data-entry") == [trail[i] for i in expected]
    if not expected:
        assert "No audit entries match these filters." in response.text


def test_audit_days_follow_the_store_time_zone(
    make_container: Any, clock: FrozenClock, make_staff: StaffFactory
) -> None:
    from shopops.console.views.admin import AuditFilter, read_audit

    shanghai = make_container(clock=clock, store_timezone="Asia/Shanghai")
    ids = _audit(
        shanghai,
        {
            "at": datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
            "actor": "a",
            "action": "x",
            "type": "t",
            "id": "1",
        },
    )
    with shanghai.session_factory() as session:
        page = read_audit(
            session,
            AuditFilter(first=datetime(2026, 3, 3).date(), last=datetime(2026, 3, 3).date()),
            timezone="Asia/Shanghai",
        )
        assert [r.entry.id for r in page.rows] == ids  # 07:30 on the 3rd in Shanghai


def test_audit_pages_newest_first(
    trail: list[int], console_as: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    finance = console_as(Role.FINANCE)
    first = finance.get("/console/audit?to=2026-03-31")
    assert _ids(first.text, "data-entry") == [trail[2], trail[1]]
    older = one(first.text, "nav", aria_label="Audit pages").find("a")[-1].attrs["href"]
    assert older.endswith(f"&before={trail[1]}")
    assert "to=2026-03-31" in older
    second = finance.get(older)
    assert _ids(second.text, "data-entry") == [trail[0]]
    assert [a.text for a in one(second.text, "nav", aria_label="Audit pages").find("a")] == [
        "← Newest"
    ]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01", "from", "Enter a valid date (YYYY-MM-DD)."),
        ("to=soon", "to", "Enter a valid date (YYYY-MM-DD)."),
        ("from=2026-03-05&to=2026-03-01", "to", "The start must be before the end."),
        ("before=abc", "before", "Enter a whole number."),
    ],
)
def test_bad_audit_filters_are_explained(
    trail: list[int],
    console_as: ConsoleFactory,
    container: Container,
    query: str,
    field: str,
    message: str,
) -> None:
    finance = console_as(Role.FINANCE)
    before = _snapshot(container)
    response = finance.get(f"/console/audit?{query}")
    assert response.status_code == 422
    assert one(response.text, data_field=field).text == message
    if field in {"from", "to"}:
        assert one(response.text, "input", name=field).attrs["aria-invalid"] == "true"
    assert _snapshot(container) == before


def test_the_audit_log_needs_audit_read(console_as: ConsoleFactory) -> None:
    for role in (Role.WAREHOUSE, Role.ANALYST, Role.CS_AGENT, Role.MARKETING):
        response = console_as(role).get("/console/audit")
        assert response.status_code == 403, role
        assert 'data-code="auth.permission_denied"' in response.text
    assert console_as(Role.OPS_MANAGER).get("/console/audit").status_code == 200


# --- users, roles, tokens ---------------------------------------------------------------


def _user(container: Container, email: str) -> User:
    with container.session_factory() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


def test_users_page_lists_staff_roles_and_tokens(
    owner_console: ConsoleClient, make_staff: StaffFactory, container: Container
) -> None:
    analyst = make_staff(Role.ANALYST)
    response = owner_console.get("/console/users")
    assert response.status_code == 200
    row = one(response.text, "tr", data_user=str(analyst.user.id))
    assert (row.attrs["data-role"], row.attrs["data-active"]) == ("analyst", "true")
    assert analyst.user.email in row.text
    assert row.one("option", selected="").text == "Analyst"
    refund = one(response.text, "tr", data_permission="payments.refund")
    granted = [c.attrs["data-role"] for c in refund.find("td") if "✓" in c.text]
    assert granted == ["owner", "admin", "finance"]
    assert len(find(response.text, "tr", data_permission="catalog.read")[0].find("td")) == 8
    tokens = parse(response.text).having("data-token")
    assert len(tokens) == 2  # one per staff member (see make_staff)
    assert any(analyst.user.email in t.text for t in tokens)


def test_create_a_user(owner_console: ConsoleClient, container: Container) -> None:
    response = owner_console.post(
        "/console/users",
        {
            "email": "Mei@Staff.example.com",
            "full_name": "Mei Chen",
            "role": "warehouse",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 200
    assert one(response.text, data_notice="").text == "User mei@staff.example.com created."
    user = _user(container, "mei@staff.example.com")
    assert (user.full_name, user.role, user.is_active) == ("Mei Chen", "warehouse", True)
    assert one(response.text, "tr", data_user=str(user.id)).attrs["data-role"] == "warehouse"
    assert "a long enough password" not in response.text


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"email": "", "full_name": "A", "role": "analyst", "password": "x" * 12},
            "email",
            "This field is required.",
        ),
        (
            {"email": "nope", "full_name": "A", "role": "analyst", "password": "x" * 12},
            "email",
            "Enter a valid e-mail address.",
        ),
        (
            {"email": "a@b.example", "full_name": " ", "role": "analyst", "password": "x" * 12},
            "full_name",
            "This field is required.",
        ),
        (
            {"email": "a@b.example", "full_name": "A", "role": "", "password": "x" * 12},
            "role",
            "This field is required.",
        ),
        (
            {"email": "a@b.example", "full_name": "A", "role": "emperor", "password": "x" * 12},
            "role",
            "Choose one of the roles.",
        ),
        (
            {"email": "a@b.example", "full_name": "A", "role": "analyst", "password": "short"},
            "password",
            "The password needs at least 10 characters.",
        ),
        (
            {
                "email": "owner1@staff.example.com",
                "full_name": "A",
                "role": "analyst",
                "password": "x" * 12,
            },
            "email",
            "A user with this e-mail already exists.",
        ),
    ],
)
def test_an_invalid_user_is_explained_and_nothing_is_created(
    owner_console: ConsoleClient,
    container: Container,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = _snapshot(container)
    response = owner_console.post("/console/users", form)
    assert response.status_code == 422
    page = parse(response.text)
    assert page.one(data_field=field).text == message
    assert page.one("input", name="email").attrs["value"] == form["email"]
    assert page.one("input", name="password").attrs["value"] == ""
    assert _snapshot(container) == before


def test_change_role_deactivate_and_reactivate(
    owner_console: ConsoleClient, console_as: ConsoleFactory, container: Container
) -> None:
    analyst = console_as(Role.ANALYST)
    user = _user(container, analyst.email)
    changed = owner_console.post(f"/console/users/{user.id}/role", {"role": "finance"})
    assert changed.status_code == 200
    assert one(changed.text, data_notice="").text == "The role is changed."
    assert _user(container, analyst.email).role == "finance"
    assert one(changed.text, "tr", data_user=str(user.id)).attrs["data-role"] == "finance"
    # an unknown role is explained beside that row's menu, and nothing changes
    before = _snapshot(container)
    bad = owner_console.post(f"/console/users/{user.id}/role", {"role": "emperor"})
    assert bad.status_code == 422
    row = one(bad.text, "tr", data_user=str(user.id))
    assert row.one(data_field="role").text == "Choose one of the roles."
    assert _snapshot(container) == before
    form = one(changed.text, "form", hx_post=f"/console/users/{user.id}/deactivate")
    assert analyst.email in form.attrs["hx-confirm"]
    deactivated = owner_console.post(f"/console/users/{user.id}/deactivate")
    assert deactivated.status_code == 200
    assert one(deactivated.text, "tr", data_user=str(user.id)).attrs["data-active"] == "false"
    assert _user(container, analyst.email).is_active is False
    # their open session ends at once
    assert (
        count(
            container,
            ConsoleSession,
            ConsoleSession.user_id == user.id,
            ConsoleSession.revoked_at.is_(None),
        )
        == 0
    )
    assert analyst.get("/console/finance", follow_redirects=False).status_code == 303
    reactivated = owner_console.post(f"/console/users/{user.id}/reactivate")
    assert reactivated.status_code == 200
    assert _user(container, analyst.email).is_active is True
    assert one(reactivated.text, data_notice="").text == "The user is active again."


def test_the_last_owner_and_yourself_cannot_be_locked_out(
    console_as: ConsoleFactory, container: Container
) -> None:
    owner = console_as(Role.OWNER)
    admin = console_as(Role.ADMIN)
    owner_user = _user(container, owner.email)
    before = _snapshot(container)
    demoted = admin.post(f"/console/users/{owner_user.id}/role", {"role": "analyst"})
    assert demoted.status_code == 409
    assert "The last active owner cannot be demoted or deactivated." in demoted.text
    assert demoted.headers["HX-Retarget"] == "#flash"
    myself = owner.post(f"/console/users/{owner_user.id}/deactivate")
    assert myself.status_code == 409
    assert "You cannot deactivate your own account." in myself.text
    assert _snapshot(container) == before
    page = owner.get("/console/users")
    own_row = one(page.text, "tr", data_user=str(owner_user.id))
    assert not own_row.find("form", hx_post=f"/console/users/{owner_user.id}/deactivate")


def test_revoke_an_api_token(
    owner_console: ConsoleClient, make_staff: StaffFactory, container: Container
) -> None:
    analyst = make_staff(Role.ANALYST)
    with container.session_factory() as session:
        token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == analyst.user.id)
        ).one()
    page = owner_console.get("/console/users")
    form = one(page.text, "form", hx_post=f"/console/tokens/{token_id}/revoke")
    assert "Revoke the token test?" in form.attrs["hx-confirm"]
    revoked = owner_console.post(f"/console/tokens/{token_id}/revoke")
    assert revoked.status_code == 200
    assert one(revoked.text, data_notice="").text == "The token is revoked."
    assert "Revoked" in one(revoked.text, "tr", data_token=str(token_id)).text
    with container.session_factory() as session:
        token = session.get(ApiToken, token_id)
        assert token is not None
        assert token.revoked_at == NOW


def test_users_and_tokens_need_their_permissions(
    console_as: ConsoleFactory, make_staff: StaffFactory, container: Container
) -> None:
    analyst = make_staff(Role.ANALYST)
    for role in (Role.OPS_MANAGER, Role.FINANCE, Role.WAREHOUSE):
        console = console_as(role)
        before = _snapshot(container)
        for method, url, data in (
            ("GET", "/console/users", None),
            (
                "POST",
                "/console/users",
                {"email": "x@y.example", "full_name": "X", "role": "owner", "password": "x" * 12},
            ),
            ("POST", f"/console/users/{analyst.user.id}/role", {"role": "owner"}),
            ("POST", f"/console/users/{analyst.user.id}/deactivate", None),
            ("POST", "/console/tokens/1/revoke", None),
        ):
            response = console.get(url) if method == "GET" else console.post(url, data)
            assert response.status_code == 403, (role, url)
            assert 'data-code="auth.permission_denied"' in response.text
        assert _snapshot(container) == before


# --- dead letters -----------------------------------------------------------------------


def _dead_letter(
    container: Container, *, status: str = DeliveryStatus.DEAD, error: str = "boom"
) -> int:
    with container.session_factory() as session, session.begin():
        event = OutboxEvent(
            event_type="order.paid",
            aggregate_type="order",
            aggregate_id="42",
            payload={"order_id": 42},
            actor="system:test",
            occurred_at=NOW - timedelta(days=1),
        )
        session.add(event)
        session.flush()
        delivery = OutboxDelivery(
            event_id=event.id,
            handler="loyalty.accrue",
            status=status,
            attempts=3,
            next_attempt_at=NOW - timedelta(hours=20),
            last_error=error,
        )
        session.add(delivery)
        session.flush()
        return int(delivery.id)


def test_dead_letters_listed_and_retried(console_as: ConsoleFactory, container: Container) -> None:
    ops = console_as(Role.OPS_MANAGER)
    empty = ops.get("/console/dead-letters")
    assert empty.status_code == 200
    assert "No dead letters" in empty.text
    long_error = "Traceback: " + "x" * 300
    dead = _dead_letter(container, error=long_error)
    other = _dead_letter(container, error="LookupError: no handler")
    page = ops.get("/console/dead-letters")
    assert _ids(page.text, "data-delivery") == [dead, other]
    row = one(page.text, "tr", data_delivery=str(dead))
    cells = row.cells()
    assert cells[0] == "order.paid order 42"
    assert cells[1:3] == ["loyalty.accrue", "3"]
    assert long_error in row.one("pre").text
    assert "loyalty.accrue" in row.one("form").attrs["hx-confirm"]
    retried = ops.post(f"/console/dead-letters/{dead}/retry")
    assert retried.status_code == 200
    assert one(retried.text, data_notice="").text == "The delivery is queued again."
    assert _ids(retried.text, "data-delivery") == [other]
    with container.session_factory() as session:
        delivery = session.get(OutboxDelivery, dead)
        assert delivery is not None
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("pending", 0, NOW)
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "outbox.dead_letter_retried")
            )
            == 1
        )
    # retrying it again is refused: it is no longer a dead letter
    before = _snapshot(container)
    again = ops.post(f"/console/dead-letters/{dead}/retry")
    assert again.status_code == 409
    assert "Only dead letters can be retried" in again.text
    assert ops.post("/console/dead-letters/999/retry").status_code == 404
    assert _snapshot(container) == before


def test_dead_letters_page(
    console_as: ConsoleFactory, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_views, "PAGE_SIZE", 2)
    ids = [_dead_letter(container) for _ in range(3)]
    owner = console_as(Role.OWNER)
    first = owner.get("/console/dead-letters")
    assert _ids(first.text, "data-delivery") == ids[:2]
    second = owner.get(f"/console/dead-letters?after={ids[1]}", headers={"HX-Request": "true"})
    assert _ids(second.text, "data-delivery") == ids[2:]
    bad = owner.get("/console/dead-letters?after=-4")
    assert bad.status_code == 422
    assert one(bad.text, data_field="after").text == "Enter a number greater than zero."


def test_dead_letters_need_outbox_permissions(
    console_as: ConsoleFactory, container: Container
) -> None:
    dead = _dead_letter(container)
    for role in (Role.FINANCE, Role.ANALYST, Role.WAREHOUSE, Role.CS_AGENT):
        console = console_as(role)
        before = _snapshot(container)
        assert console.get("/console/dead-letters").status_code == 403
        response = console.post(f"/console/dead-letters/{dead}/retry")
        assert response.status_code == 403
        assert 'data-code="auth.permission_denied"' in response.text
        assert _snapshot(container) == before
