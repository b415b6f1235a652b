"""Group commit (issue 13): the messages that arrive while a transaction commits are committed together
in the next one, and each is ACKed only after that commit. What a class notices: nobody's check-in is
lost or held back by someone else's message that fails, and a message the bot did not commit is never
ACKed, so a copy DingTalk sends again is recorded — once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event

from bot import intake
from bot.service import BotService
from storage import ledger_verify
from storage.models import InboundMessage, Punch

from .replies import replies
from .test_bot import bot, classroom, clock, count, fast, roster_name  # noqa: F401 (fixtures)


class Held:
    """The bot's first unit of work waits until ``release()``: the messages pushed meanwhile queue up
    for the next transaction. ``dispatched`` lists the msgIds in the order their units ran; ``fail``
    names a msgId whose unit raises after writing its rows (as when the database refuses the last one);
    stored raw instead (``bot.stream``), it goes in."""

    def __init__(self, service: BotService, monkeypatch: pytest.MonkeyPatch, fail: set[str] = frozenset()) -> None:
        self.service, self.fail = service, set(fail)
        self.entered, self._gate = threading.Event(), threading.Event()
        self.dispatched: list[str] = []
        real = service.dispatcher.dispatch

        def dispatch(s, event_):
            msg_id = event_.message.msg_id
            self.dispatched.append(msg_id)
            if not self.entered.is_set():
                self.entered.set()
                self._gate.wait(30)
            outcome = real(s, event_)
            if msg_id in self.fail and event_.message.msgtype != "unparsed":  # stored raw, it goes in
                raise RuntimeError("the database refused the unit's last statement")
            return outcome

        monkeypatch.setattr(service.dispatcher, "dispatch", dispatch)

    def wait_queued(self, n: int) -> None:
        assert self.entered.wait(10), "the first unit never started"
        deadline = time.monotonic() + 10
        while self.service.committer.queued < n:
            assert time.monotonic() < deadline, f"{self.service.committer.queued} of {n} messages queued"
            time.sleep(0.01)

    def release(self) -> None:
        self._gate.set()


def checked_in(sim, group) -> list[str]:
    return sorted(name or text.split("：", 1)[0] for name, text, _ in replies(sim, group) if "签到成功" in text)


def test_R06_a_failing_message_in_a_batch_neither_loses_nor_holds_back_the_others_check_ins(
        sim, bot, classroom, factory, monkeypatch):
    group, users = classroom
    service = bot(sender_options=fast(60))
    held = Held(service, monkeypatch)  # before the first message: its unit must be the one held
    first = sim.say(users[0], "签到", group, wait=False)
    held.wait_queued(0)
    ids = [sim.say(user, "签到", group, wait=False) for user in users[1:5]]
    held.fail = {ids[1]}  # 学员3's unit fails in the middle of the batch of four
    held.wait_queued(4)
    held.release()
    acks = sim.wait_for_acks(5)
    assert sorted((a.msg_id, a.code) for a in acks) == sorted((m, 200) for m in [first, *ids])
    sim.wait_until(lambda: len(replies(sim, group)) >= 5, timeout=30, what="five replies")
    assert checked_in(sim, group) == sorted(roster_name(factory, n) for n in (1, 2, 4, 5))
    answered = [text for _, text, _ in replies(sim, group) if "签到成功" not in text]
    assert len(answered) == 1  # 学员3 is told, once, that the message was not handled
    assert count(factory, Punch) == 4
    assert count(factory, InboundMessage) == 5  # the failing message is kept (raw), not dropped
    assert count(factory, InboundMessage, InboundMessage.msgtype == "unparsed") == 1
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_messages_that_arrive_together_are_committed_together_and_each_acked_once_after_the_commit(
        sim, bot, classroom, factory, engine, monkeypatch):
    group, users = classroom
    service = bot(send=False)
    held = Held(service, monkeypatch)
    commits: list[tuple[list[str], set[str]]] = []  # (msgIds in the transaction, msgIds ACKed at its COMMIT)
    done = 0

    def on_commit(_conn):
        nonlocal done
        if len(held.dispatched) > done:
            commits.append((held.dispatched[done:], {a.msg_id for a in sim.acks}))
            done = len(held.dispatched)

    event.listen(engine, "commit", on_commit)
    try:
        first = sim.say(users[0], "签到", group, wait=False)
        held.wait_queued(0)
        ids = [sim.say(user, "签到", group, wait=False) for user in users[1:6]]
        held.wait_queued(5)
        held.release()
        acks = sim.wait_for_acks(6)
    finally:
        event.remove(engine, "commit", on_commit)
    assert [sorted(ids_) for ids_, _ in commits] == [[first], sorted(ids)]  # the five queued: one transaction
    assert all(not (set(ids_) & acked) for ids_, acked in commits)  # nobody ACKed before its commit
    assert sorted(a.msg_id for a in acks) == sorted([first, *ids]) and {a.code for a in acks} == {200}
    assert count(factory, Punch) == 6


def test_a_crash_before_the_commit_leaves_the_messages_unacked_and_their_redelivery_is_recorded_once(
        sim, bot, classroom, factory, monkeypatch):
    group, users = classroom
    crashed = bot(send=False)
    held = Held(crashed, monkeypatch)
    ids = [sim.say(users[0], "签到", group, wait=False)]
    held.wait_queued(0)
    ids += [sim.say(user, "签到", group, wait=False) for user in users[1:3]]
    held.wait_queued(2)
    crashed.stream.stop()  # the process dies before the commit: its connection is gone, no ACK sent
    assert sim.acks == []
    assert count(factory, InboundMessage) == 0 and count(factory, Punch) == 0
    bot(sender_options=fast(60))  # restarted; DingTalk pushes the messages again
    for msg_id in ids:
        sim.redeliver(msg_id)
    acks = sim.wait_for_acks(3)
    assert sorted((a.msg_id, a.code) for a in acks) == sorted((m, 200) for m in ids)
    sim.wait_until(lambda: len(replies(sim, group)) >= 3, timeout=30, what="three replies")
    held.release()  # the dead process's stuck units would now find every message stored: nothing twice
    crashed.committer.shutdown()
    assert count(factory, InboundMessage) == 3 and count(factory, Punch) == 3
    assert checked_in(sim, group) == sorted(roster_name(factory, n) for n in (1, 2, 3))


def _recording_committer(factory, gate: threading.Event | None = None, max_batch: int = intake.MAX_BATCH):
    """A committer whose units record their transaction; the first waits for ``gate`` if given."""
    batches: dict[int, list[int]] = {}
    entered = threading.Event()

    def work(s, item: int) -> None:
        batch = s.info.setdefault("batch", len(batches))  # a session per transaction (ids of freed ones recur)
        batches.setdefault(batch, []).append(item)
        if gate is not None and not entered.is_set():
            entered.set()
            assert gate.wait(30)

    return intake.GroupCommitter(factory, work, max_batch=max_batch), batches, entered


def test_a_burst_s_batch_also_takes_the_messages_still_coming_while_it_gathers(factory, monkeypatch):
    """At 08:30 the messages come faster than one commit: a batch that found several waiting waits a moment
    (``LINGER``) for more, so the burst goes in fewer, larger transactions (issue 13)."""
    monkeypatch.setattr(intake, "LINGER", 60.0)
    gate = threading.Event()
    committer, batches, entered = _recording_committer(factory, gate, max_batch=4)
    try:
        first = committer.submit(0)
        assert entered.wait(10)
        waiting = [committer.submit(1), committer.submit(2)]
        gate.set()
        first.result(10)
        late = [committer.submit(3), committer.submit(4)]  # while the batch of 1 and 2 gathers
        for future in waiting + late:
            assert future.result(10) is None
    finally:
        committer.shutdown()
    assert sorted(batches.values()) == [[0], [1, 2, 3, 4]]


def test_a_message_alone_is_committed_without_waiting_for_others(factory, monkeypatch):
    """At a quiet moment nothing lingers: a lone 签到 is committed (and ACKed) at once."""
    monkeypatch.setattr(intake, "LINGER", 60.0)
    committer, batches, _ = _recording_committer(factory)
    try:
        assert committer.submit(7).result(10) is None  # well before a 60 s linger would end
    finally:
        committer.shutdown()
    assert list(batches.values()) == [[7]]
