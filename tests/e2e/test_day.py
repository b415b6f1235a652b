"""A trainee's day in the chat, end to end: 30 trainees, two class days, the real SDK and the simulator.

The simulator's clock is set to each moment of the script (binding before class, check-ins at 08:20,
photos at 09:00, …); the bot's outbox sender runs on that time plus real time sped up 60×, so the
per-group budget (20 a minute) passes in a second. The test keeps its own account of what every
trainee did and compares it with what the product stored (R06, R07, R08, R09).
"""

from __future__ import annotations

import csv
import io
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

import dingtalk_stream.stream
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from bot.openapi import OpenApi
from bot.samples.generate import trainees
from bot.service import BotService, pull_live_minutes
from bot.settings import load
from handlers import accounts, classes, hours, qualification, roster
from handlers.classes import profile_of
from handlers.dates import day_text
from handlers.timetable import timetable_of
from handlers.plans import parse_plan
from storage import ledger_verify, reports
from storage.models import Group, InboundMessage, LeaveRequest, OutboxMessage, Photo, StudyMinutes

from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio
from tests.commitment import sign_commitment

TZ = ZoneInfo("Asia/Shanghai")
PLAN = """
code = "BT-2026-001"
name = "育婴员线上培训 2026 第1期"
occupation = "育婴员"
institution = "包头市鹿城职业培训学校"
district = "昆都仑区"
mode = "live"
start_date = {start}
end_date = {end}
total_hours = 100
online_hours = 40
policy = "baotou-2020"
platform = {{ name = "钉钉直播", url = "https://www.dingtalk.com" }}
teachers = ["张丽华"]
class_teacher = "王芳"
live_ids = ["{live_day}/LIVE-A", "LIVE-B"]

[[sessions]]
name = "上午"
start = "08:30"
end = "11:30"

[[sessions]]
name = "下午"
start = "14:00"
end = "17:00"
"""
# A month from now, so the simulated days are always ahead of the real clock (the outbox stamps its rows
# with real time and the sender, running on simulated time, must find them due).
DAY1 = datetime.now(TZ).date() + timedelta(days=30)
DAY2 = DAY1 + timedelta(days=1)
N = 30


def plan(start: date = DAY1) -> str:
    return PLAN.format(start=start.isoformat(), end=(start + timedelta(days=11)).isoformat(),
                       live_day=(start + timedelta(days=2)).isoformat())


