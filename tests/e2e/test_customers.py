"""Customers in a real browser: the list, a profile, and the cohort heatmap drawn."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot, sign_in


def test_a_customer_profile_and_the_cohort_heatmap(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.goto(f"{site.url}/console/customers")
    rows = page.locator("tr[data-customer]")
    expect(rows.first).to_be_visible()
    screenshot(page, "customers")

    customer_id = rows.first.get_attribute("data-customer")
    rows.first.locator("a").click()
    expect(page).to_have_url(f"{site.url}/console/customers/{customer_id}")
    expect(page.locator("[data-section=loyalty] [data-fact=points]")).to_be_visible()
    expect(page.locator("[data-section=insights] [data-fact=stage]")).not_to_be_empty()
    expect(page.locator("[data-section=orders]")).to_be_visible()
    screenshot(page, "customer-profile")

    page.goto(f"{site.url}/console/customers/cohorts")
    expect(page.locator("#cohort-chart[data-rendered=true] svg")).to_be_visible()
    expect(page.locator("#cohort-chart svg path").first).to_be_attached()
    page.get_by_label("By revenue").check()
    expect(page.locator("#cohorts-heading")).to_contain_text("Revenue retention")
    expect(page.locator("#cohort-chart[data-rendered=true] svg")).to_be_visible()
    expect(page).to_have_url(f"{site.url}/console/customers/cohorts?measure=revenue&periods=12")
    screenshot(page, "cohorts")
