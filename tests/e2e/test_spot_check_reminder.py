"""R10/R21 end to end: near the end of class time the scheduler reminds the class teacher, 1:1 through
the DingTalk OpenAPI, that the day's spot checks are missing — once per class day, whoever runs it."""

from __future__ import annotations

import dingtalk_stream.stream
import pytest
from sqlalchemy import select

from bot.service import BotService
from bot.settings import load
from scheduler import run_due
from storage import ledger
from storage.models import DingTalkIdentity, Klass, Reminder

from tests.handlers.chat import add_staff

from .classroom import TZ, build_classroom, class_time
from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio


class Clock:
    def __init__(self) -> None:
        self.now = class_time("10:00")

    def __call__(self):
        return self.now


@pytest.fixture
def world(sim, engine, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    clock = Clock()
    sim.clock = clock
    group, users = build_classroom(sim, factory, 4)
    class_teacher = sim.add_user("王芳")
    group.add(class_teacher)
    with factory() as s:
        add_staff(s, class_teacher.sender_id, "class_teacher", s.scalar(select(Klass)), name="王芳")
        ident = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.sender_id == class_teacher.sender_id))
        ident.staff_user_id = class_teacher.staff_id
        ledger.append(s, "identity.staff_id", actor="test", source="test", subject=ident)
        s.commit()
    settings = load({
        "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
        "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    })
    service = BotService(settings, factory).start()
    sim.wait_connected(1)
    yield clock, group, class_teacher
    service.stop(flush_timeout=5)


def test_R10_R21_the_class_teacher_gets_the_spot_check_reminder_1to1_once(world, sim, factory):
    clock, group, class_teacher = world
    sim.say(class_teacher, "抽查 在线4人", group)
    reply = sim.wait_for_sent(1, group, timeout=20)[-1].text  # "王芳：已记录…": a group reply names whose it is
    assert reply.split("：", 1)[-1].startswith("已记录今天第 1 次抽查（每天应 2 次")
    run_due(factory, class_time("16:25").astimezone(TZ), "test")  # class time ends 17:00: reminded from 16:30
    run_due(factory, class_time("16:30").astimezone(TZ), "test")
    run_due(factory, class_time("16:30").astimezone(TZ), "test:second")  # a second scheduler, the same minute
    run_due(factory, class_time("16:35").astimezone(TZ), "test")
    (reminder,) = [x for x in sim.wait_for_sent(1, user=class_teacher, channel="oto", timeout=20)]
    assert reminder.text.startswith("【抽查提醒】王芳，BT-2026-001 今天") and "已抽查 1 次，每天应 2 次" in reminder.text
    assert "今天的上课时间 17:00 结束" in reminder.text
    with factory() as s:
        assert [(r.kind, r.reason) for r in s.scalars(select(Reminder).where(Reminder.kind == "spot_check"))] == [
            ("spot_check", "1/2")]
    assert len(sim.sent(user=class_teacher, channel="oto")) == 1
