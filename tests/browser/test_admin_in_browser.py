"""The admin in a real browser (Debian's chromium through Playwright), served by waitress: sign in, read
the overview, open a class, see its charts, download an export and open it, sign out. (The README's
screenshots are taken by test_screenshots.py.)"""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.admin import expect
from tests.admin.world import A, DAY1, XSS
from tests.browser.conftest import sign_in


def test_sign_in_shows_the_overview(page, served):
    server, world = served
    sign_in(page, server, world, "city")
    assert page.inner_text("h1") == "总览 · 2026-12-01（今天）"
    want = expect.class_day(DAY1)
    assert f"已签到（{want['checked_in']}/{want['trainees'] + 3} 人）" in page.inner_text(".tiles")


def test_class_page_draws_a_bar_per_class_day(page, served):
    server, world = served
    sign_in(page, server, world, "dist_k")
    page.click("nav >> text=班级")
    page.click(f"text={A}")
    page.wait_for_url(f"{server.url}/classes/{A}")
    bars = page.locator("#chart-attendance rect.bar")
    assert bars.count() == 10  # one per class day, 12-01 … 12-12 but the rest days 12-05 and 12-06 (R01)
    first = bars.nth(0).bounding_box()
    assert first and first["height"] > 0 and first["width"] > 0  # rendered, not just present
    assert bars.nth(5).bounding_box()["height"] == 0  # 12-08: nobody checked in yet
    assert page.locator("#chart-ratio rect.bar").count() == 11
    assert page.locator("#chart-attendance").bounding_box()["width"] > 300


def test_script_name_is_shown_as_text_and_never_runs(page, served):
    server, world = served
    sign_in(page, server, world, "admin")
    page.goto(f"{server.url}/classes/{A}")
    assert page.locator("#roster").get_by_text(XSS, exact=True).count() == 1
    page.goto(f"{server.url}/classes/{A}/trainees/{world.enrollments[XSS]}")
    assert page.inner_text("h1") == XSS
    page.goto(f"{server.url}/photos")
    assert page.dialogs == []


def test_download_the_attendance_register_and_open_it(page, served, tmp_path):
    server, world = served
    sign_in(page, server, world, "inst_lc")
    page.goto(f"{server.url}/classes/{A}")
    with page.expect_download() as info:
        page.click("text=考勤台账 xlsx")
    download = info.value
    assert download.suggested_filename == f"{A}-考勤台账.xlsx"
    path = tmp_path / "register.xlsx"
    download.save_as(path)
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    assert "考勤台账（第1周" in rows[0][0]
    li = next(row for row in rows if row[1] and row[1].startswith("李建国\n"))
    assert li[2] == "08:20\n11:35\n13:50\n17:05"


def test_nothing_loads_from_outside_and_the_console_stays_clean(page, served):
    server, world = served
    sign_in(page, server, world, "admin")
    for url in ("/", f"/classes/{A}", f"/classes/{A}/trainees/{world.enrollments['王秀英']}", "/photos", "/leave",
                "/ledger"):
        page.goto(server.url + url)
    assert page.requests and all(u.startswith(server.url) for u in page.requests)
    assert page.console_errors == []  # e.g. nothing blocked by the Content-Security-Policy


def test_sign_out(page, served):
    server, world = served
    sign_in(page, server, world, "王芳")
    page.click("text=退出")
    page.wait_for_url(server.url + "/login")
    assert "已退出登录" in page.inner_text("main")
    page.goto(server.url + "/classes")
    assert page.url.startswith(server.url + "/login")
