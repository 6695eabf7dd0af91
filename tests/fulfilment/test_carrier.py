from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopops.adapters.carriers import (
    Carrier,
    CarrierRejected,
    CarrierUnavailable,
    ManualOnlyCarrier,
    Parcel,
    ParcelItem,
    SandboxCarrier,
    TrackingUpdate,
    make_carrier,
    sandbox_tracking_number,
)
from shopops.kernel.errors import Unavailable, Unprocessable
from shopops.kernel.time import FrozenClock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PARCEL = Parcel(
    reference="SO-260301-ABCDEF",
    origin="SH1",
    recipient="Wang Fang",
    address_lines=("88 Nanjing Road",),
    city="Shanghai",
    postal_code="200001",
    country="CN",
    phone="13812345678",
    weight_grams=420,
    items=(ParcelItem("TEE", 2),),
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def sandbox(clock: FrozenClock) -> SandboxCarrier:
    return SandboxCarrier(clock=clock)


def test_tracking_numbers_are_deterministic_per_carrier_and_key(sandbox: SandboxCarrier) -> None:
    label = sandbox.create_shipment("ups", PARCEL, idempotency_key="k1")
    assert label.tracking_number == sandbox_tracking_number("ups", "k1")
    assert label.tracking_number.startswith("SBUPS")
    assert len(label.tracking_number) == 17
    assert sandbox_tracking_number("sf-express", "k1").startswith("SBSFEX")
    assert sandbox_tracking_number("ups", "k2") != label.tracking_number
    assert sandbox_tracking_number("dhl", "k1") != sandbox_tracking_number("fedex", "k1")
    fresh = SandboxCarrier()  # another process answers a retried key the same way
    assert fresh.create_shipment("ups", PARCEL, idempotency_key="k1") == label


def test_the_same_key_returns_the_same_label(sandbox: SandboxCarrier) -> None:
    first = sandbox.create_shipment("dhl", PARCEL, idempotency_key="order-1")
    again = sandbox.create_shipment("dhl", PARCEL, idempotency_key="order-1")
    assert first == again
    assert first.label_reference == f"sandbox://labels/dhl/{first.tracking_number}.pdf"
    assert [c[0] for c in sandbox.calls] == ["create", "create"]


def test_unknown_carriers_and_empty_parcels_are_rejected(sandbox: SandboxCarrier) -> None:
    with pytest.raises(CarrierRejected) as unknown:
        sandbox.create_shipment("pigeon", PARCEL, idempotency_key="k")
    assert unknown.value.code == "carrier.unsupported"
    assert isinstance(unknown.value, Unprocessable)
    empty = Parcel(**{**PARCEL.__dict__, "items": ()})
    with pytest.raises(CarrierRejected):
        sandbox.create_shipment("ups", empty, idempotency_key="k")


def test_failures_can_be_queued_or_permanent(sandbox: SandboxCarrier) -> None:
    sandbox.fail_next("create")
    sandbox.fail_next("track", CarrierRejected("carrier.rejected", "bad number"))
    with pytest.raises(CarrierUnavailable) as outage:
        sandbox.create_shipment("ups", PARCEL, idempotency_key="k")
    assert outage.value.code == "carrier.unavailable"
    assert isinstance(outage.value, Unavailable)
    label = sandbox.create_shipment("ups", PARCEL, idempotency_key="k")  # the outage passed
    with pytest.raises(CarrierRejected):
        sandbox.track("ups", label.tracking_number)
    assert sandbox.track("ups", label.tracking_number) == []
    sandbox.unavailable.add("ups")
    for _ in range(2):
        with pytest.raises(CarrierUnavailable):
            sandbox.track("ups", label.tracking_number)
    assert sandbox.track("dhl", "SOMETHING") == []


def test_booked_parcels_progress_as_time_passes(
    sandbox: SandboxCarrier, clock: FrozenClock
) -> None:
    number = sandbox.create_shipment("ems", PARCEL, idempotency_key="k").tracking_number
    assert sandbox.track("ems", number) == []
    clock.advance(timedelta(hours=21))
    assert [u.status for u in sandbox.track("ems", number)] == ["in_transit"]
    clock.advance(timedelta(days=2))
    scans = sandbox.track("ems", number)
    assert [u.status for u in scans] == ["in_transit", "out_for_delivery", "delivered"]
    assert scans[-1].occurred_at == T0 + timedelta(days=2, hours=5)


def test_scripts_replace_the_default_progress(sandbox: SandboxCarrier, clock: FrozenClock) -> None:
    sandbox.script(
        "ups",
        "1Z999",
        [
            TrackingUpdate("exception", T0 + timedelta(hours=5), "Hub", "Damaged"),
            TrackingUpdate("in_transit", T0 + timedelta(hours=1), "Hub", "Arrived"),
        ],
    )
    clock.advance(timedelta(hours=2))
    assert [u.status for u in sandbox.track("ups", "1Z999")] == ["in_transit"]
    clock.advance(timedelta(hours=4))
    assert [u.description for u in sandbox.track("ups", "1Z999")] == ["Arrived", "Damaged"]


def test_manual_only_carrier_cannot_book() -> None:
    manual = ManualOnlyCarrier()
    with pytest.raises(CarrierRejected) as caught:
        manual.create_shipment("ups", PARCEL, idempotency_key="k")
    assert caught.value.code == "carrier.not_configured"
    assert manual.track("ups", "1Z999") == []


def test_the_backend_follows_settings(clock: FrozenClock) -> None:
    carriers: list[Carrier] = [
        make_carrier(None, production=False, clock=clock),
        make_carrier(None, production=True, clock=clock),
        make_carrier("sandbox", production=True, clock=clock),
        make_carrier("manual", production=False, clock=clock),
    ]
    assert [type(c).__name__ for c in carriers] == [
        "SandboxCarrier",
        "ManualOnlyCarrier",
        "SandboxCarrier",
        "ManualOnlyCarrier",
    ]
    with pytest.raises(ValueError):
        make_carrier("pigeon", production=False, clock=clock)


def test_the_container_carrier_is_built_from_settings(make_container) -> None:
    assert isinstance(make_container().carrier, SandboxCarrier)
    assert isinstance(make_container(carrier_backend="manual").carrier, ManualOnlyCarrier)
