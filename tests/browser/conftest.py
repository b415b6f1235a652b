"""Browser fixtures: the admin served by waitress on 127.0.0.1 (a free port) over the test world, and
Debian's chromium driven by Python Playwright (never Playwright's own downloaded browsers).

Chromium missing: the first browser test installs it (root with apt; see ``tests/browser/chromium.py``),
else every browser test is skipped with the reason, shown in pytest's summary.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from admin.serve import AdminServer
from storage.db import make_session_factory
from tests.admin.conftest import cheap_passwords  # noqa: F401  (fast password hashing for the world's users)
from tests.admin.world import NOW, build_world
from tests.browser import chromium as chromium_setup
from tests.db_fixtures import _empty

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-proxy-server",
                 "--disable-dev-shm-usage", "--lang=zh-CN"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    """(server, world): the admin on a real socket, over a world built once for the module."""
    factory = make_session_factory(engine)
    data_dir = tmp_path_factory.mktemp("browser-data")
    world = build_world(factory, data_dir / "files")
    settings = SimpleNamespace(secret_key="browser-test-key-of-at-least-32-bytes", database_url="", data_dir=data_dir,
                               timezone=ZoneInfo("Asia/Shanghai"), admin_port=0)
    server = AdminServer(settings, factory, host="127.0.0.1", config={"NOW": lambda: NOW}).start()
    yield server, world
    server.stop()
    _empty(engine)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, installed on first use when missing (once per run); else a skip with the reason."""
    found = chromium_setup.ensure()
    if found.path is None:
        pytest.skip(f"browser tests skipped: {found.reason}")
    return found.path


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, served, tmp_path):
    server, _ = served
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True)
    page = context.new_page()
    page.requests = []  # every URL the page asked for
    page.dialogs = []  # any alert() that ran
    page.console_errors = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()


def sign_in(page, server, world, name: str = "admin") -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", world.passwords[name])
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
