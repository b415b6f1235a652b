"""The outbox sender against the local simulator: what users receive, once, by which channel.

The sender's clock and the simulator's are one injected clock, so "90 minutes later" (sessionWebhook
expiry) and "a minute later" (the group budget) take no time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.gates import SharedPacer
from bot.openapi import Deferred, OpenApi
from bot.outbox import OutboxSender
from bot.simulator import DingTalkSimulator, Group, User
from handlers import outbox as queue
from handlers.messages import Incoming, Reply
from storage.files import FileStore
from storage.models import JobClaim, OutboxMessage
from storage.types import utcnow

from .conftest import RecordingHandler

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3


class Clock:
    """Now, as the test says; starts a little after the real now so freshly queued rows are due."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0) + timedelta(seconds=5)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += timedelta(**delta)


@pytest.fixture
def clock(sim: DingTalkSimulator) -> Clock:
    clock = Clock()
    sim.clock = clock
    return clock


def make_api(sim: DingTalkSimulator) -> OpenApi:
    return OpenApi(sim.endpoint, sim.client_id, sim.client_secret, timeout=2, attempts=2, backoff=0.01,
                   max_backoff=0.02, sleep=lambda _: None)


@pytest.fixture
def api(sim: DingTalkSimulator) -> Iterator[OpenApi]:
    with make_api(sim) as client:
        yield client


