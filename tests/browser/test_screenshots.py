"""The README's screenshots, taken in chromium from a class four days into its training (showcase.py).
The test checks what they show. They are written to docs/screenshots/ (overview.png, class.png) only
when ``DINGCLASS_SCREENSHOTS=1`` asks, so an ordinary test run leaves the tracked files alone::

    DINGCLASS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from admin.serve import AdminServer
from storage.db import make_session_factory
from storage.files import FileStore
from tests.browser.conftest import SCREENSHOTS
from tests.browser.showcase import NOW, build_showcase
from tests.db_fixtures import _empty


@pytest.fixture(scope="module")
def showcase(engine, tmp_path_factory):
    factory = make_session_factory(engine)
    data_dir = tmp_path_factory.mktemp("showcase")
    passwords = build_showcase(factory, FileStore(data_dir / "files"))
    settings = SimpleNamespace(secret_key="screenshot-key-of-at-least-32-bytes", database_url="", data_dir=data_dir,
                               timezone=ZoneInfo("Asia/Shanghai"), admin_port=0)
    server = AdminServer(settings, factory, host="127.0.0.1", config={"NOW": lambda: NOW}).start()
    yield server, passwords
    server.stop()
    _empty(engine)


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: docs/screenshots/ when DINGCLASS_SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("DINGCLASS_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture
def signed_in(browser, showcase):
    server, passwords = showcase
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", device_scale_factor=1)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=name]", "市监督核查")
    page.fill("input[name=password]", passwords["市监督核查"])
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    yield server, page
    context.close()


def test_screenshot_of_the_overview(signed_in, shots):
    server, page = signed_in
    assert page.inner_text("h1") == "总览 · 2026-12-04（今天）"
    assert page.locator("table.grid tbody tr").count() == 2
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    assert (shots / "overview.png").stat().st_size > 0


def test_screenshot_of_a_class_page(signed_in, shots):
    server, page = signed_in
    page.click("text=BT-2026-001")
    page.wait_for_url(server.url + "/classes/BT-2026-001")
    assert page.locator("#chart-attendance rect.bar").count() == 10  # the class days (R01: 2 rest days)
    assert page.locator("#chart-attendance circle.dot").count() == 4  # the days so far
    assert page.locator("#roster tbody tr").count() == 30
    page.screenshot(path=str(shots / "class.png"), full_page=True)
    assert (shots / "class.png").stat().st_size > 0
