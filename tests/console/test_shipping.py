"""The shipping page: methods and their rates, added and changed from forms."""

from __future__ import annotations

from typing import Any

import pytest

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import shipping
from tests.architecture.test_permission_matrix import _snapshot
from tests.commerce import SYSTEM
from tests.console.conftest import ConsoleClient, ConsoleFactory
from tests.console.markup import find, one, parse
from tests.shipping.conftest import add_rate_table

PAGE = "/console/shipping"


@pytest.fixture
def container(make_container: Any) -> Container:
    return make_container(default_currency="CNY")


def methods(container: Container) -> list[shipping.Method]:
    with container.uow(SYSTEM) as uow:
        return shipping.list_methods(uow)


def test_a_method_and_its_rates_are_added_and_changed_from_the_page(
    owner_console: ConsoleClient, container: Container
) -> None:
    empty = owner_console.get(PAGE)
    assert empty.status_code == 200
    assert "No shipping methods yet: orders are charged no shipping." in empty.text
    created = owner_console.post(
        f"{PAGE}/methods", {"code": "Standard", "name": "Standard", "sort_order": "0"}
    )
    assert created.status_code == 200, created.text[:500]
    assert one(created.text, data_notice="").text == "Shipping method standard created."
    added = owner_console.post(
        f"{PAGE}/methods/standard/rates", {"country": "cn", "fee": "8", "free_over": "99"}
    )
    assert added.status_code == 200, added.text[:500]
    row = one(added.text, "tr", data_rate="1")
    assert row.text.startswith("CN CN¥8.00 CN¥99.00")
    owner_console.post(
        f"{PAGE}/methods/standard/rates/1",
        {"country": "CN", "region": "cn-xz", "fee": "25.00", "free_over": ""},
    )
    owner_console.post(f"{PAGE}/methods/standard", {"name": "Standard post", "sort_order": "3"})
    switched = owner_console.post(f"{PAGE}/methods/standard/disable")
    assert one(switched.text, data_notice="").text == "Shipping method switched off."
    [method] = methods(container)
    assert (method.name, method.sort_order, method.is_active) == ("Standard post", 3, False)
    assert method.rates == (shipping.Rate(1, "CN", "CN-XZ", "CNY", 2500, None),)
    owner_console.post(f"{PAGE}/methods/standard/rates/1/delete")
    assert methods(container)[0].rates == ()
    deleted = owner_console.post(f"{PAGE}/methods/standard/delete")
    assert "No shipping methods yet" in deleted.text
    assert methods(container) == []


def test_wrong_input_is_shown_beside_the_fields_of_its_form(
    owner_console: ConsoleClient, container: Container
) -> None:
    add_rate_table(container)
    before = _snapshot(container)
    duplicate = owner_console.post(f"{PAGE}/methods", {"code": "standard", "name": ""})
    assert duplicate.status_code == 422
    assert one(duplicate.text, data_field="code").text == (
        "Another shipping method already has this code."
    )
    assert one(duplicate.text, data_field="name").text == (
        "Give the method a name of at most 100 characters."
    )
    bad_rate = owner_console.post(
        f"{PAGE}/methods/express/rates", {"country": "China", "fee": "-1", "free_over": "0"}
    )
    assert bad_rate.status_code == 422
    messages = {e.attrs["data-field"]: e.text for e in find(bad_rate.text, class_="field-error")}
    assert messages == {
        "country": "Enter a two-letter country code such as CN, or * for anywhere.",
        "fee": "Enter a fee of 0 or more, such as 8.00.",
        "free_over": "Enter an amount greater than zero, such as 99.00, or leave it empty.",
    }
    # the wrong values stay in the form that was sent, the others show what is stored
    assert one(bad_rate.text, "input", name="country", value="China")
    clash = owner_console.post(f"{PAGE}/methods/express/rates", {"country": "CN", "fee": "1"})
    assert one(clash.text, data_field="country").text == (
        "This method already has a rate for this destination."
    )
    assert _snapshot(container) == before


def test_reading_is_for_shipping_read_and_changing_for_shipping_manage(
    console_as: ConsoleFactory, container: Container
) -> None:
    add_rate_table(container)
    analyst = console_as(Role.ANALYST)
    page = analyst.get(PAGE)
    assert page.status_code == 200
    assert [s.attrs["data-method"] for s in parse(page.text).having("data-method")] == [
        "standard",
        "courier",
        "express",
    ]
    assert not find(page.text, "form", id="method-form")
    assert "CN / CN-XZ" in one(page.text, "tr", data_rate="2").text
    before = _snapshot(container)
    refused = analyst.post(f"{PAGE}/methods/standard/disable")
    assert refused.status_code == 403
    assert 'data-code="auth.permission_denied"' in refused.text
    assert _snapshot(container) == before


def test_the_page_speaks_chinese(owner_console: ConsoleClient, container: Container) -> None:
    add_rate_table(container)
    owner_console.get("/console/language/zh_CN?next=/console/shipping")
    page = owner_console.get(PAGE)
    assert "新建配送方式" in page.text
    assert "其他任意地区" in page.text
