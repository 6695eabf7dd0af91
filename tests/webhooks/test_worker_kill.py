"""Kill `shopops worker` (SIGKILL) in the middle of a webhook batch; a new worker loses nothing.

The worker runs as its own OS process against the test database. The receiver is
slow and records each request before answering, so at the kill some requests
have reached it without their outcome being recorded. After the lease expires
the second worker sends those again under the same ``webhook-id``: every event
arrives at least once, and deduplicating by ``webhook-id`` gives exactly the set
of events.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shopops.bootstrap import Container
from tests.conftest import ContainerFactory
from tests.webhooks.conftest import OrderPlaced, attempts, emit, messages, subscribe
from tests.webhooks.receiver import Receiver

EVENTS = 50
LEASE_SECONDS = 3
WORKER = "from shopops.cli.main import run; run()"


def start_worker(
    container: Container, database_url: str, worker_id: str, logs: Path
) -> subprocess.Popen[bytes]:
    settings = container.settings
    env = {
        **os.environ,
        "SHOPOPS_ENV": "test",
        "SHOPOPS_DATABASE_URL": database_url,
        "SHOPOPS_SECRET_KEY": settings.secret_key,
        "SHOPOPS_PII_KEY": settings.pii_key,
        "SHOPOPS_OUTBOX_INLINE": "false",
        "SHOPOPS_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "SHOPOPS_WORKER_POLL_SECONDS": "0.05",
        "SHOPOPS_DATABASE_POOL_SIZE": "3",
    }
    with (logs / f"{worker_id}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, "worker", "--worker-id", worker_id, "--batch", "50"],
            env=env,
            cwd=logs,  # no stray .env file is read
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_loses_no_delivery_and_ids_deduplicate(
    make_container: ContainerFactory, database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    container = make_container(outbox_inline=False)  # the worker's relay does the fan-out
    subscription_id, secret = subscribe(container, receiver.url, "*")
    receiver.secret = secret
    receiver.delay = 0.2
    event_ids = emit(container, *(OrderPlaced(n) for n in range(1, EVENTS + 1)))
    expected = {f"msg_{event_id}_{subscription_id}" for event_id in event_ids}

    first = start_worker(container, database_url, "worker-1", tmp_path)
    try:
        assert receiver.when_received(12).wait(60), (tmp_path / "worker-1.log").read_text()
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()

    at_kill = messages(container)
    delivered_at_kill = [m for m in at_kill if m.status == "delivered"]
    stranded = [m for m in at_kill if m.lease_owner == "worker-1"]
    assert len(at_kill) == EVENTS
    assert 0 < len(delivered_at_kill) < EVENTS  # killed mid-batch
    assert stranded  # leased to the dead worker, outcome unknown

    second = start_worker(container, database_url, "worker-2", tmp_path)
    try:
        wait_for(
            lambda: all(m.status == "delivered" for m in messages(container)),
            60,
            "worker-2 to deliver the rest",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0, (tmp_path / "worker-2.log").read_text()
    finally:
        if second.poll() is None:
            second.kill()

    received = list(receiver.requests)
    assert all(r.verified for r in received)
    ids = [r.webhook_id for r in received]
    assert set(ids) == expected  # nothing lost, nothing foreign
    duplicates = len(ids) - len(set(ids))
    assert duplicates >= 1  # requests in flight at the kill were sent again...
    for request in received:  # ...as the very same message
        assert request.payload["data"]["order_id"] in range(1, EVENTS + 1)

    logs = {m.webhook_id: attempts(container, m.id) for m in messages(container)}
    abandoned = [a for log in logs.values() for a in log if a.outcome == "abandoned"]
    assert {a.worker for a in abandoned} == {"worker-1"}
    assert duplicates <= len(abandoned) == len(stranded)
    for webhook_id, log in logs.items():
        outcomes = [a.outcome for a in log]
        assert outcomes.count("succeeded") == 1, (webhook_id, outcomes)
        assert set(outcomes) <= {"succeeded", "abandoned"}
    finished_by = {log[-1].worker for log in logs.values()}
    assert finished_by == {"worker-1", "worker-2"}
