"""The pages as their users read them: masking (R04), escaping, the plan and its history (R01, R02), the
trainee's timeline with sources and ledger events (R05, R17), leave (R07), the ledger check (R17)."""

from __future__ import annotations

import re

import pytest

from tests.admin.world import A, A_TRAINEES, REMOVED_REASON, SEES, USERS, XSS

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
MAY_SEE_FULL = {"admin", "dist_k"}  # the trainee page shows full ID numbers and phones to these roles only
A_VIEWERS = [name for name, *_ in USERS if A in SEES[name]]


def pages_of_a(world) -> list[str]:
    return ["/", "/classes", f"/classes/{A}", "/photos", "/leave", "/ledger"] + [
        f"/classes/{A}/trainees/{world.enrollments[name]}" for name, *_ in A_TRAINEES]


@pytest.mark.parametrize("name", A_VIEWERS)
def test_R04_lists_never_show_a_full_id_number_or_phone(world, clients, name):
    for url in ["/", "/classes", f"/classes/{A}", "/photos", "/leave", "/ledger"]:
        html = clients[name].get(url).get_data(as_text=True)
        for trainee, *_ in A_TRAINEES:
            assert world.id_numbers[trainee] not in html, (name, url)
            assert world.phones[trainee] not in html, (name, url)
    html = clients[name].get(f"/classes/{A}").get_data(as_text=True)
    number = world.id_numbers["王秀英"]
    assert f"{number[:4]}{'*' * 10}{number[-4:]}" in html


@pytest.mark.parametrize("name", A_VIEWERS)
def test_R04_full_identity_only_on_the_trainee_page_for_admin_and_district(world, clients, name):
    for trainee, *_ in A_TRAINEES:
        html = clients[name].get(f"/classes/{A}/trainees/{world.enrollments[trainee]}").get_data(as_text=True)
        shown = world.id_numbers[trainee] in html and world.phones[trainee] in html
        assert shown == (name in MAY_SEE_FULL), (name, trainee)
        if name not in MAY_SEE_FULL:
            phone = world.phones[trainee]
            assert f"{phone[:3]}****{phone[-4:]}" in html


@pytest.mark.parametrize("name", A_VIEWERS)
def test_script_name_is_escaped_on_every_page(world, clients, name):
    seen = 0
    for url in pages_of_a(world):
        html = clients[name].get(url).get_data(as_text=True)
        assert XSS not in html, url
        seen += ESCAPED in html
    assert seen >= 3  # the class page, the trainee's own page, the photo to review


def test_security_headers_forbid_inline_script_and_framing(world, clients):
    response = clients["admin"].get(f"/classes/{A}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_load_nothing_from_outside(world, clients):
    for url in pages_of_a(world):
        html = clients["admin"].get(url).get_data(as_text=True)
        for attribute in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert attribute.startswith("/"), (url, attribute)


def test_R01_class_page_shows_the_plan_and_the_commitment(world, clients):
    html = clients["inst_lc"].get(f"/classes/{A}").get_data(as_text=True)
    for fact in ("育婴员", "包头市鹿城职业培训学校", "昆都仑区", "直播", "2026-12-01 至 2026-12-12（10 个培训日）",
                 "培训日 10 天；休息日 12-05、12-06", "总 100，线上 40（每课时 45 分钟）", "180 分钟；达标需 ≥ 144 分钟", "上午 08:30–11:30，下午 14:00–17:00",
                 "张丽华、刘建国", "王芳", "承诺书.pdf"):
        assert fact in html, fact
    response = clients["inst_lc"].get(f"/classes/{A}/commitment")
    assert response.status_code == 200 and response.data == b"%PDF-1.4 signed commitment"


def test_R01_a_class_without_commitment_says_so(world, clients):
    html = clients["admin"].get("/classes/BT-2026-002").get_data(as_text=True)
    assert "未上传" in html
    assert clients["admin"].get("/classes/BT-2026-002/commitment").status_code == 404


def test_R02_class_page_shows_every_transition_with_who_and_when(world, clients):
    html = clients["city"].get(f"/classes/{A}").get_data(as_text=True)
    history = html[html.index("状态与审核记录"):html.index("</table>", html.index("状态与审核记录"))]
    assert "草稿 → 已提交" in history
    assert re.search(r'2026-12-01 08:10</td><td>已提交 → 已审核</td><td title="district:昆都仑区">旗县区 昆都仑区</td><td>材料齐全', history)


@pytest.mark.parametrize("name,buttons", [("admin", ["备案"]), ("city", ["备案"]), ("dist_k", []),
                                          ("inst_lc", []), ("王芳", [])])
def test_R02_status_buttons_only_for_roles_that_may_use_them(world, clients, name, buttons):
    html = clients[name].get(f"/classes/{A}").get_data(as_text=True)  # A is approved: only filing is next
    assert re.findall(r'<button type="submit">(审核通过|备案)</button>', html) == buttons


def test_R02_unapproved_class_is_flagged_on_its_page(world, clients):
    html = clients["dist_q"].get("/classes/BT-2026-002").get_data(as_text=True)
    assert "不计入补贴（R02）" in html
    assert re.findall(r'<button type="submit">(审核通过|备案)</button>', html) == ["审核通过"]


def test_R17_trainee_timeline_names_every_source_and_time(world, clients):
    html = clients["admin"].get(f"/classes/{A}/trainees/{world.enrollments['王秀英']}").get_data(as_text=True)
    timeline = html[html.index('id="timeline"'):html.index("</table>", html.index('id="timeline"'))]
    rows = re.findall(r"<tr( class=\"muted\")?><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td[^>]*>([^<]+)</td>",
                      timeline)
    kinds = [r[2] for r in rows]
    assert kinds.count("签到") == 2 and kinds.count("签退") == 2 and kinds.count("学习时长") == 3
    assert kinds.count("学习照片") == 1
    first = rows[0]
    assert first[0] and first[1] == "12-01 08:05:00" and "不计入补贴" in first[3]  # before approval: muted
    assert "钉钉消息 msg" in first[4] and "发送于 12-01 08:05:00" in first[4]
    assert any("导入文件 platform-1201.csv" in r[4] for r in rows)
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)


