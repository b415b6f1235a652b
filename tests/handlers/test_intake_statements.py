"""Intake that keeps up (issue 13): a 签到 is at most ten SQL statements in its unit of work, with one
savepoint (the handler's: a refusal leaves nothing half-written) and none around storing the message."""

from __future__ import annotations

from sqlalchemy import event, func, select

from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.messages import MessageEvent
from storage import ledger_verify
from storage.models import InboundMessage, Punch

from .chat import TZ, at, bind_group, bind_person, create_class, incoming, roster_of

MAX_STATEMENTS = 10
BEGINS = ("PRAGMA query_only", "BEGIN")  # how a SQLite writer starts; psycopg's BEGIN is no cursor statement


def test_R06_a_check_in_is_at_most_ten_statements_and_one_savepoint(factory):
    with factory() as s:
        klass = create_class(s, size=3)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        s.commit()
    dispatcher = Dispatcher(build_registry(), tz=TZ)
    engine = factory.kw["bind"]
    sent: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _many):
        if not statement.startswith(BEGINS):
            sent.append(statement)

    def say(sender, hhmm, msg_id=None):
        with factory.begin() as s:
            outcome = dispatcher.dispatch(s, MessageEvent(incoming("签到", when=at(hhmm), sender=sender,
                                                                   msg_id=msg_id)))
        return [r.text for r in outcome.replies]

    assert say("u1", "08:20") == ["签到成功 08:20（上午）"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert say("u2", "08:21", msg_id="m-u2") == ["签到成功 08:21（上午）"]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(sent) <= MAX_STATEMENTS, "\n".join(sent)
    assert sum(st.startswith("SAVEPOINT") for st in sent) == 1, "\n".join(sent)
    # the same behaviour: a second check-in is refused with the first one's time, a redelivery does nothing
    assert say("u2", "08:25") == ["今天上午已签到（08:21），不重复记录。"]
    assert say("u2", "08:21", msg_id="m-u2") == []
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Punch)) == 2
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 3
        assert ledger_verify.verify(s).ok
