"""R06 for recorded and platform classes: a Q&A session opened with 答疑开始 is the day's check-in/out
session — check-in closes 15 minutes after it opens (late after it), check-out follows 答疑结束."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import daily_report, qa_attendance
from storage import ledger_verify
from storage.models import Klass, Punch

from .chat import TZ, Chat, add_staff, at, bind_group, bind_person, create_class, roster_of

DAY = "2026-12-01"


def world(factory, tmp_path, mode="recorded"):
    with factory() as s:
        klass = create_class(s, size=5, mode=mode)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        add_staff(s, "t1", "teacher", klass, name="张丽华")
        s.commit()
    return Chat(factory, tmp_path)


def punches(factory):
    with factory() as s:
        return [(p.kind, p.late, p.early) for p in s.scalars(select(Punch).order_by(Punch.id))]


@pytest.mark.parametrize("mode", ["recorded", "platform"])
def test_R06_in_recorded_and_platform_classes_the_qa_session_is_the_checkin_session(factory, tmp_path, mode):
    chat = world(factory, tmp_path, mode)
    assert chat.say("签到", when=at("13:55", DAY), sender="u1") == ["签到成功 13:55（下午）"]  # the planned Q&A time
    (opened,) = chat.say("答疑开始 喂养", when=at("14:10", DAY), sender="t1")
    assert "本次答疑是今天下午的签到签退时段：请在 14:25 前 @我 发送“签到”" in opened
    assert chat.say("签到", when=at("14:12", DAY), sender="u2") == ["签到成功 14:12（下午·第 1 次答疑），迟到（14:10 开始）"]
    # past the planned window (14:15): the Q&A opened at 14:10, so check-in is open until 14:25
    assert chat.say("签到", when=at("14:24", DAY), sender="u3")[0].startswith("签到成功 14:24（下午·第 1 次答疑）")
    assert chat.say("签到", when=at("14:26", DAY), sender="u4") == [
        "现在不在签到时间内。签到时间：上午 08:00–08:45，下午·第 1 次答疑 13:30–14:25。"]
    # while the Q&A runs, a check-out in the planned window is early whatever the clock says
    (closed,) = chat.say("答疑结束", when=at("16:50", DAY), sender="t1")  # (planned end 17:00)
    assert closed.endswith("请在 17:20 前 @我 发送“签退”。")
    assert chat.say("签退", when=at("16:52", DAY), sender="u1") == ["签退成功 16:52（下午·第 1 次答疑）"]  # not early
    assert chat.say("签退", when=at("17:21", DAY), sender="u2")[0].startswith("现在不在签退时间内")  # planned: 17:30
    assert punches(factory) == [("in", False, False), ("in", True, False), ("in", True, False), ("out", False, False)]
    with factory() as s:
        klass = s.scalar(select(Klass))
        held = qa_attendance.attendance(s, klass, TZ)
        (line,) = [c.line for d in daily_report.build(s, at("08:00", DAY).date(), tz=TZ).districts for c in d.classes]
        assert [(a.session, a.checked_in, a.checked_out) for a in held.values()] == [("下午", 3, 1)]
        assert (line.checked_in, line.checked_out, line.late, line.qa_sessions) == (3, 1, 2, 1)
        assert ledger_verify.verify(s).ok


def test_R06_a_check_out_before_the_qa_ends_is_early_and_extra_qas_are_not_checkin_sessions(factory, tmp_path):
    chat = world(factory, tmp_path)
    (opened,) = chat.say("答疑开始", when=at("08:35", DAY), sender="t1")
    assert "本次答疑是今天上午的签到签退时段" in opened
    chat.say("签到", when=at("08:36", DAY), sender="u1")
    assert chat.say("签退", when=at("11:20", DAY), sender="u1") == ["签退成功 11:20（上午·第 1 次答疑），早退（答疑还没结束）"]
    chat.say("答疑结束", when=at("11:40", DAY), sender="t1")
    (second,) = chat.say("答疑开始", when=at("11:50", DAY), sender="t1")  # 下午 is still ahead: it takes it
    assert "本次答疑是今天下午的签到签退时段：请在 12:05 前" in second
    assert chat.say("签到", when=at("11:55", DAY), sender="u2") == ["签到成功 11:55（下午·第 2 次答疑），迟到（11:50 开始）"]
    chat.say("答疑结束", when=at("12:30", DAY), sender="t1")
    (third,) = chat.say("答疑开始", when=at("15:00", DAY), sender="t1")  # both Q&A times of the day are taken
    assert "本次答疑不计签到签退" in third
    assert chat.say("签到", when=at("15:01", DAY), sender="u3")[0].startswith("现在不在签到时间内")


def test_R06_in_a_live_class_a_qa_session_does_not_move_the_windows(factory, tmp_path):
    chat = world(factory, tmp_path, "live")
    (opened,) = chat.say("答疑开始", when=at("14:10", DAY), sender="t1")
    assert "签到签退" not in opened
    assert chat.say("签到", when=at("14:20", DAY), sender="u1")[0].startswith("现在不在签到时间内")
