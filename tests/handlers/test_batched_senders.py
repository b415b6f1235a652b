"""The senders of a batch are read together (issue 13: one identity lookup per group and batch instead of
one per message). What a class notices: nothing — every check-in of a rush is answered as before, and a
message that unbinds a trainee, or binds one, counts for that sender's next message in the same batch."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import event, select, text, update

from bot.intake import GroupCommitter
from handlers import dispatch, identity
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.messages import Incoming, MessageEvent
from storage import ledger_verify
from storage.models import DingTalkIdentity, InboundMessage, OutboxMessage, Person, Punch

from .chat import TZ, add_staff, at, bind_group, bind_person, create_class, incoming, roster_of, say

HOLD = object()  # a unit that waits until the batch behind it is queued


@pytest.fixture
def names(factory) -> list[str]:
    """A class of five with its group; trainees 1-4 bound to u1-u4, trainee 5 not; a class teacher 'ct'."""
    with factory() as s:
        klass = create_class(s, size=5)
        bind_group(s, klass, "cid-class")
        people = roster_of(s, klass)
        for n, person in enumerate(people[:4], start=1):
            bind_person(s, person, f"u{n}")
        add_staff(s, "ct", "class_teacher", klass)
        s.commit()
        return [p.name for p in people]


def id_suffix(factory, name: str) -> str:
    with factory() as s:
        return s.scalar(select(Person.id_number).where(Person.name == name))[-6:]


def one_batch(factory, messages: list[Incoming]) -> None:
    """The messages through the bot's group committer as one batch (behind a unit that holds the thread
    until they are all queued), with the bot's ``prepare``."""
    dispatcher = Dispatcher(build_registry(), tz=TZ, optimistic=True)
    entered, gate = threading.Event(), threading.Event()

    def work(s, item):
        if item is HOLD:
            entered.set()
            gate.wait(30)
        else:
            dispatcher.dispatch(s, MessageEvent(item))

    committer = GroupCommitter(factory, work, prepare=dispatch.prepare)
    futures = [committer.submit(HOLD)]
    assert entered.wait(10)
    futures += [committer.submit(msg) for msg in messages]
    assert committer.queued == len(messages)
    gate.set()
    for future in futures:
        future.result(30)
    committer.shutdown()
    assert committer.transactions == 2  # the held unit alone, then the messages together


def answers(factory) -> dict[str, str]:
    """Each message's (first) reply by msgId."""
    with factory() as s:
        return {row.dedupe_key.split(":")[1]: json.loads(row.body)["text"] for row in s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reply:%:0")))}


def punched(factory) -> int:
    with factory() as s:
        return len(list(s.scalars(select(Punch))))


def test_R06_a_rush_of_check_ins_in_one_group_is_answered_as_before_with_one_lookup_of_its_senders(factory, names):
    lookups: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if statement.startswith("SELECT") and "FROM dingtalk_identities" in statement:
            lookups.append(statement)

    engine = factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        one_batch(factory, [incoming("签到", when=at("08:20"), sender=f"u{n}", msg_id=f"in-u{n}") for n in range(1, 5)])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    said = answers(factory)
    assert [said[f"in-u{n}"] for n in range(1, 5)] == ["签到成功 08:20（上午）"] * 4
    assert punched(factory) == 4
    assert len(lookups) == 1, lookups


def test_a_trainee_unbound_earlier_in_the_batch_cannot_check_in_later_in_it(factory, names):
    one_batch(factory, [incoming("签到", when=at("08:20"), sender="u2", msg_id="in-u2"),
                        incoming(f"解绑 {names[0]} 用了家人的钉钉账号", when=at("08:20"), sender="ct", msg_id="unbind"),
                        incoming("签到", when=at("08:21"), sender="u1", msg_id="in-u1"),
                        incoming("签到", when=at("08:21"), sender="u3", msg_id="in-u3")])
    said = answers(factory)
    assert said["unbind"].startswith(f"08:20 已解除学员 {names[0]} 的钉钉绑定")
    assert said["in-u1"].startswith("你还没有绑定身份")
    assert said["in-u2"] == "签到成功 08:20（上午）" and said["in-u3"] == "签到成功 08:21（上午）"
    assert punched(factory) == 2


def test_a_trainee_who_binds_in_the_1to1_chat_can_check_in_in_the_group_in_the_same_batch(factory, names):
    """(lookup() would find the enrollment of a stale unbound row too: the unbinding test is the one that
    needs the rows dropped; this one says binding mid-batch keeps working.)"""
    say(factory, "帮助", when=at("08:10"), sender="u5")  # u5 is known (an identity), not bound yet
    one_batch(factory, [incoming("签到", when=at("08:20"), sender="u1", msg_id="in-u1"),
                        incoming(f"绑定 {names[4]} {id_suffix(factory, names[4])}", when=at("08:20"), sender="u5",
                                 group=None, msg_id="bind"),
                        incoming("签到", when=at("08:21"), sender="u5", msg_id="in-u5")])
    said = answers(factory)
    assert said["bind"].startswith("绑定成功")
    assert said["in-u1"] == "签到成功 08:20（上午）" and said["in-u5"] == "签到成功 08:21（上午）"
    assert punched(factory) == 2


@pytest.mark.parametrize("write", ["a change not yet flushed", "a Core UPDATE", "a text() UPDATE"])
def test_a_sender_unbound_in_the_batchs_transaction_is_seen_unbound(factory, names, write):
    """Whatever way the write comes, the rows read for the batch are not used after it."""
    messages = [incoming("签到", when=at("08:20"), sender=f"u{n}") for n in (1, 2)]
    with factory() as s:  # rolled back: the write has no ledger event
        identity.prefetch(s, messages)
        if write == "a change not yet flushed":
            s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.sender_id == "u1")).person_id = None
        elif write == "a Core UPDATE":
            s.execute(update(DingTalkIdentity.__table__).where(DingTalkIdentity.sender_id == "u1").values(person_id=None))
        else:
            s.execute(text("UPDATE dingtalk_identities SET person_id = NULL WHERE sender_id = 'u1'"))
        found = identity.seen(s, messages[0])
        assert (found.person, found.enrollment) == (None, None)
        assert identity.seen(s, messages[1]).person.name == names[1]


