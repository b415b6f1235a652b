"""R10 and R11 end to end: one class day of teaching through the real SDK and the simulator.

A teacher posts two assignments, 25 of 30 trainees hand in (3 late, 2 with pictures), the teacher
checks 20; a Q&A session takes 6 questions and answers 5; the class teacher records two spot checks.
The test keeps its own account and compares it with the day's report, the JSON API and the admin
overview; the next morning the scheduler's job sends the district the report (each class's signed ledger
head in it) in its supervision group and 1:1 — once, whoever runs it again.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dingtalk_stream.stream
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from admin import create_app
from bot.samples.generate import trainees
from bot.service import BotService
from bot.settings import load
from handlers import accounts, classes, daily_report, roster
from handlers.plans import parse_plan
from scheduler import run_due
from storage import ledger, ledger_keys, ledger_verify
from storage.files import FileStore
from storage.models import Attachment, DailyReportSend, DingTalkIdentity, Group, Photo, Question

from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio
from .test_day import DAY1, DAY2, N, Script, SimClock, picture, plan, roster_csv
from tests.commitment import sign_commitment

TZ = ZoneInfo("Asia/Shanghai")
CODE = "BT-2026-001"


@pytest.fixture
def world(sim, engine, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    clock = SimClock(datetime.combine(DAY1 - timedelta(days=1), datetime.min.time(), TZ) + timedelta(hours=20))
    sim.clock = clock
    rows = trainees(N)
    users = [sim.add_user(row[0], in_org=i % 3 != 0) for i, row in enumerate(rows)]
    teacher, class_teacher, inspector = sim.add_user("张丽华"), sim.add_user("王芳"), sim.add_user("赵督查")
    group = sim.add_group("育婴员1期", members=users, admins=[teacher, class_teacher, inspector])
    supervision = sim.add_group("昆都仑区督查群", members=[inspector])
    with factory() as s:
        klass = classes.create_class(s, parse_plan(plan()), actor="test", source="test", default_policy="baotou-2020")
        roster.import_roster(s, klass, roster_csv(rows), "roster.csv", actor="test", today=klass.start_date)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test", now=clock())
        codes = {role: accounts.issue_bind_code(s, target, role, name=name, actor="cli:admin", now=clock()).code
                 for role, target, name in (("teacher", CODE, "张丽华"), ("class_teacher", CODE, "王芳"),
                                            ("inspector", "昆都仑区", "赵督查"))}
        bound = Group(open_conversation_id=group.open_conversation_id, title=group.title, class_id=klass.id,
                      bound_by="test", bound_at=clock())
        s.add(bound)
        ledger.append(s, "group.bound", actor="test", source="test", subject=bound)
        for person_id, user in enumerate(users, start=1):
            ident = DingTalkIdentity(sender_id=user.sender_id, staff_user_id=user.staff_id, nick=user.name,
                                     person_id=person_id)
            s.add(ident)
            ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        password = accounts.add_user(s, "admin", "admin")
        token = accounts.issue_token(s, "admin")
        s.commit()
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
    script = Script(sim, clock, factory)
    script.say(teacher, f"绑定 {codes['teacher']}")
    script.say(class_teacher, f"绑定 {codes['class_teacher']}")
    script.say(inspector, f"绑定 {codes['inspector']}")
    script.settle()
    yield script, rows, users, (teacher, class_teacher, inspector), group, supervision, (token, password), tmp_path
    service.stop(flush_timeout=5)


def test_R10_R11_a_teaching_day_through_the_sdk_matches_report_api_and_admin(world, factory):
    script, rows, users, (teacher, class_teacher, inspector), group, supervision, (token, password), data_dir = world
    script.at(DAY1 - timedelta(days=1), "20:30")
    script.say(inspector, "绑定督查群 昆都仑区", supervision)
    assert script.last_answer(supervision).startswith("本群已绑定为“昆都仑区”的督查群")

    # --- homework posted; the first spot check ---------------------------------------------------------
    script.at(DAY1, "09:00")
    script.say(teacher, "布置作业 第一章练习：写出三种喂养方式 截止 12:00", group)
    assert script.last_answer(group).startswith("第 1 号作业已布置（张丽华，09:00）")
    script.say(teacher, f"布置作业 第二章预习 截止 {DAY2.isoformat()} 12:00", group)
    script.at(DAY1, "09:40")
    script.sim.send_rich_text(class_teacher, ["抽查 在线28人", picture(7000)], group)
    script.messages += 1
    script.replies += 1

    # --- 25 of 30 hand in (3 late, 2 with pictures) ----------------------------------------------------------
    script.at(DAY1, "10:30")
    on_time = list(range(17))
    for i in on_time:
        script.say(users[i], f"交作业 1 {rows[i][0]}的答案", group)
    for i in (17, 18):  # with pictures, in the same @ message
        script.sim.send_rich_text(users[i], ["交作业 1 见图", picture(5000 + i)], group)
        script.messages += 1
        script.replies += 1
    for i in (19, 20, 21):  # no number: the newest assignment they owe, №2
        script.say(users[i], "交作业 预习笔记", group)
    script.at(DAY1, "12:30")
    late = (22, 23, 24)
    for i in late:
        script.say(users[i], f"交作业 1 {rows[i][0]}补交", group)
    script.settle()
    assert "已过截止时间，记为迟交" in script.last_answer(group)
    handed_in = [*on_time, 17, 18, 19, 20, 21, *late]
    assert len(handed_in) == 25

    # --- Q&A: 6 questions, 5 answered ----------------------------------------------------------------------
    script.at(DAY1, "14:00")
    script.say(teacher, "答疑开始 喂养", group)
    script.settle()  # the session is open before the questions come (messages are handled concurrently)
    askers = [0, 3, 6, 9, 12, 15]
    for n, i in enumerate(askers, start=1):
        script.say(users[i], f"提问 第{n}个问题", group)
    script.settle()
    with factory() as s:  # numbers follow the order the bot handled the messages in
        number_of = dict(s.execute(select(Question.content, Question.number)).all())
    assert sorted(number_of.values()) == [1, 2, 3, 4, 5, 6]
    script.at(DAY1, "14:20")
    for n, i in enumerate(askers[:5], start=1):
        script.say(teacher, f"答 {number_of[f'第{n}个问题']} 回答{n}", group)
        answer = script.last_answer(group)
        mention = f"@{users[i].staff_id} " if users[i].in_org else ""  # outside the organisation: no staffId
        assert answer.startswith(f"{mention}问题 {number_of[f'第{n}个问题']}「第{n}个问题」的回答（张丽华，14:20）")
        assert script.sim.sent(group)[-1].at_user_ids == ((users[i].staff_id,) if users[i].in_org else ())
    script.at(DAY1, "14:50")
    script.say(teacher, "答疑结束", group)
    assert script.last_answer(group).endswith(f"提问 6 个，已回答 5 个。未回答的问题编号：{number_of['第6个问题']}。")

    # --- the second spot check; 20 checked -----------------------------------------------------------------
    script.at(DAY1, "15:10")
    script.say(class_teacher, "抽查 在线29人，全部开摄像头", group)
    assert script.last_answer(group).startswith("已记录今天第 2 次抽查（每天应 2 次")
    script.at(DAY1, "16:00")
    checked = [i for i in handed_in if i not in (19, 20, 21)][:20]
    for n, i in enumerate(checked):
        script.say(teacher, f"批改 1 {rows[i][0]} 条理清楚 {80 + n % 20}", group)
    script.settle()
    replies = {x.text.split("，")[0] for x in script.sim.sent(group)[-20:]}  # handled concurrently: any order
    assert replies == {f"已批改第 1 号作业：{rows[i][0]}" for i in checked}
    script.at(DAY1, "17:30")
    script.say(users[25], "我的", group)
    assert "待交：第 1 号" in script.last_answer(group) and "待交：第 2 号" in script.last_answer(group)

    # --- the test's own numbers against the report, the API and the admin ------------------------------------
    mine = {"homework_posted": 2, "homework_submitted": 25, "homework_late": 3, "homework_checked": 20,
            "questions": 6, "answered": 5, "qa_sessions": 1, "spot_checks": 2, "trainees": N}
    with factory() as s:
        report = daily_report.build(s, DAY1, tz=TZ)
        (district,) = report.districts
        (line,) = district.classes
        assert {k: getattr(line.line, k) for k in mine} == mine
        per_trainee = {t.name: t for t in line.trainees}
        assert sum(t.homework_submitted for t in line.trainees) == 25
        assert [t.name for t in line.trainees if t.homework_late] == [rows[i][0] for i in late]
        assert sum(t.homework_checked for t in line.trainees) == 20
        assert per_trainee[rows[0][0]].questions == 1 and per_trainee[rows[1][0]].questions == 0
        pictures = s.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert sorted((a.subject_table, a.sha256 is not None) for a in pictures) == [
            ("spot_checks", True), ("submissions", True), ("submissions", True)]
        assert s.scalar(select(func.count()).select_from(Photo)) == 0  # homework pictures are not daily photos
        assert ledger_verify.verify(s).ok
    app = create_app({"SECRET_KEY": "e2e-teaching-day-secret-key-of-32-bytes", "SESSION_FACTORY": factory, "NOW": lambda: datetime.combine(
        DAY1, datetime.min.time(), TZ) + timedelta(hours=18), "DATA_DIR": data_dir, "TIMEZONE": TZ})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    (day,) = client.get(f"/api/v1/reports/daily?date={DAY1.isoformat()}", headers=auth).get_json()
    assert {k: day[k] for k in mine} == mine
    homework = client.get(f"/api/v1/classes/{CODE}/homework", headers=auth).get_json()
    assert [(h["id"], h["submitted"], h["late"], h["checked"]) for h in homework] == [(1, 22, 3, 20), (2, 3, 0, 0)]
    qa = client.get(f"/api/v1/classes/{CODE}/qa", headers=auth).get_json()
    assert [(q["id"], q["questions"], q["answered"]) for q in qa] == [(1, 6, 5)]
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    assert client.post("/login", data={"name": "admin", "password": password, "csrf_token": csrf}).status_code == 302
    overview = client.get(f"/?date={DAY1.isoformat()}").get_data(as_text=True)
    row = overview[overview.index(f">{CODE}</a>"):]
    row = row[:row.index("</tr>")]
    assert re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)[-4:] == ["25（3）", "20", "1：6/5", "2/2"]

    # --- the next morning: the scheduler sends the district its report, once --------------------------------
    files, signer = FileStore(data_dir / "files"), ledger_keys.Signer(Ed25519PrivateKey.generate())
    script.at(DAY2, "07:55")
    before = len(script.sim.sent())
    run_due(factory, script.clock().astimezone(TZ), "test", files=files, signer=signer)  # report.morning is 08:00
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(DailyReportSend)) == 0
    script.at(DAY2, "08:00")
    run_due(factory, script.clock().astimezone(TZ), "test", files=files, signer=signer)
    with factory() as s:
        assert [r.classes for r in s.scalars(select(DailyReportSend))] == [1]
    script.settle()  # (the same runs post the class's check-in reminder, perhaps a roll call: not counted here)

    def report_messages():
        return [x for x in script.sim.sent()[before:] if x.msgtype in ("sampleMarkdown", "sampleFile")]

    script.sim.wait_until(lambda: len(report_messages()) >= 4, 30, "the report")  # markdown and file, group and 1:1
    sent = report_messages()
    assert sorted((x.channel, x.msgtype) for x in sent) == [("group", "sampleFile"), ("group", "sampleMarkdown"),
                                                           ("oto", "sampleFile"), ("oto", "sampleMarkdown")]
    summary = next(x for x in sent if x.msgtype == "sampleMarkdown" and x.channel == "group")
    assert summary.conversation_id == supervision.conversation_id
    assert "作业 布置 2、交 25、批改 20；答疑 1 场，提问 6、回答 5；抽查 2/2" in summary.text
    assert "台账链头（当日结束时）" in summary.text and f"已签名（密钥 {signer.key_id}" in summary.text
    file = next(x for x in sent if x.msgtype == "sampleFile" and x.channel == "oto")
    assert file.user is inspector
    kind, name, data = script.sim.media(file.body["mediaId"])
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["昆都仑区", CODE] and name == f"日报-昆都仑区-{DAY1.isoformat()}.xlsx"
    run_due(factory, script.clock().astimezone(TZ) + timedelta(minutes=5), "test", files=files, signer=signer)
    run_due(factory, script.clock().astimezone(TZ), "test:second", files=files, signer=signer)  # a second scheduler
    with factory() as s:
        again = daily_report.send_reports(s, DAY1, now=script.clock(), files=files,
                                          robot_code=script.sim.robot_code, tz=TZ)  # report daily --send that day
        s.commit()
        assert again.sent == [] and again.already == ["昆都仑区"]
        assert s.scalar(select(func.count()).select_from(DailyReportSend)) == 1
    script.settle()
    assert len(report_messages()) == 4  # the report sent once
    assert len(script.sim.sent()[:before]) == script.replies  # and every chat message answered once