def roster_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "性别", "身份证号", "手机号", "身份类别"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def picture(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(640), rng.randrange(480)
        box = [x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)]
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def near_copy(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    image.resize((image.width * 3 // 4, image.height * 3 // 4)).save(out, "JPEG", quality=60)
    return out.getvalue()


class SimClock:
    """The simulated "now": set by the script; the sender's clock runs on from it 60× faster than real time."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self.set(start)

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now, self._set_at = when.astimezone(timezone.utc), time.monotonic()

    def __call__(self) -> datetime:
        return self._now

    def sender(self) -> datetime:
        with self._lock:
            return self._now + timedelta(seconds=(time.monotonic() - self._set_at) * 60)


@dataclass
class Expected:
    """The test's own account of one trainee's day."""

    checkins: int = 0
    checkouts: int = 0
    late: int = 0
    early: int = 0
    photo: bool = False
    leave: str = "none"
    minutes: int = 0


@dataclass
class Script:
    sim: object
    clock: SimClock
    factory: object
    replies: int = 0  # how many answers the bot owes so far
    duplicates: int = 0  # messages DingTalk delivered twice (each ACKed twice)
    days: dict = field(default_factory=lambda: {DAY1: [Expected() for _ in range(N)],
                                                 DAY2: [Expected() for _ in range(N)]})
    messages: int = 0

    def at(self, day: date, hhmm: str) -> None:
        self.settle()
        hour, minute = map(int, hhmm.split(":"))
        self.clock.set(datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ))

    def say(self, user, text: str, group=None, *, duplicate: bool = False, answers: int = 1) -> None:
        self.sim.say(user, text, group, duplicate=duplicate)
        self.messages += 1
        self.replies += answers

    def picture(self, user, data: bytes, group=None, *, words: str | None = None) -> None:
        if words is None:
            self.sim.send_picture(user, data, group)
        else:
            self.sim.send_rich_text(user, [words, data], group)
        self.messages += 1
        self.replies += 1  # the outcome, once the picture is downloaded and checked

    def settle(self, timeout: float = 60) -> None:
        """Every message handled (ACKed), every answer it owes sent, and nothing in flight in the
        outbox (a clock moved on hours while a download is in flight would end its lease)."""
        self.sim.wait_for_acks(self.messages + self.duplicates, timeout=timeout)
        self.sim.wait_until(lambda: len(self.sim.sent()) >= self.replies, timeout, f"{self.replies} answers")
        deadline = time.monotonic() + timeout
        while self._busy():
            if time.monotonic() > deadline:  # moving the clock on now could end a send's lease: sent twice
                raise TimeoutError(f"the outbox still has replies sending or due after {timeout} s")
            time.sleep(0.02)

    def _busy(self) -> int:
        now = self.clock.sender()
        with self.factory() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage).where(
                (OutboxMessage.status == "sending") | ((OutboxMessage.status == "queued")
                                                       & (OutboxMessage.next_attempt_at <= now))))

    def last_answer(self, conversation) -> str:
        self.settle()
        return self.sim.sent(conversation)[-1].text


@pytest.fixture
def world(sim, engine, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    clock = SimClock(datetime.combine(DAY1 - timedelta(days=1), datetime.min.time(), TZ) + timedelta(hours=20))
    sim.clock = clock
    rows = trainees(N)
    with factory() as s:
        klass = classes.create_class(s, parse_plan(plan()), actor="test", source="test", default_policy="baotou-2020")
        roster.import_roster(s, klass, roster_csv(rows), "roster.csv", actor="test", today=klass.start_date)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test", now=clock())
        code = accounts.issue_bind_code(s, "BT-2026-001", "class_teacher", name="王芳", actor="cli:admin",
                                        now=clock()).code
        s.commit()
    users = [sim.add_user(row[0], in_org=i % 3 != 0) for i, row in enumerate(rows)]
    teacher = sim.add_user("王芳")
    group = sim.add_group("育婴员1期", members=users, admins=[teacher])
    settings = load({
        "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
        "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    })
    # Every reply alone (no digests: this script reads the answers one by one). The lease on the
    # 60×-fast clock is 5 minutes of real time: no sender dies here, and a send or download slowed by
    # a loaded machine past a shorter lease was sent again (three replies too many in a CI run).
    service = BotService(settings, factory, sender_options={"clock": clock.sender, "digest": False,
                                                            "lease": timedelta(hours=5)}).start()
    sim.wait_connected(1)
    yield Script(sim, clock, factory), rows, users, teacher, group, code, service
    service.stop(flush_timeout=5)


def test_two_class_days_of_30_trainees_through_the_sdk_and_the_simulator(world, factory):
    script, rows, users, teacher, group, code, service = world
    day1, day2 = script.days[DAY1], script.days[DAY2]

    # --- the evening before: staff and trainees bind, leave is asked and decided -----------------
    script.at(DAY1 - timedelta(days=1), "20:00")
    script.say(teacher, f"绑定 {code}")
    assert script.last_answer(teacher).startswith("绑定成功：王芳，班级 BT-2026-001")
    script.say(teacher, "绑定班级 BT-2026-001", group)
    assert script.last_answer(group).startswith("本群已绑定班级 BT-2026-001")
    script.say(users[0], f"绑定 {rows[0][0]} {rows[0][2][-6:]}", group)  # ID digits in the group: refused
    refusal = script.last_answer(group)
    assert "单聊" in refusal and rows[0][2][-6:] not in refusal
    script.say(users[1], f"绑定 {rows[1][0]} 000000")  # a wrong suffix first
    assert "没有找到" in script.last_answer(users[1])
    for i, user in enumerate(users):
        script.say(user, f"绑定 {rows[i][0]} {rows[i][2][-6:]}")
    script.settle()
    for i, user in enumerate(users):
        assert script.sim.sent(user)[-1].text.startswith(f"绑定成功：{rows[i][0]}"), i
    script.say(users[29], f"请假 {DAY1.month}月{DAY1.day}日 孩子生病", group)  # for day 1, the evening before
    script.settle()
    script.say(users[28], f"请假 {DAY2.isoformat()} 出差", group)
    script.settle()
    assert script.sim.sent(group)[-1].text.startswith(f"已记录请假：{day_text(DAY2)}，原因：出差。编号 2")
    script.say(teacher, "准假 1", group)
    script.say(teacher, "准假 2", answers=2)  # in the 1:1 chat: the group is told as well
    script.settle()
    assert "请假已批准" in script.sim.sent(group)[-1].text
    day1[29].leave = day2[28].leave = "approved"

    # --- day 1 morning ------------------------------------------------------------------------------
    script.at(DAY1, "08:20")
    for i in [*range(25), 28]:
        script.say(users[i], "签到", group, duplicate=i == 0)
        day1[i].checkins += 1
    script.duplicates += 1
    script.at(DAY1, "08:40")
    for i in (25, 26, 27):
        script.say(users[i], "签到", group)
        day1[i].checkins += 1
        day1[i].late += 1
    script.say(users[29], "请假 今天 还是不舒服", group)  # after the first session started
    script.say(users[0], "签到", group)  # a repeat
    script.settle()
    answers = [s.text for s in script.sim.sent(group)[-5:]]
    assert "今天上午已签到（08:20），不重复记录。" in answers
    assert any(a.startswith("签到成功 08:40（上午），迟到（08:30 开始）") for a in answers)
    assert any("请假须在 08:30 前提出" in a for a in answers)

    script.at(DAY1, "09:00")
    photos: dict[int, bytes] = {}
    for i in range(29):
        photos[i] = picture(1000 + i)
        if i in (26, 27):
            continue  # they send copies below
        if i == 5:
            script.picture(users[i], photos[i], group, words="照片")
        else:
            script.picture(users[i], photos[i], group if i % 2 == 0 else None)
        day1[i].photo = True
    script.settle()
    script.at(DAY1, "09:10")
    script.picture(users[26], photos[3], group)  # the same bytes as trainee 3's
    script.picture(users[27], near_copy(photos[4]))  # trainee 4's, resized and re-encoded
    script.picture(users[2], picture(2000), group)  # a second photo the same day: kept, not counted
    script.settle()
    outcomes = [s.text for s in script.sim.sent(group)[-2:]] + [script.sim.sent(users[27])[-1].text]
    assert sum("人工审核" in text for text in outcomes) == 2
    assert any("每天只计1张" in text for text in outcomes)

    script.at(DAY1, "11:20")
    script.say(users[27], "签退", group)
    day1[27].checkouts += 1
    day1[27].early += 1
    script.at(DAY1, "11:35")
    for i in [*range(27), 28]:
        script.say(users[i], "签退", group)
        day1[i].checkouts += 1

    # --- day 1 afternoon ----------------------------------------------------------------------------
    script.at(DAY1, "13:50")
    for i in range(28):
        script.say(users[i], "签到", group)
        day1[i].checkins += 1
    script.at(DAY1, "17:05")
    for i in range(28):
        script.say(users[i], "签退", group)
        day1[i].checkouts += 1
    script.at(DAY1, "17:10")
    script.say(teacher, "统计", group)
    stats = script.last_answer(group).splitlines()
    assert stats[1] == "上午：签到 29 人（迟到 3），签退 29 人（早退 1）"
    assert stats[2] == "下午：签到 28 人（迟到 0），签退 28 人（早退 0）"
    assert stats[3] == "学习照片：27 人已交，2 张待审核"
    assert stats[4] == "请假：1 人（已批准 1，待批准 0）"
    assert f"下午未签到（1）：{rows[28][0]}" in stats

    # --- day 2 ----------------------------------------------------------------------------------------
    present = [i for i in range(N) if i != 28]
    script.at(DAY2, "08:25")
    for i in present:
        script.say(users[i], "签到", group)
        day2[i].checkins += 1
    script.at(DAY2, "09:00")
    for i in present:
        if i == 10:
            script.picture(users[i], photos[10], group)  # yesterday's photo again: flagged
            continue
        script.picture(users[i], picture(3000 + i), group if i % 2 else None)
        day2[i].photo = True
    script.at(DAY2, "11:35")
    for i in present:
        script.say(users[i], "签退", group)
        day2[i].checkouts += 1
    script.at(DAY2, "13:45")
    for i in present[:20]:
        script.say(users[i], "签到", group)
        day2[i].checkins += 1
    script.at(DAY2, "17:00")
    for i in present[:20]:
        script.say(users[i], "签退", group)
        day2[i].checkouts += 1
    script.settle()

    # --- the viewing statistics, and a later export with the make-up replay ----------------------------
    def export(day_minutes: dict[tuple[int, date], tuple[int, int]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["身份证号", "日期", "场次", "直播时长（分钟）", "回看时长（分钟）"])
        for (i, day), (live, replay) in sorted(day_minutes.items()):
            writer.writerow([rows[i][2], day.isoformat(), f"直播-{day:%m%d}", live, replay])
        return out.getvalue().encode("utf-8")

    first = {(i, DAY1): (100 + i, i % 4 * 5) for i in range(N) if i != 29}
    first.update({(i, DAY2): (150 - i * 2, 0) for i in range(N) if i != 28})
    later = {(29, DAY1): (0, 125), (28, DAY2): (0, 120), (3, DAY1): (10, 5)}  # make-up replay; a smaller re-export
    with factory() as s:
        klass = classes.get_class(s, "BT-2026-001")
        hours.import_hours(s, klass, export(first), "day1-2.csv", actor="机构")
        hours.import_hours(s, klass, export(later), "makeup.csv", actor="机构")
        s.commit()
    for (i, day), (live, replay) in [*first.items(), *later.items()]:
        expected = script.days[day][i]
        expected.minutes = max(expected.minutes, live + replay)  # one 场次 a day: the same lesson counts once

    # --- what the product stored, against the test's own account ---------------------------------------
    planned = 40 * 45 / 12  # 150 minutes a class day; a day is ok at 80%
    with factory() as s:
        klass = classes.get_class(s, "BT-2026-001")
        threshold = qualification.day_threshold(timetable_of(s, klass), DAY1, profile_of(klass))
        assert threshold == 120  # a plan without a timetable: every day from start to end, 150 minutes each
        for day in (DAY1, DAY2):
            stored = reports.trainee_days(s, klass.id, day, threshold)
            assert [line.name for line in stored] == [row[0] for row in rows]
            for i, line in enumerate(stored):
                mine = script.days[day][i]
                assert (line.checkins, line.checkouts, line.late, line.early, line.photo, line.leave,
                        line.study_minutes, line.day_ok) == (
                    mine.checkins, mine.checkouts, mine.late, mine.early, mine.photo, mine.leave, mine.minutes,
                    mine.minutes >= 0.8 * planned), (day, i)
        flagged = s.execute(select(Photo.enrollment_id, Photo.duplicate_of_id).where(Photo.status == "duplicate")
                            .order_by(Photo.id)).all()
        first_of = {p.enrollment_id: p.id for p in s.scalars(select(Photo).where(Photo.day == DAY1).order_by(Photo.id))}
        # rows are numbered in the order downloads finish, which concurrent units may change: compare as sets
        assert set(flagged) == {(27, first_of[4]), (28, first_of[5]), (11, first_of[11])} and len(flagged) == 3
        assert s.scalar(select(func.count()).select_from(Photo).where(Photo.status == "extra")) == 1
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == script.messages
        assert [r.status for r in s.scalars(select(LeaveRequest).order_by(LeaveRequest.id))] == ["approved", "approved"]
        assert s.scalar(select(func.count()).select_from(Group)) == 1
        assert ledger_verify.verify(s).ok

    script.at(DAY2, "20:00")
    script.say(users[29], "我的")
    mine = script.last_answer(users[29]).splitlines()
    total = script.days[DAY1][29].minutes + script.days[DAY2][29].minutes
    assert mine[1] == "上午：签到 08:25，签退 11:35"
    assert mine[-1] == (f"累计：已学 {qualification.truncate(Fraction(total, 45), 1)} 课时，应学 40 课时，"
                        f"完成 {qualification.percent_text(total, 1800)}（合格需达到 80%）")
    assert len(script.sim.sent()) == script.replies  # every message answered once, nothing twice


def test_live_statistics_are_pulled_page_by_page_into_study_minutes(sim, engine, factory):
    with factory() as s:
        klass = classes.create_class(s, parse_plan(plan()), actor="test", source="test", default_policy="baotou-2020")
        rows = trainees(N)
        roster.import_roster(s, klass, roster_csv(rows), "roster.csv", actor="test", today=klass.start_date)
        s.commit()
    viewers = [sim.add_user(rows[i][0], in_org=i % 2 == 0) for i in range(7)]
    sim.add_live({u: (60_000 * (40 + i), 60_000 * i) for i, u in enumerate(viewers)}, live_id="LIVE-A")
    sim.clock = lambda: datetime.combine(DAY1 + timedelta(days=3), datetime.min.time(), TZ) + timedelta(hours=9)
    sim.add_live({viewers[0]: (0, 30 * 60_000)}, live_id="LIVE-B")  # undated in the plan: its first viewing
    with OpenApi(sim.endpoint, sim.client_id, sim.client_secret) as api:
        paged = api.watch_users("LIVE-A", "anchor-union", page_size=3)
        assert [v.name for v in paged] == [u.name for u in viewers if u.in_org] + [u.name for u in viewers if not u.in_org]
        assert len(sim.requests_to("/v1.0/live/lives/watchUsers")) == 3
        pulled = pull_live_minutes(factory, api, "BT-2026-001", "anchor-union", actor="scheduler", tz=TZ)
    assert (pulled.written, pulled.unmatched, pulled.undated) == (8, (), ())
    with factory() as s:
        got = sorted((r.enrollment_id, r.day, r.live_minutes, r.replay_minutes, r.source)
                     for r in s.scalars(select(StudyMinutes)))
        assert ledger_verify.verify(s).ok
    live_a, live_b = DAY1 + timedelta(days=2), DAY1 + timedelta(days=3)
    assert got[0] == (1, live_a, 40, 0, "live:watchUsers")
    assert (1, live_b, 0, 30, "live:watchUsers") in got
    assert got[-1] == (7, live_a, 46, 6, "live:watchUsers")