@pytest.fixture
def files(tmp_path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def sender(factory, api, files, clock) -> OutboxSender:
    return OutboxSender(factory, api, files, clock=clock)


@pytest.fixture
def chat(sim: DingTalkSimulator, stream_client) -> RecordingHandler:
    """The bot's stream connection: users' messages reach it (and get a sessionWebhook)."""
    handler = RecordingHandler()
    stream_client(handler)
    return handler


def incoming(sim: DingTalkSimulator, msg_id: str) -> Incoming:
    """What the bot makes of a pushed message (built by hand from the callback data)."""
    p = sim.payload(msg_id)
    content = p.get("content") or {}
    codes = (content["downloadCode"],) if p["msgtype"] == "picture" else ()
    return Incoming(
        msg_id=p["msgId"], conversation_id=p["conversationId"], conversation_type=p["conversationType"],
        sender_id=p["senderId"], sender_staff_id=p.get("senderStaffId"), sender_nick=p["senderNick"],
        msgtype=p["msgtype"], text=(p.get("text") or {}).get("content", "").strip(), image_codes=codes,
        created_at=datetime.fromtimestamp(p["createAt"] / 1000, timezone.utc), robot_code=p["robotCode"],
        session_webhook=p["sessionWebhook"],
        session_webhook_expires=datetime.fromtimestamp(p["sessionWebhookExpiredTime"] / 1000, timezone.utc),
        conversation_title=p.get("conversationTitle", ""), raw=p)


def reply_to(sim, factory, user: User, text: str, answer: str, group: Group | None = None) -> Incoming:
    """``user`` says ``text``; the bot's unit of work queues ``answer`` (with an @ in a group)."""
    msg = incoming(sim, sim.say(user, text, group))
    with factory.begin() as s:
        queue.queue_replies(s, msg, [Reply(answer, at_sender=group is not None)])
    return msg


def queue_group(factory, group: Group, texts: list[str], robot_code: str | None, prefix: str = "report") -> None:
    with factory.begin() as s:
        for n, text in enumerate(texts):
            queue.queue_group_message(s, group.conversation_id, text, f"{prefix}:{group.conversation_id}:{n}",
                                      robot_code, due=utcnow())


def rows(factory) -> list[OutboxMessage]:
    with factory() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def texts(sim: DingTalkSimulator, target=None, **kw) -> list[str]:
    return [s.text for s in sim.sent(target, **kw)]


# -- replies -------------------------------------------------------------------------------------
def test_a_reply_goes_through_the_session_webhook_while_it_is_valid(sim, factory, sender, clock, chat):
    trainee = sim.add_user("张三")
    klass = sim.add_group("电工班", [trainee])
    reply_to(sim, factory, trainee, "签到", "签到成功 08:52", klass)

    assert sender.run_once() == 1

    [sent] = sim.sent(klass)
    assert (sent.channel, sent.text, sent.at_user_ids) == ("webhook", "签到成功 08:52", (trainee.staff_id,))
    [row] = rows(factory)
    assert (row.status, row.sent_at, row.attempts) == ("sent", clock.now, 0)
    assert sender.run_once() == 0  # nothing is sent twice


def test_a_reply_uses_the_group_api_once_the_webhook_is_about_to_expire(sim, factory, sender, clock, chat):
    trainee = sim.add_user("张三")
    klass = sim.add_group("电工班", [trainee])
    reply_to(sim, factory, trainee, "签到", "签到成功 08:52", klass)
    clock.advance(minutes=89, seconds=30)  # DingTalk would still take it, but not for long

    sender.run_once()

    [sent] = sim.sent(klass)
    assert (sent.channel, sent.text) == ("group", "签到成功 08:52")
    assert sim.requests_to("/robot/sendBySession") == []


def test_a_webhook_that_died_early_falls_back_to_the_group_api(sim, factory, sender, chat):
    trainee = sim.add_user("张三")
    klass = sim.add_group("电工班", [trainee])
    reply_to(sim, factory, trainee, "签到", "签到成功 08:52", klass)
    sim.expire_sessions()

    sender.run_once()

    assert [(s.channel, s.text) for s in sim.sent(klass)] == [("group", "签到成功 08:52")]
    assert rows(factory)[0].status == "sent"


def test_a_private_reply_falls_back_to_batch_send(sim, factory, sender, clock, chat):
    trainee = sim.add_user("李四")
    reply_to(sim, factory, trainee, "我的", "本周已签到 4 天")
    clock.advance(hours=3)  # also past the access token's life on DingTalk's side

    sender.run_once()

    [sent] = sim.sent(user=trainee)
    assert (sent.channel, sent.text, sent.user) == ("oto", "本周已签到 4 天", trainee)
    [call] = sim.requests_to("/v1.0/robot/oToMessages/batchSend")
    assert call.json["userIds"] == [trainee.staff_id]


def test_a_private_reply_to_an_outsider_is_dead_once_the_webhook_expired(sim, factory, sender, clock, chat, caplog):
    guest = sim.add_user("访客", in_org=False)
    reply_to(sim, factory, guest, "帮助", "请先绑定")
    clock.advance(hours=2)

    with caplog.at_level(logging.ERROR, logger="dingclass.outbox"):
        sender.run_once()

    [row] = rows(factory)
    assert row.status == "dead" and row.attempts == 1
    assert "no staffId" in row.last_error
    assert row.dedupe_key in caplog.text
    assert sim.sent(user=guest) == []


# -- the group budget ----------------------------------------------------------------------------
def test_the_group_budget_sends_a_burst_then_one_every_3_s_and_never_21_in_a_minute(sim, factory, sender, clock):
    klass, other = sim.add_group("电工班"), sim.add_group("焊工班")
    queue_group(factory, klass, [f"通知{n:02d}" for n in range(30)], sim.robot_code)
    queue_group(factory, other, ["焊工班通知"], sim.robot_code)
    start = clock.now

    sender.run_once()

    assert texts(sim, klass) == [f"通知{n:02d}" for n in range(10)]  # the burst: half the budget
    assert texts(sim, other) == ["焊工班通知"]  # another group is not held up
    statuses = [r.status for r in rows(factory)]
    assert statuses.count("queued") == 20 and statuses.count("dead") == 0

    for _ in range(120):  # two minutes, a second at a time
        clock.advance(seconds=1)
        sender.run_once()

    assert texts(sim, klass) == [f"通知{n:02d}" for n in range(30)]  # all, in order, once
    seconds = [(datetime.fromtimestamp(m.at / 1000, timezone.utc) - start).total_seconds() for m in sim.sent(klass)]
    assert max(sum(1 for t in seconds if w <= t < w + 60) for w in range(0, 120)) == 20
    assert seconds[10:20] == [3.0 * n for n in range(1, 11)]  # then one every 60/20 s
    assert {r.status for r in rows(factory)} == {"sent"}


def test_a_group_budget_spent_puts_off_the_groups_rows_in_one_go(sim, factory, sender, clock):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, [f"通知{n:02d}" for n in range(14)], sim.robot_code)

    assert sender.run_once() == 10
    assert sender.run_once() == 0  # nothing else may go now

    waiting = [r for r in rows(factory) if r.status == "queued"]
    assert {r.next_attempt_at for r in waiting} == {clock.now + timedelta(seconds=3)}
    assert {r.attempts for r in waiting} == {0}


