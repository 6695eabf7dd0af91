"""A CNY store for shipping tests: the promotions test shop (TEE 100.00, SHOE 300.00,
BAG 200.00, MUG 15.00) with stock, on a frozen clock, and a rate table to add."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import shipping
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM, add_warehouse
from tests.promotions.conftest import NOW, Shop, build_shop

# standard: 8.00 in China, free from 150.00; 25.00 to Tibet; 60.00 anywhere else.
# express: 20.00 in China only. courier: switched off.
TABLE = (
    shipping.CreateShippingMethod(
        "standard",
        "Standard",
        sort_order=0,
        rates=(
            shipping.RateInput("CN", "8.00", free_over="150.00"),
            shipping.RateInput("CN", "25.00", region="CN-XZ"),
            shipping.RateInput("*", "60.00"),
        ),
    ),
    shipping.CreateShippingMethod(
        "express", "Express", sort_order=10, rates=(shipping.RateInput("CN", "20.00"),)
    ),
    shipping.CreateShippingMethod(
        "courier",
        "Courier",
        is_active=False,
        sort_order=5,
        rates=(shipping.RateInput("CN", "5.00"),),
    ),
)


def add_rate_table(container: Container) -> list[shipping.Method]:
    with container.uow(SYSTEM) as uow:
        made = [shipping.create_method(uow, command) for command in TABLE]
        uow.commit()
    return made


def count_rows(container: Container) -> dict[str, int]:
    tables = {
        "methods": shipping.ShippingMethod,
        "rates": shipping.ShippingRate,
        "audit": AuditEntry,
    }
    with container.session_factory() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in tables.items()
        }


def build_store(make_container: Callable[..., Container]) -> Shop:
    container = make_container(clock=FrozenClock(NOW), default_currency="CNY")
    shop = build_shop(container)
    add_warehouse(container, "SH1", stock={"TEE": 20, "SHOE": 10, "BAG": 10, "MUG": 10})
    return shop


@pytest.fixture
def store(make_container: Callable[..., Container]) -> Shop:
    return build_store(make_container)


def run(container: Container, use_case: Callable[..., Any], *args: Any, actor: Any = SYSTEM) -> Any:
    with container.uow(actor) as uow:
        result = use_case(uow, *args)
        uow.commit()
        return result
