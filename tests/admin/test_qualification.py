"""R09, R12, R16 at their boundaries: 79.9% fails and 80.0% passes, exactly, through SQL and the API."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from fractions import Fraction
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from handlers import accounts, classes, eligibility, qualification, roster
from handlers.plans import parse_plan
from handlers.policy import load_profile
from handlers.timetable import Slot, Timetable
from storage import ledger
from storage.models import Enrollment, Person, StudyMinutes
from tests.admin.conftest import login, make_app
from tests.admin.world import roster_bytes
from tests.handlers.chat import roster_csv
from bot.samples.generate import make_id_number
from tests.commitment import sign_commitment

DAY = date(2026, 12, 1)
# One class day, 20 online hours of 50 minutes: 1000 planned minutes that day, 1000 required in all.
BOUNDARY_PLAN = """
code = "BOUND-1"
name = "边界班"
occupation = "电工"
institution = "边界学校"
district = "边界区"
mode = "live"
start_date = 2026-12-01
end_date = 2026-12-01
total_hours = 50
online_hours = 20
lesson_minutes = 50
platform = { name = "钉钉直播", url = "https://www.dingtalk.com" }
teachers = ["甲"]
class_teacher = "乙"
OVERRIDES

[[sessions]]
name = "上午"
start = "08:30"
end = "11:30"
"""
PEOPLE = [("差一分", "男", date(1980, 1, 1), "150203"), ("刚刚好", "女", date(1981, 2, 2), "150203")]


def boundary_class(factory, minutes: dict[str, int], overrides: str = ""):
    with factory() as s:
        klass = classes.create_class(s, parse_plan(BOUNDARY_PLAN.replace("OVERRIDES", overrides)), actor="test",
                                     source="test", default_policy="baotou-2020")
        data, _, _ = roster_bytes(PEOPLE)
        roster.import_roster(s, klass, data, "roster.xlsx", actor="test", today=DAY)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="test", source="test",
                              now=datetime(2026, 11, 30, 9, tzinfo=timezone.utc))
        for enrollment, person in s.execute(select(Enrollment, Person).join(Person)
                                            .where(Enrollment.class_id == klass.id)).all():
            row = StudyMinutes(enrollment_id=enrollment.id, day=DAY, live_minutes=minutes[person.name],
                               replay_minutes=0, source="file:x")
            s.add(row)
            ledger.append(s, "minutes.imported", actor="test", source="file:x", subject=row, class_code=klass.code)
        token = (accounts.add_user(s, "boss", "admin"), accounts.issue_token(s, "boss"))[1]
        s.commit()
    return token


def api(factory, tmp_path, token, url):
    client = make_app(factory, tmp_path).test_client()
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return {line["name"]: line for line in response.get_json()["trainees"]}


def test_R09_day_at_79_9_percent_fails_and_at_80_0_passes(factory, tmp_path):
    token = boundary_class(factory, {"差一分": 799, "刚刚好": 800})
    lines = api(factory, tmp_path, token, "/api/v1/classes/BOUND-1/days/2026-12-01")
    assert (lines["差一分"]["study_minutes"], lines["差一分"]["day_ok"]) == (799, False)
    assert (lines["刚刚好"]["study_minutes"], lines["刚刚好"]["day_ok"]) == (800, True)


def test_R16_qualification_at_79_9_percent_fails_and_at_80_0_passes(factory, tmp_path):
    token = boundary_class(factory, {"差一分": 799, "刚刚好": 800})
    lines = api(factory, tmp_path, token, "/api/v1/classes/BOUND-1/summary")
    assert lines["差一分"] == {"name": "差一分", "hours_earned": 15.9, "hours_required": 20, "ratio": 0.799,
                               "qualified": False, "removed": False}
    assert lines["刚刚好"] == {"name": "刚刚好", "hours_earned": 16.0, "hours_required": 20, "ratio": 0.8,
                               "qualified": True, "removed": False}


def test_R22_an_ineligible_trainee_with_enough_hours_is_never_qualified(factory, tmp_path):
    token = boundary_class(factory, {"差一分": 799, "刚刚好": 1000})
    with factory() as s:
        eligibility.mark_trainee(s, classes.get_class(s, "BOUND-1"), "刚刚好", eligibility.INELIGIBLE, "在校学生",
                                 actor="district:test", source="test", now=datetime(2026, 11, 30, tzinfo=timezone.utc))
        s.commit()
    lines = api(factory, tmp_path, token, "/api/v1/classes/BOUND-1/summary")
    assert (lines["刚刚好"]["ratio"], lines["刚刚好"]["qualified"]) == (1.0, False)
    with factory() as s:
        assert qualification.summary(s, classes.get_class(s, "BOUND-1")).qualified == 0


def test_R22_a_category_outside_the_profiles_target_groups_is_flagged_for_the_district_to_recheck(factory, tmp_path):
    assert eligibility.outside_target_groups("在校学生", load_profile("baotou-2020"))
    assert not eligibility.outside_target_groups("失业人员", load_profile("wuhai-2020"))  # a short form of 下岗失业人员
    assert not eligibility.outside_target_groups("在校学生", load_profile("hengyang-2020"))  # the seed lists no groups
    with factory() as s:
        klass = classes.create_class(s, parse_plan(BOUNDARY_PLAN.replace("OVERRIDES", "")), actor="test", source="test",
                                     default_policy="baotou-2020")
        data = roster_csv([("赵一", "男", make_id_number("150203", date(1990, 1, 1), 101), "13900000001", "在校学生"),
                           ("钱二", "女", make_id_number("150203", date(1991, 2, 2), 102), "13900000002", "企业职工")])
        roster.import_roster(s, klass, data, "roster.csv", actor="test", today=DAY)
        student = s.scalar(select(Enrollment.id).join(Person).where(Person.name == "赵一"))
        password = accounts.add_user(s, "district", "district", district="边界区")
        s.commit()
    client = make_app(factory, tmp_path).test_client()
    login(client, "district", password)
    roster_table = client.get("/classes/BOUND-1").get_data(as_text=True).split('id="roster"')[1]
    assert re.search(r">赵一</a>.*?在校学生 <span[^>]*>（待复核）</span>", roster_table, re.S)
    assert "（待复核）" not in re.search(r">钱二</a>.*?</tr>", roster_table, re.S).group(0)
    page = client.get(f"/classes/BOUND-1/trainees/{student}").get_data(as_text=True)
    assert "身份类别不在本班政策配置的培训对象中（R22）" in page


def test_R16_page_shows_79_9_percent_truncated_never_rounded_up(factory, tmp_path):
    boundary_class(factory, {"差一分": 799, "刚刚好": 800})
    client = make_app(factory, tmp_path).test_client()
    with factory() as s:
        password = accounts.add_user(s, "viewer", "city")
        s.commit()
    login(client, "viewer", password)
    html = client.get("/classes/BOUND-1").get_data(as_text=True)
    roster_table = html[html.index('id="roster"'):]
    short = re.search(r">差一分</a>.*?</tr>", roster_table, re.S).group(0)
    exact = re.search(r">刚刚好</a>.*?</tr>", roster_table, re.S).group(0)
    assert "79.9%" in short and "未达标" in short
    assert "80.0%" in exact and "合格" in exact


def test_R09_profile_override_moves_the_threshold(factory, tmp_path):
    token = boundary_class(factory, {"差一分": 899, "刚刚好": 900}, overrides="overrides = { study = { min_ratio = 0.9 } }")
    lines = api(factory, tmp_path, token, "/api/v1/classes/BOUND-1/days/2026-12-01")
    assert (lines["差一分"]["day_ok"], lines["刚刚好"]["day_ok"]) == (False, True)


def test_R16_a_removed_trainee_is_never_qualified(factory, tmp_path):
    token = boundary_class(factory, {"差一分": 1000, "刚刚好": 1000})
    with factory() as s:
        enrollment = s.scalar(select(Enrollment).join(Person).where(Person.name == "刚刚好"))
        enrollment.removed, enrollment.removed_reason = True, "数据异常"
        ledger.append(s, "enrollment.removed", actor="test", source="test", subject=enrollment, reason="数据异常")
        s.commit()
    lines = api(factory, tmp_path, token, "/api/v1/classes/BOUND-1/summary")
    assert lines["差一分"]["qualified"] is True
    assert (lines["刚刚好"]["qualified"], lines["刚刚好"]["removed"], lines["刚刚好"]["ratio"]) == (False, True, 1.0)


# --- R12: attendance-based hours (a pure function, for the issue that makes a class count that way) ----

PROFILE = load_profile("baotou-2020")
MORNING, AFTERNOON = SimpleNamespace(id=1), SimpleNamespace(id=2)


def punch(session_id: int, kind: str, counts: bool = True):
    return SimpleNamespace(session_id=session_id, kind=kind, counts=counts)


def test_R12_a_full_day_of_two_sessions_earns_8_hours():
    day = [punch(1, "in"), punch(1, "out"), punch(2, "in"), punch(2, "out")]
    assert qualification.attendance_hours(day, [MORNING, AFTERNOON], PROFILE) == PROFILE.hours.full_day == 8


def test_R12_one_complete_session_of_two_earns_half_a_day():
    day = [punch(1, "in"), punch(1, "out"), punch(2, "in")]
    assert qualification.attendance_hours(day, [MORNING, AFTERNOON], PROFILE) == PROFILE.hours.half_day == 4


def test_R12_a_missing_check_out_everywhere_earns_nothing():
    assert qualification.attendance_hours([punch(1, "in"), punch(2, "in")], [MORNING, AFTERNOON], PROFILE) == 0
    assert qualification.attendance_hours([], [MORNING, AFTERNOON], PROFILE) == 0


def test_R12_uncounted_punches_do_not_earn_hours():
    """R02: punches made before approval are kept but earn nothing."""
    day = [punch(1, "in"), punch(1, "out", counts=False), punch(2, "in"), punch(2, "out")]
    assert qualification.attendance_hours(day, [MORNING, AFTERNOON], PROFILE) == 4


def test_R12_a_morning_only_day_earns_4_not_8():
    """上下午各考勤2次 make the 8 课时 of a day: a class with only a morning session earns half of it."""
    assert qualification.attendance_hours([(1, "in"), (1, "out")], [1], PROFILE) == 4
    # a day the timetable holds only the morning of a two-session class: also 4
    assert qualification.attendance_hours([(1, "in"), (1, "out")], [1], PROFILE, per_day=2) == 4


def test_R12_with_three_sessions_a_partial_day_earns_its_share():
    evening = SimpleNamespace(id=3)
    two_of_three = [punch(1, "in"), punch(1, "out"), punch(3, "in"), punch(3, "out")]
    assert qualification.attendance_hours(two_of_three, [MORNING, AFTERNOON, evening], PROFILE) == Fraction(16, 3)
    every = two_of_three + [punch(2, "in"), punch(2, "out")]
    assert qualification.attendance_hours(every, [MORNING, AFTERNOON, evening], PROFILE) == 8


def test_R12_the_hours_come_from_the_profile():
    profile = load_profile("baotou-2020", {"hours": {"full_day": 6, "half_day": 3}})
    day = [punch(1, "in"), punch(1, "out")]
    assert qualification.attendance_hours(day, [MORNING, AFTERNOON], profile) == 3


def test_R09_planned_minutes_keep_the_exact_fraction():
    """A plan that does not state its sessions' online lessons spreads online hours evenly (exactly)."""
    tt = Timetable(start_date=date(2026, 12, 1), end_date=date(2026, 12, 7), lesson_minutes=45, online_hours=40,
                   sessions=(Slot("上午", time(8, 30), time(11, 30)),))
    assert qualification.planned_day_minutes(tt, date(2026, 12, 3)) == pytest.approx(1800 / 7)
    assert qualification.planned_day_minutes(tt, date(2026, 12, 3)).denominator == 7


def test_percent_text_truncates():
    assert qualification.percent_text(7999, 10000) == "79.9%"
    assert qualification.percent_text(0, 0) == "—"
