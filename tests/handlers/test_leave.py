"""R07 leave: asked before the day's first session, decided by the class teacher, numbered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import ledger_verify
from storage.models import LeaveRequest, OutboxMessage

from .chat import Chat, add_staff, at, bind_group, bind_person, create_class, roster_of


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=3)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        add_staff(s, "ct", "class_teacher", klass, name="王芳")
        add_staff(s, "teacher", "teacher", klass, name="张丽华")
        s.commit()
    return Chat(factory, tmp_path)


def leaves(factory):
    with factory() as s:
        return [(r.id, r.day.isoformat(), r.status, r.reason) for r in s.scalars(select(LeaveRequest).order_by(LeaveRequest.id))]


def test_R07_leave_for_today_is_accepted_before_the_first_session_starts(chat, factory):
    (reply,) = chat.say("请假 孩子发烧", when=at("08:29"))
    assert reply.startswith("已记录请假：12月1日（周二），原因：孩子发烧。编号 1，等待班主任批准。")
    assert leaves(factory) == [(1, "2026-12-01", "pending", "孩子发烧")]


def test_R07_leave_for_today_is_refused_once_the_first_session_has_started(chat, factory):
    (reply,) = chat.say("请假 今天 堵车", when=at("08:30"))
    assert reply.startswith("12月1日（周二）的请假须在 08:30 前提出")
    assert leaves(factory) == []


def test_R07_leave_for_a_later_day_can_be_asked_during_the_class(chat, factory):
    assert chat.say("请假 12月3日 去医院复查", when=at("15:00"))[0].startswith("已记录请假：12月3日（周四）")
    assert chat.say("请假 明天 家中有事", when=at("15:01"), sender="u2")[0].startswith("已记录请假：12月2日（周三）")
    assert chat.say("请假 2026-12-04 出差", when=at("15:02"), sender="u3")[0].startswith("已记录请假：12月4日（周五）")
    assert [day for _, day, _, _ in leaves(factory)] == ["2026-12-03", "2026-12-02", "2026-12-04"]


def test_R07_past_days_days_outside_the_class_repeats_and_missing_reasons_are_refused(chat, factory):
    assert "已经过去" in chat.say("请假 11月30日 生病", when=at("07:00", "2026-12-02"))[0]
    assert "不是本班的培训日" in chat.say("请假 12月20日 生病", when=at("07:00"))[0]
    assert "请发送：请假" in chat.say("请假 明天", when=at("07:00"))[0]
    chat.say("请假 明天 生病", when=at("07:00"))
    assert chat.say("请假 12-02 还是生病", when=at("07:05")) == ["你已为12月2日（周三）请过假（编号 1，待批准），不重复记录。"]
    chat.say("签到", when=at("08:10"), sender="u2")
    assert "已经签到或签退过" in chat.say("请假 有事", when=at("08:15"), sender="u2")[0]
    assert len(leaves(factory)) == 1


def test_R07_class_teacher_sees_pending_requests_numbered_and_approves_or_rejects(chat, factory):
    chat.say("请假 明天 家中有事", when=at("15:00"), sender="u1")
    chat.say("请假 12月3日 看病", when=at("15:01"), sender="u2")
    (listing,) = chat.say("请假列表", when=at("15:10"), sender="ct")
    assert listing.splitlines()[1:3] == ["1. " + listing.splitlines()[1][3:], "2. " + listing.splitlines()[2][3:]]
    assert "12月2日（周三）：家中有事" in listing and "12月3日（周四）：看病" in listing
    (approved,) = chat.say("准假 1", when=at("15:11"), sender="ct")
    assert approved.startswith("编号 1：") and "请假已批准（原因：家中有事）" in approved
    (rejected,) = chat.say("驳回 2 请提前说明病情", when=at("15:12"), sender="ct")
    assert "请假已驳回" in rejected and "意见：请提前说明病情" in rejected
    assert [status for _, _, status, _ in leaves(factory)] == ["approved", "rejected"]
    assert "已于" in chat.say("驳回 1", when=at("15:13"), sender="ct")[0]
    assert chat.say("准假 9", when=at("15:13"), sender="ct") == ["没有编号为 9 的本班请假申请，请发送“请假列表”查看。"]
    assert "没有待批准的请假" in chat.say("请假列表", when=at("15:14"), sender="ct")[0]
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R07_only_the_class_teacher_decides(chat, factory):
    chat.say("请假 明天 家中有事", when=at("15:00"), sender="u1")
    assert "只有班主任可以使用" in chat.say("准假 1", when=at("15:05"), sender="teacher")[0]
    assert "只有班主任可以使用" in chat.say("准假 1", when=at("15:05"), sender="u2")[0]
    assert leaves(factory)[0][2] == "pending"


def test_R07_a_class_teacher_of_another_class_cannot_decide(chat, factory, tmp_path):
    with factory() as s:
        other = create_class(s, code="OTHER", seed=99)
        add_staff(s, "ct2", "class_teacher", other, name="赵老师")
        s.commit()
    chat.say("请假 明天 家中有事", when=at("15:00"), sender="u1")
    assert "只有班主任可以使用" in chat.say("准假 1", when=at("15:05"), sender="ct2", group=None)[0]
    assert leaves(factory)[0][2] == "pending"


def test_R07_a_decision_in_the_private_chat_is_posted_to_the_class_group(chat, factory):
    chat.say("请假 明天 家中有事", when=at("15:00"), sender="u1")
    (reply,) = chat.say("准假 1", when=at("15:05"), sender="ct", group=None)
    assert "请假已批准" in reply
    with factory() as s:
        (posted,) = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "group")).all()
        assert posted.conversation_id == "cid-class" and posted.dedupe_key == "leave:1:approved"
    chat.deliver()
    assert ("cid-class", reply) in chat.api.sent  # the group hears it through groupMessages/send
