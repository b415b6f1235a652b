"""The numbers (R02, R06–R09, R11, R16): the API, the pages and the SQL aggregates agree with what the
test works out from the world's schedule on its own (tests/admin/expect.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from handlers import qualification
from handlers.classes import get_class, profile_of
from handlers.policy import min_count
from handlers.timetable import timetable_of
from storage import reports
from storage.models import OutboxMessage
from tests.admin import expect
from tests.admin.world import A, A_TRAINEES, B, DAY1, DAY2, NOW, REMOVED, XSS


def api(clients, world, url, user="admin"):
    response = clients["anonymous"].get(url, headers={"Authorization": f"Bearer {world.tokens[user]}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("day", [DAY1, DAY2])
def test_R09_R02_api_day_matches_the_schedule(world, clients, day):
    body = api(clients, world, f"/api/v1/classes/{A}/days/{day.isoformat()}")
    assert body["class"] == A and body["date"] == day.isoformat()
    assert body["trainees"] == [expect.trainee_day(name, day) for name in expect.ACTIVE]


def test_R02_a_punch_before_approval_is_recorded_but_not_counted(world, clients):
    body = api(clients, world, f"/api/v1/classes/{A}/days/2026-12-01")
    first = next(line for line in body["trainees"] if line["name"] == "王秀英")
    assert (first["checkins"], first["checkouts"]) == (0, 1)  # her 08:05 check-in preceded the 08:10 approval
    b = api(clients, world, f"/api/v1/classes/{B}/days/2026-12-01")
    assert all(line["checkins"] == 0 for line in b["trainees"])  # B was never approved


def test_R09_study_minutes_are_the_largest_source_not_the_sum(world, clients):
    body = api(clients, world, f"/api/v1/classes/{A}/days/2026-12-01")
    wang = next(line for line in body["trainees"] if line["name"] == "王秀英")
    assert wang["study_minutes"] == 144 and wang["day_ok"] is True  # 124+20 and 90+0: 144, exactly 80% of 180
    li = next(line for line in body["trainees"] if line["name"] == "李建国")
    assert li["study_minutes"] == 143 and li["day_ok"] is False  # 79.4%


def test_R16_api_summary_matches_the_schedule(world, clients):
    body = api(clients, world, f"/api/v1/classes/{A}/summary")
    assert body["class"] == A and body["eligible"] is True
    assert body["trainees"] == [expect.summary_line(name) for name, *_ in A_TRAINEES]
    removed = next(line for line in body["trainees"] if line["name"] == REMOVED)
    assert removed["removed"] is True and removed["qualified"] is False


def test_R02_eligible_only_when_approved_or_filed(world, clients):
    assert api(clients, world, f"/api/v1/classes/{B}/summary")["eligible"] is False


def test_R11_api_daily_matches_the_schedule(world, clients):
    lines = {line["class"]: line for line in api(clients, world, "/api/v1/reports/daily?date=2026-12-01")}
    want = expect.class_day(DAY1)
    shape = ("class", "trainees", "checked_in", "photos", "day_ok", "ratio")
    assert {k: lines[A][k] for k in shape} == {"class": A, "trainees": want["trainees"], "checked_in": want["checked_in"],
                                               "photos": want["photos"], "day_ok": want["day_ok"],
                                               "ratio": int(want["day_ok"] / want["trainees"] * 10000) / 10000}
    extras = ("checked_out", "late", "early", "leave")  # R11: the extra fields tell the same day
    assert {k: lines[A][k] for k in extras} == {k: want[k] for k in extras}
    assert lines[A]["homework_posted"] == lines[A]["spot_checks"] == 0 and lines[A]["spot_checks_required"] == 2
    assert lines[B]["checked_in"] == 0 and lines[B]["trainees"] == 3


def test_R11_api_daily_defaults_to_today(world, clients):
    today = api(clients, world, "/api/v1/reports/daily")
    assert today == api(clients, world, "/api/v1/reports/daily?date=2026-12-01")


def stuck_rows(world, conversation_id: str | None = None) -> int:
    """Outbox rows given up on, or due for more than 10 minutes at the admin's NOW and not sent (no
    sender runs in these tests: what the world's jobs queued that day is still there)."""
    with world.factory() as s:
        rows = s.scalars(select(OutboxMessage)).all()
    return sum(1 for r in rows if (conversation_id is None or r.conversation_id == conversation_id)
               and (r.status == "dead" or (r.status == "queued" and r.next_attempt_at < NOW - timedelta(minutes=10))))


