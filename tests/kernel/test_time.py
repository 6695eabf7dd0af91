"""Aware UTC everywhere; a frozen clock for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shopops.kernel.time import FrozenClock, SystemClock, ensure_utc, utc_now

PLUS_8 = timezone(timedelta(hours=8))


def test_utc_now_and_system_clock_are_aware_utc() -> None:
    for moment in (utc_now(), SystemClock().now()):
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)


def test_ensure_utc_converts_to_the_same_instant() -> None:
    local = datetime(2026, 3, 1, 10, 30, tzinfo=PLUS_8)
    converted = ensure_utc(local)
    assert converted == datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    assert converted.tzinfo is UTC
    assert converted.hour == 2


def test_ensure_utc_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 3, 1, 10, 30))


class TestFrozenClock:
    def test_stands_still_until_advanced(self) -> None:
        start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        clock = FrozenClock(start)
        assert clock.now() == start
        assert clock.now() == start
        clock.advance(timedelta(minutes=5))
        assert clock.now() == start + timedelta(minutes=5)

    def test_start_is_converted_to_utc(self) -> None:
        clock = FrozenClock(datetime(2026, 1, 1, 8, 0, tzinfo=PLUS_8))
        assert clock.now() == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
        assert clock.now().tzinfo is UTC

    def test_set(self) -> None:
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        clock.set(datetime(2027, 6, 1, 8, 0, tzinfo=PLUS_8))
        assert clock.now() == datetime(2027, 6, 1, 0, 0, tzinfo=UTC)

    def test_refuses_naive(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            FrozenClock(datetime(2026, 1, 1))
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        with pytest.raises(ValueError, match="naive"):
            clock.set(datetime(2026, 1, 2))
        assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
