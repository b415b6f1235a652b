"""The bot's units of work run a message's handler without a savepoint (issue 13: two statements fewer per
message); what a class notices stays the same: a refusal is answered, and one that comes after the
handler wrote leaves nothing half-written, nor does a failing handler — alone or in a batch."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import event, func, select

from bot.intake import GroupCommitter
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.errors import Refusal
from handlers.messages import MessageEvent
from handlers.registry import Registry
from storage import ledger_verify
from storage.models import InboundMessage, OutboxMessage, Punch
from tests.handlers.chat import TZ, at, incoming
from tests.handlers.test_dispatch import approve, punches, world  # noqa: F401 (fixture)


def run(factory, registry, messages) -> Dispatcher:
    """The messages through the bot's group committer (one thread), as the bot does; its dispatcher."""
    dispatcher = Dispatcher(registry, tz=TZ, optimistic=True)
    committer = GroupCommitter(factory, lambda s, msg: dispatcher.dispatch(s, MessageEvent(msg)))
    futures = [committer.submit(msg) for msg in messages]
    for future in futures:
        future.result(30)
    committer.shutdown()
    return dispatcher


def replies(factory) -> list[str]:
    with factory() as s:
        return [json.loads(body)["text"] for body in s.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id))]


def test_R06_the_bots_check_ins_take_no_savepoint_and_a_second_one_is_refused_at_once(world):  # noqa: F811
    approve(world)
    engine = world.kw["bind"]
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        dispatcher = run(world, build_registry(), [incoming("签到", when=at("08:20"), msg_id="m1"),
                                                   incoming("签到", when=at("08:21"), msg_id="m2")])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert replies(world) == ["签到成功 08:20（上午）", "今天上午已签到（08:20），不重复记录。"]
    assert not [st for st in sent if st.startswith("SAVEPOINT")]
    assert dispatcher.counters["received"] == 2  # the refusal wrote nothing: neither message ran twice
    assert len(punches(world)) == 1
    with world() as s:
        assert ledger_verify.verify(s).ok


def test_R17_a_refusal_after_a_write_or_a_failure_leaves_nothing_half_written_beside_the_others(world):  # noqa: F811
    approve(world)

    def half(refuse: bool):
        def handler(ctx):
            ctx.session.add(Punch(enrollment_id=1, day=ctx.now.date(), session_id=1, kind="in", at=ctx.now,
                                  source="half"))
            ctx.session.flush()
            if refuse:
                raise Refusal("不能签到")
            raise RuntimeError("boom")
        return handler

    for refuse in (True, False):
        registry = Registry(dataclasses.replace(c, func=half(refuse)) if c.word == "签到" else c
                            for c in build_registry().commands)
        dispatcher = run(world, registry, [incoming("帮助", when=at("08:19"), msg_id=f"help-{refuse}"),
                                           incoming("签到", when=at("08:20"), msg_id=f"in-{refuse}"),
                                           incoming("签退", when=at("08:21"), msg_id=f"out-{refuse}")])
        # the 签到 ran again with a savepoint (and its batch's others alone): each message counts once; the 签退
        # is refused (no check-in kept)
        assert dispatcher.counters["received"] == 3
        assert (dispatcher.counters["refused"], dispatcher.counters["failed"]) == ((2, 0) if refuse else (1, 1))
    said = replies(world)
    assert sum(t == "不能签到" for t in said) == 1 and sum(t.startswith("抱歉") for t in said) == 1
    assert len(said) == 6  # every message answered once
    assert punches(world) == []
    with world() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 6
        assert ledger_verify.verify(s).ok
