"""R01 the timetable (课程表) and R09 each class day's own plan."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select

from bot.samples import sample_plan
from handlers import qualification, scope, timetable
from handlers.classes import profile_of
from handlers.plans import PlanError, parse_plan
from handlers.policy import load_profile
from handlers.timetable import class_days, is_class_day, planned_online_minutes, sessions_on, timetable_of
from storage import ledger_verify
from storage.models import ClassSession

from .chat import Chat, at, bind_group, bind_person, create_class, plan_text, roster_of

D = date.fromisoformat
LESSONS_2_2 = (("上午", "08:30", "11:30", "online_lessons = 2"), ("下午", "14:00", "17:00", "online_lessons = 2"))


def tt_of(**plan) -> timetable.Timetable:
    parsed = parse_plan(plan_text(**plan))
    return timetable.from_plan(parsed, parsed.lesson_minutes or 45)


def errors_of(**plan) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(plan_text(**plan))
    return caught.value.errors


def test_R01_an_old_plan_stays_valid_every_day_is_a_class_day_with_every_session():
    tt = tt_of(start="2026-12-01", end="2026-12-12")
    assert class_days(tt) == [date(2026, 12, day) for day in range(1, 13)]
    assert [s.name for s in sessions_on(tt, D("2026-12-06"))] == ["上午", "下午"]  # a Sunday too
    assert planned_online_minutes(tt, D("2026-12-06")) == 150  # 40 h × 45 min ÷ 12 days, as before


def test_R01_rest_weekdays_rest_dates_and_extra_dates_decide_the_class_days():
    tt = tt_of(start="2026-12-01", end="2026-12-14", online_hours=40,
               timetable='rest_weekdays = [6, 7]\nrest_dates = [2026-12-02]\nextra_dates = [2026-12-12]')
    days = class_days(tt)
    assert D("2026-12-05") not in days and D("2026-12-06") not in days  # Saturday, Sunday
    assert D("2026-12-02") not in days  # a dated rest day (e.g. a holiday)
    assert D("2026-12-12") in days and D("2026-12-13") not in days  # a Saturday worked in exchange
    assert len(days) == 10  # 14 days, 4 weekend days, 1 rest date, 1 extra date
    assert sessions_on(tt, D("2026-12-13")) == ()
    assert is_class_day(tt, D("2026-12-01")) and not is_class_day(tt, D("2026-11-30"))


def test_R09_a_rest_day_plans_nothing_and_a_day_with_three_online_lessons_plans_135():
    tt = tt_of(start="2026-12-01", end="2026-12-07", online_hours=18, timetable="rest_dates = [2026-12-06]",
               sessions=(("上午", "08:30", "11:30", "online_lessons = 3"), ("下午", "14:00", "17:00", "practical = true")))
    assert planned_online_minutes(tt, D("2026-12-06")) == 0
    assert planned_online_minutes(tt, D("2026-12-01")) == 135
    assert qualification.day_threshold(tt, D("2026-12-01"), load_profile("baotou-2020")) == 108  # 80% of 135


def test_R09_days_entries_hold_only_the_named_sessions_and_plan_only_their_lessons():
    tt = tt_of(start="2026-12-01", end="2026-12-05", online_hours=18, sessions=LESSONS_2_2,
               timetable='[[days]]\ndate = 2026-12-05\nsessions = ["上午"]')
    assert [s.name for s in sessions_on(tt, D("2026-12-05"))] == ["上午"]
    assert planned_online_minutes(tt, D("2026-12-05")) == 90
    assert planned_online_minutes(tt, D("2026-12-04")) == 180


def test_R01_lessons_that_do_not_add_up_to_online_hours_are_refused_with_both_numbers():
    errors = errors_of(start="2026-12-01", end="2026-12-12", online_hours=40, sessions=LESSONS_2_2)
    assert errors == ["课程表的线上课时合计 48 课时（12 个培训日），与线上课时 online_hours = 40 不符"]


def test_R01_a_practical_session_cannot_be_online_and_lessons_must_fit_their_session():
    errors = errors_of(sessions=(("上午", "08:30", "11:30"),
                                 ("下午", "14:00", "17:00", "practical = true", "online_lessons = 1")))
    assert errors == ["课程时段“下午”是实训课（practical = true），实训课须线下进行，不能有线上课时（online_lessons = 1）"]
    errors = errors_of(sessions=(("上午", "08:30", "11:30", "online_lessons = 5"),))
    assert errors == ["课程时段“上午”有 5 个线上课时，每课时 45 分钟，超过该时段的 180 分钟"]


def test_R01_bad_timetable_fields_are_all_reported():
    errors = errors_of(start="2026-12-01", end="2026-12-12",
                       timetable='rest_weekdays = [0, 8]\nrest_dates = [2026-12-20, 2026-12-03]\n'
                                 'extra_dates = [2026-12-03]\nsubsidy_standard = -5\n'
                                 '[[days]]\ndate = 2026-12-04\nsessions = ["晚上"]')
    text = "\n".join(errors)
    assert "rest_weekdays" in text and "1（星期一）到 7（星期日）" in text
    assert "2026-12-20 不在培训期 2026-12-01 至 2026-12-12 内" in text
    assert "2026-12-03 同时列为休息日期和加课日期" in text
    assert "subsidy_standard" in text
    assert "课程时段“晚上”不存在" in text


def test_R01_a_days_entry_on_a_rest_day_is_refused():
    errors = errors_of(timetable='rest_dates = [2026-12-05]\n[[days]]\ndate = 2026-12-05\nsessions = ["上午"]')
    assert errors == ["[[days]] 中的 2026-12-05 不是培训日（不在培训期内或是休息日）"]


def test_R01_the_sample_plan_has_a_timetable_with_rest_days_and_lessons_that_add_up():
    plan = sample_plan()
    assert plan.rest_dates == (D("2026-12-05"), D("2026-12-06"))
    tt = timetable.from_plan(plan, 45)
    assert len(class_days(tt)) == 10 and timetable.timetable_online_lessons(tt) == plan.online_hours == 40
    assert planned_online_minutes(tt, D("2026-12-05")) == 0 and planned_online_minutes(tt, D("2026-12-07")) == 180


def test_R01_the_stored_class_keeps_its_timetable(factory):
    with factory() as s:
        klass = create_class(s, size=2, start="2026-12-01", end="2026-12-07", online_hours=24, sessions=LESSONS_2_2,
                             timetable="rest_dates = [2026-12-06]\ntheory_hours = 30\nsubsidy_standard = 1200.5")
        s.commit()
        tt = timetable_of(s, klass)
        assert D("2026-12-06") not in class_days(tt) and len(class_days(tt)) == 6
        assert planned_online_minutes(tt, D("2026-12-07")) == 180
        assert tt.theory_hours == 30 and str(tt.subsidy_standard) == "1200.5"
        assert ledger_verify.verify(s).ok


def test_R01_the_class_read_with_its_timetable_rows_has_the_timetable_read_alone(factory):
    """The day view reads the class and its timetable rows in one statement (``scope.class_row_for``)."""
    with factory() as s:
        klass = create_class(s, size=2, start="2026-12-01", end="2026-12-07", online_hours=24, sessions=LESSONS_2_2,
                             timetable="rest_dates = [2026-12-06]\ntheory_hours = 30")
        s.commit()
        alone = timetable_of(s, klass)
    admin = scope.Viewer(0, "admin", scope.ADMIN, None, None)
    with factory() as s:
        sent, engine = [], s.get_bind()

        def listener(_conn, _cursor, statement, *_):
            if statement.startswith("SELECT"):
                sent.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            read, = scope.class_row_for(s, admin, klass.code, timetable=True)
            assert len(sent) == 1
            assert timetable_of(s, read) == alone and len(sent) == 1  # no second read
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert D("2026-12-06") not in class_days(timetable_of(s, read))
    with factory() as s, pytest.raises(scope.OutOfScope):
        scope.class_row_for(s, admin, "NO-SUCH-CLASS", timetable=True)


def test_R01_timetables_of_many_classes_read_as_plain_rows_equal_each_class_read_alone(factory):
    """A city's report reads the timetables of many classes as plain rows (``timetable.timetables_of``), the
    rows a transaction holds already as they are: the same timetables as :func:`timetable_of`, and a change not
    flushed yet shows (the read flushes first)."""
    with factory() as s:
        first = create_class(s, size=2, start="2026-12-01", end="2026-12-07", online_hours=24, sessions=LESSONS_2_2,
                             timetable="rest_dates = [2026-12-06]\ntheory_hours = 30\nsubsidy_standard = 1200.5")
        second = create_class(s, code="BT-2026-002", size=2, seed=7, start="2026-12-01", end="2026-12-07", online_hours=24,
                              sessions=LESSONS_2_2, timetable="rest_weekdays = [7]")
        s.commit()
        alone = {k.id: timetable_of(s, k) for k in (first, second)}
    with factory() as s:
        classes = [s.get(type(first), first.id), s.get(type(second), second.id)]
        assert timetable.timetables_of(s, classes) == alone  # neither held: both from plain rows
    with factory() as s:
        classes = [s.get(type(first), first.id), s.get(type(second), second.id)]
        timetable.class_sessions(s, classes[0])  # the first class's rows held as objects
        assert timetable.timetables_of(s, classes) == alone
        morning = s.scalars(select(ClassSession).where(ClassSession.class_id == second.id)
                            .order_by(ClassSession.position)).first()  # not held: read as a plain row below
        morning.end_time = morning.start_time.replace(hour=11, minute=0)  # not flushed yet
        tables = timetable.timetables_of(s, classes)
        assert tables[first.id] == alone[first.id]
        assert tables[second.id].sessions[0].minutes == 150 != alone[second.id].sessions[0].minutes


def test_R09_a_rest_day_is_neither_tallied_nor_a_day_to_check_in(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=2, start="2026-12-01", end="2026-12-07", online_hours=24, sessions=LESSONS_2_2,
                             timetable="rest_dates = [2026-12-06]")
        person = roster_of(s, klass)[0]
        bind_person(s, person, "u1")
        bind_group(s, klass, "cid-class")
        s.commit()
        thresholds = qualification.day_thresholds(timetable_of(s, klass), profile_of(klass))
    assert D("2026-12-06") not in thresholds and thresholds[D("2026-12-07")] == 144
    chat = Chat(factory, tmp_path)
    (reply,) = chat.say("签到", when=at("08:20", "2026-12-06"))
    assert "不是本班的培训日" in reply
    assert chat.say("签到", when=at("08:20", "2026-12-07"))[0].startswith("签到成功")
