"""A trainee bound from the wrong DingTalk account is unbound with a reason and binds again from the right one."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.samples import sample_plan
from bot.samples.generate import trainees
from storage.models import DingTalkIdentity, LedgerEvent

from .classroom import CLASS_DAY
from .test_bot import bot, classroom, clock  # noqa: F401  (the class, its bound group and the real bot)

CODE = sample_plan(CLASS_DAY).code


def cli(sim, engine, tmp_path, monkeypatch, *args: str):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DINGCLASS_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("DINGTALK_CLIENT_ID", sim.client_id)
    return CliRunner().invoke(main, ["--by", "district:昆都仑区", *args], catch_exceptions=False)


def test_a_wrongly_bound_trainee_is_unbound_told_and_binds_again_from_the_right_account(
        sim, bot, classroom, factory, engine, tmp_path, monkeypatch):
    group, users = classroom
    wrong = users[1]  # inside the organisation: the bot may message it first
    name, _gender, id_number, *_ = trainees(30)[1]
    bot()
    result = cli(sim, engine, tmp_path, monkeypatch, "unbind", "person", name, "--class", CODE,
                 "--reason", "学员用了家人的钉钉账号")
    assert result.exit_code == 0, result.output
    assert f"已解除学员 {name} 的钉钉绑定" in result.output and "已单聊通知 1 个账号" in result.output

    (notice,) = sim.wait_for_sent(1, wrong, channel="oto", timeout=15)
    assert "学员用了家人的钉钉账号" in notice.text and "绑定 姓名 身份证号后6位" in notice.text
    sim.say(wrong, "签到", group)
    assert "还没有绑定" in sim.wait_for_sent(1, group)[0].text  # the wrong account no longer counts

    right = sim.add_user(name, in_org=False)
    group.add(right)
    sim.say(right, f"绑定 {name} {id_number[-6:]}")
    assert sim.wait_for_sent(1, right)[0].text.startswith(f"绑定成功：{name}")
    sim.say(right, "签到", group)
    sim.wait_until(lambda: any(s.text.startswith(f"{name}：签到成功") for s in sim.sent(group)), 10, "签到成功")

    with factory() as s:
        events = s.execute(select(LedgerEvent.type, LedgerEvent.actor, LedgerEvent.payload)
                           .where(LedgerEvent.type.in_(("identity.unbound", "identity.bound")))
                           .order_by(LedgerEvent.seq)).all()
        bound_to = s.scalars(select(DingTalkIdentity.sender_id).where(DingTalkIdentity.person_id == 2)).all()
    unbound = [e for e in events if e.type == "identity.unbound"]
    assert len(unbound) == 1 and unbound[0].actor == "district:昆都仑区" and "家人的钉钉账号" in unbound[0].payload
    assert events[-1].type == "identity.bound"  # the right account's binding comes after the undoing
    assert bound_to == [right.sender_id]
    assert "台账完整" in cli(sim, engine, tmp_path, monkeypatch, "verify").output


def test_unbinding_the_group_tells_the_group_and_lets_it_bind_again(sim, bot, classroom, engine, tmp_path,
                                                                    monkeypatch):
    group, users = classroom
    bot()
    refused = cli(sim, engine, tmp_path, monkeypatch, "unbind", "group", CODE, "--reason", "  ")
    assert refused.exit_code == 1 and "必须写明理由" in refused.output
    result = cli(sim, engine, tmp_path, monkeypatch, "unbind", "group", CODE, "--reason", "绑错了群")
    assert result.exit_code == 0 and "已解除班级" in result.output
    (notice,) = sim.wait_for_sent(1, group, channel="group", timeout=15)
    assert "绑错了群" in notice.text and "绑定班级" in notice.text
    sim.say(users[0], "签到", group)
    assert "：本群还没有绑定班级" in sim.wait_for_sent(2, group)[1].text  # named: whose message it answers