def test_R06_R17_check_ins_after_the_group_is_bound_in_the_same_batch_count_in_that_class(factory):
    """The batch's raw messages are stored together before its units run (issue 13); a message that binds
    the group to its class still makes the check-ins after it, in the same batch, the class's: they are
    answered, and their messages belong to the class (its ledger chain) as they did when each was stored
    in its turn."""
    with factory() as s:
        klass = create_class(s, size=3)
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        add_staff(s, "ct", "class_teacher", klass)
        s.commit()
        code, class_id = klass.code, klass.id
    one_batch(factory, [incoming("签到", when=at("08:19"), sender="u1", msg_id="early"),
                        incoming(f"绑定班级 {code}", when=at("08:19"), sender="ct", msg_id="bind"),
                        incoming("签到", when=at("08:20"), sender="u1", msg_id="in-u1"),
                        incoming("签到", when=at("08:20"), sender="u2", msg_id="in-u2")])
    said = answers(factory)
    assert said["early"].startswith("本群还没有绑定班级")
    assert said["bind"].startswith(f"本群已绑定班级 {code}")
    assert said["in-u1"] == said["in-u2"] == "签到成功 08:20（上午）"
    assert punched(factory) == 2
    with factory() as s:
        belongs = dict(s.execute(select(InboundMessage.msg_id, InboundMessage.class_id)).all())
        assert belongs == {"early": None, "bind": None, "in-u1": class_id, "in-u2": class_id}
        assert ledger_verify.verify(s).ok


def test_R06_redeliveries_in_a_batch_do_nothing_whether_stored_before_it_or_earlier_in_it(factory, names):
    assert say(factory, "签到", when=at("08:19"), sender="u1", msg_id="m1") == ["签到成功 08:19（上午）"]
    one_batch(factory, [incoming("签到", when=at("08:19"), sender="u1", msg_id="m1"),
                        incoming("签到", when=at("08:20"), sender="u2", msg_id="m2"),
                        incoming("签到", when=at("08:20"), sender="u2", msg_id="m2"),
                        incoming("签到", when=at("08:21"), sender="u3", msg_id="m3")])
    with factory() as s:
        replies = [row.dedupe_key.split(":")[1] for row in s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reply:%")).order_by(OutboxMessage.id))]
        stored = list(s.scalars(select(InboundMessage.msg_id).order_by(InboundMessage.id)))
        assert ledger_verify.verify(s).ok
    assert replies == ["m1", "m2", "m3"]
    assert stored == ["m1", "m2", "m3"]
    assert punched(factory) == 3
