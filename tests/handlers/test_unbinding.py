"""The class teacher's 解绑: a trainee bound from the wrong account is unbound in the chat, with a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import ledger_verify
from storage.models import DingTalkIdentity, LedgerEvent

from .chat import Chat, add_staff, at, bind_group, bind_person, create_class, roster_of


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=3)
        bind_group(s, klass, "cid-class")
        people = roster_of(s, klass)
        bind_person(s, people[0], "u1", staff_user_id="staff-u1")
        bind_person(s, people[1], "u2")
        add_staff(s, "ct", "class_teacher", klass, name="王芳")
        s.commit()
        names = [p.name for p in people]
    chat = Chat(factory, tmp_path)
    chat.names = names
    return chat


def test_the_class_teacher_unbinds_a_trainee_with_a_reason_and_the_account_is_told(chat, factory):
    name = chat.names[0]
    (reply,) = chat.say(f"解绑 {name} 用了家人的钉钉账号", when=at("08:40"), sender="ct")
    assert reply.startswith(f"08:40 已解除学员 {name} 的钉钉绑定") and "组织外" not in reply
    assert any("用了家人的钉钉账号" in text for text in chat.deliver())  # the 1:1 notice went out
    assert chat.say("签到", when=at("08:41"), sender="u1")[0].startswith("你还没有绑定身份")
    with factory() as s:
        assert s.scalar(select(DingTalkIdentity.person_id).where(DingTalkIdentity.sender_id == "u1")) is None
        event = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "identity.unbound"))
        assert event.actor.startswith("staff:") and "用了家人的钉钉账号" in event.payload
        assert ledger_verify.verify(s).ok


def test_an_account_outside_the_organisation_must_be_told_in_person(chat):
    (reply,) = chat.say(f"解绑 {chat.names[1]} 绑错了", when=at("08:40"), sender="ct")
    assert "请当面告知" in reply


@pytest.mark.parametrize(("text", "answer"), [
    ("解绑", "请发送：解绑 姓名 理由"),
    ("解绑 张三", "请发送：解绑 姓名 理由"),
    ("解绑 不存在的人 理由", "花名册中没有名为“不存在的人”的学员"),
])
def test_bad_unbind_requests_change_nothing(chat, factory, text, answer):
    assert answer in chat.say(text, when=at("08:40"), sender="ct")[0]
    with factory() as s:
        assert s.scalar(select(LedgerEvent).where(LedgerEvent.type == "identity.unbound")) is None


def test_only_the_class_teacher_may_unbind(chat):
    reply = chat.say(f"解绑 {chat.names[0]} 理由", when=at("08:40"), sender="u2")[0]
    assert "已解除" not in reply
