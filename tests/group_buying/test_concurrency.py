"""Concurrent joins on PostgreSQL never put more members in a group than its size, and
concurrent openers never open more groups than the offer allows."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.contexts import group_buying, inventory, orders
from shopops.kernel.errors import DomainError
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM
from tests.conftest import ContainerFactory
from tests.group_buying.conftest import NOW, Shop, build_shop

pytestmark = pytest.mark.postgres_only

BUYERS = 16


@pytest.fixture
def busy_shop(make_container: ContainerFactory) -> Shop:
    clock = FrozenClock(NOW)
    container = make_container(clock=clock, outbox_inline=False, database_pool_size=BUYERS + 5)
    shop = build_shop(container, clock)
    for _ in range(BUYERS + 1):
        shop.customer()
    return shop


def _race(buy: Callable[[int], str]) -> Counter[str]:
    start = threading.Barrier(BUYERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def buyer(index: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=30)
        try:
            result = buy(index)
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        list(pool.map(buyer, range(BUYERS)))
    return outcomes


def _count(shop: Shop, model: Any) -> int:
    with shop.container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_group_never_takes_more_members_than_its_size(busy_shop: Shop) -> None:
    offer = busy_shop.offer(group_size=4)
    leader, *others = busy_shop.customers
    group_id = busy_shop.join(offer, leader).detail.group.id

    def buy(index: int) -> str:
        busy_shop.join(offer, others[index], group_id)
        return "joined"

    outcomes = _race(buy)
    assert outcomes == Counter({"joined": 3, "group_buys.group_full": BUYERS - 3})
    detail = busy_shop.group(group_id)
    assert (detail.group.joined, len(detail.members)) == (4, 4)
    # the refused buyers left no order and no stock held behind
    assert _count(busy_shop, orders.Order) == 4
    assert _count(busy_shop, inventory.Reservation) == 4
    assert busy_shop.reserved() == 4


def test_an_offer_never_opens_more_groups_than_allowed(busy_shop: Shop) -> None:
    offer = busy_shop.offer(max_groups=5)

    def buy(index: int) -> str:
        busy_shop.join(offer, busy_shop.customers[index])
        return "opened"

    outcomes = _race(buy)
    assert outcomes == Counter({"opened": 5, "group_buys.max_groups_reached": BUYERS - 5})
    assert _count(busy_shop, group_buying.BuyingGroup) == 5
    with busy_shop.container.uow(SYSTEM) as uow:
        assert group_buying.get_offer(uow, offer).groups_opened == 5
    assert busy_shop.reserved() == 5
