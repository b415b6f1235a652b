"""A message's unit of work, tested like a conversation (R02, R05, R06, R17)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers import classes, roster
from handlers.commands import build_registry
from handlers.plans import parse_plan
from handlers.errors import Refusal
from handlers.registry import DuplicateCommand, Registry, command, job
from storage import ledger, ledger_verify
from storage.models import DingTalkIdentity, Group, InboundMessage, OutboxMessage, Person, Punch
from tests.handlers.chat import Chat, at
from tests.commitment import sign_commitment

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"


@pytest.fixture
def world(factory):
    """The sample class with its roster, its group bound, trainee 1 bound to sender 'u1'."""
    with factory() as s:
        klass = classes.create_class(s, parse_plan((SAMPLES / "plan.toml").read_text(encoding="utf-8")),
                                     actor="test", source="test", default_policy="baotou-2020")
        roster.import_roster(s, klass, (SAMPLES / "roster.xlsx").read_bytes(), "roster.xlsx", actor="test",
                             today=klass.start_date)
        group = Group(open_conversation_id="cid-class", title="育婴员1期", class_id=klass.id, bound_by="test",
                      bound_at=datetime.now(timezone.utc))
        s.add(group)
        ledger.append(s, "group.bound", actor="test", source="test", subject=group)
        ident = DingTalkIdentity(sender_id="u1", nick="学员一", person_id=1)
        s.add(ident)
        ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        s.commit()
    return factory


@pytest.fixture
def chat(world, tmp_path):
    return Chat(world, tmp_path)


def approve(factory):
    with factory() as s:
        klass = classes.get_class(s, "BT-2026-001")
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:李", source="test")
        s.commit()


def punches(factory) -> list[Punch]:
    with factory() as s:
        return list(s.scalars(select(Punch).order_by(Punch.id)))


def test_R06_check_in_in_window_is_recorded_with_its_time(world, chat):
    approve(world)
    assert chat.say("签到", when=at("08:20"), msg_id="in-0820") == ["签到成功 08:20（上午）"]
    (p,) = punches(world)
    assert (p.kind, p.late, p.counts, p.source) == ("in", False, True, "msg:in-0820")


def test_R06_repeat_in_the_same_session_gives_the_first_time_and_no_second_record(world, chat):
    approve(world)
    chat.say("签到", when=at("08:20"))
    assert chat.say("签到", when=at("08:25")) == ["今天上午已签到（08:20），不重复记录。"]
    assert len(punches(world)) == 1


def test_R06_late_and_early_are_flagged(world, chat):
    approve(world)
    assert chat.say("签到", when=at("08:40")) == ["签到成功 08:40（上午），迟到（08:30 开始）"]
    assert chat.say("签退", when=at("11:20")) == ["签退成功 11:20（上午），早退（11:30 结束）"]
    late, early = punches(world)
    assert (late.late, early.early) == (True, True)


def test_R06_outside_every_window_is_refused_with_the_windows(world, chat):
    approve(world)
    (reply,) = chat.say("签到", when=at("09:30"))
    assert reply == "现在不在签到时间内。签到时间：上午 08:00–08:45，下午 13:30–14:15。"
    assert punches(world) == []


def test_R06_second_session_check_in_is_its_own_record(world, chat):
    approve(world)
    chat.say("签到", when=at("08:30"))
    assert chat.say("签到", when=at("13:45")) == ["签到成功 13:45（下午）"]
    assert [p.session_id for p in punches(world)] == [1, 2]


def test_R02_unapproved_class_records_but_says_it_does_not_count(world, chat):
    (reply,) = chat.say("签到", when=at("08:20"))
    assert reply.startswith("签到成功 08:20（上午）") and "尚未通过旗县区审核" in reply
    assert punches(world)[0].counts is False


def test_duplicate_msg_id_gives_one_record_and_one_reply(world, chat):
    approve(world)
    assert chat.say("签到", when=at("08:20"), msg_id="dup") == ["签到成功 08:20（上午）"]
    assert chat.say("签到", when=at("08:20"), msg_id="dup") == []
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert len(punches(world)) == 1


def test_unbound_sender_is_told_how_to_bind_in_private(world, chat):
    (reply,) = chat.say("签到", when=at("08:20"), sender="stranger")
    assert "单聊" in reply and "绑定 姓名 身份证号后6位" in reply
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1  # stored all the same


def test_trainee_of_another_class_is_told_so(world, chat):
    with world() as s:
        ident = DingTalkIdentity(sender_id="u9", nick="外班", person_id=None)
        person = Person(name="外班学员", gender="男", id_number="150203199001011239", phone="13800000000")
        s.add(person)
        ledger.append(s, "person.created", actor="test", source="test", subject=person)
        ident.person_id = person.id
        s.add(ident)
        ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        s.commit()
    assert chat.say("签到", when=at("08:20"), sender="u9") == ["你不在本班的花名册中，请在自己班级的群里发送。"]


def test_check_in_in_private_chat_points_to_the_group(world, chat):
    assert chat.say("签到", when=at("08:20"), group=None) == ["“签到”请在班级群里 @我 发送。"]


def test_unknown_text_and_unsupported_types_are_answered(world, chat):
    assert "帮助" in chat.say("你好", when=at("08:20"))[0]
    assert "暂不支持" in chat.say("", when=at("08:20"), msgtype="audio")[0]


def test_help_lists_only_what_the_role_may_use(world, chat):
    (stranger,) = chat.say("帮助", when=at("08:20"), sender="stranger")
    (trainee,) = chat.say("帮助", when=at("08:20"))
    assert "签到" not in stranger and "帮助" in stranger
    assert "签到" in trainee and "签退" in trainee


def test_a_failing_handler_leaves_the_message_stored_no_half_rows_and_an_apology(world, tmp_path):
    approve(world)

    def broken(ctx):
        ctx.session.add(Punch(enrollment_id=1, day=ctx.now.date(), session_id=1, kind="in", at=ctx.now,
                              source="half"))
        ctx.session.flush()
        raise RuntimeError("boom")

    registry = Registry(dataclasses.replace(c, func=broken) if c.word == "签到" else c
                        for c in build_registry().commands)
    chat = Chat(world, tmp_path, registry=registry)
    (reply,) = chat.say("签到", when=at("08:20"))
    assert "抱歉" in reply
    assert chat.dispatcher.counters["failed"] == 1
    assert punches(world) == []
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert ledger_verify.verify(s).ok


def test_everything_the_chat_did_verifies_in_the_ledger(world, chat):
    approve(world)
    chat.say("签到", when=at("08:20"))
    chat.say("签到", when=at("08:21"))
    chat.say("签退", when=at("11:35"))
    with world() as s:
        assert ledger_verify.verify(s).ok


def test_duplicate_command_word_fails_start_up():
    check_in = command("签到")(lambda ctx: "")
    punch = command("打卡", aliases=("签到",))(lambda ctx: "")
    with pytest.raises(DuplicateCommand, match="签到"):
        Registry([check_in, punch])



def test_a_job_event_runs_as_the_scheduler_in_its_class_and_posts_to_the_class_group(world, tmp_path):
    seen = []

    @job("test_notice")
    def notice(ctx):
        seen.append((ctx.actor.label, ctx.klass.code, ctx.args, ctx.message))
        return "明天上午 08:30 上课"

    chat = Chat(world, tmp_path, registry=Registry([*build_registry().commands, notice]))
    chat.job("test_notice", "BT-2026-001", "2026-12-01", when=at("20:00"))
    assert seen == [("job:test_notice", "BT-2026-001", "2026-12-01", None)]
    assert chat.deliver() == ["明天上午 08:30 上课"]
    assert chat.dispatcher.counters["jobs"] == 1


def test_a_job_is_no_chat_command_and_its_refusals_and_unknown_classes_are_counted(world, tmp_path):
    @job("test_refuse")
    def refuse(ctx):
        raise Refusal("今天不是上课日")

    chat = Chat(world, tmp_path, registry=Registry([*build_registry().commands, refuse]))
    assert "没有看懂" in chat.say("test_refuse", when=at("08:20"))[0]
    chat.job("test_refuse", "BT-2026-001", "2026-12-01", when=at("20:00"))
    chat.job("test_refuse", "NO-SUCH", "2026-12-01", when=at("20:00"))
    assert chat.dispatcher.counters["refused"] == 3  # the chat message too
    assert chat.deliver() == ["没有看懂“test_refuse”。发送“帮助”查看你可以使用的命令。"]  # nothing posted by the job
