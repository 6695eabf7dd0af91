"""RFM and cohorts from the store's customer rollups equal RFM and cohorts computed from the
operational database's order history, before and after a refresh that moves customers'
orders; where the rollups do not cover a request (orders after it, another time zone), the
store's transactions answer, with the same results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.analytics.customers import cohorts, history, rfm
from shopops.analytics.engines import refresh, store_for
from shopops.analytics.metrics.facts import PAID_OR_LATER
from shopops.bootstrap import Container
from tests.analytics.dataset import TZ, _insert, _lines, _order, at, build_shop
from tests.analytics.test_rollups import CHANGED, _bump
from tests.analytics.test_rollups import _orders as more_orders

LATER = at("2026-06-01T00:00:00")  # after every order of the busy shop
EARLIER = at("2026-02-10T00:00:00")  # in the middle of its history


def _day(moment: datetime, tz: str = TZ) -> int:
    return (moment.astimezone(ZoneInfo(tz)).date() - date(1970, 1, 1)).days


def _operational(shop: Container, currency: str, until: datetime, tz: str = TZ) -> Any:
    with Session(shop.engine) as session:
        return history.load_transactions(session, currency=currency, timezone=tz, until=until)


def _rfm_columns(result: rfm.CustomerRfm) -> list[list[Any]]:
    s = result.scores
    return [
        list(x)
        for x in (
            result.customer_id,
            result.recency_days,
            result.frequency,
            result.monetary,
            s.recency,
            s.frequency,
            s.monetary,
            s.segment_code,
        )
    ]


def _matrix(m: cohorts.CohortMatrix) -> tuple[Any, ...]:
    # NaN (not yet observed) compared as None
    def cells(a: np.ndarray[Any, Any]) -> list[list[float | None]]:
        return [[None if np.isnan(v) else float(v) for v in row] for row in a]

    return m.grain, m.measure, m.cohorts, list(m.sizes), cells(m.values), cells(m.rates)


def _covered(shop: Container, currency: str, until: datetime, tz: str = TZ) -> bool:
    with store_for(shop.settings).connect() as con:
        covered, _ = history._rollups_cover(
            con, currency=currency, timezone=tz, until=until, as_of_day=_day(until, tz)
        )
    return covered


def assert_store_answers_as_the_database(
    shop: Container, until: datetime, tz: str = TZ
) -> dict[str, int]:
    """Every RFM and cohort variant, store against database; how many buyers per currency."""
    buyers = {}
    for currency in ("USD", "EUR"):
        transactions = _operational(shop, currency, until, tz)
        as_of = _day(until, tz)
        expected = rfm.from_transactions(transactions, as_of)
        with store_for(shop.settings).connect() as con:
            got = history.store_rfm(
                con, currency=currency, timezone=tz, as_of_day=as_of, until=until
            )
            three = history.store_rfm(
                con,
                currency=currency,
                timezone=tz,
                as_of_day=as_of,
                until=until,
                config=rfm.RfmConfig(bins=3),
            )
            for grain in cohorts.Grain:
                for measure in cohorts.Measure:
                    for periods, day in ((24, as_of), (3, as_of), (2, None)):
                        ours = history.store_cohorts(
                            con,
                            currency=currency,
                            timezone=tz,
                            grain=grain,
                            measure=measure,
                            periods=periods,
                            as_of_day=day,
                            until=until,
                        )
                        theirs = cohorts.cohort_matrix(
                            transactions,
                            grain=grain,
                            measure=measure,
                            periods=periods,
                            as_of_day=day,
                        )
                        assert _matrix(ours) == _matrix(theirs), (currency, grain, measure)
        assert _rfm_columns(got) == _rfm_columns(expected), currency
        bins3 = rfm.from_transactions(transactions, as_of, rfm.RfmConfig(bins=3))
        assert _rfm_columns(three) == _rfm_columns(bins3)
        buyers[currency] = len(got.customer_id)
    return buyers


@pytest.fixture
def busy_shop(analytics: Container) -> Container:
    """The busy shop of ``test_rollups``: returning customers, guests, two currencies."""
    build_shop(analytics)
    more_orders(analytics)
    assert refresh(analytics.settings).rollups == "rebuilt"
    return analytics


def test_the_customer_rollups_answer_as_the_operational_database(busy_shop: Container) -> None:
    assert _covered(busy_shop, "USD", LATER)
    buyers = assert_store_answers_as_the_database(busy_shop, LATER)
    assert buyers["USD"] >= 8
    assert buyers["EUR"] >= 3
    # orders after the request: the rollups do not cover it, the transactions answer
    assert not _covered(busy_shop, "USD", EARLIER)
    assert assert_store_answers_as_the_database(busy_shop, EARLIER)["USD"] >= 5
    # another time zone than the rollups': the transactions answer
    assert not _covered(busy_shop, "USD", LATER, "America/New_York")
    assert_store_answers_as_the_database(busy_shop, LATER, "America/New_York")


def test_a_refresh_keeps_the_customer_rollups(busy_shop: Container) -> None:
    shop = busy_shop
    # customer 2's first order is cancelled, an order moves from one customer to another,
    # another changes currency and total, a paid order of a new customer arrives
    _bump(shop, "orders", lambda t: t.c.id == 10, status="cancelled", updated_at=CHANGED)
    moved = _first_order_of(shop, 3)
    _bump(shop, "orders", lambda t: t.c.id == moved, customer_id=4, updated_at=CHANGED)
    other = _first_order_of(shop, 5)
    _bump(
        shop,
        "orders",
        lambda t: t.c.id == other,
        currency="EUR",
        total_minor=1234,
        updated_at=CHANGED,
    )
    _insert(
        shop,
        "customers",
        [
            {
                "id": 11,
                "tags": [],
                "source_channel": "web",
                "registered_at": CHANGED,
                "region": "CN-SH",
                "tier": None,
                "created_at": CHANGED,
                "updated_at": CHANGED,
            }
        ],
    )
    late = _order(
        410,
        customer_id=11,
        channel="web",
        placed_at="2026-03-15T23:30:00",  # the 16th in Shanghai
        status="paid",
        lines=[("A", 1, 1000, 0)],
        paid_at="2026-03-15T23:30:00",
    )
    late["updated_at"] = CHANGED
    _insert(shop, "orders", [late])
    _insert(shop, "order_lines", _lines(410, 4100, [("A", 1, 1000, 0)]))
    report = refresh(shop.settings)
    assert report.rollups == "delta"
    buyers = assert_store_answers_as_the_database(shop, LATER)
    with Session(shop.engine) as session:
        tx = history.load_transactions(session, currency="USD", timezone=TZ, until=LATER)
    assert 11 in set(tx.customer_id.tolist())
    assert buyers["USD"] == len(set(tx.customer_id))


def _first_order_of(shop: Container, customer: int) -> int:
    with Session(shop.engine) as session:
        orders = history.orders
        found = session.execute(
            select(orders.c.id)
            .where(
                orders.c.customer_id == customer,
                orders.c.status.in_(PAID_OR_LATER),
                orders.c.currency == "USD",
            )
            .order_by(orders.c.placed_at)
        ).first()
    assert found is not None
    return int(found[0])
