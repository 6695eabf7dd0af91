"""Finance and admin in a real browser: who may see Finance, and a webhook made in the form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot, sign_in


def test_warehouse_neither_sees_nor_opens_finance(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "warehouse")
    menu = page.locator("nav.nav")
    expect(menu.get_by_role("link", name="Inventory")).to_be_visible()
    expect(menu.get_by_role("link", name="Finance")).to_have_count(0)
    page.goto(f"{site.url}/console/finance")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("[data-code='auth.permission_denied']")).to_be_visible()


def test_create_a_webhook_subscription_in_the_form(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.locator("h1")).to_have_text("Webhooks")
    form = page.locator("#webhook-form")
    form.get_by_label("URL").fill("hooks.example.com/orders")
    form.get_by_label("order.paid").check()
    form.get_by_role("button", name="Create subscription").click()
    expect(page.locator("[data-field=url]")).to_have_text("Enter an absolute http or https URL.")
    expect(form.get_by_label("order.paid")).to_be_checked()  # what was chosen is kept
    expect(page.locator("[data-secret]")).to_have_count(0)
    form.get_by_label("URL").fill("https://hooks.example.com/orders")
    form.get_by_role("button", name="Create subscription").click()
    expect(page.locator("[data-secret]")).to_contain_text("whsec_")
    expect(page.locator("[data-field=url]")).to_have_count(0)
    row = page.locator("#subscriptions tr[data-subscription]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("https://hooks.example.com/orders")
    expect(row.locator("[data-status=active]")).to_be_visible()
    screenshot(page, "webhooks")
    # the creation is in the audit log; the other admin pages for the screenshots
    page.goto(f"{site.url}/console/audit?entity_type=webhook_subscription")
    expect(page.locator("#audit-entries tr[data-entry]").first).to_contain_text(
        "webhooks.subscription_created"
    )
    screenshot(page, "audit")
    page.goto(f"{site.url}/console/finance")
    expect(page.locator("h1")).to_have_text("Finance")
    expect(page.locator("#payments-card tr[data-payment]").first).to_be_visible()
    screenshot(page, "finance")
    page.goto(f"{site.url}/console/users")
    expect(page.locator("#staff tr[data-user]").first).to_be_visible()
    screenshot(page, "users")
