"""Report windows in the store's time zone, their time buckets, and comparison windows.

Buckets are computed by the engine from integer epoch seconds, which every engine
supports alike: ``local = epoch + offset`` (the offset switches at each DST
transition inside the window, found here in Python), then hour and day buckets
are ``local // 3600`` and ``local // 86400``, weeks start on Monday, and months
are found by comparing with the month starts of the window.
"""

from __future__ import annotations

import itertools
import re
from calendar import monthrange
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from shopops.kernel.errors import FieldError, ValidationFailed

Grain = Literal["hour", "day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("hour", "day", "week", "month")
Compare = Literal["previous", "last_year"]
COMPARISONS: tuple[Compare, ...] = ("previous", "last_year")

MAX_DAYS = 3 * 366  # longest window
MAX_BUCKETS = 1000  # most buckets in one answer (e.g. 41 days by hour)
_LAST = re.compile(r"^(\d{1,4})([hdwm])$")
_EPOCH_LOCAL = datetime(1970, 1, 1)  # noqa: DTZ001 - naive local wall time on purpose


def epoch(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds since 1970 (UTC), rounded down on every engine.

    DuckDB and PostgreSQL give fractional seconds, and a plain cast to an integer
    rounds them (12:59:59.6 would land in the next hour); SQLite truncates.
    """
    return ts.epoch_seconds().floor().cast("int64")


@dataclass(frozen=True)
class Bucket:
    key: int
    label: str


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in local wall time of ``tz``, cut into buckets of ``grain`` (or one)."""

    start: datetime  # naive local
    end: datetime  # naive local, exclusive
    tz: str
    grain: Grain | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def _to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    @property
    def utc_start(self) -> datetime:
        """Naive UTC, the form timestamps take in the store."""
        return self._to_utc(self.start)

    @property
    def utc_end(self) -> datetime:
        return self._to_utc(self.end)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def buckets(self) -> list[Bucket]:
        if self.grain is None:
            return [Bucket(0, f"{self.start:%Y-%m-%d}..{self.end - timedelta(days=1):%Y-%m-%d}")]
        out: dict[int, Bucket] = {}
        cursor = self.start
        while cursor < self.end:
            key = _local_key(cursor, self.grain)
            out.setdefault(key, Bucket(key, _label(cursor, self.grain)))
            cursor = _next(cursor, self.grain)
        return list(out.values())

    def bucket_bounds(self) -> list[tuple[int, datetime, datetime]]:
        """(key, utc start, utc end) per bucket, clipped to the window."""
        if self.grain is None:
            return [(0, self.utc_start, self.utc_end)]
        bounds: list[tuple[int, datetime, datetime]] = []
        cursor = self.start
        while cursor < self.end:
            following = min(_next(_floor(cursor, self.grain), self.grain), self.end)
            bounds.append(
                (_local_key(cursor, self.grain), self._to_utc(cursor), self._to_utc(following))
            )
            cursor = following
        return bounds

    def bucket_expr(self, ts: ir.TimestampValue) -> ir.IntegerValue:
        """The bucket key of each timestamp (naive UTC) as an engine expression."""
        if self.grain is None:
            return ibis.literal(0, type="int64")
        seconds = epoch(ts)
        local = seconds + self._offset_expr(seconds)
        if self.grain == "hour":
            return local // 3600
        if self.grain == "day":
            return local // 86400
        if self.grain == "week":
            return (local // 86400 + 3) // 7
        starts = self.bucket_bounds()
        cases = [
            (local < int((_naive_local(self, end) - _EPOCH_LOCAL).total_seconds()), key)
            for key, _, end in starts[:-1]
        ]
        last = starts[-1][0]
        if not cases:
            return ibis.literal(last, type="int64")
        return ibis.cases(*cases, else_=last).cast("int64")

    # --- the same window in local day numbers (for the daily rollups) --------------------

    def local_days(self) -> tuple[int, int] | None:
        """``[first, end)`` as local day numbers (days since 1970-01-01 in ``tz``), when the
        window starts and ends at local midnight and no clock change touches either
        midnight: then a moment is in the window exactly when its local day is."""
        if self.grain == "hour":
            return None
        if self.start.time() != time(0) or self.end.time() != time(0):
            return None
        segments = _offsets(
            self.zone, self.utc_start - timedelta(days=2), self.utc_end + timedelta(days=1)
        )
        midnights = [(b - _EPOCH_LOCAL).total_seconds() for b in (self.start, self.end)]
        for (_, before), (switch, after) in _pairs(segments):
            low, high = switch + min(before, after), switch + max(before, after)
            if any(low <= midnight <= high for midnight in midnights):
                return None  # that local midnight is skipped or repeated
        return _day_number(self.start), _day_number(self.end)

    def day_buckets(self) -> list[tuple[int, int, int]]:
        """(bucket key, first local day, end local day) of each bucket, clipped to the window;
        for windows with ``local_days``."""
        days = self.local_days()
        assert days is not None, "the window does not start and end at local midnight"
        if self.grain is None:
            return [(0, days[0], days[1])]
        return [
            (key, _day_number(_naive_local(self, begin)), _day_number(_naive_local(self, stop)))
            for key, begin, stop in self.bucket_bounds()
        ]

    def day_bucket_expr(self, day: ir.IntegerValue) -> ir.IntegerValue:
        """The bucket key of a local day number (as ``bucket_expr`` gives for its moments)."""
        if self.grain is None:
            return ibis.literal(0, type="int64")
        if self.grain == "day":
            return day.cast("int64")
        if self.grain == "week":
            return ((day + 3) // 7).cast("int64")
        return self._day_cases(day, lambda key, first: key)

    def day_bucket_start(self, day: ir.IntegerValue) -> ir.IntegerValue:
        """The first local day of the bucket holding ``day``, clipped to the window."""
        first_day = self.day_buckets()[0][1]
        if self.grain is None:
            return ibis.literal(first_day, type="int64")
        if self.grain == "day":
            return day.cast("int64")
        if self.grain == "week":
            return ibis.greatest(((day + 3) // 7) * 7 - 3, first_day).cast("int64")
        return self._day_cases(day, lambda key, first: first)

    def _day_cases(self, day: ir.IntegerValue, pick: Callable[[int, int], int]) -> ir.IntegerValue:
        buckets = self.day_buckets()
        last = pick(buckets[-1][0], buckets[-1][1])
        if len(buckets) == 1:
            return ibis.literal(last, type="int64")
        cases = [(day < stop, pick(key, first)) for key, first, stop in buckets[:-1]]
        return ibis.cases(*cases, else_=last).cast("int64")

    def _offset_expr(self, epoch: ir.IntegerValue) -> ir.IntegerValue | int:
        segments = _offsets(self.zone, self.utc_start - timedelta(days=1), self.utc_end)
        if len(segments) == 1:
            return segments[0][1]
        cases = [(epoch < switch, offset) for (_, offset), (switch, _) in _pairs(segments)]
        return ibis.cases(*cases, else_=segments[-1][1]).cast("int64")

    def shifted(self, compare: Compare) -> Period:
        if compare == "last_year":
            return Period(_minus_year(self.start), _minus_year(self.end), self.tz, self.grain)
        whole_months = self.start.day == 1 and self.end.day == 1 and self.start.hour == 0
        if self.grain == "month" or (whole_months and self.end.hour == 0 and self.grain is None):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
            if months > 0:
                return Period(
                    _add_months(self.start, -months),
                    _add_months(self.end, -months),
                    self.tz,
                    self.grain,
                )
        length = self.end - self.start
        return Period(self.start - length, self.end - length, self.tz, self.grain)


def utc_offsets(tz: str, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """(from epoch second, UTC offset seconds) segments of ``tz`` covering ``[start, end]``
    (naive UTC): what turns a moment into local time, as ``bucket_expr`` does."""
    return _offsets(ZoneInfo(tz), start, end)


def local_day(local: datetime) -> int:
    """Day number (days since 1970-01-01) of a naive local moment."""
    return _day_number(local)


def _day_number(local: datetime) -> int:
    return (local - _EPOCH_LOCAL).days


def _pairs(segments: Sequence[tuple[int, int]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    return list(itertools.pairwise(segments))


def _naive_local(period: Period, utc_naive: datetime) -> datetime:
    return utc_naive.replace(tzinfo=UTC).astimezone(period.zone).replace(tzinfo=None)


def _offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """(from epoch second, UTC offset seconds) segments covering ``[start, end]`` (naive UTC)."""

    def offset_at(epoch: int) -> int:
        moment = datetime.fromtimestamp(epoch, UTC).astimezone(zone)
        delta = moment.utcoffset()
        return int(delta.total_seconds()) if delta else 0

    first = int(start.replace(tzinfo=UTC).timestamp())
    last = int(end.replace(tzinfo=UTC).timestamp()) + 86400
    segments = [(first, offset_at(first))]
    day = first
    while day < last:
        following = day + 86400
        if offset_at(following) != segments[-1][1]:
            low, high = day, following  # offset changes in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                if offset_at(middle) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            segments.append((high, offset_at(high)))
        day = following
    return segments


def _floor(moment: datetime, grain: Grain) -> datetime:
    if grain == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(moment: datetime, grain: Grain) -> datetime:
    floor = _floor(moment, grain)
    if grain == "hour":
        return floor + timedelta(hours=1)
    if grain == "day":
        return floor + timedelta(days=1)
    if grain == "week":
        return floor + timedelta(days=7)
    return _add_months(floor, 1)


def _local_key(moment: datetime, grain: Grain) -> int:
    seconds = int((moment - _EPOCH_LOCAL).total_seconds())
    if grain == "hour":
        return seconds // 3600
    if grain == "day":
        return seconds // 86400
    if grain == "week":
        return (seconds // 86400 + 3) // 7
    return moment.year * 12 + moment.month - 1


def _label(moment: datetime, grain: Grain) -> str:
    floor = _floor(moment, grain)
    if grain == "hour":
        return f"{floor:%Y-%m-%dT%H:00}"
    if grain == "month":
        return f"{floor:%Y-%m}"
    return f"{floor:%Y-%m-%d}"


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    return moment.replace(
        year=year, month=month + 1, day=min(moment.day, monthrange(year, month + 1)[1])
    )


def _minus_year(moment: datetime) -> datetime:
    if moment.month == 2 and moment.day == 29:
        return moment.replace(year=moment.year - 1, day=28)
    return moment.replace(year=moment.year - 1)


# --- parsing what people type -------------------------------------------------------------


def parse_period(
    *,
    tz: str,
    now: datetime,
    grain: str | None,
    start: date | None = None,
    end: date | None = None,
    last: str | None = None,
) -> Period:
    """A window from ``last`` (``30d``, ``12w``, ``6m``, ``48h``) or ``start``..``end`` (dates,
    both included); every problem is reported together, with what is allowed."""
    errors: list[FieldError] = []
    if grain is not None and grain not in GRAINS:
        errors.append(
            FieldError("grain", "analytics.unknown_grain", f"allowed: {', '.join(GRAINS)}")
        )
    local_now = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    window: tuple[datetime, datetime] | None = None
    if last is not None:
        if start is not None or end is not None:
            errors.append(
                FieldError("last", "analytics.conflicting_range", "give last, or from and to")
            )
        matched = _LAST.match(last.strip().lower())
        if matched is None or int(matched.group(1)) == 0:
            errors.append(
                FieldError(
                    "last",
                    "analytics.invalid_last",
                    "a count and a unit: h (hours), d (days), w (weeks) or m (months), e.g. 30d",
                )
            )
        else:
            window = _last_window(local_now, int(matched.group(1)), matched.group(2))
    elif start is not None or end is not None:
        if start is None or end is None:
            errors.append(
                FieldError(
                    "from" if start is None else "to",
                    "validation.required",
                    "give both from and to (dates, both included)",
                )
            )
        elif end < start:
            errors.append(
                FieldError("to", "analytics.reversed_range", f"to ({end}) is before from ({start})")
            )
        else:
            window = (
                datetime.combine(start, datetime.min.time()),
                datetime.combine(end + timedelta(days=1), datetime.min.time()),
            )
    else:
        window = _last_window(local_now, 30, "d")
    if window is not None and not errors:
        days = (window[1] - window[0]).total_seconds() / 86400
        if days > MAX_DAYS:
            errors.append(
                FieldError(
                    "to",
                    "analytics.range_too_long",
                    f"the window is {days:.0f} days; at most {MAX_DAYS} days are allowed",
                )
            )
        elif grain in GRAINS:
            count = len(Period(window[0], window[1], tz, grain).buckets())
            if count > MAX_BUCKETS:
                errors.append(
                    FieldError(
                        "grain",
                        "analytics.too_many_buckets",
                        f"{count} {grain} buckets; at most {MAX_BUCKETS}: use a coarser grain "
                        "or a shorter window",
                    )
                )
    if errors or window is None:
        raise ValidationFailed("validation.failed", "invalid report window", errors=errors)
    return Period(window[0], window[1], tz, grain)  # type: ignore[arg-type]


def _last_window(local_now: datetime, count: int, unit: str) -> tuple[datetime, datetime]:
    if unit == "h":
        end = local_now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return end - timedelta(hours=count), end
    end = local_now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if unit == "d":
        return end - timedelta(days=count), end
    if unit == "w":
        return end - timedelta(days=7 * count), end
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return _add_months(month_start, 1 - count), _add_months(month_start, 1)
