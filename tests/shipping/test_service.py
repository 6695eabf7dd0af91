"""Shipping methods and rates through the service, on the test database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.contexts import shipping
from shopops.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from tests.fulfilment.conftest import role_actor
from tests.promotions.conftest import Shop
from tests.shipping.conftest import add_rate_table, count_rows, run


def test_methods_are_listed_in_sort_order_with_their_rates_in_the_store_currency(
    store: Shop,
) -> None:
    add_rate_table(store.container)
    methods = run(store.container, shipping.list_methods)
    assert [(m.code, m.is_active, m.sort_order) for m in methods] == [
        ("standard", True, 0),
        ("courier", False, 5),
        ("express", True, 10),
    ]
    assert methods[0].rates == (
        shipping.Rate(1, "CN", None, "CNY", 800, 15000),
        shipping.Rate(2, "CN", "CN-XZ", "CNY", 2500, None),
        shipping.Rate(3, "*", None, "CNY", 6000, None),
    )
    active = run(store.container, lambda uow: shipping.list_methods(uow, include_inactive=False))
    assert [m.code for m in active] == ["standard", "express"]
    with store.container.session_factory() as session:
        audit = session.execute(
            select(AuditEntry.action, AuditEntry.entity_id)
            .where(AuditEntry.entity_type == "shipping_method")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(a) for a in audit] == [
        ("shipping.method_created", "1"),
        ("shipping.method_created", "2"),
        ("shipping.method_created", "3"),
    ]


def test_every_problem_is_listed_and_nothing_is_written(store: Shop) -> None:
    add_rate_table(store.container)
    before = count_rows(store.container)
    command = shipping.CreateShippingMethod(
        " Standard ",
        "",
        sort_order=-1,
        rates=(
            shipping.RateInput("China", "-1.00"),
            shipping.RateInput("CN", "abc", free_over="0"),
            shipping.RateInput("*", "1.001", region="CN-SH"),
            shipping.RateInput("cn", "2.00", region="cn-sh"),
            shipping.RateInput("CN", "3.00", region="CN-SH "),
            shipping.RateInput("US", ""),
        ),
    )
    with pytest.raises(ValidationFailed) as caught:
        run(store.container, shipping.create_method, command)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("code", "shipping.duplicate_code"),
        ("name", "shipping.invalid_name"),
        ("sort_order", "shipping.invalid_sort_order"),
        ("rates.0.country", "shipping.invalid_country"),
        ("rates.0.fee", "shipping.invalid_fee"),
        ("rates.1.fee", "shipping.invalid_fee"),
        ("rates.1.free_over", "shipping.invalid_free_over"),
        ("rates.2.fee", "shipping.invalid_fee"),
        ("rates.2.region", "shipping.invalid_region"),
        ("rates.5.fee", "shipping.invalid_fee"),
        ("rates.4.country", "shipping.duplicate_rate"),
    ]
    assert count_rows(store.container) == before


def test_rates_are_added_replaced_and_deleted_without_duplicates(store: Shop) -> None:
    add_rate_table(store.container)
    added = run(
        store.container,
        shipping.add_rate,
        shipping.AddShippingRate("Express", shipping.RateInput("cn", "30.00", region="cn-xz")),
    )
    assert added == shipping.Rate(added.id, "CN", "CN-XZ", "CNY", 3000, None)
    with pytest.raises(ValidationFailed) as caught:
        run(
            store.container,
            shipping.add_rate,
            shipping.AddShippingRate("express", shipping.RateInput("CN", "1.00")),
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("country", "shipping.duplicate_rate")
    ]
    replaced = run(
        store.container,
        shipping.replace_rate,
        shipping.ReplaceShippingRate(
            "express", added.id, shipping.RateInput("CN", "28.00", region="CN-XZ", free_over="500")
        ),
    )
    assert (replaced.id, replaced.fee_minor, replaced.free_over_minor) == (added.id, 2800, 50000)
    with pytest.raises(ValidationFailed) as moved_onto_another:
        run(
            store.container,
            shipping.replace_rate,
            shipping.ReplaceShippingRate("express", added.id, shipping.RateInput("CN", "1")),
        )
    assert moved_onto_another.value.errors[0].code == "shipping.duplicate_rate"
    with pytest.raises(NotFound) as elsewhere:  # a rate of another method
        run(store.container, shipping.delete_rate, "standard", added.id)
    assert elsewhere.value.code == "shipping.rate_not_found"
    run(store.container, shipping.delete_rate, "express", added.id)
    express = run(store.container, shipping.get_method, "express")
    assert [r.country for r in express.rates] == ["CN"]


def test_methods_are_changed_and_deleted_with_their_rates(store: Shop) -> None:
    add_rate_table(store.container)
    changed = run(
        store.container,
        shipping.update_method,
        shipping.UpdateShippingMethod("express", name="Next day", is_active=False, sort_order=1),
    )
    assert (changed.name, changed.is_active, changed.sort_order) == ("Next day", False, 1)
    with pytest.raises(ValidationFailed):
        run(
            store.container,
            shipping.update_method,
            shipping.UpdateShippingMethod("express", name=""),
        )
    run(store.container, shipping.delete_method, "standard")
    assert count_rows(store.container)["rates"] == 2
    with pytest.raises(NotFound) as caught:
        run(store.container, shipping.get_method, "standard")
    assert caught.value.code == "shipping.method_not_found"


def test_quotes_apply_the_most_specific_rate_and_the_threshold(store: Shop) -> None:
    add_rate_table(store.container)

    def quote(method: str, country: str, region: str | None, subtotal: str) -> shipping.Quote:
        command = shipping.QuoteShipping(method, country, region, subtotal)
        return run(store.container, shipping.quote, command)  # type: ignore[no-any-return]

    assert quote("standard", "cn", "CN-SH", "149.99").fee_minor == 800
    assert quote("standard", "CN", None, "150.00").fee_minor == 0
    assert quote("standard", "CN", "cn-xz", "1000").fee_minor == 2500
    assert quote("standard", "FR", None, "0").fee_minor == 6000
    with pytest.raises(ValidationFailed) as unknown:
        quote("courier", "CN", None, "0")
    assert (unknown.value.code, unknown.value.details) == (
        "shipping.unknown_method",
        {"allowed": ["standard", "express"]},
    )
    with pytest.raises(ValidationFailed) as nowhere:
        quote("express", "FR", None, "0")
    assert nowhere.value.code == "shipping.no_rate_for_destination"
    with pytest.raises(ValidationFailed) as bad:
        quote("standard", "FRA", "x" * 101, "-1")
    assert [(e.field, e.code) for e in bad.value.errors] == [
        ("country", "shipping.invalid_country"),
        ("region", "shipping.invalid_region"),
        ("subtotal", "shipping.invalid_subtotal"),
    ]


def test_reading_needs_shipping_read_and_changing_shipping_manage(store: Shop) -> None:
    add_rate_table(store.container)
    before = count_rows(store.container)
    marketing = role_actor(Role.MARKETING)
    assert len(run(store.container, shipping.list_methods, actor=marketing)) == 3
    with pytest.raises(PermissionDenied):
        run(
            store.container,
            shipping.update_method,
            shipping.UpdateShippingMethod("standard", is_active=False),
            actor=marketing,
        )
    assert count_rows(store.container) == before
    ops = role_actor(Role.OPS_MANAGER)
    run(store.container, shipping.delete_rate, "standard", 3, actor=ops)
    assert count_rows(store.container)["rates"] == before["rates"] - 1
