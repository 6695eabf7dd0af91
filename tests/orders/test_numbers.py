"""Order numbers: readable, dated, and rarely colliding even on a busy day."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from shopops.contexts.orders.rules import new_order_number

PATTERN = re.compile(r"SO-\d{6}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}")


def test_a_number_carries_the_day_and_eight_unambiguous_characters() -> None:
    number = new_order_number(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
    assert PATTERN.fullmatch(number), number
    assert number.startswith("SO-261122-")


def test_a_busy_day_of_numbers_has_no_collision() -> None:
    # 30^8 suffixes: 20,000 draws collide with a chance of ~0.03 % (six characters: ~24 %)
    moment = datetime(2026, 11, 22, tzinfo=UTC)
    numbers = {new_order_number(moment) for _ in range(20_000)}
    assert len(numbers) == 20_000