def test_R11_overview_percentages_match_the_schedule(world, clients):
    html = clients["dist_k"].get("/").get_data(as_text=True)  # sees A (and C, not running on 12-01)
    want = expect.class_day(DAY1)
    n = want["trainees"]
    assert f"已签到（{want['checked_in']}/{n} 人）" in html
    assert f"{want['checked_in'] / n * 100:.1f}%" in html
    assert f"已交学习照片（{want['photos']}/{n} 人）" in html
    assert f"学习时长达标 R09（{want['day_ok']}/{n} 人）" in html
    flags = re.search(r"<b>(\d+)</b><span><a [^>]*>待审核照片", html)
    assert flags and flags.group(1) == "1"  # the duplicate photo awaits review
    dead = re.search(r"<b>(\d+)</b><span><a [^>]*>发送失败的消息", html)
    assert dead and int(dead.group(1)) == stuck_rows(world, "cid-A")  # only A's group's are dist_k's


def test_R11_overview_for_the_city_adds_up_every_class(world, clients):
    html = clients["city"].get("/").get_data(as_text=True)
    a, b_trainees = expect.class_day(DAY1), 3
    assert f"已签到（{a['checked_in']}/{a['trainees'] + b_trainees} 人）" in html
    assert re.search(rf"<b>{stuck_rows(world)}</b><span><a [^>]*>发送失败的消息", html)


def test_R11_the_overviews_class_table_comes_in_pages_and_the_totals_count_every_class(world, clients, monkeypatch):
    """A city runs hundreds of classes at once: the table shows a page of them, the tiles add up all of them."""
    from admin import reports as overview_page

    monkeypatch.setattr(overview_page, "PAGE_ROWS", 1)
    a, b_trainees = expect.class_day(DAY1), 3
    first, second = (clients["city"].get(f"/?date={DAY1}&page={n}").get_data(as_text=True) for n in (1, 2))
    for html in (first, second):
        assert "当日正在培训的班级（2 个" in html
        assert f"已签到（{a['checked_in']}/{a['trainees'] + b_trainees} 人）" in html
    assert f">{A}</a>" in first and f">{B}</a>" not in first and "下一页" in first and "上一页" not in first
    assert f">{B}</a>" in second and f">{A}</a>" not in second and "上一页" in second and "下一页" not in second
    assert ">%s</a>" % B in clients["city"].get(f"/?date={DAY1}&page=9").get_data(as_text=True)  # the last page
    shown = clients["city"].get("/").get_data(as_text=True).count("，可")  # the classes awaiting the city
    monkeypatch.setattr(overview_page, "TODO_SHOWN", shown - 1)
    waiting = clients["city"].get("/").get_data(as_text=True)
    assert waiting.count("，可") == shown - 1 and "还有 1 个班级待您处理" in waiting
    assert clients["city"].get("/?page=0").status_code == 400
    assert clients["city"].get("/?page=two").status_code == 400


def test_R11_class_page_day_table_matches_the_schedule(world, clients):
    html = clients["admin"].get(f"/classes/{A}").get_data(as_text=True)
    table = html[html.index('id="days"'):]
    for day in (DAY1, DAY2):
        want = expect.class_day(day)
        row = re.search(rf"<td>{day:%m-%d}</td>(.*?)</tr>", table, re.S).group(1)
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[:5] == [str(want[k]) for k in ("checked_in", "checked_out", "late", "early", "photos")]
        assert cells[6] == str(want["minutes"]) and cells[7] == f"{want['day_ok']}/{want['trainees']}"


