"""R06 check-in and check-out for 1+1 and 2+2 classes, late/early, out of window; R12 attendance hours."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import ledger_verify
from storage.models import Punch, StudyMinutes

from .chat import MORNING_ONLY, TWO_SESSIONS, Chat, at, bind_group, bind_person, create_class, roster_of


def world(factory, tmp_path, **plan) -> Chat:
    with factory() as s:
        klass = create_class(s, size=3, **plan)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        s.commit()
    return Chat(factory, tmp_path)


def punches(factory):
    with factory() as s:
        return [(p.session_id, p.kind, p.late, p.early) for p in s.scalars(select(Punch).order_by(Punch.id))]


def test_R06_morning_only_class_counts_one_check_in_and_one_check_out(factory, tmp_path):
    chat = world(factory, tmp_path, sessions=MORNING_ONLY)
    assert chat.say("签到", when=at("08:05")) == ["签到成功 08:05（上午）"]
    assert chat.say("签到", when=at("08:25")) == ["今天上午已签到（08:05），不重复记录。"]
    (afternoon,) = chat.say("签到", when=at("13:50"))
    assert afternoon == "现在不在签到时间内。签到时间：上午 08:00–08:45。"
    assert chat.say("签退", when=at("11:40")) == ["签退成功 11:40（上午）"]
    assert chat.say("签退", when=at("11:50")) == ["今天上午已签退（11:40），不重复记录。"]
    assert punches(factory) == [(1, "in", False, False), (1, "out", False, False)]


def test_R06_morning_and_afternoon_class_counts_two_and_two(factory, tmp_path):
    chat = world(factory, tmp_path, sessions=TWO_SESSIONS)
    for text, hhmm in (("签到", "08:29"), ("签退", "11:31"), ("签到", "13:59"), ("签退", "17:29")):
        (reply,) = chat.say(text, when=at(hhmm))
        assert reply.startswith(f"{text}成功 {hhmm}")
    assert chat.say("签退", when=at("17:30")) == ["今天下午已签退（17:29），不重复记录。"]
    assert punches(factory) == [(1, "in", False, False), (1, "out", False, False),
                                (2, "in", False, False), (2, "out", False, False)]
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R06_late_check_in_and_early_check_out_are_flagged_with_the_session_times(factory, tmp_path):
    chat = world(factory, tmp_path)
    assert chat.say("签到", when=at("08:45")) == ["签到成功 08:45（上午），迟到（08:30 开始）"]
    assert chat.say("签退", when=at("11:15")) == ["签退成功 11:15（上午），早退（11:30 结束）"]
    assert punches(factory) == [(1, "in", True, False), (1, "out", False, True)]


@pytest.mark.parametrize("text, hhmm", [("签到", "07:59"), ("签到", "08:46"), ("签退", "11:14"), ("签退", "12:01")])
def test_R06_outside_every_window_is_refused_with_the_windows_times(factory, tmp_path, text, hhmm):
    chat = world(factory, tmp_path)
    (reply,) = chat.say(text, when=at(hhmm))
    spans = {"签到": "上午 08:00–08:45，下午 13:30–14:15", "签退": "上午 11:15–12:00，下午 16:45–17:30"}[text]
    assert reply == f"现在不在{text}时间内。{text}时间：{spans}。"
    assert punches(factory) == []


def test_R06_recorded_class_punches_around_its_daily_qa_times(factory, tmp_path):
    chat = world(factory, tmp_path, mode="recorded", sessions=(("答疑", "19:00", "20:00"),))
    assert chat.say("签到", when=at("19:05")) == ["签到成功 19:05（答疑），迟到（19:00 开始）"]
    assert chat.say("签退", when=at("20:10")) == ["签退成功 20:10（答疑）"]


def test_R06_when_windows_of_close_sessions_overlap_the_punch_goes_to_the_one_not_yet_punched(factory, tmp_path):
    chat = world(factory, tmp_path, sessions=(("第一节", "10:00", "10:30"), ("第二节", "10:40", "11:20")))
    assert chat.say("签到", when=at("10:05")) == ["签到成功 10:05（第一节），迟到（10:00 开始）"]
    assert chat.say("签到", when=at("10:12")) == ["签到成功 10:12（第二节）"]
    assert chat.say("签到", when=at("10:14")) == ["今天第二节已签到（10:12），不重复记录。"]


def test_R06_a_day_outside_the_class_is_refused(factory, tmp_path):
    chat = world(factory, tmp_path)
    (reply,) = chat.say("签到", when=at("08:20", "2026-11-30"))
    assert "不是本班的培训日" in reply


def attendance_minutes(factory):
    with factory() as s:
        return [(r.day.isoformat(), r.live_minutes, r.source) for r in s.scalars(select(StudyMinutes))]


def test_R12_a_full_day_of_attendance_earns_8_class_hours(factory, tmp_path):
    chat = world(factory, tmp_path, policy="baotou-2023")
    for text, hhmm in (("签到", "08:20"), ("签退", "11:35"), ("签到", "13:50")):
        chat.say(text, when=at(hhmm))
    assert attendance_minutes(factory) == [("2026-12-01", 4 * 45, "attendance")]  # the morning alone: half a day
    chat.say("签退", when=at("17:05"))
    assert attendance_minutes(factory) == [("2026-12-01", 8 * 45, "attendance")]
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R12_half_a_day_earns_4_class_hours_and_a_lone_check_in_none(factory, tmp_path):
    chat = world(factory, tmp_path, policy="baotou-2023")
    chat.say("签到", when=at("13:50"))
    assert attendance_minutes(factory) == []
    chat.say("签退", when=at("17:05"))
    assert attendance_minutes(factory) == [("2026-12-01", 4 * 45, "attendance")]


def test_R12_minutes_based_class_writes_no_attendance_hours(factory, tmp_path):
    chat = world(factory, tmp_path, policy="baotou-2020")
    chat.say("签到", when=at("08:20"))
    chat.say("签退", when=at("11:35"))
    assert attendance_minutes(factory) == []
