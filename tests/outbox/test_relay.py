"""The transactional outbox: same-transaction writes, after-commit handlers, retries, leases."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)

from shopops.audit.models import AuditEntry
from shopops.auth.models import User
from shopops.bootstrap import Container
from shopops.contexts import access
from shopops.db.outbox import OutboxDelivery, OutboxEvent
from shopops.kernel.errors import Conflict, NotFound, PermissionDenied
from shopops.kernel.events import Actor, Event
from shopops.kernel.time import FrozenClock
from shopops.relay import DeliveredEvent, HandlerRegistry
from shopops.uow import UnitOfWork

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ThingHappened(Event):
    """A test-only event."""

    event_type: ClassVar[str] = "test.thing_happened"
    aggregate: ClassVar[str] = "thing"

    id: int
    note: str = ""


@dataclass(frozen=True)
class OtherThingHappened(Event):
    event_type: ClassVar[str] = "test.other_thing_happened"
    aggregate: ClassVar[str] = "thing"

    id: int


_metadata = MetaData()
effects = Table(
    "test_handler_effects",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("handler", String(120), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    UniqueConstraint("handler", "event_id"),
)


@pytest.fixture
def effects_table(schema_engine: Engine) -> Iterator[Table]:
    _metadata.create_all(schema_engine)
    yield effects
    _metadata.drop_all(schema_engine)


class Recorder:
    """Test handlers: every invocation in memory, every effect as a row in ``effects``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.failing: set[str] = set()
        self.before_write: Callable[[str, DeliveredEvent], None] | None = None
        self.saw_state: list[bool] = []

    def handler(self, name: str) -> Callable[[UnitOfWork, DeliveredEvent], None]:
        def handle(uow: UnitOfWork, event: DeliveredEvent) -> None:
            self.calls.append((name, event.id))
            if self.before_write is not None:
                self.before_write(name, event)
            if name in self.failing:
                raise RuntimeError(f"{name} is down")
            # The state the event describes is committed and visible to the handler.
            user_id = event.payload.get("user_id")
            if user_id is not None:
                self.saw_state.append(uow.session.get(User, user_id) is not None)
            uow.session.execute(insert(effects).values(handler=name, event_id=event.id))

        return handle

    def register(self, registry: HandlerRegistry) -> None:
        registry.register("test.first", [ThingHappened.event_type], self.handler("test.first"))
        registry.register("test.second", [ThingHappened.event_type], self.handler("test.second"))


@pytest.fixture
def recorder(effects_table: Table) -> Recorder:
    return Recorder()


def effect_rows(container: Container) -> list[tuple[str, int]]:
    with container.engine.connect() as connection:
        rows = connection.execute(
            select(effects.c.handler, effects.c.event_id).order_by(effects.c.id)
        )
        return [(h, e) for h, e in rows]


def count(container: Container, model: type) -> int:
    with container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def deliveries(container: Container) -> list[OutboxDelivery]:
    with container.session_factory() as session:
        return list(session.scalars(select(OutboxDelivery).order_by(OutboxDelivery.id)))


def emit_thing(container: Container, note: str = "", *, with_user: bool = False) -> int:
    """One command: optional state change + event + audit row, committed together."""
    with container.uow(Actor.system("test"), request_id="req-1") as uow:
        payload_user = None
        if with_user:
            user = access.create_user(
                uow, access.CreateUser(f"{note or 'x'}@example.com", "X", "analyst", "0123456789ab")
            )
            payload_user = user.id
        uow.emit(
            ThingHappenedWithUser(1, note, payload_user) if with_user else ThingHappened(1, note)
        )
        uow.audit("thing.happened", "thing", 1, after={"note": note})
        uow.commit()
    with container.session_factory() as session:
        return session.scalar(select(func.max(OutboxEvent.id))) or 0


@dataclass(frozen=True)
class ThingHappenedWithUser(ThingHappened):
    user_id: int | None = None


# --- same transaction -----------------------------------------------------------------


