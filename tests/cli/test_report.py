"""R11: `dingclass report daily` writes the day's workbook; a test recomputes every number from raw rows."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from handlers import hours, qualification
from handlers.classes import profile_of
from handlers.timetable import timetable_of
from storage import ledger
from storage.models import (
    Answer,
    Assignment,
    DailyReportSend,
    District,
    Enrollment,
    Klass,
    LeaveRequest,
    OutboxMessage,
    Person,
    Photo,
    Punch,
    QaSession,
    Question,
    SpotCheck,
    StudyMinutes,
    Submission,
    SubmissionCheck,
    SupervisionGroup,
)
from tests.handlers.chat import Chat, add_staff, at, bind_group, bind_person, create_class, picture, roster_of

DAY = "2026-12-01"
CLASSES = (("BT-A", "昆都仑区", 6), ("BT-B", "昆都仑区", 5), ("BT-C", "昆都仑区", 4), ("BT-X", "青山区", 3))


def _minutes_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "日期", "直播时长", "回看时长"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.fixture
def world(factory, tmp_path):
    """Four classes (three in 昆都仑区) living one class day with random but seeded behaviour."""
    rng = random.Random(11)
    with factory() as s:
        for n, (code, district, size) in enumerate(CLASSES):
            klass = create_class(s, code=code, district=district, size=size, seed=100 + n,
                                 institution=f"{district}职业培训学校")
            bind_group(s, klass, f"cid-{code}")
            for i, person in enumerate(roster_of(s, klass), start=1):
                bind_person(s, person, f"{code}-u{i}")
            add_staff(s, f"{code}-teacher", "teacher", klass, name="张丽华")
            add_staff(s, f"{code}-ct", "class_teacher", klass, name="王芳")
        s.commit()
    chat = Chat(factory, tmp_path)
    seed = 0
    for code, _, size in CLASSES:
        group, teacher, ct = f"cid-{code}", f"{code}-teacher", f"{code}-ct"
        users = [f"{code}-u{i}" for i in range(1, size + 1)]
        chat.say("请假 孩子生病", when=at("07:00"), sender=users[-1], group=group)
        chat.say("准假 " + str(_last_leave(factory)), when=at("07:10"), sender=ct, group=group)
        for u in users[:-1]:
            if rng.random() < 0.85:
                chat.say("签到", when=at(rng.choice(["08:10", "08:25", "08:40"])), sender=u, group=group)
            if rng.random() < 0.7:
                chat.say("签退", when=at("11:35"), sender=u, group=group)
        chat.say("布置作业 练习一 截止 12:00", when=at("09:00"), sender=teacher, group=group)
        for u in users:
            if rng.random() < 0.8:
                chat.say("交作业 答案", when=at(rng.choice(["10:00", "12:30"])), sender=u, group=group)
        chat.say("答疑开始", when=at("14:10"), sender=teacher, group=group)
        for u in users[: rng.randrange(1, size)]:
            chat.say("提问 这一步为什么？", when=at("14:20"), sender=u, group=group)
        chat.say("答 1 因为要先消元", when=at("14:30"), sender=teacher, group=group)
        chat.say("答疑结束", when=at("14:50"), sender=teacher, group=group)
        for _ in range(rng.randrange(0, 3)):
            chat.say("抽查 在线情况良好", when=at("15:00"), sender=ct, group=group)
        for u in users[:2]:
            seed += 1
            chat.photo(picture(seed), when=at("09:30"), sender=u, group=group)
        with factory() as s:
            klass = s.scalar(select(Klass).where(Klass.code == code))
            names = [p.name for p in roster_of(s, klass)]
            teacher_name = names[0]
            rows = [(name, DAY, rng.randrange(60, 200), rng.randrange(0, 40)) for name in names]
            hours.import_hours(s, klass, _minutes_csv(rows), f"{code}.csv", actor="test")
            s.commit()
        chat.say(f"批改 1 {teacher_name} 很好 90", when=at("16:00"), sender=teacher, group=group)
    # a photo duplicated across classes: flagged for review
    chat.photo(picture(1), when=at("10:00"), sender="BT-B-u3", group="cid-BT-B")
    return factory


def _last_leave(factory) -> int:
    with factory() as s:
        return s.scalar(select(LeaveRequest.id).order_by(LeaveRequest.id.desc()).limit(1))


def recompute(factory, code: str, day: date, threshold: int) -> tuple[dict, list[list]]:
    """The class row and trainee rows, counted in Python from the raw records."""
    with factory() as s:
        klass = s.scalar(select(Klass).where(Klass.code == code))
        roster = s.execute(select(Enrollment.id, Person.name).join(Person, Person.id == Enrollment.person_id)
                           .where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False))
                           .order_by(Enrollment.id)).all()
        ids = {eid for eid, _ in roster}
        punches = [p for p in s.scalars(select(Punch).where(Punch.day == day)) if p.enrollment_id in ids and p.counts]
        photos = [p for p in s.scalars(select(Photo).where(Photo.day == day)) if p.enrollment_id in ids]
        leave = {r.enrollment_id: r.status for r in s.scalars(select(LeaveRequest).where(LeaveRequest.day == day))}
        minutes = defaultdict(int)
        for m in s.scalars(select(StudyMinutes).where(StudyMinutes.day == day)):
            minutes[m.enrollment_id] = max(minutes[m.enrollment_id], m.live_minutes + m.replay_minutes)
        subs = [x for x in s.scalars(select(Submission).where(Submission.day == day)) if x.enrollment_id in ids]
        sub_of = {x.id: x.enrollment_id for x in s.scalars(select(Submission))}
        checks = {(sub_of[c.submission_id], c.submission_id) for c in s.scalars(select(SubmissionCheck))
                  if c.day == day and sub_of[c.submission_id] in ids}
        questions = [q for q in s.scalars(select(Question).where(Question.class_id == klass.id)) if q.day == day]
        answered = {a.question_id for a in s.scalars(select(Answer)) if a.day == day} & {q.id for q in questions}
        posted = [a for a in s.scalars(select(Assignment).where(Assignment.class_id == klass.id)) if a.day == day]
        qa = [q for q in s.scalars(select(QaSession).where(QaSession.class_id == klass.id)) if q.day == day]
        spot = [c for c in s.scalars(select(SpotCheck).where(SpotCheck.class_id == klass.id)) if c.day == day]
    trainees = []
    for n, (eid, name) in enumerate(roster, start=1):
        mine = [p for p in punches if p.enrollment_id == eid]
        trainees.append([
            n, name, sum(p.kind == "in" for p in mine), sum(p.kind == "out" for p in mine), sum(p.late for p in mine),
            sum(p.early for p in mine), "是" if any(p.counted for p in photos if p.enrollment_id == eid) else "否",
            sum(p.status in ("duplicate", "pending") for p in photos if p.enrollment_id == eid),
            {"approved": "已批", "pending": "待批", "rejected": "驳回"}.get(leave.get(eid), None),
            minutes[eid], "是" if minutes[eid] >= threshold else "否",
            sum(x.enrollment_id == eid for x in subs), sum(x.enrollment_id == eid and x.late for x in subs),
            sum(e == eid for e, _ in checks), sum(q.enrollment_id == eid for q in questions)])
    day_ok = sum(t[10] == "是" for t in trainees)
    row = {"班级编号": code, "学员": len(roster), "签到": len({p.enrollment_id for p in punches if p.kind == "in"}),
           "签退": len({p.enrollment_id for p in punches if p.kind == "out"}),
           "迟到": sum(p.late for p in punches), "早退": sum(p.early for p in punches),
           "照片": len({p.enrollment_id for p in photos if p.counted}),
           "待审照片": sum(p.status in ("duplicate", "pending") for p in photos),
           "请假": sum(1 for eid in ids if eid in leave), "时长达标": day_ok, "未达标": len(roster) - day_ok,
           "布置作业": len(posted), "交作业": len(subs), "迟交": sum(x.late for x in subs), "批改": len(checks),
           "提问": sum(1 for q in questions if q.enrollment_id in ids), "回答": len(answered), "答疑场次": len(qa),
           "抽查（实/应）": f"{len(spot)}/2"}
    return row, trainees


def _table(ws, first_header: str) -> tuple[list[str], list[list]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
    header = [h for h in rows[top] if h is not None]
    body = [r[:len(header)] for r in rows[top + 1:] if r[0] not in (None, "合计") and not str(r[0]).startswith(("签到", "台账"))]
    return header, body


def test_R11_daily_report_for_a_district_matches_numbers_recomputed_from_raw_records(world, cli, tmp_path):
    out = tmp_path / "report.xlsx"
    result = cli("report", "daily", "--date", DAY, "--district", "昆都仑区", "--out", str(out))
    assert "旗县区 1 个，培训班 3 个，学员 15 人" in result.output
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["昆都仑区", "BT-A", "BT-B", "BT-C"]  # 青山区's class is not in it
    header, body = _table(book["昆都仑区"], "班级编号")
    with world() as s:
        thresholds = {k.code: qualification.day_threshold(timetable_of(s, k), date.fromisoformat(DAY), profile_of(k))
                      for k in s.scalars(select(Klass))}
    for line in body:
        got = dict(zip(header, line))
        expected, trainees = recompute(world, got["班级编号"], date.fromisoformat(DAY), thresholds[got["班级编号"]])
        assert {k: got[k] for k in expected} == expected
        theader, tbody = _table(book[got["班级编号"]], "序号")
        assert theader[:2] == ["序号", "姓名"]
        assert tbody == trainees
    assert [line[0] for line in body] == ["BT-A", "BT-B", "BT-C"]
    # the activity really varies: the test would notice a column stuck at zero
    columns = Counter()
    for line in body:
        for h, v in zip(header, line):
            columns[h] += v if isinstance(v, int) else 0
    assert all(columns[h] > 0 for h in ("签到", "签退", "迟到", "照片", "待审照片", "请假", "时长达标", "交作业", "迟交",
                                        "批改", "提问", "回答", "答疑场次"))


def test_R11_report_refuses_an_unknown_district_and_a_bad_date_without_writing(world, cli, tmp_path):
    out = tmp_path / "x.xlsx"
    assert "没有名为“火星区”的旗县区" in cli("report", "daily", "--district", "火星区", "--out", str(out), ok=False).output
    assert "没有看懂" in cli("report", "daily", "--date", "昨儿", "--out", str(out), ok=False).output
    assert not out.exists()


def test_R11_whole_city_report_has_a_sheet_per_district_then_per_class(world, cli, tmp_path):
    out = tmp_path / "city.xlsx"
    cli("report", "daily", "--date", DAY, "--out", str(out))
    assert load_workbook(out, read_only=True).sheetnames == ["昆都仑区", "青山区", "BT-A", "BT-B", "BT-C", "BT-X"]
    with world() as s:
        assert {d.name for d in s.scalars(select(District))} == {"昆都仑区", "青山区"}


def test_R11_report_send_queues_each_district_once(world, cli, tmp_path):
    with world() as s:
        district = s.scalar(select(District).where(District.name == "昆都仑区"))
        group = SupervisionGroup(district_id=district.id, open_conversation_id="cid-sup", bound_by="test",
                                 bound_at=datetime.now(timezone.utc))
        s.add(group)
        ledger.append(s, "supervision_group.bound", actor="test", source="test", subject=group)
        s.commit()
    out = cli("report", "daily", "--date", DAY, "--send").output
    assert "1 个旗县区已排入发送" in out and "未发送的旗县区" in out and "青山区" in out
    again = cli("report", "daily", "--date", DAY, "--send").output
    assert "0 个旗县区已排入发送" in again and "1 个此前已发送" in again
    with world() as s:
        assert s.scalar(select(func.count()).select_from(DailyReportSend)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.conversation_id == "cid-sup", OutboxMessage.dedupe_key.like("report:%"))) == 2
