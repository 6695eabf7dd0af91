"""When customers buy: BG/NBD-like purchase processes on a seasonal clock.

Each customer buys at a personal rate (gamma-distributed across customers) and
after every purchase drops out for good with a personal probability
(beta-distributed), the process CLV models such as BG/NBD assume. Time runs on
a seasonal clock: weekends and promotion days pass "faster", so more purchases
land on them, and the hour of a purchase follows an evening-heavy profile.

Only per-customer state is held (a few numpy arrays); purchases are produced
day by day, so memory does not grow with the length of the history.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

# Relative purchase activity per hour of day (UTC+8 shoppers, stored in UTC).
HOUR_WEIGHTS = (
    *(0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0, 1.1),
    *(1.3, 1.1, 1.0, 1.0, 1.0, 1.1, 1.3, 1.6, 2.0, 2.2, 1.8, 0.9),
)
WEEKDAY_WEIGHTS = (0.92, 0.9, 0.95, 1.0, 1.08, 1.22, 1.18)  # Monday .. Sunday

RATE_SHAPE = 1.1  # gamma shape of purchase rates: a long tail of frequent buyers
MEAN_RATE_PER_DAY = 1 / 20
DROPOUT_BETA = (1.2, 8.0)  # mean dropout chance after a purchase: 13 %
NEVER_BUY = 0.12  # registered, never ordered


@dataclass(frozen=True)
class Campaign:
    name: str
    first_day: int
    factors: tuple[float, ...]  # demand multiplier on consecutive days


def campaigns(start: datetime, days: int) -> list[Campaign]:
    """A mid-year sale (18 June) and singles' day (11 November) where they fall in
    the window; a window without them gets two sales at 40 % and 80 % of its length."""
    found = []
    for year in range(start.year, (start + timedelta(days=days)).year + 1):
        for month, day, name in ((6, 16, "mid-year-sale"), (11, 9, "singles-day")):
            first = (datetime(year, month, day, tzinfo=start.tzinfo) - start).days
            if 0 <= first < days - 3:
                found.append(Campaign(f"{name}-{year}", first, (1.6, 2.4, 3.6, 1.4)))
    if found or days < 20:
        return found
    return [
        Campaign("spring-sale", int(days * 0.4), (1.8, 2.8, 1.5)),
        Campaign("member-days", int(days * 0.8), (1.6, 3.2, 2.0, 1.3)),
    ]


class SeasonalClock:
    """Maps calendar days (floats since ``start``) to demand-weighted time and back."""

    def __init__(self, start: datetime, days: int, sales: list[Campaign]) -> None:
        self.start = start
        self.days = days
        weights = [WEEKDAY_WEIGHTS[(start + timedelta(days=d)).weekday()] for d in range(days)]
        self.campaign_of: dict[int, str] = {}
        for sale in sales:
            for offset, factor in enumerate(sale.factors):
                if sale.first_day + offset < days:
                    weights[sale.first_day + offset] *= factor
                    self.campaign_of[sale.first_day + offset] = sale.name
        mean = sum(weights) / days
        self.cumulative = [0.0]
        for weight in weights:
            self.cumulative.append(self.cumulative[-1] + weight / mean)
        self._hours = list(range(24))
        self._hour_cum = list(np.cumsum(HOUR_WEIGHTS))

    def warp(self, t: float) -> float:
        day = min(int(t), self.days - 1)
        low, high = self.cumulative[day], self.cumulative[day + 1]
        return low + (t - day) * (high - low)

    def unwarp(self, u: float) -> float:
        """Calendar day of warped time ``u``; ``inf`` past the end of the window."""
        if u >= self.cumulative[-1]:
            return math.inf
        day = bisect.bisect_right(self.cumulative, u) - 1
        low, high = self.cumulative[day], self.cumulative[day + 1]
        return day + (u - low) / (high - low)

    def at_evening_hour(self, rng: random.Random, t: float) -> float:
        """``t`` moved within its day to an hour drawn from the daily profile."""
        hour = rng.choices(self._hours, cum_weights=self._hour_cum)[0]
        return math.floor(t) + (hour + rng.random()) / 24

    def moment(self, t: float) -> datetime:
        return self.start + timedelta(days=t)


class PurchaseProcess:
    """Per-customer purchase clocks; ``due`` yields the purchases of one day, in order."""

    def __init__(
        self, seed: int, clock: SeasonalClock, registered_days: np.ndarray, rng: random.Random
    ) -> None:
        generator = np.random.default_rng(seed)
        count = len(registered_days)
        self.clock = clock
        self.rng = rng
        self.rate = generator.gamma(RATE_SHAPE, MEAN_RATE_PER_DAY / RATE_SHAPE, count)
        self.dropout = generator.beta(*DROPOUT_BETA, count)
        # First orders follow sign-up: often in the same session, otherwise within days.
        same_session = generator.random(count) < 0.45
        delay = np.where(
            same_session,
            generator.exponential(1.5 / 24, count),
            generator.exponential(5.0, count),
        )
        self.next_day = registered_days + delay
        self.next_day[generator.random(count) < NEVER_BUY] = math.inf
        self.purchases = np.zeros(count, dtype=np.int32)

    def due(self, day: int) -> list[tuple[float, int]]:
        """(time in days, customer index) of every purchase on calendar day ``day``."""
        found: list[tuple[float, int]] = []
        end = day + 1
        while True:
            ready = np.flatnonzero(self.next_day < end)
            if not ready.size:
                break
            for index in ready.tolist():
                t = float(self.next_day[index])
                found.append((t, index))
                self.purchases[index] += 1
                self.next_day[index] = self._after(index, t)
        found.sort()
        return found

    def _after(self, index: int, t: float) -> float:
        if self.rng.random() < self.dropout[index]:
            return math.inf  # this customer has quietly left
        u = self.clock.warp(t) + self.rng.expovariate(float(self.rate[index]))
        later = self.clock.unwarp(u)
        if math.isinf(later):
            return later
        return max(self.clock.at_evening_hour(self.rng, later), t + 0.02)