def test_event_and_audit_commit_with_the_state(make_container, recorder: Recorder) -> None:
    container = make_container(extra_handlers=recorder.register, outbox_inline=False)
    event_id = emit_thing(container, "ana", with_user=True)
    with container.session_factory() as session:
        event = session.get(OutboxEvent, event_id)
        assert event is not None
        assert event.event_type == "test.thing_happened"
        assert event.aggregate_type == "thing"
        assert event.aggregate_id == "1"
        user = session.scalars(select(User)).one()
        assert event.payload == {"id": 1, "note": "ana", "user_id": user.id}
        assert event.actor == "system:test"
        assert event.request_id == "req-1"
        actions = sorted(session.scalars(select(AuditEntry.action)))
        assert actions == ["thing.happened", "user.created"]
    rows = deliveries(container)
    assert [(d.event_id, d.handler, d.status, d.attempts) for d in rows] == [
        (event_id, "test.first", "pending", 0),
        (event_id, "test.second", "pending", 0),
    ]
    assert recorder.calls == []  # outbox_inline=False: nothing ran yet


@pytest.mark.parametrize("how", ["no commit", "explicit rollback", "exception"])
def test_rollback_leaves_neither_state_nor_event_nor_audit(
    make_container, recorder: Recorder, how: str
) -> None:
    container = make_container(extra_handlers=recorder.register)

    def command() -> None:
        with container.uow(Actor.system("test")) as uow:
            access.create_user(
                uow, access.CreateUser("ana@example.com", "Ana", "analyst", "0123456789ab")
            )
            uow.emit(ThingHappened(1))
            uow.audit("thing.happened", "thing", 1, after={"note": "x"})
            uow.session.flush()  # the rows exist inside the transaction...
            if how == "explicit rollback":
                uow.rollback()
                uow.commit()  # ...a commit after rollback writes nothing
            if how == "exception":
                raise RuntimeError("boom")

    if how == "exception":
        with pytest.raises(RuntimeError):
            command()
    else:
        command()
    for model in (User, OutboxEvent, OutboxDelivery, AuditEntry):
        assert count(container, model) == 0, model
    assert recorder.calls == []


def test_event_without_subscribers_is_stored_without_deliveries(make_container) -> None:
    container = make_container()
    with container.uow(Actor.system("test")) as uow:
        uow.emit(OtherThingHappened(5))
        uow.commit()
    assert count(container, OutboxEvent) == 1
    assert count(container, OutboxDelivery) == 0


def test_a_handler_subscribed_twice_gets_one_delivery(make_container, recorder: Recorder) -> None:
    def register(registry: HandlerRegistry) -> None:
        registry.register(
            "test.everything",
            [ThingHappened.event_type, "*", ThingHappened.event_type],
            recorder.handler("test.everything"),
        )

    container = make_container(extra_handlers=register)
    event_id = emit_thing(container)
    assert [(d.handler, d.status) for d in deliveries(container)] == [("test.everything", "done")]
    assert effect_rows(container) == [("test.everything", event_id)]


# --- after commit, in process -----------------------------------------------------------


def test_handlers_run_after_commit_in_process(make_container, recorder: Recorder) -> None:
    container = make_container(extra_handlers=recorder.register)  # inline drain (test env)
    event_id = emit_thing(container, "bo", with_user=True)
    # commit() returned only after the handlers ran, each in its own transaction,
    # and each saw the committed state.
    assert recorder.calls == [("test.first", event_id), ("test.second", event_id)]
    assert recorder.saw_state == [True, True]
    assert effect_rows(container) == [("test.first", event_id), ("test.second", event_id)]
    rows = deliveries(container)
    assert [(d.status, d.attempts, d.lease_owner, d.last_error) for d in rows] == [
        ("done", 1, None, None),
        ("done", 1, None, None),
    ]
    assert all(d.completed_at is not None for d in rows)


def test_a_failing_handler_does_not_undo_the_command(make_container, recorder: Recorder) -> None:
    clock = FrozenClock(T0)
    container = make_container(
        extra_handlers=recorder.register, clock=clock, outbox_backoff_seconds=10
    )
    recorder.failing.add("test.first")
    event_id = emit_thing(container, "cy", with_user=True)
    assert count(container, User) == 1
    first, second = deliveries(container)
    assert (first.handler, first.status, first.attempts) == ("test.first", "pending", 1)
    assert "RuntimeError: test.first is down" in (first.last_error or "")
    assert first.next_attempt_at == T0 + timedelta(seconds=10)
    assert (second.handler, second.status) == ("test.second", "done")
    assert effect_rows(container) == [("test.second", event_id)]


