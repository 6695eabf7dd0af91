"""The shipping page in a real browser: the demo's methods, a rate added in the form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot, sign_in


def test_add_a_rate_to_the_demo_express_method(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "ops_manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shipping").click()
    expect(page.locator("h1")).to_have_text("Shipping")
    expect(page.locator("section[data-method]")).to_have_count(2)
    express = page.locator("section[data-method=express]")
    expect(express.locator("tr[data-rate]")).to_have_count(2)
    form = express.locator("form.new-rate")
    form.get_by_label("Country").fill("CN")
    form.get_by_label("Region").fill("CN-BJ")
    form.get_by_label("Fee").fill("-5")
    form.get_by_role("button", name="Add rate").click()
    expect(express.locator("[data-field=fee]")).to_have_text(
        "Enter a fee of 0 or more, such as 8.00."
    )
    expect(form.get_by_label("Region")).to_have_value("CN-BJ")  # what was typed is kept
    form.get_by_label("Fee").fill("16")
    form.get_by_role("button", name="Add rate").click()
    expect(page.locator("[data-notice]")).to_have_text("The rate is saved.")
    expect(express.locator("tr[data-rate]")).to_have_count(3)
    expect(express.locator("tr[data-rate]").last).to_contain_text("CN / CN-BJ")
    screenshot(page, "shipping")


def test_an_analyst_reads_the_table_without_forms(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "analyst")
    page.goto(f"{site.url}/console/shipping")
    expect(page.locator("section[data-method=standard] tr[data-rate]")).to_have_count(2)
    expect(page.locator("form.new-rate")).to_have_count(0)
