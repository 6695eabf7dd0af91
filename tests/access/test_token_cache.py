"""Bearer tokens are remembered per process for SHOPOPS_API_TOKEN_CACHE_SECONDS.

Changes committed through the same process take effect at once (here and in
test_access.py: a revoked token, a changed role, an expired token); a change made
elsewhere — another worker process, the CLI, here a direct database update — within
the TTL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from shopops.auth.models import ApiToken, User
from shopops.auth.principal import actor_for_user
from shopops.auth.token_cache import TokenCache
from shopops.bootstrap import Container
from shopops.contexts import access
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _revoke_elsewhere(container: Container, token_id: int) -> None:
    """What another process (or `shopops staff revoke-token`) does: only the database knows."""
    with container.session_factory() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=T0))
        session.commit()


def _token_id(container: Container, user_id: int) -> int:
    with container.session_factory() as session:
        token = session.query(ApiToken).filter(ApiToken.user_id == user_id).one()
        return token.id


def _token_queries(container: Container) -> list[str]:
    seen: list[str] = []

    @event.listens_for(container.engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "api_tokens" in statement:
            seen.append(statement)

    return seen


def test_a_checked_token_is_not_read_again_within_the_ttl(
    make_container, staff_on, client_on
) -> None:
    box = make_container(clock=FrozenClock(T0), api_token_cache_seconds=30)
    owner = staff_on(box, "owner")
    queries = _token_queries(box)
    client = client_on(box, owner.token)
    for _ in range(3):
        assert client.get("/v1/auth/me").status_code == 200
    assert len([q for q in queries if q.lstrip().upper().startswith("SELECT")]) == 1


def test_a_revocation_elsewhere_takes_effect_when_the_ttl_has_passed(
    make_container, staff_on, client_on
) -> None:
    box = make_container(clock=FrozenClock(T0), api_token_cache_seconds=30)
    ticker = Ticker()
    box.token_cache = TokenCache(30, monotonic=ticker)
    owner = staff_on(box, "owner")
    client = client_on(box, owner.token)
    assert client.get("/v1/auth/me").status_code == 200
    _revoke_elsewhere(box, _token_id(box, owner.user.id))
    ticker.now += 29
    assert client.get("/v1/auth/me").status_code == 200  # still trusted by this process
    ticker.now += 1
    refused = client.get("/v1/auth/me")
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")
    assert len(box.token_cache) == 0


def test_without_a_cache_a_revocation_elsewhere_takes_effect_at_once(
    make_container, staff_on, client_on
) -> None:
    box = make_container(clock=FrozenClock(T0), api_token_cache_seconds=0)
    assert not box.token_cache.enabled
    owner = staff_on(box, "owner")
    client = client_on(box, owner.token)
    assert client.get("/v1/auth/me").status_code == 200
    _revoke_elsewhere(box, _token_id(box, owner.user.id))
    refused = client.get("/v1/auth/me")
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")


def test_a_user_deactivated_in_this_process_is_refused_at_once(
    make_container, staff_on, client_on
) -> None:
    box = make_container(clock=FrozenClock(T0), api_token_cache_seconds=300)
    owner = staff_on(box, "owner")
    admin = staff_on(box, "admin")
    client = client_on(box, admin.token)
    assert client.get("/v1/auth/me").status_code == 200
    owner_client = client_on(box, owner.token)
    changed = owner_client.patch(f"/v1/users/{admin.user.id}", json={"is_active": False})
    assert changed.status_code == 200, changed.text
    with box.session_factory() as session:
        assert session.get(User, admin.user.id).is_active is False  # type: ignore[union-attr]
    refused = client.get("/v1/auth/me")
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")


def test_a_revocation_committed_anywhere_in_this_process_takes_effect_at_once(
    make_container, staff_on, client_on
) -> None:
    """The console (or a job) revokes through the access service, not the API route."""
    box = make_container(clock=FrozenClock(T0), api_token_cache_seconds=300)
    owner = staff_on(box, "owner")
    client = client_on(box, owner.token)
    assert client.get("/v1/auth/me").status_code == 200
    assert len(box.token_cache) == 1
    with box.uow(actor_for_user(owner.user)) as uow:
        access.revoke_token(uow, _token_id(box, owner.user.id))
        uow.commit()
    assert len(box.token_cache) == 0
    refused = client.get("/v1/auth/me")
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")


def test_other_commits_keep_the_cache(make_container, staff_on, client_on) -> None:
    box = make_container(clock=FrozenClock(T0), api_token_cache_seconds=300)
    owner = staff_on(box, "owner")
    assert client_on(box, owner.token).get("/v1/auth/me").status_code == 200
    staff_on(box, "analyst")  # a new user and token: nothing cached changes
    assert len(box.token_cache) == 1


def test_the_cache_checks_expiry_and_forgets_what_it_cannot_keep() -> None:
    ticker = Ticker()
    cache = TokenCache(10, max_entries=2, monotonic=ticker)
    actor = Actor("token", 1, "a", frozenset({"orders.read"}))
    cache.put("d1", actor, 1, T0 + timedelta(minutes=5))
    cache.put("d2", actor, 2, None)
    assert cache.get("d1", T0) is not None
    assert cache.get("d1", T0 + timedelta(minutes=5)) is None  # the token itself expired
    assert cache.get("d1", T0) is None  # and it was forgotten
    cache.put("d3", actor, 3, None)
    cache.put("d4", actor, 4, None)  # full: starts over rather than growing
    assert (cache.get("d2", T0), len(cache)) == (None, 1)
    ticker.now += 10
    assert cache.get("d4", T0) is None
    disabled = TokenCache(0)
    disabled.put("d1", actor, 1, None)
    assert disabled.get("d1", T0) is None


@pytest.mark.parametrize("ttl", [-1, 301])
def test_the_ttl_is_bounded(make_container, ttl: float) -> None:
    with pytest.raises(ValueError, match="api_token_cache_seconds"):
        make_container(api_token_cache_seconds=ttl)
