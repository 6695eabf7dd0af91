"""Report windows and time buckets in the store's time zone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import ibis
import pytest

from shopops.analytics.periods import MAX_DAYS, parse_period
from shopops.kernel.errors import ValidationFailed

NOW = datetime(2026, 3, 30, 12, tzinfo=UTC)


def _engine_buckets(period, moments: list[datetime]) -> list[int]:  # type: ignore[no-untyped-def]
    backend = ibis.duckdb.from_connection(duckdb.connect())
    table = ibis.memtable({"ts": [m.astimezone(UTC).replace(tzinfo=None) for m in moments]})
    expr = table.select(key=period.bucket_expr(table.ts))
    return [int(k) for k in backend.execute(expr)["key"]]


@pytest.mark.parametrize("grain", ["hour", "day", "week", "month"])
def test_engine_buckets_match_local_wall_time_across_dst(grain: str) -> None:
    # Berlin moves from UTC+1 to UTC+2 at 01:00Z on 29 March 2026
    period = parse_period(
        tz="Europe/Berlin", now=NOW, grain=grain, start=date(2026, 3, 1), end=date(2026, 4, 3)
    )
    zone = ZoneInfo("Europe/Berlin")
    moments = [
        datetime(2026, 3, 28, 22, 30, tzinfo=UTC) + timedelta(minutes=37 * i) for i in range(200)
    ] + [datetime(2026, 3, 31, 22, 30, tzinfo=UTC)]
    labels = {b.key: b.label for b in period.buckets()}
    got = [labels[k] for k in _engine_buckets(period, moments)]
    local = [m.astimezone(zone) for m in moments]
    expected = {
        "hour": [f"{m:%Y-%m-%dT%H}:00" for m in local],
        "day": [f"{m:%Y-%m-%d}" for m in local],
        "week": [f"{(m - timedelta(days=m.weekday())):%Y-%m-%d}" for m in local],
        "month": [f"{m:%Y-%m}" for m in local],
    }[grain]
    assert got == expected


def test_last_windows() -> None:
    shanghai = parse_period(tz="Asia/Shanghai", now=NOW, grain="day", last="7d")
    assert (shanghai.start, shanghai.end) == (datetime(2026, 3, 24), datetime(2026, 3, 31))
    assert len(shanghai.buckets()) == 7
    hours = parse_period(tz="UTC", now=NOW, grain="hour", last="48h")
    assert len(hours.buckets()) == 48
    months = parse_period(tz="UTC", now=NOW, grain="month", last="3m")
    assert [b.label for b in months.buckets()] == ["2026-01", "2026-02", "2026-03"]
    assert months.shifted("previous").start == datetime(2025, 10, 1)
    assert months.shifted("last_year").start == datetime(2025, 1, 1)


def test_every_window_problem_is_reported_together() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_period(tz="UTC", now=NOW, grain="fortnight", last="0d")
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("grain", "analytics.unknown_grain"),
        ("last", "analytics.invalid_last"),
    ]
    with pytest.raises(ValidationFailed) as caught:
        parse_period(tz="UTC", now=NOW, grain="day", start=date(2020, 1, 1), end=date(2026, 1, 1))
    assert f"at most {MAX_DAYS} days" in caught.value.errors[0].message


def test_fractions_of_a_second_never_round_into_the_next_bucket() -> None:
    period = parse_period(
        tz="UTC", now=NOW, grain="day", start=date(2026, 3, 1), end=date(2026, 3, 2)
    )
    late = datetime(2026, 3, 1, 23, 59, 59, 900_000, tzinfo=UTC)
    labels = {b.key: b.label for b in period.buckets()}
    assert [labels[k] for k in _engine_buckets(period, [late])] == ["2026-03-01"]
