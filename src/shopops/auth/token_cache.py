"""API token → actor, remembered for a few seconds per process.

Checking a bearer token reads the token and its user (one query). At checkout rates
that query costs as much as the work the request asks for, so each API process keeps
what it found for ``api_token_cache_seconds``:

* a token revoked, a user deactivated or a role changed **through this process** takes
  effect at once (``clear_on_access_changes``: any commit that changed a token or a
  user clears the cache);
* done elsewhere (another worker process, the CLI), it takes effect within the TTL;
* a token's own expiry is checked on every request, cached or not.

Only tokens that were valid are kept, under the SHA-256 digest of the secret (the
digest is what the database stores too; the secret itself is never kept).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from shopops.auth.models import ApiToken, User
from shopops.kernel.events import Actor


@dataclass(frozen=True, slots=True)
class CachedToken:
    actor: Actor
    token_id: int
    expires_at: datetime | None
    fresh_until: float  # on the cache's monotonic clock


class TokenCache:
    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, CachedToken] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def get(self, digest: str, now: datetime) -> CachedToken | None:
        """The actor for a token checked less than the TTL ago, unless it has expired."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.fresh_until <= self._monotonic() or (
            entry.expires_at is not None and entry.expires_at <= now
        ):
            with self._lock:
                if self._entries.get(digest) is entry:
                    del self._entries[digest]
            return None
        return entry

    def put(self, digest: str, actor: Actor, token_id: int, expires_at: datetime | None) -> None:
        if not self.enabled:
            return
        entry = CachedToken(actor, token_id, expires_at, self._monotonic() + self.ttl_seconds)
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()  # crude but bounded; refilled from the database
            self._entries[digest] = entry

    def clear(self) -> None:
        """Forget everything: access changed in this process (revocation, role, user)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def clear_on_access_changes(session_factory: sessionmaker[Session], cache: TokenCache) -> None:
    """Forget every cached token when a session of ``session_factory`` commits a change
    to a token or a user: a revocation, a deactivation or a role change made through
    this process (API, console, a job) then takes effect at once."""

    def before_flush(session: Session, _context: object, _instances: object) -> None:
        if any(isinstance(o, ApiToken | User) for o in (*session.dirty, *session.deleted)):
            session.info[_STALE] = True

    def after_commit(session: Session) -> None:
        if session.info.pop(_STALE, False):
            cache.clear()

    def after_rollback(session: Session) -> None:
        session.info.pop(_STALE, None)

    event.listen(session_factory, "before_flush", before_flush)
    event.listen(session_factory, "after_commit", after_commit)
    event.listen(session_factory, "after_rollback", after_rollback)


_STALE = "shopops.token_cache.stale"
