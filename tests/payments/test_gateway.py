"""The sandbox gateway and notification signatures (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shopops.adapters.payments import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    GatewayUnavailable,
    Operation,
    ResultStatus,
    SandboxGateway,
    SignatureError,
    sign,
    verify_signature,
)
from shopops.kernel.time import FrozenClock

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECRET = "sandbox-secret-0123456789abcdef0123"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def gateway(clock: FrozenClock) -> SandboxGateway:
    return SandboxGateway(secret=SECRET, clock=clock)


def authorize(
    gateway: SandboxGateway, amount: int = 5250, key: str = "k1", token: str = "tok_visa"
):
    return gateway.authorize(
        amount_minor=amount,
        currency="USD",
        method="card",
        token=token,
        merchant_reference="payment:1",
        idempotency_key=key,
    )


def test_authorize_capture_refund_with_fees(gateway: SandboxGateway) -> None:
    auth = authorize(gateway)
    assert (auth.status, auth.ok, auth.amount_minor) == (ResultStatus.AUTHORIZED, True, 5250)
    capture = gateway.capture(
        reference=auth.reference, amount_minor=5250, currency="USD", idempotency_key="k1:c"
    )
    # 2.9% of 52.50 = 1.5225 -> 152 minor units (half-even) + 30 fixed
    assert (capture.status, capture.fee_minor, capture.reference) == (
        ResultStatus.CAPTURED,
        182,
        auth.reference,
    )
    refund = gateway.refund(
        reference=auth.reference,
        amount_minor=1000,
        currency="USD",
        merchant_reference="refund:1",
        idempotency_key="r1",
    )
    assert (refund.status, refund.fee_minor, refund.error_code) == (ResultStatus.REFUNDED, 0, None)
    assert refund.reference.startswith("sbx_re_")


def test_fee_rounds_half_even_once(gateway: SandboxGateway) -> None:
    gateway.configure(fee_percent=Decimal("2.5"), fee_fixed_minor=0)
    assert gateway.fee_for(100) == 2  # 2.5 -> 2
    assert gateway.fee_for(140) == 4  # 3.5 -> 4
    assert gateway.fee_for(0) == 0


def test_same_key_replays_the_first_outcome_and_moves_money_once(
    gateway: SandboxGateway,
) -> None:
    first = authorize(gateway, key="same")
    gateway.configure(declined_tokens=frozenset({"tok_visa"}))  # later rules do not matter
    again = authorize(gateway, key="same")
    assert again == first
    other = SandboxGateway(secret=SECRET, clock=gateway.clock)
    assert authorize(other, key="same").reference == first.reference  # deterministic


def test_decline_rules(gateway: SandboxGateway) -> None:
    declined = authorize(gateway, token="tok_declined")
    assert (declined.ok, declined.status, declined.error_code) == (
        False,
        ResultStatus.DECLINED,
        "card_declined",
    )
    gateway.configure(decline_amount_endings=("13",))
    assert authorize(gateway, amount=1013, key="a").error_code == "card_declined"
    assert authorize(gateway, amount=1014, key="b").ok
    gateway.configure(fail_refund_amount_endings=("07",))
    failed = gateway.refund(
        reference="ch", amount_minor=507, currency="USD", merchant_reference="", idempotency_key="r"
    )
    assert (failed.ok, failed.status, failed.error_code) == (
        False,
        ResultStatus.FAILED,
        "refund_failed",
    )


def test_unavailable_and_lost_responses(gateway: SandboxGateway) -> None:
    gateway.configure(unavailable=frozenset({Operation.AUTHORIZE}))
    with pytest.raises(GatewayUnavailable):
        authorize(gateway, key="down")
    assert gateway.calls == []  # never reached the gateway
    gateway.configure(unavailable=frozenset(), lose_response=frozenset({Operation.AUTHORIZE}))
    with pytest.raises(GatewayUnavailable):
        authorize(gateway, key="lost")
    gateway.configure(lose_response=frozenset())
    retried = authorize(gateway, key="lost")
    assert retried.ok
    assert gateway.calls == [(Operation.AUTHORIZE, "lost"), (Operation.AUTHORIZE, "lost")]


def test_configured_delay_sleeps_before_each_call(clock: FrozenClock) -> None:
    slept: list[float] = []
    gateway = SandboxGateway(secret=SECRET, clock=clock, sleep=slept.append)
    gateway.configure(delay_seconds=0.25)
    authorize(gateway)
    assert slept == [0.25]


def test_notifications_are_signed_and_verify(gateway: SandboxGateway) -> None:
    auth = authorize(gateway)
    assert gateway.notifications == []  # nothing until money moves
    gateway.capture(
        reference=auth.reference, amount_minor=5250, currency="USD", idempotency_key="c"
    )
    gateway.capture(
        reference=auth.reference, amount_minor=5250, currency="USD", idempotency_key="c"
    )  # replay: no second notification
    [sent] = gateway.take_notifications()
    note = gateway.verify_notification(sent.headers, sent.body)
    assert note.event_type == "payment.captured"
    assert note.data["merchant_reference"] == "payment:1"
    assert note.data["amount_minor"] == 5250
    assert note.data["fee_minor"] == 182
    assert note.occurred_at == NOW
    assert gateway.take_notifications() == []


def test_tampered_wrong_secret_stale_or_missing_signatures_are_refused(
    gateway: SandboxGateway, clock: FrozenClock
) -> None:
    sent = gateway.signed({"id": "evt_1", "type": "payment.captured", "created": 1, "data": {}})
    tampered = json.loads(sent.body)
    tampered["data"] = {"amount_minor": 1}
    cases = {
        "tampered body": (sent.headers, json.dumps(tampered).encode()),
        "wrong secret": (
            {**sent.headers, SIGNATURE_HEADER: sign("other", int(NOW.timestamp()), sent.body)},
            sent.body,
        ),
        "no signature": ({TIMESTAMP_HEADER: sent.headers[TIMESTAMP_HEADER]}, sent.body),
        "bad timestamp": ({**sent.headers, TIMESTAMP_HEADER: "soon"}, sent.body),
    }
    for name, (headers, body) in cases.items():
        with pytest.raises(SignatureError):
            gateway.verify_notification(headers, body)
        assert name
    clock.advance(timedelta(seconds=301))
    with pytest.raises(SignatureError, match="tolerance"):
        gateway.verify_notification(sent.headers, sent.body)


def test_any_of_several_signatures_passes_during_rotation() -> None:
    body = b'{"id":"evt"}'
    stamp = int(NOW.timestamp())
    headers = {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: f"{sign('old-secret', stamp, body)},{sign(SECRET, stamp, body)}",
    }
    verify_signature(SECRET, headers, body, now=NOW)
    with pytest.raises(SignatureError):
        verify_signature("third", headers, body, now=NOW)
