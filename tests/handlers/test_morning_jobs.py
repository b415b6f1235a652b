"""R11 and R10/R21 on the scheduler: the morning report to each district and the class teacher's
spot-check reminder are jobs — shown by ``jobs list``, claimed, never done twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler import job_table, run_due
from storage import ledger, ledger_verify
from storage.models import DailyReportSend, DingTalkIdentity, JobClaim, Klass, OutboxMessage, Reminder

from .chat import Chat, add_staff, at, bind_group, bind_person, create_class, roster_of
from .test_daily_send import chat  # noqa: F401  (the fixture: three classes in two districts)
from .test_rollcall import Recording

DAY, NEXT = "2026-12-01", "2026-12-02"


def report_rows(factory):
    with factory() as s:
        return [(r.kind, r.conversation_id) for r in s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("report:%")).order_by(OutboxMessage.id))]


def test_R11_both_jobs_are_listed_with_their_next_run(factory):
    lines = {line.id: line for line in job_table(factory, at("07:52", NEXT))}
    assert lines["send_daily_reports"].title == "早上把前一天的日报发给各旗县区（R11）"
    assert lines["send_daily_reports"].next_run == at("07:55", NEXT)
    assert lines["remind_spot_checks"].title == "上课时间结束前提醒班主任完成当天的抽查（R10、R21）"


def test_R11_the_scheduler_sends_each_district_its_report_at_the_profile_time_once(chat, factory):  # noqa: F811
    chat.say("绑定督查群 昆都仑区", when=at("09:01", DAY), sender="insp-k", group="cid-sup")
    chat.say("签到", when=at("08:20", DAY), sender="BT-K1-u1", group="cid-k1")
    run_due(factory, at("07:55", NEXT), "test", files=chat.files)  # baotou-2020: report.morning = 08:00
    assert report_rows(factory) == []
    run_due(factory, at("08:00", NEXT), "test", files=chat.files)
    sent = report_rows(factory)
    assert sent == [("group", "cid-sup"), ("group", "cid-sup"), ("oto", None), ("oto", None)]
    run_due(factory, at("08:00", NEXT), "test:second", files=chat.files)  # a second scheduler, same minute
    run_due(factory, at("08:05", NEXT), "test", files=chat.files)  # the next run
    assert report_rows(factory) == sent
    with factory() as s:
        claims = [(c.job, c.scope, c.period) for c in s.scalars(select(JobClaim).where(JobClaim.job == "report.daily"))]
        (row,) = s.scalars(select(DailyReportSend))
        assert claims == [("report.daily", f"district:{row.district_id}", DAY)] and row.sent_by == "job:report.daily"
    # 青山区 had nobody to receive it: not claimed, sent once its supervision group is bound
    chat.say("绑定督查群 青山区", when=at("08:07", NEXT), sender="insp-q", group="cid-sup-q")
    run_due(factory, at("08:10", NEXT), "test", files=chat.files)
    assert report_rows(factory)[len(sent):] == [("group", "cid-sup-q"), ("group", "cid-sup-q")]
    chat.last = at("08:10", NEXT)
    chat.deliver()
    titles = [p["title"] for _, key, p in chat.api.rich if key == "sampleMarkdown"]
    assert titles == ["昆都仑区 12-01 培训日报", "昆都仑区 12-01 培训日报", "青山区 12-01 培训日报"]
    lines = {line.id: line for line in job_table(factory, at("08:11", NEXT))}
    assert lines["send_daily_reports"].last_outcome == "done"
    assert lines["send_daily_reports"].last_detail == "districts 1"
    with factory() as s:
        assert ledger_verify.verify(s).ok


@pytest.fixture
def classes(factory, tmp_path):
    """BT-A: class teacher 王芳 reachable 1:1 (staff id ct-a); BT-B: class teacher 李娜 outside the organisation."""
    with factory() as s:
        a = create_class(s, code="BT-A", size=2)
        b = create_class(s, code="BT-B", size=2, seed=5)
        for klass, cid in ((a, "cid-a"), (b, "cid-b")):
            bind_group(s, klass, cid)
            for n, person in enumerate(roster_of(s, klass), start=1):
                bind_person(s, person, f"{klass.code}-u{n}")
        add_staff(s, "ct-a", "class_teacher", a, name="王芳")
        add_staff(s, "ct-b", "class_teacher", b, name="李娜")
        ident = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.sender_id == "ct-a"))
        ident.staff_user_id = "staff-wang"
        ledger.append(s, "identity.staff_id", actor="test", source="test", subject=ident)
        s.commit()
    chat = Chat(factory, tmp_path)
    chat.api = Recording(chat.blobs)
    return chat


def reminders(factory):
    with factory() as s:
        return [(r.kind, r.recipient, r.slot, r.reason) for r in s.scalars(
            select(Reminder).where(Reminder.kind == "spot_check").order_by(Reminder.id))]


def test_R10_R21_the_class_teacher_is_reminded_once_when_spot_checks_are_missing(classes, factory):
    chat = classes
    chat.say("抽查 全员在线", when=at("09:30", DAY), sender="ct-a", group="cid-a")
    run_due(factory, at("16:25", DAY), "test")  # the afternoon session ends 17:00; reminder 30 minutes before
    assert reminders(factory) == []
    run_due(factory, at("16:30", DAY), "test")
    run_due(factory, at("16:30", DAY), "test:second")
    run_due(factory, at("16:35", DAY), "test")
    with factory() as s:
        staff = {i.sender_id: i.staff_id for i in s.scalars(select(DingTalkIdentity))}
        class_b_id = s.scalar(select(Klass.id).where(Klass.code == "BT-B"))
        class_b = s.scalar(select(OutboxMessage.conversation_id).where(OutboxMessage.dedupe_key.like("remind:spot%"),
                                                                      OutboxMessage.kind == "group"))
    assert reminders(factory) == [("spot_check", f"staff:{staff['ct-a']}", DAY, "1/2"),
                                  ("spot_check", f"group:{class_b_id}", DAY, "0/2")]
    assert class_b == "cid-b"  # 李娜 cannot be reached 1:1: the reminder goes to her class group
    chat.last = at("16:35", DAY)
    group_posts = [text for text in chat.deliver() if text.startswith("【抽查提醒】")]  # (also roll calls)
    (oto,) = chat.api.oto
    assert oto == (["staff-wang"], "【抽查提醒】王芳，BT-A 今天（12月1日（周二））已抽查 1 次，每天应 2 次；今天的上课时间 17:00 结束，"
                                   "请在此之前在班级群里 @我 发送“抽查 情况”并附截图。")
    assert group_posts == ["【抽查提醒】李娜，BT-B 今天（12月1日（周二））已抽查 0 次，每天应 2 次；今天的上课时间 17:00 结束，"
                           "请在此之前在班级群里 @我 发送“抽查 情况”并附截图。"]


def test_R10_no_spot_check_reminder_when_done_or_on_a_rest_day(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, code="BT-R", size=2, timetable="rest_dates = [2026-12-02]")
        bind_group(s, klass, "cid-r")
        add_staff(s, "ct-r", "class_teacher", klass, name="王芳")
        s.commit()
    chat = Chat(factory, tmp_path)
    chat.say("抽查 一", when=at("09:30", DAY), sender="ct-r", group="cid-r")
    chat.say("抽查 二", when=at("15:30", DAY), sender="ct-r", group="cid-r")
    run_due(factory, at("16:40", DAY), "test")  # both done
    run_due(factory, at("16:40", NEXT), "test")  # a rest day: no class, nothing due
    assert reminders(factory) == []
    with factory() as s:
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like("remind:spot%"))) is None
