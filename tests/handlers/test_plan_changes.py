"""R01 changes of a plan (003 第九条: asked 3 days ahead, effective once approved; 001 §五: teacher changes
recorded with who approved them)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from handlers import classes, plan_changes, timetable
from handlers.errors import Refusal
from storage import ledger_verify
from storage.models import LedgerEvent, PlanChange
from tests.commitment import sign_commitment

from .chat import TZ, create_class, plan_text

LESSONS = (("上午", "08:30", "11:30", "online_lessons = 2"), ("下午", "14:00", "17:00", "online_lessons = 2"))
REST = "rest_dates = [2026-12-05, 2026-12-06]"  # 10 class days × 4 online lessons = online_hours 40


def plan(**changes) -> str:
    return plan_text(**{"sessions": LESSONS, "timetable": REST, **changes})


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=TZ)


def test_R01_before_approval_a_change_is_applied_at_once_and_approval_checks_the_new_plan(factory):
    with factory() as s:
        klass = create_class(s, size=2, approve=False, sessions=LESSONS, timetable=REST)
        new = plan().replace('teachers = ["张丽华"]', 'teachers = ["张丽华", "李新"]')
        row = plan_changes.request_change(s, klass, new, effective_from=None, reason="增加讲师", actor="机构",
                                          source="test", now=at(1, 8), commitment=("承诺书.pdf", "ab" * 32))
        s.commit()
        assert (row.status, row.teachers_changed) == ("applied", True)
        assert json.loads(row.summary) == ["授课讲师：张丽华 → 张丽华、李新", "承诺书文件：（无） → 承诺书.pdf"]
        assert json.loads(klass.teachers) == ["张丽华", "李新"] and klass.commitment_sha256 == "ab" * 32
        classes.change_status(s, klass, "approved", actor="district:李", source="test", now=at(1, 9))
        s.commit()
        assert ledger_verify.verify(s).ok


def test_R01_after_approval_a_change_is_asked_3_days_ahead_and_takes_effect_when_the_district_approves(factory):
    later = plan(end="2026-12-13", timetable="rest_dates = [2026-12-05, 2026-12-06, 2026-12-10]")
    later = later.replace('class_teacher = "王芳"', 'class_teacher = "赵敏"')
    with factory() as s:
        klass = create_class(s, size=2, sessions=LESSONS, timetable=REST)
        with pytest.raises(Refusal, match="须提前 3 天申请.*最早可自 2026-12-06 起生效"):
            plan_changes.request_change(s, klass, later, effective_from=date(2026, 12, 5), reason="", actor="机构",
                                        source="test", now=at(3))
        row = plan_changes.request_change(s, klass, later, effective_from=date(2026, 12, 8), reason="讲师出差",
                                          actor="机构", source="test", now=at(3))
        s.commit()
        assert row.status == "pending" and json.loads(row.summary) == [
            "结束日期：2026-12-12 → 2026-12-13", "班主任：王芳 → 赵敏",
            "休息日期：2026-12-05、2026-12-06 → 2026-12-05、2026-12-06、2026-12-10"]
        tt = timetable.timetable_of(s, klass)
        assert timetable.is_class_day(tt, date(2026, 12, 10)) and klass.class_teacher == "王芳"  # not yet
        with pytest.raises(Refusal, match="已有一项变更申请待旗县区审核"):
            plan_changes.request_change(s, klass, plan(), effective_from=None, reason="", actor="机构", source="test",
                                        now=at(3))
        plan_changes.decide(s, klass, approve=True, note="同意", actor="district:李", source="test", now=at(4))
        s.commit()
        tt = timetable.timetable_of(s, klass)
        assert not timetable.is_class_day(tt, date(2026, 12, 10)) and timetable.is_class_day(tt, date(2026, 12, 13))
        assert (klass.end_date, klass.class_teacher) == (date(2026, 12, 13), "赵敏")
        assert (row.status, row.decided_by, row.decision_note) == ("approved", "district:李", "同意")
        types = s.scalars(select(LedgerEvent.type).where(LedgerEvent.type.like("plan.%"))
                          .order_by(LedgerEvent.seq)).all()
        assert types == ["plan.change_requested", "plan.change_approved"]
        assert ledger_verify.verify(s).ok


def test_R01_a_change_may_not_rewrite_days_before_it_takes_effect_nor_the_class_itself(factory):
    with factory() as s:
        klass = create_class(s, size=2, sessions=LESSONS, timetable=REST)
        earlier = plan(end="2026-12-13", timetable="rest_dates = [2026-12-04, 2026-12-05, 2026-12-06]")
        with pytest.raises(Refusal, match="会改动此前 1 天的课程安排（12-04）"):
            plan_changes.request_change(s, klass, earlier, effective_from=date(2026, 12, 13), reason="",
                                        actor="机构", source="test", now=at(3))
        moved = plan(institution="别的学校", sessions=LESSONS[:1] + (("晚上", "19:00", "20:30", "online_lessons = 2"),))
        with pytest.raises(Refusal) as caught:
            plan_changes.request_change(s, klass, moved, effective_from=None, reason="", actor="机构", source="test",
                                        now=at(3))
        assert "institution（培训机构）不能变更" in str(caught.value) and "时段 下午 不能删除" in str(caught.value)
        with pytest.raises(Refusal, match="没有要变更的内容"):
            plan_changes.request_change(s, klass, plan(), effective_from=None, reason="", actor="机构",
                                        source="test", now=at(3))


def test_R01_a_refusal_needs_a_reason_and_an_expired_change_cannot_be_approved(factory):
    with factory() as s:
        klass = create_class(s, size=2, sessions=LESSONS, timetable=REST)
        new = plan().replace('teachers = ["张丽华"]', 'teachers = ["李新"]')
        row = plan_changes.request_change(s, klass, new, effective_from=None, reason="", actor="机构", source="test",
                                          now=at(3))
        assert row.effective_from == date(2026, 12, 6) and row.teachers_changed
        with pytest.raises(Refusal, match="须写明理由"):
            plan_changes.decide(s, klass, approve=False, note=" ", actor="district:李", source="test", now=at(4))
        with pytest.raises(Refusal, match="已经过期"):
            plan_changes.decide(s, klass, approve=True, note="", actor="district:李", source="test", now=at(7))
        plan_changes.decide(s, klass, approve=False, note="讲师资质不符", actor="district:李", source="test", now=at(4))
        s.commit()
        assert (row.status, json.loads(klass.teachers)) == ("refused", ["张丽华"])
        with pytest.raises(Refusal, match="没有待审核的计划变更"):
            plan_changes.decide(s, klass, approve=True, note="", actor="district:李", source="test", now=at(4))
        assert s.scalar(select(PlanChange.decision_note)) == "讲师资质不符"
        assert ledger_verify.verify(s).ok