# --- idempotency ------------------------------------------------------------------------


def test_processing_the_same_delivery_twice_has_one_effect(
    make_container, recorder: Recorder
) -> None:
    container = make_container(extra_handlers=recorder.register, outbox_inline=False)
    event_id = emit_thing(container)
    relay = container.make_relay("worker-a")
    claimed = relay.claim(10)
    assert len(claimed) == 2
    first = claimed[0]
    assert relay.process(first) == "done"
    assert relay.process(first) != "done"
    assert recorder.calls == [("test.first", event_id)]  # the handler did not run again
    assert effect_rows(container) == [("test.first", event_id)]
    # Claimed again later (done deliveries are never claimed) and run: still one effect.
    assert relay.claim(10) == []
    assert relay.run_once() == 0
    assert effect_rows(container) == [("test.first", event_id)]
    done = next(d for d in deliveries(container) if d.id == first)
    assert (done.status, done.attempts) == ("done", 1)


def test_process_without_a_claim_does_nothing(make_container, recorder: Recorder) -> None:
    container = make_container(extra_handlers=recorder.register, outbox_inline=False)
    emit_thing(container)
    relay = container.make_relay("worker-a")
    delivery_id = deliveries(container)[0].id
    assert relay.process(delivery_id) == "lease_lost"
    assert recorder.calls == []
    assert effect_rows(container) == []
    assert relay.process(999_999) == "missing"


# --- retries, backoff, dead letters ----------------------------------------------------


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def manual(make_container, recorder: Recorder, frozen: FrozenClock) -> Container:
    """Outbox drained by hand with a frozen clock: backoff 10 s, three attempts."""
    return make_container(
        extra_handlers=recorder.register,
        clock=frozen,
        outbox_inline=False,
        outbox_backoff_seconds=10,
        outbox_max_attempts=3,
        outbox_lease_seconds=30,
    )


def _first(container: Container) -> OutboxDelivery:
    return next(d for d in deliveries(container) if d.handler == "test.first")


def test_backoff_doubles_then_dead_letters(
    manual: Container, recorder: Recorder, frozen: FrozenClock
) -> None:
    recorder.failing.add("test.first")
    emit_thing(manual)
    relay = manual.relay

    assert relay.run_once() == 2  # first fails, second succeeds
    failed = _first(manual)
    assert (failed.status, failed.attempts, failed.lease_owner) == ("pending", 1, None)
    assert failed.next_attempt_at == T0 + timedelta(seconds=10)
    first_delay = failed.next_attempt_at - T0

    frozen.advance(timedelta(seconds=9))
    assert relay.run_once() == 0  # not due yet
    frozen.advance(timedelta(seconds=1))
    second_try = frozen.now()
    assert relay.run_once() == 1
    failed = _first(manual)
    assert failed.attempts == 2
    second_delay = failed.next_attempt_at - second_try
    assert second_delay == timedelta(seconds=20)
    assert second_delay == 2 * first_delay

    frozen.advance(timedelta(seconds=19))
    assert relay.run_once() == 0
    frozen.advance(timedelta(seconds=1))
    assert relay.run_once() == 1
    dead = _first(manual)
    assert (dead.status, dead.attempts) == ("dead", 3)  # outbox_max_attempts
    assert "test.first is down" in (dead.last_error or "")

    frozen.advance(timedelta(days=30))
    assert relay.run_once() == 0  # dead letters are never picked up again
    assert [c for c in recorder.calls if c[0] == "test.first"] == [("test.first", 1)] * 3


def _dead_letter(manual: Container, recorder: Recorder, frozen: FrozenClock) -> OutboxDelivery:
    recorder.failing.add("test.first")
    emit_thing(manual)
    for _ in range(3):
        manual.relay.run_once()
        frozen.advance(timedelta(minutes=10))
    dead = _first(manual)
    assert dead.status == "dead"
    return dead