# -- failures ------------------------------------------------------------------------------------
def test_a_row_that_keeps_failing_is_dead_after_max_attempts(sim, factory, api, files, clock, caplog):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["今日统计"], sim.robot_code)
    sim.faults.fail_next("/v1.0/robot/groupMessages/send", status=503, times=None)
    sender = OutboxSender(factory, api, files, clock=clock, max_attempts=3)

    seen = []
    with caplog.at_level(logging.WARNING, logger="dingclass.outbox"):
        for _ in range(3):
            assert sender.run_once() == 1
            [row] = rows(factory)
            seen.append((row.status, row.attempts))
            if row.status == "queued":
                assert row.next_attempt_at > clock.now
                assert sender.run_once() == 0  # not due yet
            clock.advance(hours=1)

    assert seen == [("queued", 1), ("queued", 2), ("dead", 3)]
    [row] = rows(factory)
    assert "503" in row.last_error and "ServiceUnavailable" in row.last_error
    [dead_log] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert row.dedupe_key in dead_log.getMessage() and "ServiceUnavailable" in dead_log.getMessage()
    assert "今日统计" not in caplog.text  # message text stays out of the logs
    assert sim.sent(klass) == []

    sim.faults.clear()
    clock.advance(hours=1)
    assert sender.run_once() == 0  # the dead stay dead


def test_an_error_that_cannot_succeed_is_dead_at_once(sim, factory, sender):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["今日统计"], "no-such-robot")

    assert sender.run_once() == 1

    [row] = rows(factory)
    assert (row.status, row.attempts) == ("dead", 1)
    assert "invalidParameter.robotCode" in row.last_error
    assert len(sim.requests_to("/v1.0/robot/groupMessages/send")) == 1


def test_a_transient_failure_is_retried_later_and_then_delivered(sim, factory, sender, clock):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["今日统计"], sim.robot_code)
    sim.faults.fail_next("/v1.0/robot/groupMessages/send", status=500, times=2)  # both in-call attempts

    sender.run_once()
    [row] = rows(factory)
    assert (row.status, row.attempts) == ("queued", 1) and "500" in row.last_error

    clock.advance(minutes=1)
    sender.run_once()
    assert texts(sim, klass) == ["今日统计"]
    [row] = rows(factory)
    assert row.status == "sent" and row.last_error is None


# -- never twice ---------------------------------------------------------------------------------
def test_a_restarted_sender_sends_only_what_was_still_queued(sim, factory, files, clock):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["一", "二", "三"], sim.robot_code, prefix="before")
    with make_api(sim) as api:
        assert OutboxSender(factory, api, files, clock=clock).run_once() == 3
    queue_group(factory, klass, ["四", "五"], sim.robot_code, prefix="after")  # queued while "down"

    with make_api(sim) as api:  # a new process: new client, new sender, same database
        restarted = OutboxSender(factory, api, files, clock=clock)
        assert restarted.run_once() == 2
        assert restarted.run_once() == 0

    assert texts(sim, klass) == ["一", "二", "三", "四", "五"]


