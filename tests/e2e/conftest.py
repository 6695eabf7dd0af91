"""Browser tests: the site served by uvicorn on loopback, driven by Debian's chromium.

The browser is the system's ``chromium`` (installed by ``scripts/test.sh``), launched
by Playwright through ``executable_path``: nothing is downloaded. A missing browser
fails these tests; it never skips them.

They run in the SQLite pass of the suite only (marker ``sqlite_only``, added to every test
in this directory): the console's database work is tested on both databases by
tests/console and the API tests; here the browser is what is under test.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import select, text

from shopops.analytics import engines as analytics_engines
from shopops.bootstrap import Container, metadata
from shopops.demo.generator import DemoSize, DemoSummary, seed_demo
from tests.conftest import AppLender

CHROMIUM = os.environ.get("SHOPOPS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py acts on the marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.sqlite_only)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveSite:
    url: str
    container: Container
    demo: DemoSummary

    def login_of(self, role: str) -> tuple[str, str]:
        for name, email, password in self.demo.logins:
            if name == role:
                return email, password
        raise KeyError(role)


# Module scope, not session: Playwright's sync API keeps an event loop running on the
# main thread while it is open, which would break later tests that call asyncio.run().
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: run scripts/test.sh (it installs Debian's chromium) "
            "or set SHOPOPS_CHROMIUM"
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# The demo store of this test process: seeded by its first browser test, then written back
# into the emptied database of every later one (a bulk insert of a few thousand rows costs
# a fraction of the seconds the generator takes).
_SEEDED: dict[DemoSize, tuple[DemoSummary, dict[str, list[dict[str, Any]]]]] = {}


def _seeded_store(container: Container, size: DemoSize) -> DemoSummary:
    engine = container.engine
    if size not in _SEEDED:
        demo = seed_demo(container, size)
        with engine.connect() as connection:
            rows = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in metadata.sorted_tables
            }
        _SEEDED[size] = (demo, rows)
        return demo
    demo, rows = _SEEDED[size]
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if rows[table.name]:
                connection.execute(table.insert(), rows[table.name])
        if engine.dialect.name == "postgresql":  # the sequences go on after the restored ids
            for table in metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement is not False and rows[table.name]:
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f'(SELECT max(id) FROM "{table.name}"))'
                        )
                    )
    return demo


_STORES: dict[DemoSize, Path] = {}


def _analytics_store(container: Container, size: DemoSize) -> None:
    """The analytics store of the seeded demo: refreshed once, then copied (it is derived
    from rows that the restore writes back identical, ids and timestamps included)."""
    path = Path(container.settings.analytics_store_path)
    if size not in _STORES:
        analytics_engines.refresh(container.settings)
        template = Path(tempfile.mkdtemp(prefix="shopops-e2e-store-")) / "analytics.duckdb"
        shutil.copyfile(path, template)
        _STORES[size] = template
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_STORES[size], path)


@pytest.fixture
def site(container: Container, lend_app: AppLender) -> Iterator[LiveSite]:
    """A small demo store (staff of every role, catalog, stock, a month of orders) on loopback."""
    # Screenshots for the README want a store with history; the tests only need a small one.
    size = (
        DemoSize(customers=600, days=240, seed=7)
        if os.environ.get("SHOPOPS_SCREENSHOTS") == "1"
        else DemoSize(customers=60, days=30, seed=7)
    )
    demo = _seeded_store(container, size)
    _analytics_store(container, size)
    port = _free_port()
    config = uvicorn.Config(
        lend_app("site", container), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    yield LiveSite(f"http://127.0.0.1:{port}", container, demo)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # confirmations are answered "yes"
    yield page
    context.close()


def sign_in(page: Page, site: LiveSite, role: str) -> None:
    email, password = site.login_of(role)
    page.goto(f"{site.url}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/console/login" not in url)


def screenshot(page: Page, name: str) -> None:
    """Saved under docs/screenshots/ when SHOPOPS_SCREENSHOTS=1 (the README shows them)."""
    if os.environ.get("SHOPOPS_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
