"""Issue 9 item 4: guessing a trainee's ID digits to take over their binding.

The attack: the per-sender lock (5 failures an hour) was the only limit, and DingTalk accounts outside
the organisation are free, so ~100 accounts cover the ~500 candidates left once a birth date is known;
and the answer for the right digits of an already-bound trainee differed from a wrong guess. Now tries
are also counted per trainee name across all senders — the name is locked and the class teacher told —
and a right guess for a bound trainee is answered exactly like a wrong one.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage import ledger
from storage.models import DingTalkIdentity, OutboxMessage
from tests.handlers.chat import Chat, add_staff, at, bind_group, create_class, people

ROWS = people(4)
VICTIM, SUFFIX = ROWS[1][0], ROWS[1][2][-6:]


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=4)
        bind_group(s, klass, "cid-class")
        teacher = add_staff(s, "ct", "class_teacher", klass, name="王芳")
        s.flush()
        ident = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.staff_id == teacher.id))
        ident.staff_user_id = "wang"  # inside the organisation: can be sent to 1:1
        ledger.append(s, "identity.updated", actor="test", source="test", subject=ident)
        s.commit()
    return Chat(factory, tmp_path)


def guesses(count: int) -> list[str]:
    """Wrong six-digit suffixes (never the victim's)."""
    return [f"{n:06d}" for n in range(count + 1) if f"{n:06d}" != SUFFIX][:count]


def bound_to(factory, sender: str):
    with factory() as s:
        return s.scalar(select(DingTalkIdentity.person_id).where(DingTalkIdentity.sender_id == sender))


def notices(factory) -> list[dict]:
    with factory() as s:
        return [json.loads(r.body) for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "oto"))]


def test_many_accounts_cannot_keep_guessing_one_trainee(chat, factory):
    replies = []
    for n, digits in enumerate(guesses(10)):  # ten fresh accounts, one guess each: no sender lock applies
        (reply,) = chat.say(f"绑定 {VICTIM} {digits}", when=at(f"08:{n:02d}"), sender=f"outsider-{n}", group=None)
        replies.append(reply)
    assert all("没有找到" in r for r in replies[:9])
    assert "该姓名的绑定已暂停到 09:09" in replies[9]
    # the right digits from an eleventh account are refused too: the name is locked
    (reply,) = chat.say(f"绑定 {VICTIM} {SUFFIX}", when=at("08:30"), sender="outsider-99", group=None)
    assert "该姓名的绑定已暂停到 09:09" in reply and bound_to(factory, "outsider-99") is None
    # and the class teacher was told, once, 1:1
    [notice] = notices(factory)
    assert notice["user_ids"] == ["wang"] and VICTIM in notice["text"] and "10 个钉钉账号" in notice["text"]
    assert SUFFIX not in notice["text"]


def test_a_name_on_no_roster_locks_the_same_way_and_tells_no_one(chat, factory):
    for n, digits in enumerate(guesses(10)):
        (reply,) = chat.say(f"绑定 查无此人 {digits}", when=at(f"08:{n:02d}"), sender=f"x-{n}", group=None)
    assert "该姓名的绑定已暂停" in reply  # the same as for a real trainee: the lock reveals nothing
    assert notices(factory) == []


def test_right_digits_of_a_bound_trainee_look_exactly_like_a_wrong_guess(chat, factory):
    assert chat.say(f"绑定 {VICTIM} {SUFFIX}", when=at("07:50"), sender="real", group=None)[0].startswith("绑定成功")
    (right,) = chat.say(f"绑定 {VICTIM} {SUFFIX}", when=at("07:51"), sender="attacker", group=None)
    (wrong,) = chat.say(f"绑定 {VICTIM} 000000", when=at("07:52"), sender="attacker2", group=None)
    assert right == wrong
    assert bound_to(factory, "attacker") is None and bound_to(factory, "real") is not None