def run_concurrently(sim, factory, files, clock, senders: int = 2, **options) -> list[int]:
    """``senders`` senders, each in its own thread with its own client, drain the outbox together
    (each until it finds nothing to do three times running); how many rows each handled."""
    start = threading.Barrier(senders)
    handled: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with make_api(sim) as api:
                sender = OutboxSender(factory, api, files, clock=clock, **options)
                start.wait()
                total = idle = 0
                while idle < 3:  # a claim can find the group held by the other sender's claim: look again
                    n = sender.run_once(limit=5)
                    total, idle = total + n, 0 if n else idle + 1
                    if not n:
                        time.sleep(0.05)
                handled.append(total)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(handled) == senders
    return handled


def test_two_senders_at_once_deliver_every_row_exactly_once(sim, factory, files, clock):
    groups = [sim.add_group(f"班级{g}") for g in range(4)]
    for g, group in enumerate(groups):
        queue_group(factory, group, [f"班级{g}-{n:02d}" for n in range(15)], sim.robot_code)
    sim.faults.slow("/v1.0/robot/groupMessages/send", 0.005)  # so the two senders overlap

    handled = run_concurrently(sim, factory, files, clock, burst=20)

    assert sum(handled) == 60 and all(handled)  # both took part
    sent = texts(sim)
    assert sorted(sent) == sorted(f"班级{g}-{n:02d}" for g in range(4) for n in range(15))
    assert len(sent) == len(set(sent)) == 60
    assert {r.status for r in rows(factory)} == {"sent"}


def test_two_senders_at_once_keep_the_group_budget_together(sim, factory, files, clock):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, [f"通知{n:02d}" for n in range(30)], sim.robot_code)
    sim.faults.slow("/v1.0/robot/groupMessages/send", 0.005)

    run_concurrently(sim, factory, files, clock, burst=20)

    sent = texts(sim, klass)
    assert sent == [f"通知{n:02d}" for n in range(20)]  # one send to a group at a time: in order
    assert [r.status for r in rows(factory)].count("queued") == 10


def test_a_group_row_waits_while_an_older_one_of_its_group_is_being_claimed(sim, factory, files, clock):
    """PostgreSQL's SKIP LOCKED passes over a row another sender holds in its claim; the next row of
    the same group must not overtake it (a group's messages arrive in the order they were queued)."""
    if factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("row locks taken by another sender's claim exist only on PostgreSQL")
    klass, other = sim.add_group("电工班"), sim.add_group("焊工班")
    queue_group(factory, klass, ["通知00", "通知01"], sim.robot_code)
    queue_group(factory, other, ["另一班"], sim.robot_code, prefix="other")
    first = rows(factory)[0]
    with factory.begin() as held, make_api(sim) as api:  # another sender, mid-claim on 通知00
        held.scalars(select(OutboxMessage).where(OutboxMessage.id == first.id).with_for_update()).one()
        OutboxSender(factory, api, files, clock=clock).run_once(limit=5)
    assert texts(sim, klass) == [] and texts(sim, other) == ["另一班"]

    with make_api(sim) as api:
        OutboxSender(factory, api, files, clock=clock).run_once(limit=5)
    assert texts(sim, klass) == ["通知00", "通知01"]


# -- downloads -----------------------------------------------------------------------------------
def test_a_download_row_stores_the_picture_in_the_file_store(sim, factory, api, files, clock, chat):
    trainee = sim.add_user("王五")
    msg = incoming(sim, sim.send_picture(trainee, PNG))
    with factory.begin() as s:
        queue.queue_downloads(s, msg)
    stored = []
    sender = OutboxSender(factory, api, files, clock=clock,
                          on_download=lambda s, body, sha: stored.append((body["msg_id"], sha)))

    assert sender.run_once() == 1

    [(msg_id, sha)] = stored
    assert msg_id == msg.msg_id and files.get(sha) == PNG
    [row] = rows(factory)
    assert row.status == "sent" and row.kind == "download"


