"""Many checkouts spend one balance at the same moment on PostgreSQL: never overdrawn."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from shopops.bootstrap import Container
from shopops.contexts import customers, loyalty
from shopops.kernel.errors import DomainError
from tests.commerce import SYSTEM
from tests.conftest import ContainerFactory

BUYERS = 30
POINTS = 100
BALANCE = 1000


@pytest.fixture
def funded(make_container: ContainerFactory) -> tuple[Container, int]:
    container = make_container(outbox_inline=False, database_pool_size=BUYERS + 5)
    with container.uow(SYSTEM) as uow:
        customer = customers.register_customer(
            uow, customers.RegisterCustomer(email="rich@example.com")
        )
        # three lots, so the racing redemptions also race over lots
        for points in (BALANCE // 2, BALANCE // 4, BALANCE // 4):
            loyalty.adjust_points(uow, loyalty.AdjustPoints(customer.id, points, "seed"))
        uow.commit()
    return container, customer.id


@pytest.mark.postgres_only
def test_concurrent_redemptions_never_overdraw(funded: tuple[Container, int]) -> None:
    container, customer_id = funded
    start = threading.Barrier(BUYERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def checkout(number: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=30)
        try:
            with container.uow(SYSTEM) as uow:
                loyalty.redeem(uow, customer_id, POINTS, f"SO-{number}", 1_000_000)
                uow.commit()
            result = "redeemed"
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        list(pool.map(checkout, range(BUYERS)))

    winners = BALANCE // POINTS
    assert outcomes == Counter(
        {"redeemed": winners, "loyalty.insufficient_points": BUYERS - winners}
    )
    with container.uow(SYSTEM) as uow:
        account = loyalty.get_account(uow, customer_id)
        assert account.balance == 0
        entries = loyalty.list_ledger(uow, customer_id, limit=500)
        redeemed = [e for e in entries if e.kind == "redeem"]
        assert -sum(e.points for e in redeemed) == BALANCE
        assert len({e.order_reference for e in redeemed}) == winners
        account_id = entries[0].account_id
        assert loyalty.ledger_totals(uow.session, account_id) == (0, 0)
