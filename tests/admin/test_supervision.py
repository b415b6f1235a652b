"""R13–R15 in the admin: the roll call button, inspections with screenshots, eligibility everywhere."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from storage import ledger, ledger_verify
from storage.models import EligibilityChange, Inspection, InspectionEvidence, Klass, RollCall, TraineeMark
from tests.admin.conftest import csrf_token
from tests.admin.world import A

from .test_actions import post_form

PAGE = f"/classes/{A}"


def count(world, model) -> int:
    with world.factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_R13_a_district_supervisor_starts_a_roll_call_from_the_class_page(fresh_world, fresh_clients):
    response = post_form(fresh_clients["dist_k"], PAGE, f"{PAGE}/rollcall", {})
    assert response.status_code == 303
    page = fresh_clients["dist_k"].get(PAGE).get_data(as_text=True)
    assert "已在班级 BT-2026-001 发起第 2 次点名" in page and 'id="rollcalls"' in page
    with fresh_world.factory() as s:
        latest = s.scalar(select(RollCall).order_by(RollCall.id.desc()))
        assert (latest.trigger, latest.by) == ("admin", "user:dist_k")


def test_R13_the_institution_being_checked_cannot_start_roll_calls_or_record_inspections(fresh_world, fresh_clients):
    before = count(fresh_world, RollCall), count(fresh_world, Inspection)
    assert "立即点名" not in fresh_clients["inst_lc"].get(PAGE).get_data(as_text=True)
    assert post_form(fresh_clients["inst_lc"], PAGE, f"{PAGE}/rollcall", {}).status_code == 403
    assert post_form(fresh_clients["inst_lc"], PAGE, f"{PAGE}/inspections",
                     {"kind": "video", "expected": "5", "found": "5"}).status_code == 403
    assert post_form(fresh_clients["dist_q"], "/classes", f"{PAGE}/rollcall", {}).status_code == 404  # other district
    assert (count(fresh_world, RollCall), count(fresh_world, Inspection)) == before


def test_R14_an_inspection_is_recorded_with_its_screenshot(fresh_world, fresh_clients):
    client = fresh_clients["city"]
    token_page = client.get(PAGE).get_data(as_text=True)
    response = client.post(f"{PAGE}/inspections", data={
        "csrf_token": csrf_token(token_page), "kind": "live", "expected": "5", "found": "5", "note": "直播在线",
        "evidence": (io.BytesIO(b"\x89PNG panorama"), "全景.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "已记录检查：已记录市对班级 BT-2026-001 的直播统计检查" in page
    with fresh_world.factory() as s:
        row = s.scalar(select(Inspection).where(Inspection.level == "city"))
        (shot,) = s.scalars(select(InspectionEvidence))
        assert (row.kind, row.found, row.passed, shot.filename, shot.inspection_id) == ("live", 5, True, "全景.png", row.id)
    assert (fresh_world.data_dir / "files").exists()
    bad = post_form(client, PAGE, f"{PAGE}/inspections", {"kind": "video", "expected": "5", "found": "9"})
    assert bad.status_code == 303 and "实到不能超过应到" in client.get(PAGE).get_data(as_text=True)
    assert count(fresh_world, Inspection) == 2  # the world's district check and this one


def test_R15_two_failed_checks_make_the_class_ineligible_in_the_admin_the_api_and_the_exports(fresh_world, fresh_clients):
    with fresh_world.factory() as s:
        klass = s.scalar(select(Klass).where(Klass.code == A))
        klass.overrides = '{"eligibility":{"enabled":true}}'  # R15 is in this class's rules
        ledger.append(s, "class.overrides", actor="test", source="test", subject=klass, class_code=A)
        s.commit()
    client = fresh_clients["dist_k"]
    post_form(client, PAGE, f"{PAGE}/inspections", {"kind": "video", "expected": "5", "found": "3"})
    post_form(client, PAGE, f"{PAGE}/inspections", {"kind": "phone", "expected": "5", "found": "2"})
    with fresh_world.factory() as s:
        (change,) = s.scalars(select(EligibilityChange))
        assert not change.eligible and change.reason.startswith("2 次监督检查") and "视频检查 60%" in change.reason
    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="ineligible"' in page and "本班已失去补贴资格（R15）" in page
    summary = fresh_clients["anonymous"].get(f"/api/v1/classes/{A}/summary",
                                             headers={"Authorization": f"Bearer {fresh_world.tokens['city']}"})
    assert summary.get_json()["eligible"] is False
    for kind in ("attendance", "qualification"):
        exported = client.get(f"/exports/{A}/{kind}.csv").get_data()
        assert "已失去补贴资格" in exported.decode("utf-8-sig"), kind


def test_R15_a_supervisor_disqualifies_a_trainee_with_a_reason(fresh_world, fresh_clients):
    name = "王秀英"
    enrollment = fresh_world.enrollments[name]
    page = f"{PAGE}/trainees/{enrollment}"
    assert post_form(fresh_clients["inst_lc"], page, f"{page}/disqualify", {"reason": "x"}).status_code == 403
    response = post_form(fresh_clients["dist_k"], page, f"{page}/disqualify", {"reason": "照片系他人代拍"})
    assert response.status_code == 303
    with fresh_world.factory() as s:
        (mark,) = s.scalars(select(TraineeMark))
        assert (mark.enrollment_id, mark.reason, mark.actor) == (enrollment, "照片系他人代拍", "user:dist_k")
        assert ledger_verify.verify(s).ok
    roster = fresh_clients["dist_k"].get(PAGE).get_data(as_text=True)
    assert "取消资格（数据异常）" in roster


def test_R22_the_district_marks_a_trainee_ineligible_on_the_trainee_page_and_every_list_shows_it(fresh_world, fresh_clients):
    district, name = fresh_clients["dist_k"], "王秀英"
    page = f"{PAGE}/trainees/{fresh_world.enrollments[name]}"
    assert "标记不符合条件" in district.get(page).get_data(as_text=True)
    assert post_form(fresh_clients["inst_lc"], page, f"{page}/ineligible", {"reason": "x"}).status_code == 403
    response = post_form(district, page, f"{page}/ineligible", {"reason": "已按月领取养老金，不在培训对象范围内"})
    assert response.status_code == 303
    shown = district.get(page).get_data(as_text=True)
    assert "不符合培训条件（R22，培训前复核）：已按月领取养老金" in shown and "标记不符合条件" not in shown
    assert "取消资格" in shown  # the other kind of mark stays available
    assert "不符合培训条件（R22）" in district.get(PAGE).get_data(as_text=True)
    exported = district.get(f"/exports/{A}/qualification.csv").get_data().decode("utf-8-sig")
    assert next(row for row in exported.splitlines() if f",{name}," in row).count("不合格（不符合培训条件）") == 1
    with fresh_world.factory() as s:
        (mark,) = s.scalars(select(TraineeMark))
        assert (mark.kind, mark.actor) == ("ineligible", "user:dist_k")
        assert ledger_verify.verify(s).ok