def test_a_failing_download_hook_leaves_the_row_queued(sim, factory, api, files, clock, chat):
    trainee = sim.add_user("王五")
    msg = incoming(sim, sim.send_picture(trainee, PNG))
    with factory.begin() as s:
        queue.queue_downloads(s, msg)

    def broken(s, body, sha):
        raise RuntimeError("photo handler failed")

    OutboxSender(factory, api, files, clock=clock, on_download=broken).run_once()

    [row] = rows(factory)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "RuntimeError: photo handler failed" in row.last_error


# -- loops ---------------------------------------------------------------------------------------
def test_run_forever_delivers_until_stopped_and_flush_empties_the_queue(sim, factory, sender):
    klass = sim.add_group("电工班")
    stop = threading.Event()
    loop = threading.Thread(target=sender.run_forever, args=(stop,), kwargs={"idle_sleep": 0.02})
    loop.start()
    try:
        queue_group(factory, klass, ["上课提醒"], sim.robot_code)
        sim.wait_for_sent(1, klass)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()

    queue_group(factory, klass, ["下课提醒", "明日预告"], sim.robot_code, prefix="later")
    assert sender.flush(timeout=10) == 2
    assert texts(sim, klass) == ["上课提醒", "下课提醒", "明日预告"]


def test_a_sender_steps_aside_while_the_intake_is_busy_and_delivers_once_it_is_not_or_after_a_while(
        sim, factory, sender):
    klass = sim.add_group("电工班")
    busy = threading.Event()
    busy.set()
    asked = threading.Event()

    def intake_busy() -> bool:
        asked.set()
        return busy.is_set()

    stop = threading.Event()
    loop = threading.Thread(target=sender.run_forever, args=(stop,), kwargs={"idle_sleep": 0.02, "busy": intake_busy})
    loop.start()
    try:
        queue_group(factory, klass, ["上课提醒"], sim.robot_code)
        assert asked.wait(10)
        sim.wait_for_sent(1, klass)  # busy all along: it steps aside for a while only, never for good
        busy.clear()
        queue_group(factory, klass, ["下课提醒"], sim.robot_code, prefix="later")
        sim.wait_for_sent(2, klass)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert texts(sim, klass) == ["上课提醒", "下课提醒"]


def test_no_database_lock_is_held_while_dingtalk_answers(sim, factory, api, files, clock):
    """While a send is in flight the bot must be able to commit a message (on SQLite a held write
    lock would make it fail after the busy timeout, and a bot message is never redelivered)."""
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["今日统计"], sim.robot_code)
    committed_during_send = []
    real_send = api.send_group

    def send_while_the_bot_writes(*args, **kwargs):
        with factory.begin() as s:  # what a message's unit of work does meanwhile
            s.add(JobClaim(job="probe", scope="x", period="1", claimed_by="bot"))
        with factory() as s:
            committed_during_send.append(s.scalar(select(func.count()).select_from(JobClaim)))
            committed_during_send.append(s.get(OutboxMessage, 1).status)
        return real_send(*args, **kwargs)

    api.send_group = send_while_the_bot_writes
    sender = OutboxSender(factory, api, files, clock=clock)
    assert sender.run_once() == 1
    assert committed_during_send == [1, "sending"]
    assert texts(sim, klass) == ["今日统计"]
    assert rows(factory)[0].status == "sent"