def test_dead_letters_listed_and_retried_through_the_api(
    manual: Container, recorder: Recorder, frozen: FrozenClock, staff_on, client_on
) -> None:
    dead = _dead_letter(manual, recorder, frozen)
    client = client_on(manual, staff_on(manual, "ops_manager").token)

    listed = client.get("/v1/outbox/deliveries", params={"status": "dead"})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["id"], i["handler"], i["status"], i["attempts"]) for i in items] == [
        (dead.id, "test.first", "dead", 3)
    ]
    assert items[0]["event_type"] == "test.thing_happened"
    assert items[0]["payload"] == {"id": 1, "note": ""}
    assert "test.first is down" in items[0]["last_error"]
    done = client.get("/v1/outbox/deliveries", params={"status": "done"}).json()["items"]
    assert [i["handler"] for i in done] == ["test.second"]

    recorder.failing.clear()
    retried = client.post(f"/v1/outbox/deliveries/{dead.id}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert client.get("/v1/outbox/deliveries", params={"status": "dead"}).json()["items"] == []
    with manual.session_factory() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "outbox.dead_letter_retried")
        ).one()
        assert (audit.entity_type, audit.entity_id) == ("outbox_delivery", str(dead.id))
        assert audit.changes == {
            "attempts": {"before": 3, "after": 0},
            "status": {"before": "dead", "after": "pending"},
        }

    again = client.post(f"/v1/outbox/deliveries/{dead.id}/retry")
    assert (again.status_code, again.json()["code"]) == (409, "outbox.not_dead_lettered")
    missing = client.post("/v1/outbox/deliveries/999999/retry")
    assert (missing.status_code, missing.json()["code"]) == (404, "outbox.delivery_not_found")

    assert manual.relay.run_once() == 1
    assert (_first(manual).status, _first(manual).attempts) == ("done", 1)
    assert sorted(effect_rows(manual)) == [("test.first", 1), ("test.second", 1)]


def test_dead_letters_listed_and_retried_through_the_cli(
    manual: Container, recorder: Recorder, frozen: FrozenClock, cli
) -> None:
    dead = _dead_letter(manual, recorder, frozen)

    listed = cli(manual, "outbox", "list", "--status", "dead", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["handler"], r["status"], r["attempts"]) for r in rows] == [
        (dead.id, "test.first", "dead", 3)
    ]

    recorder.failing.clear()
    retried = cli(manual, "outbox", "retry", str(dead.id))
    assert retried.exit_code == 0, retried.output
    assert f"delivery {dead.id} re-queued" in retried.stdout
    assert (_first(manual).status, _first(manual).attempts) == ("pending", 0)
    assert (
        json.loads(cli(manual, "outbox", "list", "--status", "dead", "--format", "json").stdout)
        == []
    )

    refused = cli(manual, "outbox", "retry", str(dead.id))
    assert isinstance(refused.exception, Conflict)
    assert refused.exception.code == "outbox.not_dead_lettered"
    missing = cli(manual, "outbox", "retry", "999999")
    assert isinstance(missing.exception, NotFound)

    assert manual.relay.run_once() == 1
    assert _first(manual).status == "done"


def test_cli_outbox_commands_respect_the_acting_users_role(
    manual: Container, recorder: Recorder, frozen: FrozenClock, staff_on, cli
) -> None:
    dead = _dead_letter(manual, recorder, frozen)
    analyst = staff_on(manual, "analyst")  # neither outbox.read nor outbox.manage
    listed = cli(manual, "--as", analyst.user.email, "outbox", "list")
    assert isinstance(listed.exception, PermissionDenied)
    retried = cli(manual, "--as", analyst.user.email, "outbox", "retry", str(dead.id))
    assert isinstance(retried.exception, PermissionDenied)
    assert _first(manual).status == "dead"
    ops = staff_on(manual, "ops_manager")
    assert cli(manual, "--as", ops.user.email, "outbox", "list").exit_code == 0
    assert cli(manual, "--as", ops.user.email, "outbox", "retry", str(dead.id)).exit_code == 0
    assert _first(manual).status == "pending"


