"""A message's unit of work, tested like a conversation (R02, R05, R06, R17)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers import classes, dispatch, roster
from handlers.messages import Incoming
from handlers.plans import parse_plan
from handlers.registry import DuplicateCommand, Registry, command
from storage import ledger
from storage.models import DingTalkIdentity, Group, InboundMessage, OutboxMessage, Person, Punch

TZ = ZoneInfo("Asia/Shanghai")
SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"
_ids = itertools.count(1)


def at(hhmm: str, day: str = "2026-12-01") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=TZ)


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


def say(factory, text: str, *, when: datetime, sender: str = "u1", group: str | None = "cid-class",
        msg_id: str | None = None, msgtype: str = "text") -> list[str]:
    msg = Incoming(
        msg_id=msg_id or f"m{next(_ids)}", conversation_id=group or f"private-{sender}",
        conversation_type="2" if group else "1", sender_id=sender, sender_staff_id=None, sender_nick=sender,
        msgtype=msgtype, text=text, image_codes=(), created_at=when, robot_code="bot",
        session_webhook="http://127.0.0.1:1/hook", session_webhook_expires=when + timedelta(minutes=90),
        raw={"text": {"content": text}},
    )
    with factory() as s:
        outcome = dispatch.receive(s, msg, when, TZ)
        s.commit()
    return [r.text for r in outcome.replies]


def approve(factory):
    with factory() as s:
        klass = classes.get_class(s, "BT-2026-001")
        classes.change_status(s, klass, "approved", actor="district:李", source="test")
        s.commit()


def punches(factory) -> list[Punch]:
    with factory() as s:
        return list(s.scalars(select(Punch).order_by(Punch.id)))


def test_R06_check_in_in_window_is_recorded_with_its_time(world):
    approve(world)
    assert say(world, "签到", when=at("08:20")) == ["签到成功 08:20（上午）"]
    (p,) = punches(world)
    assert (p.kind, p.late, p.counts, p.source) == ("in", False, True, "msg:m" + p.source.split(":m")[1])


def test_R06_repeat_in_the_same_session_gives_the_first_time_and_no_second_record(world):
    approve(world)
    say(world, "签到", when=at("08:20"))
    assert say(world, "签到", when=at("08:25")) == ["今天上午已签到（08:20），不重复记录。"]
    assert len(punches(world)) == 1


def test_R06_late_and_early_are_flagged(world):
    approve(world)
    assert say(world, "签到", when=at("08:40")) == ["签到成功 08:40（上午），迟到（08:30 开始）"]
    assert say(world, "签退", when=at("11:20")) == ["签退成功 11:20（上午），早退（11:30 结束）"]
    late, early = punches(world)
    assert (late.late, early.early) == (True, True)


def test_R06_outside_every_window_is_refused_with_the_windows(world):
    approve(world)
    (reply,) = say(world, "签到", when=at("09:30"))
    assert reply == "现在不在签到时间内。签到时间：上午 08:00–08:45，下午 13:30–14:15。"
    assert punches(world) == []


def test_R06_second_session_check_in_is_its_own_record(world):
    approve(world)
    say(world, "签到", when=at("08:30"))
    assert say(world, "签到", when=at("13:45")) == ["签到成功 13:45（下午）"]
    assert [p.session_id for p in punches(world)] == [1, 2]


def test_R02_unapproved_class_records_but_says_it_does_not_count(world):
    (reply,) = say(world, "签到", when=at("08:20"))
    assert reply.startswith("签到成功 08:20（上午）") and "尚未通过旗县区审核" in reply
    assert punches(world)[0].counts is False


def test_duplicate_msg_id_gives_one_record_and_one_reply(world):
    approve(world)
    assert say(world, "签到", when=at("08:20"), msg_id="dup") == ["签到成功 08:20（上午）"]
    assert say(world, "签到", when=at("08:20"), msg_id="dup") == []
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert len(punches(world)) == 1


def test_unbound_sender_is_told_how_to_bind_in_private(world):
    (reply,) = say(world, "签到", when=at("08:20"), sender="stranger")
    assert "单聊" in reply and "绑定 姓名 身份证号后6位" in reply
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1  # stored all the same


def test_trainee_of_another_class_is_told_so(world):
    with world() as s:
        ident = DingTalkIdentity(sender_id="u9", nick="外班", person_id=None)
        person = Person(name="外班学员", gender="男", id_number="150203199001011239", phone="13800000000")
        s.add(person)
        ledger.append(s, "person.created", actor="test", source="test", subject=person)
        ident.person_id = person.id
        s.add(ident)
        ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        s.commit()
    assert say(world, "签到", when=at("08:20"), sender="u9") == ["你不在本班的花名册中，请在自己班级的群里发送。"]


def test_check_in_in_private_chat_points_to_the_group(world):
    assert say(world, "签到", when=at("08:20"), group=None) == ["“签到”请在班级群里 @我 发送。"]


def test_unknown_text_and_unsupported_types_are_answered(world):
    assert "帮助" in say(world, "你好", when=at("08:20"))[0]
    assert "暂不支持" in say(world, "", when=at("08:20"), msgtype="audio")[0]


def test_help_lists_only_what_the_role_may_use(world):
    (stranger,) = say(world, "帮助", when=at("08:20"), sender="stranger")
    (trainee,) = say(world, "帮助", when=at("08:20"))
    assert "签到" not in stranger and "帮助" in stranger
    assert "签到" in trainee and "签退" in trainee


def test_a_failing_handler_leaves_the_message_stored_no_half_rows_and_an_apology(world, monkeypatch):
    approve(world)

    def broken(ctx):
        ctx.session.add(Punch(enrollment_id=1, day=ctx.now.date(), session_id=1, kind="in", at=ctx.now,
                              source="half"))
        ctx.session.flush()
        raise RuntimeError("boom")

    cmd, _ = dispatch.REGISTRY.resolve("签到")
    broken_cmd = dataclasses.replace(cmd, func=broken)
    monkeypatch.setattr(dispatch.REGISTRY, "resolve", lambda text: (broken_cmd, ""))
    before = dispatch.COUNTERS["failed"]
    (reply,) = say(world, "签到", when=at("08:20"))
    assert "抱歉" in reply
    assert dispatch.COUNTERS["failed"] == before + 1
    assert punches(world) == []
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
        assert ledger.verify(s).ok


def test_everything_the_chat_did_verifies_in_the_ledger(world):
    approve(world)
    say(world, "签到", when=at("08:20"))
    say(world, "签到", when=at("08:21"))
    say(world, "签退", when=at("11:35"))
    with world() as s:
        assert ledger.verify(s).ok


def test_duplicate_command_word_fails_start_up():
    registry = Registry()
    command("签到", registry=registry)(lambda ctx: "")
    with pytest.raises(DuplicateCommand, match="签到"):
        command("打卡", aliases=("签到",), registry=registry)(lambda ctx: "")
