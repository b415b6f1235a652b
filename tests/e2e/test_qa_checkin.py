"""R06 end to end for a recorded class: the teacher's 答疑开始/答疑结束 make the Q&A the day's
check-in/out session; trainees' 签到/签退 through the real SDK count as that session's attendance."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import dingtalk_stream.stream
import pytest
from sqlalchemy import select

from admin import create_app
from bot.service import BotService
from bot.settings import load
from handlers import accounts, classes, daily_report, roster
from handlers.plans import parse_plan
from storage import ledger, ledger_verify
from storage.models import DingTalkIdentity, Group, Punch

from tests.commitment import sign_commitment
from tests.handlers.chat import add_staff, people, plan_text, roster_csv

from .classroom import CLASS_DAY, TZ, class_time
from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio

CODE = "BT-REC-1"


class Clock:
    def __init__(self) -> None:
        self.now = class_time("13:00")

    def set(self, hhmm: str) -> None:
        self.now = class_time(hhmm)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(sim, engine, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    clock = Clock()
    sim.clock = clock
    rows = people(6)
    users = [sim.add_user(row[0]) for row in rows]
    teacher = sim.add_user("张丽华")
    group = sim.add_group("录播班", members=users, admins=[teacher])
    with factory() as s:
        plan = plan_text(CODE, mode="recorded", start=CLASS_DAY.isoformat(),
                         end=(CLASS_DAY + timedelta(days=9)).isoformat())
        klass = classes.create_class(s, parse_plan(plan), actor="test", source="test", default_policy="baotou-2020")
        roster.import_roster(s, klass, roster_csv(rows), "roster.csv", actor="test", today=klass.start_date)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test")
        bound = Group(open_conversation_id=group.open_conversation_id, title=group.title, class_id=klass.id,
                      bound_by="test", bound_at=datetime.now(timezone.utc))
        s.add(bound)
        ledger.append(s, "group.bound", actor="test", source="test", subject=bound)
        for person_id, user in enumerate(users, start=1):
            ident = DingTalkIdentity(sender_id=user.sender_id, staff_user_id=user.staff_id, nick=user.name,
                                     person_id=person_id)
            s.add(ident)
            ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        add_staff(s, teacher.sender_id, "teacher", klass, name="张丽华")
        password = accounts.add_user(s, "admin", "admin")
        token = accounts.issue_token(s, "admin")
        s.commit()
    settings = load({
        "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
        "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    })
    service = BotService(settings, factory).start()
    sim.wait_connected(1)
    yield clock, users, teacher, group, (token, password)
    service.stop(flush_timeout=5)


def test_R06_a_recorded_class_checks_in_and_out_at_the_qa_session_through_the_sdk(world, sim, factory, tmp_path):
    clock, users, teacher, group, (token, password) = world
    said = 0

    def say(user, text: str, hhmm: str) -> str:
        nonlocal said
        clock.set(hhmm)
        sim.say(user, text, group)
        said += 1
        text = sim.wait_for_sent(said, group, timeout=20)[-1].text
        return re.sub(r"^[^：\s]{2,4}：", "", text)  # a group reply names whose it is ("刘飞飞：签到成功…")

    assert "本次答疑是今天下午的签到签退时段：请在 14:25 前" in say(teacher, "答疑开始 第一章", "14:10")
    on_time = say(users[0], "签到", "14:10")  # the same minute the Q&A opened
    assert on_time == "签到成功 14:10（下午·第 1 次答疑）"
    assert say(users[1], "签到", "14:20") == "签到成功 14:20（下午·第 1 次答疑），迟到（14:10 开始）"
    assert say(users[2], "签到", "14:22").startswith("签到成功 14:22（下午·第 1 次答疑），迟到")
    assert say(users[3], "签到", "14:30").startswith("现在不在签到时间内。签到时间：上午 08:00–08:45，下午·第 1 次答疑")
    assert say(users[2], "签退", "15:00").startswith("现在不在签退时间内")  # the Q&A runs; planned check-out is later
    assert say(teacher, "答疑结束", "15:30").endswith("请在 16:00 前 @我 发送“签退”。")
    assert say(users[0], "签退", "15:40") == "签退成功 15:40（下午·第 1 次答疑）"
    assert say(users[1], "签退", "16:01").startswith("现在不在签退时间内")
    with factory() as s:
        punches = sorted((p.kind, p.late, p.early) for p in s.scalars(select(Punch)))
        assert punches == [("in", False, False), ("in", True, False), ("in", True, False), ("out", False, False)]
        (line,) = [c.line for d in daily_report.build(s, CLASS_DAY, tz=TZ).districts for c in d.classes]
        assert ledger_verify.verify(s).ok
    app = create_app({"SECRET_KEY": "e2e-qa-checkin-secret-key-of-32-bytes!!", "SESSION_FACTORY": factory,
                      "NOW": lambda: class_time("18:00"), "DATA_DIR": tmp_path, "TIMEZONE": TZ})
    (qa,) = app.test_client().get(f"/api/v1/classes/{CODE}/qa",
                                  headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (qa["session"], qa["checked_in"], qa["checked_out"]) == ("下午", 3, 1)
    assert (line.checked_in, line.checked_out, line.late) == (qa["checked_in"], qa["checked_out"], 2)
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    assert client.post("/login", data={"name": "admin", "password": password, "csrf_token": csrf}).status_code == 302
    page = client.get(f"/classes/{CODE}/teaching").get_data(as_text=True)
    assert re.search(r"<th>签到签退时段</th>.*<td>下午</td><td class=\"num\">3</td><td class=\"num\">1</td>", page, re.S)