def test_a_delivery_for_an_unregistered_handler_is_dead_lettered(
    make_container, recorder: Recorder, frozen: FrozenClock
) -> None:
    emitting = make_container(extra_handlers=recorder.register, outbox_inline=False, clock=frozen)
    emit_thing(emitting)
    # A worker built without the handler (e.g. an older deployment) cannot run it.
    worker = make_container(outbox_inline=False, clock=frozen, outbox_max_attempts=1)
    assert worker.relay.run_once() == 2
    rows = deliveries(worker)
    assert {d.status for d in rows} == {"dead"}
    assert all("no handler named" in (d.last_error or "") for d in rows)
    assert recorder.calls == []


# --- leases -------------------------------------------------------------------------------


def test_an_expired_lease_is_reclaimable_and_the_old_worker_cannot_finish(
    manual: Container, recorder: Recorder, frozen: FrozenClock
) -> None:
    event_id = emit_thing(manual)
    worker_a = manual.make_relay("worker-a")
    worker_b = manual.make_relay("worker-b")

    claimed = worker_a.claim(1)
    assert len(claimed) == 1
    delivery_id = claimed[0]
    leased = _first(manual)
    assert (leased.lease_owner, leased.lease_expires_at) == ("worker-a", T0 + timedelta(seconds=30))
    (other,) = worker_b.claim(10)  # the other handler's delivery is free...
    assert other != delivery_id
    assert worker_b.process(other) == "done"  # ...and done, so only delivery_id is left
    frozen.advance(timedelta(seconds=29))
    assert worker_b.claim(10) == []  # still leased to worker-a

    frozen.advance(timedelta(seconds=2))  # the lease expired
    assert worker_b.claim(10) == [delivery_id]
    assert _first(manual).lease_owner == "worker-b"

    assert worker_a.process(delivery_id) == "lease_lost"
    assert (_first(manual).status, _first(manual).lease_owner) == ("pending", "worker-b")
    assert effect_rows(manual) == [("test.second", event_id)]  # only the other delivery
    assert recorder.calls == [("test.second", event_id)]  # worker-a did not run test.first
    assert worker_b.process(delivery_id) == "done"
    assert sorted(effect_rows(manual)) == [("test.first", event_id), ("test.second", event_id)]
    assert (_first(manual).status, _first(manual).attempts) == ("done", 1)


def test_a_worker_that_loses_its_lease_mid_handler_cannot_mark_done(
    manual: Container, recorder: Recorder, frozen: FrozenClock
) -> None:
    event_id = emit_thing(manual)
    worker_a = manual.make_relay("worker-a")
    worker_b = manual.make_relay("worker-b")
    delivery_id = worker_a.claim(1)[0]
    stolen: list[int] = []

    def steal(_name: str, _event: DeliveredEvent) -> None:
        # While worker-a's handler runs, its lease expires and worker-b takes the delivery.
        if not stolen:
            frozen.advance(timedelta(seconds=31))
            stolen.extend(worker_b.claim(10))

    recorder.before_write = steal
    assert worker_a.process(delivery_id) == "lease_lost"
    assert delivery_id in stolen
    assert effect_rows(manual) == []  # worker-a's handler writes were rolled back
    assert _first(manual).status == "pending"

    recorder.before_write = None
    assert worker_b.process(delivery_id) == "done"
    assert effect_rows(manual) == [("test.first", event_id)]


def test_a_failure_after_losing_the_lease_does_not_count(
    manual: Container, recorder: Recorder, frozen: FrozenClock
) -> None:
    emit_thing(manual)
    worker_a = manual.make_relay("worker-a")
    worker_b = manual.make_relay("worker-b")
    delivery_id = worker_a.claim(1)[0]

    def steal(_name: str, _event: DeliveredEvent) -> None:
        frozen.advance(timedelta(seconds=31))
        worker_b.claim(10)
        raise RuntimeError("worker-a crashed late")

    recorder.before_write = steal
    assert worker_a.process(delivery_id) == "lease_lost"
    delivery = _first(manual)
    assert (delivery.status, delivery.attempts, delivery.lease_owner) == (
        "pending",
        0,
        "worker-b",
    )
    assert delivery.last_error is None
