"""Sends webhook messages: lease in one transaction, POST outside it, record in another.

A dispatcher leases due messages (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional UPDATE under SQLite's write lock) and writes an "in flight" row to
the delivery log for each, then commits. The requests go out in parallel with
no transaction open, signed per the Standard Webhooks specification. Each
outcome is recorded in a fresh transaction, and on the message only while this
worker still holds its lease: 2xx means delivered; anything else is retried on
the retry schedule until the message is dead (``failed``).

Delivery is at least once. A worker that dies mid-request leaves its messages
leased; when the lease expires another worker sends them again under the same
``webhook-id`` (and marks the orphaned attempt "abandoned"), so receivers
deduplicate by that header. The HTTP timeout is kept under half the lease, so a
live worker finishes its batch (sent in parallel) before its leases run out.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

import httpx
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from shopops import __version__
from shopops.contexts.webhooks import repository, rules
from shopops.contexts.webhooks.models import WebhookAttempt, WebhookSubscription
from shopops.contexts.webhooks.rules import AttemptOutcome, MessageStatus
from shopops.kernel.pii import PiiCipher
from shopops.kernel.time import Clock, SystemClock

log = logging.getLogger("shopops.webhooks")

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_CONCURRENCY = 8
USER_AGENT = f"shopops-webhooks/{__version__}"


@dataclass(frozen=True)
class LeasedMessage:
    message_id: int
    attempt_id: int
    attempt_number: int  # in the whole delivery log
    cycle_attempt: int  # since the message was queued or last retried by hand
    webhook_id: str
    url: str
    body: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryResult:
    message_id: int
    webhook_id: str
    status: str  # a MessageStatus, or "lease_lost" when another worker took the message over
    response_status: int | None
    error: str | None


def signature_headers(
    webhook_id: str, body: str, secrets: Sequence[str], moment: datetime
) -> dict[str, str]:
    """The three Standard Webhooks headers; one ``v1,`` signature per secret."""
    seconds = int(moment.timestamp())
    signed_at = datetime.fromtimestamp(seconds, UTC)
    signatures = [Webhook(secret).sign(webhook_id, signed_at, body) for secret in secrets]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": " ".join(signatures),
    }


class WebhookDispatcher:
    """``clock`` schedules (due times, leases, backoff); ``signing_clock`` stamps requests.

    They differ only in tests: receivers check ``webhook-timestamp`` against their own
    wall clock, so signatures always use the real time.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        pii: PiiCipher,
        *,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        timeout_seconds: float | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry_schedule: Sequence[timedelta] = rules.RETRY_SCHEDULE,
        jitter: float = 0.1,
        transport: httpx.BaseTransport | None = None,
        signing_clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        timeout = (
            min(DEFAULT_TIMEOUT_SECONDS, lease_seconds / 2)
            if timeout_seconds is None
            else timeout_seconds
        )
        if timeout >= lease_seconds:
            raise ValueError("the HTTP timeout must be shorter than the lease")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._session_factory = session_factory
        self._clock = clock
        self._signing_clock = signing_clock or SystemClock()
        self._pii = pii
        self.worker_id = worker_id or uuid.uuid4().hex[:16]
        self.lease = timedelta(seconds=lease_seconds)
        self.timeout_seconds = timeout
        self.concurrency = concurrency
        self.retry_schedule = tuple(retry_schedule)
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers={"user-agent": USER_AGENT},
        )
        self._executor: ThreadPoolExecutor | None = None

    @property
    def max_attempts(self) -> int:
        return len(self.retry_schedule) + 1

    # ---- leasing ----

    def claim(self, limit: int | None = None) -> list[LeasedMessage]:
        """Lease up to ``min(limit, concurrency)`` due messages and log their attempts."""
        size = min(limit or self.concurrency, self.concurrency)
        now = self._clock.now()
        with self._session_factory() as session, session.begin():
            ids = repository.lease_ready_messages(
                session, now=now, limit=size, owner=self.worker_id, lease_until=now + self.lease
            )
            if not ids:
                return []
            repository.abandon_unfinished_attempts(session, ids)
            leased = []
            for message, subscription in repository.load_leased(session, ids):
                attempt = WebhookAttempt(
                    message_id=message.id,
                    number=message.total_attempts,
                    worker=self.worker_id,
                    url=subscription.url,
                    outcome=AttemptOutcome.IN_FLIGHT,
                    started_at=now,
                )
                session.add(attempt)
                session.flush()
                leased.append(
                    LeasedMessage(
                        message_id=message.id,
                        attempt_id=attempt.id,
                        attempt_number=message.total_attempts,
                        cycle_attempt=message.attempts,
                        webhook_id=message.webhook_id,
                        url=subscription.url,
                        body=message.body,
                        secrets=self._secrets(subscription, now),
                    )
                )
        return leased

    def _secrets(self, subscription: WebhookSubscription, now: datetime) -> tuple[str, ...]:
        current = self._pii.decrypt(subscription.secret_encrypted)
        assert current is not None
        expires = subscription.previous_secret_expires_at
        if subscription.previous_secret_encrypted is None or expires is None or expires <= now:
            return (current,)
        previous = self._pii.decrypt(subscription.previous_secret_encrypted)
        return (current,) if previous is None else (current, previous)

    # ---- sending and recording ----

    def deliver(self, leased: LeasedMessage) -> DeliveryResult:
        """POST one leased message (no transaction open), then record the outcome."""
        headers = signature_headers(
            leased.webhook_id, leased.body, leased.secrets, self._signing_clock.now()
        )
        headers["content-type"] = "application/json"
        status_code: int | None = None
        excerpt: str | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            with self._client.stream(
                "POST", leased.url, content=leased.body.encode(), headers=headers
            ) as response:
                status_code = response.status_code
                excerpt = rules.excerpt(_read_some(response, rules.EXCERPT_BYTES))
        except httpx.TimeoutException as exc:
            error = f"timed out after {self.timeout_seconds:g}s ({type(exc).__name__})"
        except Exception as exc:  # any failure to talk to the receiver is a failed attempt
            error = f"{type(exc).__name__}: {exc}"[:2000]
        duration_ms = int((time.monotonic() - started) * 1000)
        if status_code is not None and not rules.is_success(status_code):
            error = f"receiver answered HTTP {status_code}"
        return self._record(leased, status_code, excerpt, error, duration_ms)

    def _record(
        self,
        leased: LeasedMessage,
        status_code: int | None,
        excerpt: str | None,
        error: str | None,
        duration_ms: int,
    ) -> DeliveryResult:
        now = self._clock.now()
        succeeded = status_code is not None and rules.is_success(status_code)
        with self._session_factory() as session, session.begin():
            repository.finish_attempt(
                session,
                leased.attempt_id,
                outcome=AttemptOutcome.SUCCEEDED if succeeded else AttemptOutcome.FAILED,
                finished_at=now,
                duration_ms=duration_ms,
                response_status=status_code,
                response_excerpt_encrypted=(
                    None if excerpt is None else self._pii.encrypt_bytes(excerpt.encode())
                ),
                error=error,
            )
            if succeeded:
                status = MessageStatus.DELIVERED
                values: dict[str, object] = {"status": status, "delivered_at": now}
            else:
                delay = rules.retry_delay(
                    leased.cycle_attempt, self.retry_schedule, jitter=self.jitter, rng=self._rng
                )
                status = MessageStatus.FAILED if delay is None else MessageStatus.PENDING
                values = {"status": status}
                if delay is not None:
                    values["next_attempt_at"] = now + delay
            settled = repository.settle_message(
                session,
                leased.message_id,
                self.worker_id,
                last_response_status=status_code,
                last_error=error,
                **values,
            )
        if not succeeded:
            log.warning("webhook %s to %s failed: %s", leased.webhook_id, leased.url, error)
        return DeliveryResult(
            leased.message_id,
            leased.webhook_id,
            status if settled else "lease_lost",
            status_code,
            error,
        )

    # ---- loops ----

    def dispatch(self, limit: int | None = None) -> list[DeliveryResult]:
        """Lease a batch and send it in parallel; returns each message's outcome."""
        leased = self.claim(limit)
        if len(leased) <= 1:
            return [self.deliver(message) for message in leased]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency, "webhook-dispatch")
        futures = [self._executor.submit(self.deliver, message) for message in leased]
        results = []
        for message, future in zip(leased, futures, strict=True):
            try:
                results.append(future.result())
            except Exception:  # the lease runs out and another attempt follows
                log.exception("recording webhook %s failed", message.webhook_id)
        return results

    def run_once(self, limit: int | None = None) -> int:
        """One round for ``shopops worker``: the number of messages sent."""
        return len(self.dispatch(limit))

    def drain(self, max_rounds: int = 100) -> list[DeliveryResult]:
        """Send until nothing is due (tests and one-off runs)."""
        results: list[DeliveryResult] = []
        for _ in range(max_rounds):
            batch = self.dispatch()
            if not batch:
                break
            results.extend(batch)
        return results

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._client.close()

    def __enter__(self) -> WebhookDispatcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _read_some(response: httpx.Response, limit: int) -> bytes:
    """At most about ``limit`` bytes of the body: a receiver cannot make us read a huge reply."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)
