"""R21 reminders: check-in windows in the group, short days and make-up 1:1 in the evening, never twice."""

from __future__ import annotations

from sqlalchemy import select

from scheduler import run_due
from storage import ledger, ledger_verify
from storage.models import Enrollment, LeaveRequest, Photo, Reminder, StudyMinutes

from .chat import Chat, at, bind_group, bind_person, create_class, roster_of
from .test_rollcall import Recording

DAY = "2026-12-01"


def world(factory, tmp_path, size=4, **plan):
    """Trainees u1…u4; u4 has no staff id (outside the organisation)."""
    with factory() as s:
        klass = create_class(s, size=size, **plan)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}", staff_user_id=f"s{n}" if n < size else None)
        s.commit()
    chat = Chat(factory, tmp_path)
    chat.api = Recording(chat.blobs)
    return chat


def store(s, rows) -> None:
    for row in rows:
        s.add(row)
        ledger.append(s, "test.row", actor="test", source="test", subject=row)
    s.commit()


def reminders(factory):
    with factory() as s:
        return [(r.kind, r.recipient, r.slot) for r in s.scalars(select(Reminder).order_by(Reminder.id))]


def test_R21_the_group_is_reminded_once_when_each_check_in_window_opens(factory, tmp_path):
    chat = world(factory, tmp_path)
    run_due(factory, at("07:59", DAY), "test")
    assert reminders(factory) == []
    run_due(factory, at("08:00", DAY), "test")
    run_due(factory, at("08:01", DAY), "test")
    run_due(factory, at("08:01", DAY), "test:second")
    run_due(factory, at("13:31", DAY), "test")
    assert [(k, slot) for k, _, slot in reminders(factory)] == [("checkin", f"{DAY}:1"), ("checkin", f"{DAY}:2")]
    chat.last = at("13:31", DAY)
    posted = chat.deliver()
    assert posted == ["【签到提醒】上午 08:30 开始，签到时间 08:00–08:45，请在群里 @我 发送“签到”。",
                      "【签到提醒】下午 14:00 开始，签到时间 13:30–14:15，请在群里 @我 发送“签到”。"]


def test_R21_evening_reminders_name_what_is_missing_and_urge_make_up_on_leave_days(factory, tmp_path):
    chat = world(factory, tmp_path)
    for hhmm, word in (("08:20", "签到"), ("11:35", "签退"), ("13:50", "签到"), ("17:05", "签退")):
        chat.say(word, when=at(hhmm, DAY), sender="u1")
    chat.say("签到", when=at("08:20", DAY), sender="u2")
    with factory() as s:
        e1, e2, e3, e4 = s.scalars(select(Enrollment).order_by(Enrollment.id))
        day = at("08:00", DAY).date()
        rows = [Photo(enrollment_id=e1.id, day=day, sha256="ab" * 32, status="valid", counted=True,
                      received_at=at("09:00", DAY), source="test"),
                StudyMinutes(enrollment_id=e1.id, day=day, live_minutes=400, replay_minutes=0, source="test"),
                LeaveRequest(enrollment_id=e3.id, day=day, reason="病", status="approved",
                             requested_at=at("07:00", DAY), source="test")]
        store(s, rows)
    run_due(factory, at("19:50", DAY), "test")
    assert [k for k, _, _ in reminders(factory) if k in ("short_day", "makeup")] == []
    run_due(factory, at("20:00", DAY), "test")
    run_due(factory, at("20:10", DAY), "test")  # again: nothing new
    evening = [(k, r) for k, r, _ in reminders(factory) if k in ("short_day", "makeup")]
    assert evening == [("short_day", f"enrollment:{e2.id}"), ("makeup", f"enrollment:{e3.id}")]  # u4: unreachable
    chat.last = at("20:10", DAY)
    chat.deliver()
    by_user = {ids[0]: text for ids, text in chat.api.oto}
    assert set(by_user) == {"s2", "s3"}
    assert "签到（下午）" in by_user["s2"] and "学习照片" in by_user["s2"] and "学习时长（已记 0 分钟" in by_user["s2"]
    assert "看回放补学" in by_user["s2"]
    assert by_user["s3"].startswith("【补学提醒】") and "请假" in by_user["s3"]
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R21_R12_in_a_class_counted_by_attendance_imported_minutes_do_not_make_a_day_whole(factory, tmp_path):
    """baotou-2023 counts hours by attendance: the platform's minutes earn nothing, and a replay neither."""
    chat = world(factory, tmp_path, policy="baotou-2023")
    for sender in ("u1", "u2"):
        for hhmm, word in (("08:20", "签到"), ("11:35", "签退"), ("13:50", "签到"), ("17:05", "签退")):
            chat.say(word, when=at(hhmm, DAY), sender=sender)
    chat.say("签到", when=at("08:20", DAY), sender="u3")
    with factory() as s:
        e1, e2, e3, e4 = s.scalars(select(Enrollment).order_by(Enrollment.id))
        day = at("08:00", DAY).date()
        rows = [*(Photo(enrollment_id=e.id, day=day, sha256=f"{n:02d}" * 32, status="valid", counted=True,
                        received_at=at("09:00", DAY), source="test") for n, e in enumerate((e1, e2, e3))),
                StudyMinutes(enrollment_id=e3.id, day=day, live_minutes=400, replay_minutes=0, source="file:x"),
                LeaveRequest(enrollment_id=e2.id, day=day, reason="病", status="approved",
                             requested_at=at("07:00", DAY), source="test")]
        store(s, rows)
    run_due(factory, at("20:00", DAY), "test")
    evening = [(k, r) for k, r, _ in reminders(factory) if k in ("short_day", "makeup")]
    assert evening == [("short_day", f"enrollment:{e3.id}")]  # u1 whole; u2 on leave: nothing to make up
    chat.last = at("20:00", DAY)
    chat.deliver()
    (ids, text), = chat.api.oto
    assert ids == ["s3"] and "学习时长（已记 0 分钟，达标需 120 分钟）" in text and "回放" not in text
