"""Promotions in a real browser: create one in the form, then see it applied in the simulator."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot, sign_in


def test_a_promotion_created_in_the_form_applies_in_the_simulator(
    page: Page, site: LiveSite
) -> None:
    sign_in(page, site, "marketing")
    page.goto(f"{site.url}/console/promotions/new")
    kind = page.locator("select[name=kind]")
    kind.select_option("spend_tiers")  # the inputs follow the kind
    expect(page.locator('[name="params.tiers.0.spend"]')).to_be_visible()
    kind.select_option("percentage")
    expect(page.locator('[name="params.percent"]')).to_be_visible()

    page.fill('[name="name"]', "Browser ten")
    page.fill('[name="params.percent"]', "150")
    page.click("text=Create promotion")
    expect(page.locator('[data-field="params.percent"]')).to_have_text(
        "A percentage must be between 0 and 100."
    )
    page.fill('[name="params.percent"]', "10")
    page.check('[name="activate"]')
    page.click("text=Create promotion")
    page.wait_for_url(re.compile(r".*/console/promotions/\d+$"))
    promotion_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1 [data-status=active]")).to_be_visible()

    page.goto(f"{site.url}/console/promotions")
    expect(page.locator(f"tr[data-promotion='{promotion_id}']")).to_contain_text("Browser ten")
    screenshot(page, "promotions")

    page.goto(f"{site.url}/console/promotions/simulator")
    page.get_by_label("SKU of line 1").fill(site.demo.skus[0])
    page.get_by_label("Quantity of line 1").fill("2")
    page.click("text=Price the cart")
    row = page.locator(f"tr[data-promotion='{promotion_id}']")
    expect(row).to_have_attribute("data-applied", "true")
    expect(row).to_contain_text("Applied")
    expect(page.locator("[data-total=item_discount]")).not_to_have_text(re.compile(r"^\$0\.00$"))
    page.wait_for_function("getComputedStyle(document.getElementById('loading')).opacity === '0'")
    screenshot(page, "promotion-simulator")