# -- issue 15: pauses, leases, the shared budget ---------------------------------------------------
def test_a_410100_pauses_that_group_for_10_minutes_and_no_other(sim, factory, sender, clock, chat):
    trainee, other = sim.add_user("张三"), sim.add_user("李四")
    klass, welders = sim.add_group("电工班", [trainee]), sim.add_group("焊工班", [other])
    reply_to(sim, factory, trainee, "签到", "签到成功 08:52", klass)
    reply_to(sim, factory, other, "签到", "签到成功 08:53", welders)
    sim.faults.throttle("/robot/sendBySession", times=1)  # DingTalk: this group sends too fast (410100)

    sender.run_once()

    assert texts(sim, welders) == ["签到成功 08:53"] and sim.sent(klass) == []
    paused = next(r for r in rows(factory) if r.conversation_id == klass.conversation_id)
    assert (paused.status, paused.attempts) == ("queued", 0) and "410100" in paused.last_error
    assert paused.next_attempt_at == clock.now + timedelta(minutes=10)
    reply_to(sim, factory, trainee, "签退", "签退成功 11:20", klass)  # a later reply waits for the pause too
    clock.advance(minutes=9, seconds=59)
    assert sender.run_once() == 0 and sim.sent(klass) == []

    clock.advance(seconds=1)
    sender.run_once()
    assert texts(sim, klass) == ["#### 已记录（2 人）\n\n- **张三**：签到成功 08:52\n- **张三**：签退成功 11:20"]


def test_a_row_leased_by_a_sender_that_died_goes_again_once_its_lease_ends(sim, factory, api, files, clock):
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["今日统计"], sim.robot_code)
    dead = OutboxSender(factory, api, files, clock=clock)
    assert dead.lease == timedelta(seconds=4 * 2 + 5)  # 4 calls × the client's 2 s timeout, plus 5 s
    assert dead._claim() is not None  # claimed, then killed before sending

    survivor = OutboxSender(factory, api, files, clock=clock)
    clock.advance(seconds=12)
    assert survivor.run_once() == 0  # the lease still holds
    clock.advance(seconds=1)
    assert survivor.run_once() == 1
    assert texts(sim, klass) == ["今日统计"]


def test_a_claim_that_waited_for_sqlites_write_lock_leases_the_row_from_when_it_got_it(sim, factory, api, files,
                                                                                       clock):
    """A claim on SQLite waits for the write lock (BEGIN IMMEDIATE) while another writer holds it. Had its
    lease counted from before the wait, a wait longer than the lease would leave a lease that had already
    ended, and a second sender would send the row again while the first was still sending it (the e2e
    teaching day saw the district's report twice)."""
    if factory.kw["bind"].dialect.name != "sqlite":
        pytest.skip("only SQLite makes a claim wait for a lock (PostgreSQL skips locked rows)")
    klass = sim.add_group("电工班")
    queue_group(factory, klass, ["今日统计"], sim.robot_code)
    asked = threading.Event()

    def watched_clock() -> datetime:
        asked.set()
        return clock()

    first, claimed = OutboxSender(factory, api, files, clock=watched_clock), []
    with factory.begin() as writer:
        writer.connection()  # another writer holds SQLite's write lock
        waiting = threading.Thread(target=lambda: claimed.append(first._claim()))
        waiting.start()
        asked.wait(1)  # (a clock read before the wait would be read by now)
        clock.advance(seconds=60)  # a wait longer than the 13 s lease
    waiting.join(10)

    assert claimed and claimed[0] is not None
    assert rows(factory)[0].next_attempt_at == clock.now + first.lease
    assert OutboxSender(factory, api, files, clock=clock).run_once() == 0  # not sent again meanwhile
    assert sim.sent(klass) == []


def test_the_api_budget_is_shared_by_every_process_through_the_database(factory):
    clock = [1000.0]
    waits: list[float] = []
    a, b = (SharedPacer(factory, per_second=20, max_wait=1.0, clock=lambda: clock[0], sleep=waits.append)
            for _ in range(2))  # two processes

    for n in range(21):
        (a if n % 2 else b)("/v1.0/robot/groupMessages/send")
    a("/v1.0/robot/oToMessages/batchSend")  # another API has its own budget

    assert waits == [pytest.approx(n / 20) for n in range(1, 21)]  # 20 a second, whoever calls
    with pytest.raises(Deferred):
        b("/v1.0/robot/groupMessages/send")  # the next slot is more than a second away: come back later
    clock[0] += 1.0
    b("/v1.0/robot/groupMessages/send")
    assert waits[-1] == pytest.approx(0.05)
