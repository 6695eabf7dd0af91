"""The dashboard in a real browser: sign in, KPI cards, charts drawn, filters, Chinese."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot, sign_in


def test_sign_in_and_the_dashboard_draws_its_charts(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    expect(page).to_have_url(f"{site.url}/console/dashboard")
    expect(page.locator("[data-kpi=orders] .value")).not_to_have_text("0")
    expect(page.locator("#trend-chart[data-rendered=true] svg")).to_be_visible()
    expect(page.locator("#trend-chart svg path").first).to_be_attached()
    expect(page.locator("#funnel-chart[data-rendered=true] svg")).to_be_visible()
    screenshot(page, "dashboard")


def test_bad_dates_are_explained_beside_the_filter(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.goto(f"{site.url}/console/dashboard?from=2026-05-09&to=2026-05-01")
    expect(page.locator("[data-field=to]")).to_have_text("The start must be before the end.")


def test_the_chinese_interface_is_translated(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.click("a[lang=zh-CN]")
    expect(page.locator("h1")).to_have_text("仪表盘")
    expect(page.locator("[data-kpi=gmv] h2")).to_have_text("成交总额（GMV）")
    expect(page.locator("nav.nav")).to_contain_text("订单")
    screenshot(page, "dashboard-zh-CN")


def test_sign_out(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.click("text=Sign out")
    expect(page).to_have_url(f"{site.url}/console/login")
    page.goto(f"{site.url}/console/dashboard")
    expect(page).to_have_url(f"{site.url}/console/login?next=/console/dashboard")
