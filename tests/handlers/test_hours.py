"""R09 study minutes from viewing statistics, R07 make-up by replay, R16 removal, the live pull."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from handlers import hours, qualification
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.timetable import timetable_of
from storage import ledger_verify, reports
from storage.models import Enrollment, ImportFile, LedgerEvent, StudyMinutes

from .chat import TZ, Chat, add_staff, at, bind_group, bind_person, create_class, people, roster_of

HEADER = ["姓名", "日期", "直播时长（分钟）", "回看时长（分钟）"]


def table(*rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def klass(factory):
    """Two class days of 1000 planned minutes each: 40 h × 50 min ÷ 2 days (80% = 800, 79.9% = 799)."""
    with factory() as s:
        k = create_class(s, size=3, start="2026-12-01", end="2026-12-02", online_hours=40, total_hours=100,
                         lesson_minutes=50)
        s.commit()
        return k


def threshold(s, k, day: date) -> int:
    return qualification.day_threshold(timetable_of(s, k), day, profile_of(k))


def names(factory, klass):
    with factory() as s:
        return [p.name for p in roster_of(s, klass)]


def do_import(factory, klass, data: bytes, filename: str = "stats.csv", replace: bool = False) -> hours.Imported:
    with factory() as s:
        result = hours.import_hours(s, s.get(type(klass), klass.id), data, filename, actor="cli:test", replace=replace)
        s.commit()
        return result


def minutes(factory):
    with factory() as s:
        return sorted((r.enrollment_id, r.day.isoformat(), r.live_minutes, r.replay_minutes)
                      for r in s.scalars(select(StudyMinutes)))


def test_R09_day_at_79_9_percent_fails_and_at_80_0_percent_passes(factory, klass):
    a, b, c = names(factory, klass)
    result = do_import(factory, klass, table([a, "2026-12-01", 700, 99], [b, "2026-12-01", 600, 200],
                                             [c, "2026-12-01", 1000, 0]))
    assert (result.rows, result.trainees, result.days, result.below, result.threshold) == (3, 3, 1, 1, "800")
    with factory() as s:
        k = s.get(type(klass), klass.id)
        planned = qualification.planned_day_minutes(timetable_of(s, k), date(2026, 12, 1))
        assert planned == 1000
        assert qualification.day_ok(799, planned, "0.8") is False  # 79.9%
        assert qualification.day_ok(800, planned, "0.8") is True  # 80.0%
        day = reports.trainee_days(s, k.id, date(2026, 12, 1), threshold(s, k, date(2026, 12, 1)))
        assert [(line.study_minutes, line.day_ok) for line in day] == [(799, False), (800, True), (1000, True)]


def test_R09_import_is_all_or_nothing_and_reports_every_bad_row(factory, klass):
    a, b, _ = names(factory, klass)
    data = table([a, "2026-12-01", 100, 20], ["不认识的人", "2026-12-01", 10, 0], [b, "2026-12-05", 10, 0],
                 [b, "昨天晚上", "abc", 0], [a, "2026-12-02", 1500, 0])
    with pytest.raises(hours.HoursError) as caught:
        do_import(factory, klass, data)
    text = str(caught.value)
    assert text.startswith("学习时长未导入（5 处错误")
    assert "第 2 行（表格第 3 行）姓名：不在本班花名册中" in text
    assert "第 3 行（表格第 4 行）日期：12月5日（周六）不在培训期内" in text
    assert "第 4 行（表格第 5 行）日期：不是有效日期" in text and "“abc”" in text
    assert "1500 分钟超过一天" in text
    assert minutes(factory) == []
    with factory() as s:
        assert s.scalar(select(ImportFile.id).where(ImportFile.kind == "hours")) is None


def test_R09_rows_of_one_trainee_and_day_add_up_and_other_units_and_formats_are_read(factory, klass):
    a, b, c = names(factory, klass)
    data = table([a, "2026/12/1", "1:30:00", "600"], [a, "2026年12月1日", "0:10:00", "0"],
                 [b, "2026-12-02", "2小时", "30秒"], [c, "20261202", "", ""],
                 header=["学员姓名", "直播日期", "直播观看时长", "回看时长(秒)"])
    do_import(factory, klass, data)
    assert minutes(factory) == [(1, "2026-12-01", 100, 10), (2, "2026-12-02", 120, 0), (3, "2026-12-02", 0, 0)]


def test_R09_the_same_file_is_not_imported_twice_and_bad_headers_are_named(factory, klass):
    a, _, _ = names(factory, klass)
    data = table([a, "2026-12-01", 100, 20])
    do_import(factory, klass, data)
    with pytest.raises(Refusal, match="已经导入过"):
        do_import(factory, klass, data)
    with pytest.raises(Refusal, match="缺少列"):
        do_import(factory, klass, table([a, "2026-12-01", 1], header=["姓名", "日期", "直播时长"]))
    with pytest.raises(Refusal, match="找不到表头"):
        do_import(factory, klass, table([a, 1], header=["名字", "分钟"]))


def test_R09_trainees_are_matched_by_dingtalk_user_or_id_number_when_names_repeat(factory, tmp_path):
    rows = people(2, seed=3)
    twin = (rows[0][0], *people(3, seed=4)[2][1:])
    with factory() as s:
        k = create_class(s, rows=[rows[0], twin, rows[1]], start="2026-12-01", end="2026-12-02")
        bind_person(s, roster_of(s, k)[0], "s1", staff_user_id="0123")
        s.commit()
    with pytest.raises(hours.HoursError, match="同名"):
        do_import(factory, k, table([rows[0][0], "2026-12-01", 10, 0]))
    do_import(factory, k, table(["0123", "", "2026-12-01", 10, 0], ["", twin[2], "2026-12-01", 20, 0],
                                header=["钉钉用户ID", "身份证号", "日期", "直播时长", "回看时长"]))
    assert minutes(factory) == [(1, "2026-12-01", 10, 0), (2, "2026-12-01", 20, 0)]


def test_R07_replay_made_up_later_counts_toward_the_missed_day(factory, tmp_path, klass):
    with factory() as s:
        k = s.get(type(klass), klass.id)
        bind_group(s, k, "cid-class")
        bind_person(s, roster_of(s, k)[0], "u1")
        add_staff(s, "ct", "class_teacher", k)
        s.commit()
    chat = Chat(factory, tmp_path)
    chat.say("请假 12月2日 家中有事", when=at("20:00"))
    chat.say("准假 1", when=at("20:05"), sender="ct")
    a, _, _ = names(factory, klass)
    do_import(factory, klass, table([a, "2026-12-02", 0, 0]), "day2.csv")  # exported the evening of day 2
    # after the online part, a new export of the whole day (no 场次) stands for it: made up
    do_import(factory, klass, table([a, "2026-12-02", 0, 850]), "after.csv", replace=True)
    with factory() as s:
        k = s.get(type(klass), klass.id)
        (line,) = [x for x in reports.trainee_days(s, k.id, date(2026, 12, 2), threshold(s, k, date(2026, 12, 2)))
                   if x.name == a]
        assert (line.leave, line.study_minutes, line.day_ok) == ("approved", 850, True)
    assert "今日学习时长：850 分钟（至少 800 分钟），已达标" in chat.say("我的", when=at("21:00", "2026-12-02"))[0]


def test_R16_trainees_below_the_threshold_at_the_end_are_marked_removed_with_the_reason(factory, klass):
    a, b, c = names(factory, klass)
    # required: 40 h × 50 min = 2000 min; 80% = 1600
    do_import(factory, klass, table([a, "2026-12-01", 800, 0], [a, "2026-12-02", 800, 0],
                                    [b, "2026-12-01", 800, 0], [b, "2026-12-02", 799, 0],
                                    [c, "2026-12-01", 100, 0]))
    end = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)
    with factory() as s:
        k = s.get(type(klass), klass.id)
        with pytest.raises(Refusal, match="结束后才能"):
            hours.remove_unqualified(s, k, actor="cli:admin", source="cli", now=datetime(2026, 12, 2, 8, tzinfo=timezone.utc))
        removed = hours.remove_unqualified(s, k, actor="cli:admin", source="cli", now=end)
        s.commit()
    assert [r.name for r in removed] == [b, c]
    assert removed[0].reason == "线上学习 31.9 课时，为应学 40 课时的 79.9%，未达到 80%（R16）"
    with factory() as s:
        rows = list(s.scalars(select(Enrollment).order_by(Enrollment.id)))
        assert [(e.removed, e.removed_by) for e in rows] == [(False, None), (True, "cli:admin"), (True, "cli:admin")]
        assert rows[2].removed_reason.startswith("线上学习 2.0 课时")
        assert ledger_verify.verify(s).ok
        assert hours.remove_unqualified(s, s.get(type(klass), klass.id), actor="x", source="cli", now=end) == []


def test_R09_live_statistics_become_one_row_per_trainee_day_and_a_later_pull_updates_it(factory, tmp_path):
    with factory() as s:
        k = create_class(s, size=3, live_ids=("2026-12-01/L1", "L2"))
        people_ = roster_of(s, k)
        bind_person(s, people_[0], "s1", staff_user_id="0001")
        s.commit()
    assert hours.live_days(k) == [("L1", date(2026, 12, 1)), ("L2", None)]
    day2 = int(datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc).timestamp() * 1000)
    lives = {
        "L1": (date(2026, 12, 1), [hours.Viewer("0001", "昵称", 90 * 60000 + 59999, 0),
                                   hours.Viewer(None, people_[1].name, 30 * 60000, 0),
                                   hours.Viewer(None, "外人", 60000, 0)]),
        "L2": (None, [hours.Viewer("0001", "昵称", 0, 61 * 60000, first_watch_ms=day2)]),
    }
    with factory() as s:
        pulled = hours.record_live(s, s.get(type(k), k.id), lives, actor="bot", tz=TZ)
        s.commit()
    assert (pulled.written, pulled.unchanged, pulled.unmatched, pulled.undated) == (3, 0, ("外人",), ())
    assert minutes(factory) == [(1, "2026-12-01", 90, 0), (1, "2026-12-02", 0, 61), (2, "2026-12-01", 30, 0)]
    lives["L1"][1][1] = hours.Viewer(None, people_[1].name, 30 * 60000, 45 * 60000)  # replay made up later
    with factory() as s:
        again = hours.record_live(s, s.get(type(k), k.id), lives, actor="bot", tz=TZ)
        s.commit()
        assert (again.written, again.unchanged) == (1, 2)
        assert ledger_verify.verify(s).ok
    assert (2, "2026-12-01", 30, 45) in minutes(factory)


LESSON_HEADER = ["姓名", "日期", "场次", "直播时长（分钟）", "回看时长（分钟）"]


def day_line(factory, klass, day: date, name: str):
    with factory() as s:
        lines = qualification.day_report(s, s.get(type(klass), klass.id), day).lines
        return next((line.study_minutes, line.day_ok) for line in lines if line.name == name)


def test_R09_two_lesson_files_of_one_day_add_up(factory, klass):
    """One file per live (morning, afternoon): the day is their sum, not the larger (1000 planned, 800 ok)."""
    a, b, _ = names(factory, klass)
    do_import(factory, klass, table([a, "2026-12-01", "上午直播", 450, 0], [b, "2026-12-01", "上午直播", 400, 0],
                                    header=LESSON_HEADER), "morning.csv")
    do_import(factory, klass, table([a, "2026-12-01", "下午直播", 350, 0], [b, "2026-12-01", "下午直播", 300, 99],
                                    header=LESSON_HEADER), "afternoon.csv")
    assert day_line(factory, klass, date(2026, 12, 1), a) == (800, True)  # 450 + 350
    assert day_line(factory, klass, date(2026, 12, 1), b) == (799, False)  # 400 + 399


def test_R09_the_same_lesson_from_two_sources_counts_once_the_larger(factory, tmp_path):
    with factory() as s:
        k = create_class(s, size=2, start="2026-12-01", end="2026-12-02", online_hours=40, total_hours=100,
                         lesson_minutes=50, live_ids=("2026-12-01/L1", "2026-12-01/L2"))
        person = roster_of(s, k)[0]
        s.commit()
    do_import(factory, k, table([person.name, "2026-12-01", "L1", 500, 0], [person.name, "2026-12-01", "L2", 200, 0],
                                header=LESSON_HEADER), "export.csv")
    lives = {"L1": (date(2026, 12, 1), [hours.Viewer(None, person.name, 450 * 60000, 0)]),  # smaller: the file's 500
             "L2": (date(2026, 12, 1), [hours.Viewer(None, person.name, 250 * 60000, 0)])}  # larger: the pull's 250
    with factory() as s:
        hours.record_live(s, s.get(type(k), k.id), lives, actor="bot", tz=TZ)
        s.commit()
    assert day_line(factory, k, date(2026, 12, 1), person.name) == (750, False)  # 500 + 250, not 500 + 200 + 450 + 250
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R09_a_file_without_lessons_for_a_day_already_imported_is_refused_unless_replace(factory, klass):
    a, b, c = names(factory, klass)
    do_import(factory, klass, table([a, "2026-12-01", 300, 0], [b, "2026-12-01", 900, 0]), "first.csv")
    before = minutes(factory)
    with pytest.raises(Refusal) as refused:
        do_import(factory, klass, table([a, "2026-12-01", 500, 0], [c, "2026-12-01", 820, 0]), "second.csv")
    assert "12月1日" in str(refused.value) and "场次" in str(refused.value) and "--replace" in str(refused.value)
    assert minutes(factory) == before  # nothing written
    do_import(factory, klass, table([a, "2026-12-01", 500, 0], [c, "2026-12-01", 820, 0]), "second.csv", replace=True)
    assert day_line(factory, klass, date(2026, 12, 1), a) == (500, False)  # replaced, not max(300, 500) by chance
    assert day_line(factory, klass, date(2026, 12, 1), b) == (900, True)  # not in the new file: kept
    assert day_line(factory, klass, date(2026, 12, 1), c) == (820, True)
    with factory() as s:
        assert ledger_verify.verify(s).ok
        assert s.scalar(select(func.count()).select_from(LedgerEvent).where(
            LedgerEvent.type == "study_minutes.replaced")) == 1


def test_R09_R12_imported_minutes_do_not_count_in_a_class_counted_by_attendance(factory, tmp_path):
    with factory() as s:
        k = create_class(s, size=1, policy="baotou-2023", start="2026-12-01", end="2026-12-02",
                         online_hours=16, total_hours=40)
        person = roster_of(s, k)[0]
        bind_person(s, person, "u1")
        bind_group(s, k, "cid-class")
        s.commit()
    do_import(factory, k, table([person.name, "2026-12-01", 999, 0]), "stats.csv")
    assert day_line(factory, k, date(2026, 12, 1), person.name)[0] == 0  # imported, kept, never counted
    chat = Chat(factory, tmp_path)
    chat.say("签到", when=at("08:25"))
    chat.say("签退", when=at("11:35"))
    assert day_line(factory, k, date(2026, 12, 1), person.name)[0] == 4 * 45  # a morning earns 4 课时 (R12)


def test_R11_R12_one_daily_report_counts_imports_in_one_class_and_not_in_a_class_counted_by_attendance(factory):
    """The district's report of a day holds both kinds of class: the same imported minutes make one trainee's day
    and count for nothing in the class counted by attendance (R12), in the trainee lines and the class lines."""
    from handlers import daily_report

    with factory() as s:
        online = create_class(s, code="BT-2026-001", size=1, start="2026-12-01", end="2026-12-02", online_hours=40,
                              total_hours=100, lesson_minutes=50)
        by_attendance = create_class(s, code="BT-2026-002", size=1, seed=7, policy="baotou-2023", start="2026-12-01",
                                     end="2026-12-02", online_hours=16, total_hours=40)
        s.commit()
        names = {k.code: roster_of(s, k)[0].name for k in (online, by_attendance)}
    for k in (online, by_attendance):
        do_import(factory, k, table([names[k.code], "2026-12-01", 999, 0]), f"{k.code}.csv")
    with factory() as s:
        report = daily_report.build(s, date(2026, 12, 1), tz=TZ)
        lines = {c.klass.code: c for d in report.districts for c in d.classes}
        assert [(t.study_minutes, t.day_ok) for t in lines["BT-2026-001"].trainees] == [(999, True)]
        assert (lines["BT-2026-001"].line.minutes, lines["BT-2026-001"].line.day_ok) == (999, 1)
        assert [(t.study_minutes, t.day_ok) for t in lines["BT-2026-002"].trainees] == [(0, False)]
        assert (lines["BT-2026-002"].line.minutes, lines["BT-2026-002"].line.day_ok) == (0, 0)


def test_R12_the_required_base_is_the_courses_hours_and_a_morning_only_day_earns_4(factory, tmp_path):
    """baotou-2023 counts by attendance: 2 days × 8 课时 = the 16 规定课时; 80% (hours.qualify_ratio) = 12.8."""
    with factory() as s:
        k = create_class(s, size=2, policy="baotou-2023", start="2026-12-01", end="2026-12-02",
                         online_hours=6, total_hours=16)
        first, second = roster_of(s, k)
        bind_person(s, first, "u1")
        bind_person(s, second, "u2")
        bind_group(s, k, "cid-class")
        s.commit()
    chat = Chat(factory, tmp_path)
    for day in ("2026-12-01", "2026-12-02"):
        for sender in ("u1", "u2"):
            chat.say("签到", when=at("08:25", day), sender=sender)
            chat.say("签退", when=at("11:35", day), sender=sender)
            if sender == "u1" or day == "2026-12-01":  # u2 leaves after the morning of day 2
                chat.say("签到", when=at("13:55", day), sender=sender)
                chat.say("签退", when=at("17:05", day), sender=sender)
    with factory() as s:
        result = qualification.summary(s, s.get(type(k), k.id))
    lines = {line.name: line for line in result.lines}
    assert (lines[first.name].hours_earned, lines[first.name].hours_required, lines[first.name].qualified) == (16, 16, True)
    assert (lines[second.name].hours_earned, lines[second.name].qualified) == (12, False)  # 8 + 4 = 75%
