"""Orders in a real browser: filter and open, cancel (stock released), partial refund, and a
warehouse user kept away from refunds."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from shopops.contexts import inventory, orders, payments
from tests.commerce import SYSTEM, guest_order, stock_of
from tests.e2e.conftest import LiveSite, screenshot, sign_in


def _paid_order(site: LiveSite, quantity: int = 2) -> tuple[int, str]:
    """A fresh paid order of a demo SKU with stock to spare: (order id, SKU)."""
    container = site.container
    with container.session_factory() as session:
        sku = session.scalar(
            select(inventory.StockLevel.sku)
            .where(inventory.StockLevel.on_hand - inventory.StockLevel.reserved >= 50)
            .order_by(inventory.StockLevel.id)
            .limit(1)
        )
    assert sku is not None
    with container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, guest_order((sku, quantity)))
        uow.commit()
        order_id = order.id
    orders.pay_order(lambda: container.uow(SYSTEM), container.payment_gateway, order_id=order_id)
    return order_id, sku


def _reserved(site: LiveSite, sku: str) -> int:
    return sum(reserved for _, _, reserved in stock_of(site.container, sku))


def _order(site: LiveSite, order_id: int) -> orders.Order:
    with site.container.session_factory() as session:
        found = session.get(orders.Order, order_id)
        assert found is not None
        return found


def test_filter_the_orders_and_open_one(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.goto(f"{site.url}/console/orders")
    expect(page.locator("tr[data-order]").first).to_be_visible()
    screenshot(page, "orders")
    page.select_option("select[name=status]", "shipped")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(f"{site.url}/console/orders?status=shipped")
    statuses = page.locator("tr[data-order] [data-status]")
    expect(statuses.first).to_have_attribute("data-status", "shipped")
    assert set(statuses.evaluate_all("els => els.map(e => e.dataset.status)")) == {"shipped"}
    page.click("th a[data-sort=total]")  # biggest shipped order first
    expect(page).to_have_url(f"{site.url}/console/orders?status=shipped&sort=-total")
    first = page.locator("tr[data-order]").first
    number = first.get_attribute("data-order")
    first.locator("a").first.click()
    expect(page.locator("h1")).to_have_text(f"Order {number}")
    expect(page.locator("[data-order-status=shipped]")).to_be_visible()
    expect(page.locator("[data-shipment]").first).to_be_visible()
    expect(page.locator("[data-section=timeline] li").first).to_be_visible()
    screenshot(page, "order-detail")


def test_cancelling_an_order_releases_its_stock(page: Page, site: LiveSite) -> None:
    order_id, sku = _paid_order(site, quantity=2)
    held_before = _reserved(site, sku)
    sign_in(page, site, "cs_agent")
    page.goto(f"{site.url}/console/orders/{order_id}")
    held = page.locator(f"[data-held^='{sku}@']").first
    available = held.locator("[data-available]")
    available_before = int(available.get_attribute("data-available") or "0")
    quantity = int(held.locator("[data-quantity]").get_attribute("data-quantity") or "0")
    assert quantity > 0
    page.fill("[data-form=cancel] input[name=reason]", "customer changed their mind")
    page.click("[data-form=cancel] button[type=submit]")  # the confirmation is accepted
    expect(page.locator("[data-notice]")).to_contain_text("Order cancelled")
    expect(page.locator("[data-order-status=cancelled]")).to_be_visible()
    expect(page.locator("[data-reservation=released]").first).to_be_visible()
    expect(page.locator("[data-reservation=active]")).to_have_count(0)
    expect(available).to_have_attribute("data-available", str(available_before + quantity))
    assert _reserved(site, sku) == held_before - 2
    assert _order(site, order_id).status == "cancelled"


def test_refund_part_of_an_order(page: Page, site: LiveSite) -> None:
    order_id, _ = _paid_order(site, quantity=1)
    sign_in(page, site, "finance")
    page.goto(f"{site.url}/console/orders/{order_id}")
    page.fill("[data-form=refund] input[name=amount]", "1.00")
    page.fill("[data-form=refund] input[name=reason]", "late delivery")
    page.click("[data-form=refund] button[type=submit]")
    expect(page.locator("[data-notice]")).to_contain_text("refunded")
    expect(page.locator("[data-payment-status=partially_refunded]")).to_be_visible()
    expect(page.locator("[data-refund=succeeded]")).to_have_count(1)
    order = _order(site, order_id)
    assert order.payment_status == "partially_refunded"
    assert 0 < order.refunded_minor < order.captured_minor


def test_a_warehouse_user_sees_no_refunds_and_the_server_refuses_one(
    page: Page, site: LiveSite
) -> None:
    order_id, _ = _paid_order(site, quantity=1)
    sign_in(page, site, "warehouse")
    expect(page.locator("nav.nav a", has_text="Orders")).to_be_visible()
    expect(page.locator("nav.nav a[href='/console/finance']")).to_have_count(0)
    page.goto(f"{site.url}/console/orders/{order_id}")
    expect(page.locator("[data-order-status=paid]")).to_be_visible()
    expect(page.locator("[data-section=payments]")).to_have_count(0)
    expect(page.locator("[data-form=refund]")).to_have_count(0)
    expect(page.locator("[data-section=shipments] form[data-form^=ship-]").first).to_be_visible()
    token = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRF-Token"]
    with site.container.session_factory() as session:
        refunds_before = session.scalar(select(func.count()).select_from(payments.Refund))
    response = page.request.post(
        f"{site.url}/console/orders/{order_id}/refunds",
        form={"amount": "1.00", "reason": "sneaky"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status == 403
    assert 'data-code="auth.permission_denied"' in response.text()
    assert _order(site, order_id).refunded_minor == 0
    with site.container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(payments.Refund)) == refunds_before
    finance = page.request.get(f"{site.url}/console/finance")
    assert finance.status == 403