def test_R09_cumulative_minutes_run_over_the_days(world):
    """The window function's running total equals the sum of each day's minutes of the active roster."""
    with world.factory() as s:
        klass = get_class(s, A)
        days = reports.class_days(s, klass.id, qualification.day_thresholds(timetable_of(s, klass),
                                                                              profile_of(klass)))
    one, two = expect.class_day(DAY1)["minutes"], expect.class_day(DAY2)["minutes"]
    assert (days[DAY1].cumulative_minutes, days[DAY2].cumulative_minutes) == (one, one + two)
    line = qualification.DayLine(DAY2, days[DAY2], Fraction(180) * 2 * 5)
    assert line.cumulative_ratio == Fraction(one + two, 1800)


def test_R09_day_threshold_is_exactly_the_meets_ratio_rule(world):
    """The SQL compares minutes with one whole number; for every minute value it agrees with meets_ratio."""
    with world.factory() as s:
        klass = get_class(s, A)
        profile = profile_of(klass)
        tt = timetable_of(s, klass)
        planned = qualification.planned_day_minutes(tt, DAY1)
        threshold = qualification.day_threshold(tt, DAY1, profile)
    assert planned == 180 and threshold == expect.DAY_THRESHOLD == 144
    for minutes in range(0, 301):
        assert (minutes >= threshold) == qualification.day_ok(minutes, planned, profile.study.min_ratio)


@pytest.mark.parametrize("planned", [Fraction(1000), Fraction(1125, 4), Fraction(2400, 7), Fraction(1, 3)])
@pytest.mark.parametrize("ratio", [Fraction(4, 5), Fraction(9, 10), Fraction(1, 3)])
def test_R09_threshold_and_meets_ratio_agree_on_fractional_plans(planned, ratio):
    threshold = min_count(planned, ratio)
    for minutes in range(0, int(planned) + 3):
        assert (minutes >= threshold) == qualification.day_ok(minutes, planned, ratio)


def test_R16_ratio_histogram_counts_active_trainees(world):
    with world.factory() as s:
        summary = qualification.summary(s, get_class(s, A))
    buckets = qualification.ratio_histogram(summary)
    assert len(buckets) == 11 and sum(b.count for b in buckets) == len(expect.ACTIVE)
    ratios = {name: expect.total_minutes(name) / expect.REQUIRED_MINUTES for name in expect.ACTIVE}
    for i, bucket in enumerate(buckets):
        assert bucket.count == sum(1 for r in ratios.values() if min(int(r * 10), 10) == i)
    assert [b.meets for b in buckets] == [False] * 8 + [True] * 3


def test_R11_attendance_chart_has_a_bar_per_class_day(world, clients):
    html = clients["admin"].get(f"/classes/{A}").get_data(as_text=True)
    svg = html[html.index('id="chart-attendance"'):html.index("</svg>", html.index('id="chart-attendance"'))]
    assert svg.count('<rect class="bar"') == 10  # 12 days, of which 12-05 and 12-06 are rest days (R01)
    assert "12-04 " in svg and "12-05 " not in svg and "12-06 " not in svg and "12-07 " in svg
    assert f"12-01 签到 {expect.class_day(DAY1)['checked_in']}/5 人" in svg
    hist = html[html.index('id="chart-ratio"'):]
    assert hist[:hist.index("</svg>")].count("<rect class=\"bar") == 11


def test_trainee_with_script_name_counts_like_anyone(world, clients):
    body = api(clients, world, f"/api/v1/classes/{A}/days/2026-12-01")
    assert next(line for line in body["trainees"] if line["name"] == XSS) == expect.trainee_day(XSS, DAY1)


def test_R01_R09_a_rest_day_of_the_timetable_is_not_a_class_day_for_the_api(world, clients):
    response = clients["anonymous"].get(f"/api/v1/classes/{A}/days/2026-12-05",
                                        headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.status_code == 404
    assert "2026-12-05 不是班级 BT-2026-001 的培训日" in response.get_json()["error"]
    assert len(api(clients, world, f"/api/v1/classes/{A}/days/2026-12-07")["trainees"]) == len(expect.ACTIVE)
