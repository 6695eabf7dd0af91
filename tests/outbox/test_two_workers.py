"""Two relay workers in two OS processes share one outbox on PostgreSQL (SKIP LOCKED)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import Engine, func, select

from shopops.bootstrap import Container
from shopops.db.outbox import OutboxDelivery
from shopops.kernel.events import Actor, Event
from shopops.relay import HandlerRegistry

sys.path.insert(0, str(Path(__file__).parent))
import relay_worker_process as worker_module

WORKER_SCRIPT = Path(worker_module.__file__).resolve()
EVENTS = 500

pytestmark = pytest.mark.postgres_only


@dataclass(frozen=True)
class WorkRequested(Event):
    event_type: ClassVar[str] = worker_module.EVENT_TYPE
    aggregate: ClassVar[str] = "work"

    id: int


def _register_names(registry: HandlerRegistry) -> None:
    # The emitting side only needs the subscriptions; the workers run the real handlers.
    for name in worker_module.HANDLERS:
        registry.register(name, [WorkRequested.event_type], lambda uow, event: None)


@pytest.fixture
def worker_tables(schema_engine: Engine) -> Iterator[None]:
    worker_module.metadata.create_all(schema_engine)
    yield
    worker_module.metadata.drop_all(schema_engine)


def _start(database_url: str, worker_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER_SCRIPT), database_url, worker_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_worker_processes_drain_every_delivery_exactly_once(
    make_container, database_url: str, worker_tables: None
) -> None:
    container: Container = make_container(extra_handlers=_register_names, outbox_inline=False)
    with container.uow(Actor.system("test")) as uow:
        for number in range(1, EVENTS + 1):
            uow.emit(WorkRequested(number))
        uow.commit()
    with container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxDelivery)) == 2 * EVENTS

    workers = [_start(database_url, name) for name in ("worker-1", "worker-2")]
    try:
        for process in workers:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            assert line == "ready", process.stderr.read() if process.stderr else line
        for process in workers:  # start both at once
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=300) for process in workers]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
    for process, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert process.returncode == 0, stderr
        summary = json.loads(stdout.strip().splitlines()[-1])
        assert summary["claimed"] > 0, summary  # both workers did some work

    expected = {(h, e) for h in worker_module.HANDLERS for e in _event_ids(container)}
    with container.engine.connect() as connection:
        effects = connection.execute(
            select(worker_module.effects.c.handler, worker_module.effects.c.event_id)
        ).all()
        invocations = connection.execute(
            select(worker_module.invocations.c.handler, worker_module.invocations.c.event_id)
        ).all()
        by_worker = dict(
            connection.execute(
                select(worker_module.effects.c.worker, func.count()).group_by(
                    worker_module.effects.c.worker
                )
            ).all()
        )
    # Every (handler, event) took effect exactly once...
    assert len(effects) == 2 * EVENTS
    assert {(h, e) for h, e in effects} == expected
    # ...and no handler even ran twice for the same event.
    assert len(invocations) == 2 * EVENTS
    assert {(h, e) for h, e in invocations} == expected
    assert set(by_worker) == {"worker-1", "worker-2"}
    assert all(n > 0 for n in by_worker.values()), by_worker
    assert sum(by_worker.values()) == 2 * EVENTS
    with container.session_factory() as session:
        rows = session.execute(
            select(OutboxDelivery.status, OutboxDelivery.attempts, OutboxDelivery.last_error)
        ).all()
    assert {tuple(r) for r in rows} == {("done", 1, None)}
    assert len(rows) == 2 * EVENTS


def _event_ids(container: Container) -> list[int]:
    with container.session_factory() as session:
        return list(session.scalars(select(OutboxDelivery.event_id).distinct()))
