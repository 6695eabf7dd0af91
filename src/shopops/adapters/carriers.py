"""The carrier port, and a sandbox carrier that stands in for real ones.

A ``Carrier`` books labels and reports tracking for one or more carrier codes
(``ups``, ``sf-express`` ...), like a shipping aggregator does. Calls go over
the network: callers make them outside any open database transaction and pass
an idempotency key when booking, so that a retried booking returns the first
label instead of buying a second one.

Failures are ``CarrierError``: ``CarrierUnavailable`` (transient; retry later,
HTTP 503) or ``CarrierRejected`` (the request itself is refused, HTTP 422).
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from shopops.kernel.errors import DomainError, Unavailable, Unprocessable
from shopops.kernel.time import Clock, SystemClock

TRACKING_STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered", "exception")


class CarrierError(DomainError):
    default_code = "carrier.error"


class CarrierUnavailable(CarrierError, Unavailable):
    default_code = "carrier.unavailable"


class CarrierRejected(CarrierError, Unprocessable):
    default_code = "carrier.rejected"


@dataclass(frozen=True)
class ParcelItem:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Parcel:
    """What a carrier needs to print a label. The address lines are personal data."""

    reference: str  # the order number, printed on the label
    origin: str  # the shipping warehouse's code
    recipient: str
    address_lines: tuple[str, ...]
    city: str
    postal_code: str | None
    country: str
    phone: str | None
    weight_grams: int
    items: tuple[ParcelItem, ...]


@dataclass(frozen=True)
class Label:
    carrier: str
    tracking_number: str
    label_reference: str


@dataclass(frozen=True)
class TrackingUpdate:
    """One scan reported by a carrier; ``status`` is one of ``TRACKING_STATUSES``."""

    status: str
    occurred_at: datetime
    location: str | None = None
    description: str = ""


class Carrier(Protocol):
    def create_shipment(self, carrier: str, parcel: Parcel, *, idempotency_key: str) -> Label:
        """Book a label; the same idempotency key returns the same label."""
        ...

    def track(self, carrier: str, tracking_number: str) -> list[TrackingUpdate]:
        """Every scan known for the parcel so far, oldest first."""
        ...


SANDBOX_CARRIERS = ("sandbox", "sf-express", "ups", "dhl", "fedex", "ems")
Operation = Literal["create", "track"]

# Default progress of a sandbox parcel, relative to the moment its label was booked.
DEFAULT_SCRIPT: tuple[tuple[timedelta, str, str, str], ...] = (
    (timedelta(hours=20), "in_transit", "Sorting centre", "Departed sorting centre"),
    (timedelta(days=2), "out_for_delivery", "Local depot", "Out for delivery"),
    (timedelta(days=2, hours=5), "delivered", "Front door", "Delivered"),
)


@dataclass
class _Booking:
    label: Label
    booked_at: datetime


@dataclass
class SandboxCarrier:
    """Deterministic, in-memory carrier for development and tests.

    * Tracking numbers derive from (carrier code, idempotency key): the same
      key gives the same number, in every process.
    * ``fail_next`` queues failures; ``unavailable`` carrier codes always fail.
    * Booked parcels progress along ``DEFAULT_SCRIPT`` as the clock moves;
      ``script`` replaces the scans of any tracking number (booked or not).
      ``track`` reveals only the scans whose time has come.
    """

    clock: Clock = field(default_factory=SystemClock)
    carriers: tuple[str, ...] = SANDBOX_CARRIERS
    unavailable: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (operation, carrier, key)
    _bookings: dict[tuple[str, str], _Booking] = field(default_factory=dict)
    _scripts: dict[tuple[str, str], list[TrackingUpdate]] = field(default_factory=dict)
    _failures: deque[tuple[Operation, CarrierError]] = field(default_factory=deque)

    def fail_next(self, operation: Operation, error: CarrierError | None = None) -> None:
        """The next ``operation`` call fails with ``error`` (default: unavailable)."""
        self._failures.append(
            (operation, error or CarrierUnavailable(message="sandbox carrier outage"))
        )

    def script(self, carrier: str, tracking_number: str, updates: list[TrackingUpdate]) -> None:
        self._scripts[(carrier, tracking_number)] = sorted(updates, key=lambda u: u.occurred_at)

    def create_shipment(self, carrier: str, parcel: Parcel, *, idempotency_key: str) -> Label:
        self.calls.append(("create", carrier, idempotency_key))
        self._check("create", carrier)
        if not parcel.items or any(item.quantity <= 0 for item in parcel.items):
            raise CarrierRejected("carrier.rejected", "a parcel needs at least one item")
        key = (carrier, idempotency_key)
        booking = self._bookings.get(key)
        if booking is None:
            number = sandbox_tracking_number(carrier, idempotency_key)
            booking = _Booking(
                Label(carrier, number, f"sandbox://labels/{carrier}/{number}.pdf"),
                self.clock.now(),
            )
            self._bookings[key] = booking
        return booking.label

    def track(self, carrier: str, tracking_number: str) -> list[TrackingUpdate]:
        self.calls.append(("track", carrier, tracking_number))
        self._check("track", carrier)
        now = self.clock.now()
        updates = self._scripts.get((carrier, tracking_number))
        if updates is None:
            updates = self._default_progress(carrier, tracking_number)
        return [u for u in updates if u.occurred_at <= now]

    def _default_progress(self, carrier: str, tracking_number: str) -> list[TrackingUpdate]:
        for booking in self._bookings.values():
            label = booking.label
            if (label.carrier, label.tracking_number) == (carrier, tracking_number):
                return [
                    TrackingUpdate(status, booking.booked_at + after, location, description)
                    for after, status, location, description in DEFAULT_SCRIPT
                ]
        return []

    def _check(self, operation: Operation, carrier: str) -> None:
        if carrier not in self.carriers:
            raise CarrierRejected(
                "carrier.unsupported",
                f"carrier '{carrier}' is not available; use one of {', '.join(self.carriers)}",
                details={"carrier": carrier},
            )
        if carrier in self.unavailable:
            raise CarrierUnavailable(message=f"carrier '{carrier}' is not answering")
        if self._failures and self._failures[0][0] == operation:
            raise self._failures.popleft()[1]


def sandbox_tracking_number(carrier: str, idempotency_key: str) -> str:
    """``SB`` + up to 4 letters of the carrier code + 12 digits, stable for a key."""
    prefix = re.sub(r"[^A-Z0-9]", "", carrier.upper())[:4]
    digest = hashlib.sha256(f"{carrier}\n{idempotency_key}".encode()).hexdigest()
    return f"SB{prefix}{int(digest[:15], 16) % 10**12:012d}"


class ManualOnlyCarrier:
    """For stores without a carrier integration: staff enter tracking numbers themselves."""

    def create_shipment(self, carrier: str, parcel: Parcel, *, idempotency_key: str) -> Label:
        raise CarrierRejected(
            "carrier.not_configured",
            "no carrier integration is configured: enter the tracking number from the label",
        )

    def track(self, carrier: str, tracking_number: str) -> list[TrackingUpdate]:
        return []


def make_carrier(backend: str | None, *, production: bool, clock: Clock) -> Carrier:
    """``sandbox`` or ``manual``; unset means sandbox, except in production (manual)."""
    chosen = backend or ("manual" if production else "sandbox")
    if chosen == "sandbox":
        return SandboxCarrier(clock=clock)
    if chosen == "manual":
        return ManualOnlyCarrier()
    raise ValueError(f"unknown carrier backend '{chosen}'")
