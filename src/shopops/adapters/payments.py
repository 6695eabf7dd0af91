"""The payment gateway port, its signed notifications, and the sandbox gateway.

``PaymentGateway`` is what the payment flows call; each operation takes an
idempotency key (a retry with the same key returns the first outcome and moves
no money twice) and returns a ``GatewayResult``. A declined or refused
operation is a result with ``ok == False`` and an ``error_code``; only an
unknown outcome (network failure, lost response) raises ``GatewayUnavailable``,
and the caller must retry later with the same key.

Notifications (webhooks from the gateway) are signed with HMAC-SHA256 over
``"{timestamp}.{body}"`` with a secret shared with the gateway; verification
is constant-time and refuses timestamps outside a tolerance window (replays).

``SandboxGateway`` is deterministic: references are derived from idempotency
keys, outcomes from configurable ``SandboxRules``. It keeps no ledger of its
own (the database is the source of truth), so a fresh instance built from the
same settings answers a retried key the way the first one did.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any, Protocol

from shopops.kernel.time import Clock, SystemClock

TIMESTAMP_HEADER = "x-gateway-timestamp"
SIGNATURE_HEADER = "x-gateway-signature"
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class Operation(StrEnum):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class ResultStatus(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"
    DECLINED = "declined"
    FAILED = "failed"


@dataclass(frozen=True)
class GatewayResult:
    operation: Operation
    status: ResultStatus
    reference: str  # the charge's reference (authorize/capture/void) or the refund's
    amount_minor: int
    currency: str
    fee_minor: int = 0
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status not in (ResultStatus.DECLINED, ResultStatus.FAILED)


class GatewayUnavailable(Exception):
    """The outcome is unknown (timeout, lost response): retry later with the same key."""


class SignatureError(Exception):
    """A notification whose signature or timestamp does not verify."""


@dataclass(frozen=True)
class GatewayNotification:
    """A verified notification: ``event_id`` is unique per gateway (idempotency)."""

    event_id: str
    event_type: str  # payment.captured, payment.failed, refund.succeeded, refund.failed, ...
    occurred_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class SignedNotification:
    """What the gateway sends: headers and the exact body bytes that were signed."""

    headers: dict[str, str]
    body: bytes


class PaymentGateway(Protocol):
    name: str

    def authorize(
        self,
        *,
        amount_minor: int,
        currency: str,
        method: str,
        token: str,
        merchant_reference: str,
        idempotency_key: str,
    ) -> GatewayResult: ...

    def capture(
        self, *, reference: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    def void(self, *, reference: str, currency: str, idempotency_key: str) -> GatewayResult: ...

    def refund(
        self,
        *,
        reference: str,
        amount_minor: int,
        currency: str,
        merchant_reference: str,
        idempotency_key: str,
    ) -> GatewayResult: ...

    def verify_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> GatewayNotification: ...


# --- signing ---------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise ``SignatureError`` unless the headers carry a fresh, valid signature of ``body``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_timestamp = lowered.get(TIMESTAMP_HEADER, "")
    sent = lowered.get(SIGNATURE_HEADER, "")
    if not raw_timestamp.isdigit() or not sent:
        raise SignatureError("missing or malformed signature headers")
    timestamp = int(raw_timestamp)
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance window")
    expected = sign(secret, timestamp, body)
    # Several signatures may be sent during a secret rotation: any valid one passes.
    if not any(hmac.compare_digest(expected, s.strip()) for s in sent.split(",")):
        raise SignatureError("signature does not match")


def parse_notification(body: bytes) -> GatewayNotification:
    try:
        data = json.loads(body)
        return GatewayNotification(
            event_id=str(data["id"]),
            event_type=str(data["type"]),
            occurred_at=datetime.fromtimestamp(int(data["created"]), UTC),
            data=dict(data["data"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError(f"malformed notification body: {exc}") from None


# --- sandbox ---------------------------------------------------------------


@dataclass(frozen=True)
class SandboxRules:
    """How the sandbox behaves. Defaults approve everything except the listed tokens."""

    # Authorizations whose amount in minor units ends with one of these digits are declined.
    decline_amount_endings: tuple[str, ...] = ()
    declined_tokens: frozenset[str] = frozenset({"tok_declined", "tok_insufficient_funds"})
    # Refunds whose amount in minor units ends with one of these digits fail.
    fail_refund_amount_endings: tuple[str, ...] = ()
    # Operations that raise GatewayUnavailable before doing anything ...
    unavailable: frozenset[Operation] = frozenset()
    # ... or after doing it (the response is lost: only a retry with the same key tells).
    lose_response: frozenset[Operation] = frozenset()
    delay_seconds: float = 0.0
    fee_percent: Decimal = Decimal("2.9")
    fee_fixed_minor: int = 30


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _ends_with(amount_minor: int, endings: tuple[str, ...]) -> bool:
    return any(str(amount_minor).endswith(e) for e in endings if e)


@dataclass
class SandboxGateway:
    """An in-process gateway for development and tests; the model for real gateways."""

    secret: str
    clock: Clock = field(default_factory=SystemClock)
    rules: SandboxRules = field(default_factory=SandboxRules)
    sleep: Callable[[float], None] = time.sleep
    name: str = "sandbox"
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    notifications: list[SignedNotification] = field(default_factory=list)
    calls: list[tuple[Operation, str]] = field(default_factory=list)  # (operation, key)
    _replies: dict[str, GatewayResult] = field(default_factory=dict)
    _merchant_references: dict[str, str] = field(default_factory=dict)  # charge -> ours
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, **changes: Any) -> None:
        self.rules = replace(self.rules, **changes)

    def fee_for(self, amount_minor: int) -> int:
        percent = (Decimal(amount_minor) * self.rules.fee_percent / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
        return int(percent) + self.rules.fee_fixed_minor

    def authorize(
        self,
        *,
        amount_minor: int,
        currency: str,
        method: str,
        token: str,
        merchant_reference: str,
        idempotency_key: str,
    ) -> GatewayResult:
        def decide() -> GatewayResult:
            reference = f"sbx_ch_{_digest(idempotency_key)}"
            if token in self.rules.declined_tokens:
                return self._refused(
                    Operation.AUTHORIZE,
                    reference,
                    amount_minor,
                    currency,
                    "card_declined",
                    f"token {token} is declined",
                )
            if _ends_with(amount_minor, self.rules.decline_amount_endings):
                return self._refused(
                    Operation.AUTHORIZE,
                    reference,
                    amount_minor,
                    currency,
                    "card_declined",
                    "amount triggers a sandbox decline",
                )
            if amount_minor <= 0:
                return self._refused(
                    Operation.AUTHORIZE,
                    reference,
                    amount_minor,
                    currency,
                    "invalid_amount",
                    "amount must be positive",
                )
            return GatewayResult(
                Operation.AUTHORIZE, ResultStatus.AUTHORIZED, reference, amount_minor, currency
            )

        return self._run(
            Operation.AUTHORIZE, idempotency_key, decide, merchant_reference=merchant_reference
        )

    def capture(
        self, *, reference: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        def decide() -> GatewayResult:
            return GatewayResult(
                Operation.CAPTURE,
                ResultStatus.CAPTURED,
                reference,
                amount_minor,
                currency,
                fee_minor=self.fee_for(amount_minor),
            )

        return self._run(Operation.CAPTURE, idempotency_key, decide, charge=reference)

    def void(self, *, reference: str, currency: str, idempotency_key: str) -> GatewayResult:
        def decide() -> GatewayResult:
            return GatewayResult(Operation.VOID, ResultStatus.VOIDED, reference, 0, currency)

        return self._run(Operation.VOID, idempotency_key, decide, charge=reference)

    def refund(
        self,
        *,
        reference: str,
        amount_minor: int,
        currency: str,
        merchant_reference: str,
        idempotency_key: str,
    ) -> GatewayResult:
        def decide() -> GatewayResult:
            refund_reference = f"sbx_re_{_digest(idempotency_key)}"
            if _ends_with(amount_minor, self.rules.fail_refund_amount_endings):
                return self._refused(
                    Operation.REFUND,
                    refund_reference,
                    amount_minor,
                    currency,
                    "refund_failed",
                    "amount triggers a sandbox refund failure",
                )
            return GatewayResult(
                Operation.REFUND, ResultStatus.REFUNDED, refund_reference, amount_minor, currency
            )

        return self._run(
            Operation.REFUND,
            idempotency_key,
            decide,
            merchant_reference=merchant_reference,
            charge=reference,
        )

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> GatewayNotification:
        verify_signature(
            self.secret,
            headers,
            body,
            now=self.clock.now(),
            tolerance_seconds=self.tolerance_seconds,
        )
        return parse_notification(body)

    def signed(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None
    ) -> SignedNotification:
        """Sign ``payload`` as the gateway would (also handy for tests)."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        moment = int(self.clock.now().timestamp()) if timestamp is None else timestamp
        return SignedNotification(
            {TIMESTAMP_HEADER: str(moment), SIGNATURE_HEADER: sign(self.secret, moment, body)},
            body,
        )

    def take_notifications(self) -> list[SignedNotification]:
        with self._lock:
            sent, self.notifications = self.notifications, []
        return sent

    # -- internals --

    @staticmethod
    def _refused(
        operation: Operation, reference: str, amount: int, currency: str, code: str, message: str
    ) -> GatewayResult:
        status = ResultStatus.DECLINED if operation == Operation.AUTHORIZE else ResultStatus.FAILED
        return GatewayResult(operation, status, reference, amount, currency, 0, code, message)

    def _run(
        self,
        operation: Operation,
        key: str,
        decide: Callable[[], GatewayResult],
        *,
        merchant_reference: str | None = None,
        charge: str | None = None,
    ) -> GatewayResult:
        if self.rules.delay_seconds > 0:
            self.sleep(self.rules.delay_seconds)
        if operation in self.rules.unavailable:
            raise GatewayUnavailable(f"sandbox {operation} is unavailable")
        with self._lock:
            self.calls.append((operation, key))
            result = self._replies.get(f"{operation}:{key}")
            if result is None:
                result = decide()
                self._replies[f"{operation}:{key}"] = result
                if operation == Operation.AUTHORIZE and merchant_reference:
                    self._merchant_references[result.reference] = merchant_reference
                elif merchant_reference is None and charge is not None:
                    merchant_reference = self._merchant_references.get(charge)
                self._notify(result, merchant_reference, key, charge)
        if operation in self.rules.lose_response:
            raise GatewayUnavailable(f"sandbox {operation} response lost")
        return result

    def _notify(
        self, result: GatewayResult, merchant_reference: str | None, key: str, charge: str | None
    ) -> None:
        kind = "refund" if result.operation == Operation.REFUND else "payment"
        outcome = {
            ResultStatus.AUTHORIZED: "authorized",
            ResultStatus.CAPTURED: "captured",
            ResultStatus.VOIDED: "voided",
            ResultStatus.REFUNDED: "succeeded",
        }.get(result.status, "failed")
        if result.operation == Operation.AUTHORIZE and result.ok:
            return  # like most gateways: no notification until money moves
        event_type = f"{kind}.{outcome}"
        payload = {
            "id": f"evt_{_digest(event_type, key)}",
            "type": event_type,
            "created": int(self.clock.now().timestamp()),
            "data": {
                "reference": result.reference,
                "charge_reference": charge or result.reference,
                "merchant_reference": merchant_reference,
                "amount_minor": result.amount_minor,
                "currency": result.currency,
                "fee_minor": result.fee_minor,
                "error_code": result.error_code,
            },
        }
        self.notifications.append(self.signed(payload))


def gateway_from_settings(settings: Any, clock: Clock | None = None) -> PaymentGateway:
    """The configured gateway; only the sandbox exists so far."""
    return SandboxGateway(secret=settings.payment_gateway_secret, clock=clock or SystemClock())
