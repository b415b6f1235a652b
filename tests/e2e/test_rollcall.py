"""R13 end to end: an inspector's 点名 through the real SDK and the simulator, answers, the result,
``dingclass rollcall verify`` and ``dingclass verify`` after the stored sample is edited with SQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dingtalk_stream.stream
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bot.cli import main
from bot.service import BotService
from bot.settings import load
from handlers import rollcall
from scheduler import run_due
from storage import ledger
from storage.models import DingTalkIdentity, Enrollment, RollCall, RollCallSample, Staff, StaffRole

from .classroom import TZ, build_classroom, class_time
from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(sim, engine, factory, tmp_path, monkeypatch):
    clock = Clock(class_time("09:00"))
    sim.clock = clock
    group, users = build_classroom(sim, factory, 30)
    inspector = sim.add_user("李督查")
    group.members.append(inspector)  # supervisors join each class group (R13)
    with factory() as s:
        klass_district = s.scalar(select(Enrollment)).class_id
        from storage.models import Klass
        district_id = s.get(Klass, klass_district).district_id
        staff = Staff(name="李督查")
        s.add(staff)
        ledger.append(s, "staff.created", actor="test", source="test", subject=staff)
        role = StaffRole(staff_id=staff.id, role="inspector", district_id=district_id)
        s.add(role)
        ledger.append(s, "staff_role.granted", actor="test", source="test", subject=role)
        ident = DingTalkIdentity(sender_id=inspector.sender_id, staff_user_id=inspector.staff_id, nick="李督查",
                                 staff_id=staff.id)
        s.add(ident)
        ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        s.commit()
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    env = {"DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
           "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
           "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    mark = sim.opened
    service = BotService(load(env), factory).start()
    sim.wait_connected_after(mark)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield clock, group, users, inspector
    service.stop(flush_timeout=5)


def answer_of(sim, group, n: int) -> str:
    return sim.wait_for_sent(n, group, timeout=20)[n - 1].text


def test_R13_inspector_roll_call_of_half_a_30_trainee_group_end_to_end(world, sim, factory):
    clock, group, users, inspector = world
    sim.say(inspector, "点名 50% 5", group)
    announcement = answer_of(sim, group, 1)
    assert announcement.startswith("【随机点名】") and "抽取 15 人（50%）" in announcement
    with factory() as s:
        rc = s.scalar(select(RollCall))
        rows = rollcall.samples(s, rc)
        by_person = {e.id: e.person_id for e in s.scalars(select(Enrollment))}
    drawn = [users[by_person[row.enrollment_id] - 1] for row, _ in rows]
    assert len(drawn) == 15 and all(name in announcement for _, name in rows)
    (sent_announcement,) = [x for x in sim.sent(group) if x.text == announcement]
    in_org = sorted(u.staff_id for u in drawn if u.staff_id)
    assert sorted(sent_announcement.at_user_ids) == in_org  # @-mentioned where DingTalk allows
    assert all(f"@{uid}" in announcement for uid in in_org)
    names = {user.sender_id: name for user, (_, name) in zip(drawn, rows)}
    outsiders = [names[u.sender_id] for u in drawn if not u.staff_id]
    if outsiders:  # only reachable in the group, and the roll call says so
        assert "不在本组织内，机器人无法单独通知，请留意本群消息：" + "、".join(outsiders) in announcement
    notices = sim.wait_for_sent(len(in_org), channel="oto", timeout=20)
    assert sorted(x.user.staff_id for x in notices) == in_org

    count = 1
    clock.now = class_time("09:02")
    for user in drawn[:12]:
        sim.say(user, "到", group)
        count += 1
        assert answer_of(sim, group, count) == f"已记录：{names[user.sender_id]} 09:02 应答第 1 次点名。"
    not_drawn = next(u for u in users if u not in drawn)
    sim.say(not_drawn, "到", group)
    count += 1
    assert answer_of(sim, group, count).endswith("：你不在第 1 次点名的抽查名单中，无需回复。")  # named
    clock.now = class_time("09:06")
    sim.say(drawn[12], "到", group)
    count += 1
    assert answer_of(sim, group, count) == f"{names[drawn[12].sender_id]}：第 1 次点名已于 09:05 截止，09:06 的“到”不计入。"

    run_due(factory, class_time("09:06").astimezone(TZ), "test")  # the scheduler closes the window
    count += 1
    result = answer_of(sim, group, count)
    assert result.startswith("【点名结果】") and "应答 12/15，应答率 80%，合格（要求 80%）" in result
    with factory() as s:
        rc = s.scalar(select(RollCall))
        assert rc.seed in result and (rc.answered, rc.counted, rc.passed) == (12, 15, True)

    runner = CliRunner()
    ok = runner.invoke(main, ["rollcall", "verify", str(rc.id)], catch_exceptions=False)
    assert ok.exit_code == 0 and "复核一致" in ok.output
    with factory() as s:
        first = s.scalar(select(RollCallSample).where(RollCallSample.position == 1))
        other = next(e for e in by_person if e not in {row.enrollment_id for row, _ in rows})
        s.execute(text("UPDATE rollcall_samples SET enrollment_id = :e WHERE id = :i"), {"e": other, "i": first.id})
        s.commit()
    bad = runner.invoke(main, ["rollcall", "verify", str(rc.id)], catch_exceptions=False)
    assert bad.exit_code == 1 and "抽取名单不符" in bad.output
    ledger_check = runner.invoke(main, ["verify"], catch_exceptions=False)
    assert ledger_check.exit_code == 1 and f"rollcall_samples 第 {first.id} 行" in ledger_check.output
