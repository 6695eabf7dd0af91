"""Group buying against the database: offers, opening, joining, paying, holds, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from shopops.contexts import fulfilment, group_buying, orders, payments
from shopops.kernel.errors import DomainError, NotFound, PermissionDenied
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM, statement_kinds
from tests.conftest import ContainerFactory
from tests.group_buying.conftest import NOW, Shop, build_shop, sell


def refused(shop: Shop, call: Any) -> DomainError:
    before = shop.counts()
    with pytest.raises(DomainError) as caught:
        call()
    assert shop.counts() == before  # nothing written
    return caught.value


def test_an_offer_with_bad_terms_lists_every_problem(shop: Shop) -> None:
    error = refused(
        shop,
        lambda: shop.offer(
            name=" ",
            sku="NOPE",
            group_size=1,
            duration_minutes=0,
            starts_at=NOW,
            ends_at=NOW,
            max_groups=0,
            max_quantity=0,
        ),
    )
    assert error.code == "validation.failed"
    assert sorted((e.field, e.code) for e in error.errors) == [
        ("duration_minutes", "group_buys.invalid_duration"),
        ("ends_at", "group_buys.invalid_window"),
        ("group_size", "group_buys.invalid_size"),
        ("max_groups", "group_buys.invalid_limit"),
        ("max_quantity", "group_buys.invalid_limit"),
        ("name", "group_buys.invalid_name"),
        ("sku", "group_buys.unknown_sku"),
    ]
    error = refused(shop, lambda: shop.offer(group_price="0"))
    assert [(e.field, e.code) for e in error.errors] == [
        ("group_price", "group_buys.invalid_price")
    ]
    error = refused(shop, lambda: shop.offer(group_price="1.234"))
    assert [(e.field, e.code) for e in error.errors] == [
        ("group_price", "group_buys.invalid_price")
    ]


def test_a_group_fills_when_every_member_paid_and_its_orders_may_ship(shop: Shop) -> None:
    offer = shop.offer()
    first, second, third = shop.customer(), shop.customer(), shop.customer()
    opened = shop.join(offer, first)
    group_id = opened.detail.group.id
    assert opened.opened
    assert (opened.detail.group.status, opened.detail.group.joined) == ("open", 1)
    assert opened.detail.group.expires_at == NOW + timedelta(days=1)
    order = opened.order
    # the group price, no promotions, held, due when the group expires at the latest
    assert (order.subtotal_minor, order.total_minor, order.offer_reference) == (
        5990,
        5990,
        f"group:{group_id}",
    )
    assert order.fulfilment_hold == "group_buy"
    assert order.payment_due_at == NOW + timedelta(minutes=30)
    members = [opened.order, shop.join(offer, second, group_id).order]
    shop.pay(members[0].id)
    shop.pay(members[1].id)
    assert (shop.group(group_id).group.status, shop.group(group_id).paid) == ("open", 2)
    # paid but held: it cannot ship before the group fills
    with pytest.raises(DomainError) as held:
        ship(shop, members[0].id)
    assert held.value.code == "fulfilment.order_on_hold"

    last = shop.join(offer, third, group_id, quantity=1)
    assert (last.detail.group.joined, last.opened) == (3, False)
    members.append(last.order)
    shop.pay(last.order.id)
    detail = shop.group(group_id)
    assert (detail.group.status, detail.paid) == ("succeeded", 3)
    assert detail.group.closed_at == NOW
    assert [m.status for m in detail.members] == ["paid", "paid", "paid"]
    assert all(shop.order(m.id).fulfilment_hold is None for m in members)
    assert shop.events("group_buy.succeeded") == [
        {
            "group_id": group_id,
            "offer_id": offer,
            "size": 3,
            "order_numbers": [m.number for m in members],
        }
    ]
    assert [e["opened"] for e in shop.events("group_buy.joined")] == [True, False, False]
    ship(shop, members[0].id)
    assert shop.order(members[0].id).status == "shipped"


def ship(shop: Shop, order_id: int) -> None:
    fulfilment.ship(
        shop.tx(),
        shop.container.carrier,
        fulfilment.ShipOrder(
            order_id, shop.warehouse_id, "ups", tracking_number=f"1ZTRACK{order_id}"
        ),
    )


def test_a_full_group_and_a_second_membership_are_refused(shop: Shop) -> None:
    offer = shop.offer(group_size=2)
    first, second, third = shop.customer(), shop.customer(), shop.customer()
    group_id = shop.join(offer, first).detail.group.id
    again = refused(shop, lambda: shop.join(offer, first, group_id))
    assert again.code == "group_buys.already_member"
    shop.join(offer, second, group_id)
    full = refused(shop, lambda: shop.join(offer, third, group_id))
    assert (full.code, full.details["size"]) == ("group_buys.group_full", 2)
    assert shop.group(group_id).group.joined == 2
    assert shop.reserved() == 2


def test_joining_needs_a_customer_a_quantity_within_limits_and_an_open_group(
    shop: Shop,
) -> None:
    offer = shop.offer(max_quantity=2)
    buyer = shop.customer()
    error = refused(shop, lambda: shop.join(offer, None, quantity=3))
    assert sorted((e.field, e.code) for e in error.errors) == [
        ("customer_id", "group_buys.customer_required"),
        ("quantity", "group_buys.invalid_quantity"),
    ]
    assert refused(shop, lambda: shop.join(offer, buyer, 999)).code == "group_buys.group_not_found"
    assert refused(shop, lambda: shop.join(999, buyer)).code == "group_buys.not_found"
    other = shop.offer()
    group_id = shop.join(other, buyer).detail.group.id
    newcomer = shop.customer()
    wrong = refused(shop, lambda: shop.join(offer, newcomer, group_id))
    assert wrong.code == "group_buys.group_not_found"
    # past its expiry the group takes nobody, even before the job settles it
    shop.clock.advance(timedelta(days=1))
    late = refused(shop, lambda: shop.join(other, newcomer, group_id))
    assert late.code == "group_buys.group_closed"


def test_an_offer_opens_groups_only_while_it_runs_and_up_to_its_limit(shop: Shop) -> None:
    later = shop.offer(starts_at=NOW + timedelta(hours=1))
    buyer, other = shop.customer(), shop.customer()
    assert refused(shop, lambda: shop.join(later, buyer)).code == "group_buys.offer_not_running"
    limited = shop.offer(max_groups=1)
    group_id = shop.join(limited, buyer).detail.group.id
    assert refused(shop, lambda: shop.join(limited, other)).code == (
        "group_buys.max_groups_reached"
    )
    shop.run(lambda uow: group_buying.end_offer(uow, limited))
    assert refused(shop, lambda: shop.join(limited, other)).code == "group_buys.offer_not_running"
    # an ended offer's open groups still take members until they expire
    assert shop.join(limited, other, group_id).detail.group.joined == 2


def test_a_member_whose_order_closes_unpaid_frees_the_place(shop: Shop) -> None:
    offer = shop.offer(group_size=2)
    first, second, third = shop.customer(), shop.customer(), shop.customer()
    group_id = shop.join(offer, first).detail.group.id
    unpaid = shop.join(offer, second, group_id).order
    shop.pay(shop.group(group_id).members[0].order_id)
    shop.clock.advance(timedelta(minutes=31))
    assert shop.run(orders.close_unpaid) == 1
    detail = shop.group(group_id)
    assert (detail.group.joined, [m.status for m in detail.members]) == (1, ["paid", "left"])
    assert shop.order(unpaid.id).status == "closed"
    replacement = shop.join(offer, third, group_id).order
    shop.pay(replacement.id)
    assert shop.group(group_id).group.status == "succeeded"


def test_an_expired_group_cancels_every_order_and_refunds_what_was_paid(shop: Shop) -> None:
    offer = shop.offer()
    first, second = shop.customer(), shop.customer()
    opened = shop.join(offer, first, quantity=1)
    group_id = opened.detail.group.id
    joined = shop.join(offer, second, group_id)
    shop.pay(opened.order.id)
    assert shop.reserved() == 2
    # not yet expired: the job leaves it alone
    shop.clock.advance(timedelta(hours=23))
    assert shop.expire() == group_buying.ExpiryRun(0, 0, 0)
    shop.clock.advance(timedelta(hours=1))
    assert shop.expire() == group_buying.ExpiryRun(succeeded=0, failed=1, refunds=1)
    detail = shop.group(group_id)
    assert detail.group.status == "failed"
    assert [m.status for m in detail.members] == ["cancelled", "cancelled"]
    paid, unpaid = shop.order(opened.order.id), shop.order(joined.order.id)
    assert (paid.status, paid.payment_status, paid.refunded_minor) == (
        "cancelled",
        "refunded",
        5990,
    )
    assert (unpaid.status, unpaid.payment_status) == ("cancelled", "unpaid")
    assert shop.reserved() == 0
    with shop.container.uow(SYSTEM) as uow:
        refunds = payments.refunds_of_order(uow.session, paid.id)
        assert [(r.status, r.amount_minor) for r in refunds] == [("succeeded", 5990)]
    [failed] = shop.events("group_buy.failed")
    assert (failed["group_id"], failed["paid"], failed["refund_ids"]) == (
        group_id,
        1,
        [refunds[0].id],
    )
    # the job again finds nothing to do
    assert shop.expire() == group_buying.ExpiryRun(0, 0, 0)


def test_the_expiry_job_counts_payments_whose_events_are_not_handled_yet(
    make_container: ContainerFactory,
) -> None:
    clock = FrozenClock(NOW)
    shop = build_shop(make_container(clock=clock, outbox_inline=False), clock)
    offer = shop.offer(group_size=2)
    first, second = shop.customer(), shop.customer()
    opened = shop.join(offer, first)
    group_id = opened.detail.group.id
    joined = shop.join(offer, second, group_id)
    shop.pay(opened.order.id)
    shop.pay(joined.order.id)
    assert shop.group(group_id).group.status == "open"  # order.paid not handled yet
    clock.advance(timedelta(days=1))
    assert shop.expire() == group_buying.ExpiryRun(succeeded=1, failed=0, refunds=0)
    assert shop.group(group_id).paid == 2
    assert shop.order(joined.order.id).fulfilment_hold is None


# --- performance ---------------------------------------------------------------------

LIST, GROUP = 9990, 5990  # the SKU's price and the group price
NOTHING = group_buying.GroupBuyFigures(*([0] * 14))


def test_performance_of_a_filled_a_failed_and_an_open_group(shop: Shop) -> None:
    offer = shop.offer(group_size=2, duration_minutes=60, max_quantity=2)
    other = shop.offer(name="Other tea")
    assert shop.performance(offer) == NOTHING
    assert NOTHING.success_rate is None
    buyers = [shop.customer() for _ in range(6)]
    filled = shop.join(offer, buyers[0], quantity=2)
    second = shop.join(offer, buyers[1], filled.detail.group.id)
    shop.pay(filled.order.id)
    shop.pay(second.order.id)
    assert shop.group(filled.detail.group.id).group.status == "succeeded"
    failing = shop.join(offer, buyers[2])
    group_id = failing.detail.group.id
    shop.pay(failing.order.id)
    leaver = shop.join(offer, buyers[3], group_id).order
    shop.join(other, buyers[3])  # another offer's group counts only there
    shop.clock.advance(timedelta(minutes=31))
    assert shop.run(orders.close_unpaid) == 2  # leaver, and the other offer's order
    assert shop.order(leaver.id).status == "closed"
    shop.clock.advance(timedelta(minutes=9))
    shop.join(offer, buyers[4], group_id)  # takes the freed place, never pays
    shop.clock.advance(timedelta(minutes=21))  # the failing group expired a minute ago
    units = 2 + 1
    before_expiry = group_buying.GroupBuyFigures(
        groups_opened=2,
        groups_succeeded=1,
        groups_failed=0,
        groups_open=1,  # expired, not settled yet
        members_joined=5,
        members_left=1,
        orders_paid=3,
        orders_cancelled=0,
        orders_refunded=0,
        orders_refunded_minor=0,
        orders_succeeded=2,
        units_succeeded=units,
        discount_minor=(LIST - GROUP) * units,
        gmv_minor=GROUP * units,
    )
    assert shop.performance(offer) == before_expiry
    assert before_expiry.success_rate == 1.0

    assert shop.expire() == group_buying.ExpiryRun(succeeded=0, failed=1, refunds=1)
    shop.join(offer, buyers[5])
    final = replace(
        before_expiry,
        groups_opened=3,
        groups_failed=1,
        groups_open=1,  # the one just opened
        members_joined=6,
        orders_cancelled=2,  # the paid opener and the unpaid newcomer
        orders_refunded=1,
        orders_refunded_minor=GROUP,
    )
    assert shop.performance(offer) == final
    assert final.success_rate == 0.5
    assert final.groups_opened == final.groups_succeeded + final.groups_failed + final.groups_open
    assert (shop.performance(other).groups_opened, shop.performance(other).members_left) == (1, 1)


def test_the_sell_history_of_the_api_and_cli_tests(shop: Shop) -> None:
    assert shop.performance(sell(shop)) == group_buying.GroupBuyFigures(
        groups_opened=3,
        groups_succeeded=1,
        groups_failed=1,
        groups_open=1,
        members_joined=6,
        members_left=1,
        orders_paid=3,
        orders_cancelled=2,
        orders_refunded=1,
        orders_refunded_minor=5990,
        orders_succeeded=2,
        units_succeeded=3,
        discount_minor=12000,
        gmv_minor=17970,
    )


def test_performance_reads_in_three_queries_whatever_the_groups(shop: Shop) -> None:
    empty = shop.offer(name="Empty")
    busy = sell(shop)
    before = shop.counts()
    for offer in (empty, busy):
        seen = statement_kinds(shop.container.engine, lambda o=offer: shop.performance(o))
        assert [s for s in seen if s != "BEGIN"] == ["SELECT"] * 3  # offer, groups, members
    assert shop.counts() == before


def test_performance_needs_promotions_read_and_an_offer(shop: Shop) -> None:
    offer = shop.offer()
    with pytest.raises(NotFound) as missing, shop.container.uow(SYSTEM) as uow:
        group_buying.offer_performance(uow, offer + 1)
    assert missing.value.code == "group_buys.not_found"
    clerk = Actor("user", 7, "clerk", frozenset({"orders.read", "orders.write"}))
    with pytest.raises(PermissionDenied) as denied, shop.container.uow(clerk) as uow:
        group_buying.offer_performance(uow, offer)
    assert denied.value.details == {"permission": "promotions.read"}
