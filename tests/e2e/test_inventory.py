"""Inventory and catalog in a real browser: stock actions change the numbers in place,
and bad input is explained beside the field."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot, sign_in


def _cell(page: Page, sku: str, warehouse: str, column: str) -> int:
    text = page.locator(f'tr[data-sku="{sku}"][data-warehouse="{warehouse}"] [data-col={column}]')
    return int(text.inner_text().replace(",", ""))


def test_an_adjustment_and_a_transfer_change_the_stock_on_the_page(
    page: Page, site: LiveSite
) -> None:
    sku = site.demo.skus[0]
    shanghai, beijing = site.demo.warehouses["SH1"], site.demo.warehouses["BJ1"]
    sign_in(page, site, "warehouse")
    page.goto(f"{site.url}/console/inventory?sku={sku}")
    row = page.locator(f'tr[data-sku="{sku}"][data-warehouse="SH1"]')
    expect(row).to_be_visible()
    before = _cell(page, sku, "SH1", "on_hand")
    beijing_row = page.locator(f'tr[data-sku="{sku}"][data-warehouse="BJ1"]')
    beijing_before = _cell(page, sku, "BJ1", "on_hand") if beijing_row.count() else 0

    page.fill("#adjust-sku", sku)
    page.select_option("#adjust-warehouse", str(shanghai))
    page.fill("#adjust-quantity", "5")
    page.fill("#adjust-reason", "found in returns cage")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator("[data-done=adjust]")).to_contain_text(f"Adjusted {sku} in SH1")
    expect(row.locator("[data-col=on_hand]")).to_have_text(f"{before + 5:,}")

    page.fill("#transfer-sku", sku)
    page.fill("#transfer-quantity", "2")
    page.select_option("#transfer-source", str(shanghai))
    page.select_option("#transfer-destination", str(beijing))
    page.click("#transfer-form button[type=submit]")
    expect(page.locator("[data-done=transfer]")).to_contain_text(f"Moved 2 of {sku}")
    expect(row.locator("[data-col=on_hand]")).to_have_text(f"{before + 3:,}")
    expect(beijing_row.locator("[data-col=on_hand]")).to_have_text(f"{beijing_before + 2:,}")
    expect(page.locator("#loading")).to_have_css("opacity", "0")
    screenshot(page, "inventory")

    page.click("text=Movements")
    expect(page.locator("tr[data-kind=transfer_in]").first).to_contain_text(sku)


def test_bad_input_is_explained_beside_the_field(page: Page, site: LiveSite) -> None:
    sign_in(page, site, "owner")
    page.goto(f"{site.url}/console/inventory")
    page.fill("#transfer-sku", site.demo.skus[0])
    page.fill("#transfer-quantity", "-3")
    page.select_option("#transfer-source", str(site.demo.warehouses["SH1"]))
    page.select_option("#transfer-destination", str(site.demo.warehouses["GZ1"]))
    page.click("#transfer-form button[type=submit]")
    expect(page.locator("#transfer-quantity-error")).to_have_text(
        "Enter a number greater than zero."
    )
    expect(page.locator("#transfer-quantity")).to_have_attribute("aria-invalid", "true")

    page.fill("#adjust-sku", "NO-SUCH-SKU")
    page.select_option("#adjust-warehouse", str(site.demo.warehouses["SH1"]))
    page.fill("#adjust-quantity", "1")
    page.fill("#adjust-reason", "test")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator("#adjust-sku-error")).to_have_text("No product has this SKU.")

    page.goto(f"{site.url}/console/catalog")
    expect(page.locator("tr[data-product]").first).to_be_visible()
    screenshot(page, "catalog")
