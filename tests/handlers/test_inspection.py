"""R14 class inspections (chat and records) and R15 eligibility after failed checks of either kind."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers import eligibility, inspection
from handlers.classes import get_class
from scheduler import run_due
from storage import ledger, ledger_verify
from storage.models import EligibilityChange, Inspection, InspectionEvidence, StaffRole

from .chat import Chat, add_staff, at, bind_group, create_class, picture

DAY = "2026-12-01"


def world(factory, tmp_path, size=30, **plan) -> Chat:
    with factory() as s:
        klass = create_class(s, size=size, **plan)
        bind_group(s, klass, "cid-class")
        add_staff(s, "dist", "inspector", None, name="区督查", district_id=klass.district_id)
        city = add_staff(s, "city", "inspector", None, name="市督查", district_id=None)
        grant = s.scalar(select(StaffRole).where(StaffRole.staff_id == city.id))
        grant.district_id = None  # bound for the whole city
        ledger.append(s, "staff_role.changed", actor="test", source="test", subject=grant)
        s.commit()
    return Chat(factory, tmp_path)


def checks(factory):
    with factory() as s:
        return [(r.level, r.kind, r.expected, r.found, r.passed) for r in s.scalars(select(Inspection).order_by(Inspection.id))]


def test_R14_a_video_check_passes_at_80_percent_of_the_roster_and_fails_below(factory, tmp_path):
    chat = world(factory, tmp_path)
    (passed,) = chat.say("检查 BT-2026-001 视频 30 24", when=at("10:00", DAY), sender="dist", group=None)
    assert passed.startswith("已记录旗县区对班级 BT-2026-001 的视频检查（12-01 10:00）：应到 30，实到 24，80%，合格（要求 80%）。")
    assert "分钟内把截图发给我" in passed
    (failed,) = chat.say("检查 BT-2026-001 直播 30 23", when=at("10:30", DAY), sender="city", group=None)
    assert "已记录市对班级 BT-2026-001 的直播统计检查" in failed and "76.7%，不合格" in failed
    assert checks(factory) == [("district", "video", 30, 24, True), ("city", "live", 30, 23, False)]


def test_R14_phone_checks_must_reach_a_third_of_the_trainees(factory, tmp_path):
    chat = world(factory, tmp_path)
    assert chat.say("检查 BT-2026-001 电话 9 9", when=at("10:00", DAY), sender="dist", group=None) == [
        "电话抽查至少要抽 10 人（在册 30 人的 33.3%），本次只有 9 人。"]
    (ok,) = chat.say("检查 BT-2026-001 电话 10 8", when=at("10:05", DAY), sender="dist", group=None)
    assert "电话检查" in ok and "80%，合格" in ok
    assert checks(factory) == [("district", "phone", 10, 8, True)]


def test_R14_bad_checks_are_refused_and_write_nothing(factory, tmp_path):
    chat = world(factory, tmp_path, size=5)
    for text, reply in [
        ("检查 BT-2026-001 拍照 5 5", "检查方式“拍照”不对：应为 视频、直播 或 电话。"),
        ("检查 BT-2026-001 视频 5 6", "人数不对：应到 5、实到 6；应到须大于 0，实到不能超过应到。"),
        ("检查 BT-2026-001 视频 5", "请发送：检查 班级编号 视频|直播|电话 应到人数 实到人数（例如：检查 BT-2026-001 视频 30 27）。"),
    ]:
        assert chat.say(text, when=at("10:00", DAY), sender="dist", group=None) == [reply]
    assert chat.say("检查 BT-2026-001 视频 5 5", when=at("10:00", DAY), sender="stranger", group=None)[0].startswith("你还没有绑定")
    assert checks(factory) == []


def test_R14_checks_owed_follow_the_class_hours_and_the_profile(factory, tmp_path):
    with factory() as s:
        small = create_class(s, size=2, code="S-1", policy="baotou-2023", total_hours=120, online_hours=40)
        large = create_class(s, size=2, code="L-1", policy="baotou-2023", total_hours=200, online_hours=40,
                             rows=None, seed=7)
        off = create_class(s, size=2, code="O-1", policy="baotou-2020", seed=9)
        inspection.record(s, large, level="city", kind="video", expected=2, found=2, by="test", at=at("10:00", DAY),
                          source="test")
        assert inspection.owed(s, small).missing == {"city": 1, "district": 1}
        assert inspection.owed(s, large).missing == {"city": 1, "district": 2}
        assert inspection.owed(s, off).missing == {"city": 0, "district": 0}  # not required by its seeds


def test_R14_city_findings_are_due_within_5_working_days_of_the_class_end(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=2, policy="baotou-2023", start="2026-12-01", end="2026-12-11")  # ends Friday
        inspection.record(s, klass, level="city", kind="video", expected=2, found=2, by="test",
                          at=at("10:00", "2026-12-10"), source="test")
        assert inspection.findings_due(klass) == date(2026, 12, 18)
        assert inspection.overdue_findings(s, klass, date(2026, 12, 18)) == []
        (late,) = inspection.overdue_findings(s, klass, date(2026, 12, 19))
        assert late.level == "city"


def test_R15_a_failed_inspection_and_a_failed_roll_call_make_the_class_ineligible(factory, tmp_path):
    chat = world(factory, tmp_path, size=4, policy="shapingba-2020")
    chat.say("检查 BT-2026-001 视频 4 2", when=at("10:00", DAY), sender="dist", group=None)
    with factory() as s:
        assert eligibility.is_eligible(s, get_class(s, "BT-2026-001"))
    chat.say("点名 100% 5", when=at("10:30", DAY), sender="dist")
    run_due(factory, at("10:30", DAY) + timedelta(minutes=6), "test")
    with factory() as s:
        (change,) = s.scalars(select(EligibilityChange))
        assert not change.eligible and "视频检查 50%" in change.reason and "第 1 次点名 0%" in change.reason
        assert not eligibility.is_eligible(s, get_class(s, "BT-2026-001"))
        assert ledger_verify.verify(s).ok
    chat.last = at("10:36", DAY)
    notices = chat.deliver()
    assert any(t.startswith("【补贴资格】班级 BT-2026-001 已失去补贴资格") for t in notices)


def test_R14_screenshots_sent_within_10_minutes_after_a_check_become_its_evidence(factory, tmp_path):
    chat = world(factory, tmp_path, size=5)
    chat.say("检查 BT-2026-001 视频 5 5", when=at("10:00", DAY), sender="dist", group=None)
    chat.deliver()
    assert chat.say("", when=at("10:06", DAY), sender="dist", group=None, images=(picture(1),)) == ["已收到图片。"]
    assert chat.deliver()[-1] == "已保存检查截图，第 1 号检查（班级 BT-2026-001）共 1 张。"
    chat.say("", when=at("10:11", DAY), sender="dist", group=None, images=(picture(2),))  # too late: just a picture
    chat.deliver()
    with factory() as s:
        (shot,) = s.scalars(select(InspectionEvidence))
        assert shot.inspection_id == 1 and ledger_verify.verify(s).ok