def test_R05_trainee_page_lists_corrections_with_who_and_why(world, clients):
    html = clients["admin"].get(f"/classes/{A}/trainees/{world.enrollments['陈静']}").get_data(as_text=True)
    events = html[html.index('id="events"'):]
    # event types and actors in words, the codes kept on hover for whoever traces them
    assert re.search(rf'<td title="enrollment.removed">移出补贴名单</td><td title="user:admin">后台用户 admin</td>'
                     rf"<td>enrollments #\d+</td><td>{REMOVED_REASON}</td>", events)
    assert ">登记学员身份<" in events and ">加入花名册<" in events
    assert "删除原因" in html and REMOVED_REASON in html


def test_R07_leave_list_filters_by_status(world, clients):
    client = clients["王芳"]
    everything = client.get("/leave").get_data(as_text=True)
    assert "家中有事" in everything and "身体不适" in everything
    pending = client.get("/leave?status=pending").get_data(as_text=True)
    assert "身体不适" in pending and "家中有事" not in pending
    assert client.get("/leave?status=<b>").status_code == 200


def test_R17_ledger_page_says_intact_with_the_head(world, clients):
    from storage.ledger_verify import run_verification

    report = run_verification(world.factory)  # as the admin's background check or dingclass verify does
    html = clients["dist_k"].get("/ledger").get_data(as_text=True)
    assert f"台账完整：{report.events} 个事件" in html and report.head in html
    html = clients["王芳"].get("/ledger").get_data(as_text=True)  # a teacher: intact or not, no head
    assert f"台账完整：{report.events} 个事件" in html and report.head not in html


def test_overview_for_another_day_and_a_bad_date(world, clients):
    html = clients["admin"].get("/?date=2026-12-02").get_data(as_text=True)
    assert "总览 · 2026-12-02" in html and "（今天）" not in html
    assert clients["admin"].get("/?date=2026-13-40").status_code == 400
    assert clients["admin"].get("/?date=tomorrow").status_code == 400


def test_the_overview_lists_what_awaits_the_user(world, clients):
    html = clients["city"].get("/").get_data(as_text=True)
    assert "待您处理的班级" in html and "已审核，可备案" in html
    assert "待您处理的班级" not in clients["inst_lc"].get("/").get_data(as_text=True)


def test_photo_review_form_only_for_supervisors(world, clients):
    assert 'name="decision"' in clients["dist_k"].get("/photos").get_data(as_text=True)
    html = clients["inst_lc"].get("/photos").get_data(as_text=True)
    assert "疑似重复" in html and 'name="decision"' not in html


def test_photo_image_is_served_with_its_type(world, clients):
    response = clients["admin"].get(f"/photos/{world.photos['王秀英']}/image")
    assert response.mimetype == "image/png" and response.data.startswith(b"\x89PNG")


def test_trainee_page_shows_the_dingtalk_binding(world, clients):
    html = clients["admin"].get(f"/classes/{A}/trainees/{world.enrollments['王秀英']}").get_data(as_text=True)
    binding = html[html.index('id="binding"'):html.index("</dd>", html.index('id="binding"'))]
    assert "王秀英（组织外账号）" in binding and "绑定" in binding


def test_an_unknown_api_path_says_there_is_no_such_path(world, clients):
    response = clients["admin"].get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"].startswith("没有这个接口：GET /api/v1/no-such-thing")


def test_the_favicon_is_served_to_anyone(world, clients):
    response = clients["anonymous"].get("/favicon.ico")
    response.close()
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_an_id_too_large_for_the_database_is_not_found(world, clients):
    """PostgreSQL's INTEGER ends at 2**31-1: a larger id in a path is 404, never a database error."""
    assert clients["admin"].get("/api/v1/rollcalls/6095898016214").status_code == 404
    assert clients["admin"].get("/photos/6095898016214/image").status_code == 404
