"""A relay worker in its own OS process, for ``test_two_workers.py`` (not a test module).

Usage: ``python relay_worker_process.py DATABASE_URL WORKER_ID``. Prints ``ready``
once built, waits for a line on stdin, then drains the outbox until no delivery
is pending and prints a JSON summary. Its handlers write one row per
(handler, event) into ``test_worker_effects`` (unique, inside the handler's
transaction) and log every invocation into ``test_worker_invocations`` (its own
autocommitted transaction, so even rolled-back runs are counted).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)

from shopops.bootstrap import build
from shopops.config import Settings
from shopops.db.outbox import DeliveryStatus, OutboxDelivery
from shopops.relay import DeliveredEvent, HandlerRegistry
from shopops.uow import UnitOfWork

EVENT_TYPE = "test.work_requested"
HANDLERS = ("test.worker_first", "test.worker_second")

metadata = MetaData()
effects = Table(
    "test_worker_effects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handler", String(120), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("worker", String(64), nullable=False),
    UniqueConstraint("handler", "event_id"),
)
invocations = Table(
    "test_worker_invocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handler", String(120), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("worker", String(64), nullable=False),
)


def settings_for(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-0123456789abcdef0123",
        pii_key="test-pii-key-0123456789abcdef012345",
        outbox_inline=False,
        database_pool_size=3,
    )


def main(database_url: str, worker_id: str) -> None:
    engines: list[object] = []

    def register(registry: HandlerRegistry) -> None:
        for name in HANDLERS:
            registry.register(name, [EVENT_TYPE], handler(name))

    def handler(name: str) -> Callable[[UnitOfWork, DeliveredEvent], None]:
        def handle(uow: UnitOfWork, event: DeliveredEvent) -> None:
            with container.engine.begin() as connection:
                connection.execute(
                    insert(invocations).values(handler=name, event_id=event.id, worker=worker_id)
                )
            uow.session.execute(
                insert(effects).values(handler=name, event_id=event.id, worker=worker_id)
            )

        return handle

    container = build(settings_for(database_url), extra_handlers=register)
    engines.append(container.engine)
    relay = container.make_relay(worker_id)
    print("ready", flush=True)
    sys.stdin.readline()
    processed = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        claimed = relay.run_once(10)
        processed += claimed
        if claimed:
            continue
        with container.session_factory() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(OutboxDelivery)
                .where(OutboxDelivery.status == DeliveryStatus.PENDING)
            )
        if not pending:
            break
        time.sleep(0.01)
    container.dispose()
    print(json.dumps({"worker": worker_id, "claimed": processed}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
