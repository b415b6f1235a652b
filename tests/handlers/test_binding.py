"""Binding in the chat: trainees by name and ID suffix, staff by one-time code, groups to classes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from handlers import accounts
from handlers.idcard import make_id_number
from storage import ledger_verify
from storage.models import BindAttempt, BindCode, DingTalkIdentity, Group, LedgerEvent, Staff, StaffRole

from .chat import Chat, add_staff, at, bind_group, create_class, people


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=4)
        bind_group(s, klass, "cid-class")
        s.commit()
    return Chat(factory, tmp_path)


ROWS = people(4)


def suffix(i: int) -> str:
    return ROWS[i][2][-6:]


def bound_person(factory, sender: str):
    with factory() as s:
        return s.scalar(select(DingTalkIdentity.person_id).where(DingTalkIdentity.sender_id == sender))


def test_trainee_binds_in_private_chat_with_name_and_id_suffix(chat, factory):
    name = ROWS[0][0]
    (reply,) = chat.say(f"绑定 {name} {suffix(0)}", when=at("07:50"), sender="new", group=None)
    assert reply.startswith(f"绑定成功：{name}") and "BT-2026-001" in reply
    assert suffix(0) not in reply
    assert bound_person(factory, "new") == 1
    with factory() as s:
        event = s.scalar(select(LedgerEvent).where(LedgerEvent.type == "identity.bound",
                                                   LedgerEvent.source.like("msg:%")))
        assert event.class_code == "BT-2026-001" and suffix(0) not in event.payload
        assert ledger_verify.verify(s).ok
    # now a trainee of the class: check-in works in the group
    assert chat.say("签到", when=at("08:20"), sender="new") == ["签到成功 08:20（上午）"]


def test_lowercase_x_glued_name_and_full_id_number_are_understood(factory, tmp_path):
    rows = [r for r in people(40, seed=7) if r[2].endswith("X")][:1] + people(2, seed=8)
    with factory() as s:
        create_class(s, rows=rows)
        s.commit()
    chat = Chat(factory, tmp_path)
    assert chat.say(f"绑定{rows[0][0]}{rows[0][2][-6:].lower()}", when=at("07:50"), sender="a",
                    group=None)[0].startswith("绑定成功")
    assert chat.say(f"绑定 {rows[1][0]} {rows[1][2]}", when=at("07:50"), sender="b", group=None)[0].startswith("绑定成功")


def test_binding_in_a_group_is_refused_without_echoing_the_digits(chat, factory):
    (reply,) = chat.say(f"绑定 {ROWS[0][0]} {suffix(0)}", when=at("07:50"), sender="new")
    assert "单聊" in reply and suffix(0) not in reply
    assert bound_person(factory, "new") is None


def test_digits_of_an_unknown_text_are_not_echoed(chat):
    (reply,) = chat.say(f"{ROWS[0][0]} {ROWS[0][2]}", when=at("07:50"), sender="new")
    assert ROWS[0][2] not in reply and ROWS[0][2][-6:] not in reply and "帮助" in reply


def test_wrong_suffix_no_match_and_the_lock_after_five_failures(chat, factory):
    name = ROWS[1][0]
    for minute in range(5):
        (reply,) = chat.say(f"绑定 {name} 000000", when=at(f"08:0{minute}"), sender="guess", group=None)
        assert "没有找到" in reply and "000000" not in reply
    assert "暂停到 09:04" in reply
    (locked,) = chat.say(f"绑定 {name} {suffix(1)}", when=at("08:30"), sender="guess", group=None)
    assert "失败次数过多" in locked and "09:04" in locked
    assert bound_person(factory, "guess") is None
    with factory() as s:  # refused while locked: not counted, so the lock does not grow
        assert s.scalar(select(func.count()).select_from(BindAttempt)) == 5
    (reply,) = chat.say(f"绑定 {name} {suffix(1)}", when=at("09:05"), sender="guess", group=None)
    assert reply.startswith("绑定成功")


def test_failures_spread_over_more_than_an_hour_do_not_lock(chat):
    name = ROWS[1][0]
    for hhmm in ("07:00", "07:20", "07:40", "08:00", "08:05"):
        chat.say(f"绑定 {name} 000000", when=at(hhmm), sender="slow", group=None)
    (reply,) = chat.say(f"绑定 {name} {suffix(1)}", when=at("08:06"), sender="slow", group=None)
    assert reply.startswith("绑定成功")


def test_a_person_bound_to_another_account_is_refused(chat, factory):
    chat.say(f"绑定 {ROWS[2][0]} {suffix(2)}", when=at("07:50"), sender="first", group=None)
    (reply,) = chat.say(f"绑定 {ROWS[2][0]} {suffix(2)}", when=at("07:51"), sender="second", group=None)
    (wrong,) = chat.say(f"绑定 {ROWS[2][0]} 000000", when=at("07:51"), sender="third", group=None)
    assert reply == wrong and "没有找到" in reply  # the same answer: the digits are not confirmed
    assert bound_person(factory, "second") is None
    assert chat.say(f"绑定 {ROWS[2][0]} {suffix(2)}", when=at("07:52"), sender="first",
                    group=None) == [f"你已经绑定为 {ROWS[2][0]}，无需重复绑定。"]
    (other,) = chat.say(f"绑定 {ROWS[3][0]} {suffix(3)}", when=at("07:53"), sender="first", group=None)
    assert "已经绑定为" in other and bound_person(factory, "first") == 3


def test_several_matching_people_are_refused(factory, tmp_path):
    a, b = people(2, seed=11)
    birth = date(int(a[2][6:10]), int(a[2][10:12]), int(a[2][12:14]))
    twin_number = next(n for n in (make_id_number(f"1502{r:02d}", birth.replace(year=y), int(a[2][14:17]))
                                   for y in range(1960, 2000) for r in range(1, 99))
                       if n[-6:] == a[2][-6:] and n != a[2])
    twin = (a[0], a[1], twin_number, b[3], b[4])  # same name and the same last six, another person
    with factory() as s:
        create_class(s, rows=[a], code="A")
        create_class(s, rows=[twin], code="B", start="2026-12-20", end="2026-12-24")
        s.commit()
    chat = Chat(factory, tmp_path)
    (reply,) = chat.say(f"绑定 {a[0]} {a[2][-6:]}", when=at("07:50"), sender="x", group=None)
    assert "不止一名学员" in reply


def test_only_classes_running_or_about_to_start_are_searched(factory, tmp_path):
    rows = people(2, seed=5)
    with factory() as s:
        create_class(s, rows=rows[:1], code="OLD", start="2026-10-01", end="2026-10-10")
        create_class(s, rows=rows[1:], code="SOON", start="2026-12-20", end="2026-12-30")
        s.commit()
    chat = Chat(factory, tmp_path)
    assert "没有找到" in chat.say(f"绑定 {rows[0][0]} {rows[0][2][-6:]}", when=at("07:50"), sender="x", group=None)[0]
    (reply,) = chat.say(f"绑定 {rows[1][0]} {rows[1][2][-6:]}", when=at("07:50"), sender="y", group=None)
    assert reply.startswith("绑定成功") and "SOON" in reply
    too_early = at("07:50", "2026-11-01")
    assert "没有找到" in chat.say(f"绑定 {rows[1][0]} {rows[1][2][-6:]}", when=too_early, sender="z", group=None)[0]


def issue(factory, role: str, scope: str = "BT-2026-001", days: int = 7, name: str | None = "王芳"):
    with factory() as s:
        issued = accounts.issue_bind_code(s, scope, role, name=name, actor="cli:admin", days=days,
                                          now=at("07:00") - timedelta(days=1))
        s.commit()
    return issued.code


def test_staff_binds_with_a_one_time_code(chat, factory):
    code = issue(factory, "class_teacher")
    (reply,) = chat.say(f"绑定 {code.lower()}", when=at("07:30"), sender="t1", group=None)
    assert reply == "绑定成功：王芳，班级 BT-2026-001「BT-2026-001 育婴员线上培训」的班主任。发送“帮助”查看你可以使用的命令。"
    with factory() as s:
        staff = s.scalar(select(Staff))
        (grant,) = s.scalars(select(StaffRole)).all()
        assert (staff.name, grant.role, grant.class_id) == ("王芳", "class_teacher", 1)
        assert s.scalar(select(BindCode.used_at)) is not None
        assert ledger_verify.verify(s).ok
    (again,) = chat.say(f"绑定 {code}", when=at("07:31"), sender="someone", group=None)
    assert "已经使用过" in again


def test_an_expired_or_wrong_code_is_refused(chat, factory):
    code = issue(factory, "teacher", days=1)
    (expired,) = chat.say(f"绑定 {code}", when=at("08:00"), sender="t2", group=None)
    assert "过期" in expired
    (wrong,) = chat.say("绑定 ABCD-EFGH", when=at("08:00"), sender="t2", group=None)
    assert "绑定码不正确" in wrong
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Staff)) == 0


def test_inspector_of_the_district_binds_a_new_group(factory, tmp_path):
    with factory() as s:
        create_class(s)
        s.commit()
    chat = Chat(factory, tmp_path)
    code = issue(factory, "inspector", scope="昆都仑区", name="李督查")
    assert "昆都仑区的督查人员" in chat.say(f"绑定 {code}", when=at("07:30"), sender="insp", group=None)[0]
    (reply,) = chat.say("绑定班级 BT-2026-001", when=at("07:40"), sender="insp", group="cid-new")
    assert reply.startswith("本群已绑定班级 BT-2026-001") and "上午 08:30–11:30" in reply
    with factory() as s:
        group = s.scalar(select(Group))
        assert (group.open_conversation_id, group.class_id, group.title) == ("cid-new", 1, "班级群")
        assert ledger_verify.verify(s).ok
    assert chat.say("绑定班级 BT-2026-001", when=at("07:41"), sender="insp",
                    group="cid-new") == ["本群已绑定班级 BT-2026-001，无需重复绑定。"]
    (second,) = chat.say("绑定班级 BT-2026-001", when=at("07:42"), sender="insp", group="cid-other")
    assert "已绑定了另一个群" in second


def test_group_binding_needs_a_role_in_that_class(factory, tmp_path):
    with factory() as s:
        mine = create_class(s, code="MINE", seed=1)
        create_class(s, code="OTHER", seed=2)
        add_staff(s, "teacher", "class_teacher", mine)
        s.commit()
    chat = Chat(factory, tmp_path)
    (reply,) = chat.say("绑定班级 OTHER", when=at("07:40"), sender="teacher", group="cid-x")
    assert "只有" in reply and "班主任" in reply
    (unknown,) = chat.say("绑定班级 NOPE", when=at("07:40"), sender="teacher", group="cid-x")
    assert unknown == "没有编号为 NOPE 的班级"
    (stranger,) = chat.say("绑定班级 MINE", when=at("07:40"), sender="stranger", group="cid-x")
    assert "还没有绑定身份" in stranger
    assert chat.say("绑定班级 MINE", when=at("07:41"), sender="teacher", group="cid-x")[0].startswith("本群已绑定")
    (private,) = chat.say("绑定班级 MINE", when=at("07:42"), sender="teacher", group=None)
    assert "班级群" in private


def test_unbound_person_in_a_bound_group_is_told_to_bind_in_private(chat):
    (reply,) = chat.say("签到", when=at("08:20"), sender="nobody")
    assert "单聊" in reply and "绑定 姓名 身份证号后6位" in reply


def test_unapproved_class_group_binding_says_records_do_not_count_yet(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, approve=False)
        add_staff(s, "teacher", "class_teacher", klass)
        s.commit()
    chat = Chat(factory, tmp_path)
    (reply,) = chat.say("绑定班级 BT-2026-001", when=at("07:41"), sender="teacher", group="cid-x")
    assert "尚未通过旗县区审核" in reply
