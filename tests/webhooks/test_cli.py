"""`shopops webhooks`: add, list, test, messages, show, retry, rotate, remove."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from standardwebhooks import Webhook

from shopops.bootstrap import Container
from shopops.kernel.errors import ValidationFailed
from shopops.kernel.time import FrozenClock
from tests.conftest import CliInvoke
from tests.webhooks.conftest import DispatcherFactory, OrderPaid, emit, messages
from tests.webhooks.receiver import Receiver

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def test_the_cli_manages_subscriptions_and_retries_messages(
    cli: CliInvoke,
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    added = cli(
        container, "webhooks", "add", receiver.url, "-e", "order.paid", "--description", "ERP"
    )
    assert added.exit_code == 0, added.output
    secret = SECRET.search(added.output)
    assert secret is not None
    receiver.secret = secret.group()

    listed = json.loads(cli(container, "webhooks", "list", "--format", "json").output)
    assert [(s["url"], s["event_types"], s["active"], s["description"]) for s in listed] == [
        (receiver.url, "order.paid", True, "ERP")
    ]
    subscription_id = str(listed[0]["id"])

    assert "queued" in cli(container, "webhooks", "test", subscription_id).output
    dispatcher = make_dispatcher(container, retry_schedule=[timedelta(seconds=5)])
    assert [r.status for r in dispatcher.dispatch()] == ["delivered"]
    emit(container, OrderPaid(7))
    receiver.default_status = 500
    dispatcher.dispatch()
    clock.advance(timedelta(seconds=5))
    dispatcher.dispatch()

    dead = json.loads(
        cli(container, "webhooks", "messages", "--status", "failed", "--format", "json").output
    )
    assert [(m["event_type"], m["attempts"], m["last_status"]) for m in dead] == [
        ("order.paid", 2, 500)
    ]
    log = json.loads(
        cli(container, "webhooks", "show", str(dead[0]["id"]), "--format", "json").output
    )
    assert [(a["attempt"], a["outcome"], a["status"]) for a in log] == [
        (1, "failed", 500),
        (2, "failed", 500),
    ]

    receiver.default_status = 200
    retried = cli(container, "webhooks", "retry", str(dead[0]["id"]))
    assert retried.exit_code == 0, retried.output
    assert [r.status for r in dispatcher.dispatch()] == ["delivered"]
    assert {m.status for m in messages(container)} == {"delivered"}
    assert all(r.verified for r in receiver.requests)
    assert receiver.ids().count(dead[0]["webhook_id"]) == 3

    rotated = cli(container, "webhooks", "rotate", subscription_id)
    new_secret = SECRET.search(rotated.output)
    assert new_secret is not None
    assert new_secret.group() != secret.group()
    Webhook(new_secret.group())  # a well-formed secret

    removed = cli(container, "webhooks", "remove", subscription_id, "--yes")
    assert removed.exit_code == 0, removed.output
    assert json.loads(cli(container, "webhooks", "list", "--format", "json").output) == []
    assert messages(container) == []


def test_the_cli_refuses_a_bad_subscription(cli: CliInvoke, container: Container) -> None:
    result = cli(container, "webhooks", "add", "ftp://example.com/x", "-e", "order.paid")
    assert isinstance(result.exception, ValidationFailed)
    assert [e.code for e in result.exception.errors] == ["webhooks.unsupported_scheme"]
