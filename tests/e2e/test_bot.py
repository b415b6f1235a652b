"""The product end to end: the real dingtalk-stream SDK against the local simulator, on loopback."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import dingtalk_stream.stream
import pytest
from sqlalchemy import func, select

from bot.service import BotService
from bot.settings import load
from storage import ledger_verify
from storage.models import InboundMessage, OutboxMessage, Person, Punch

from .classroom import build_classroom, class_time
from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio
from .replies import replies



@pytest.fixture
def clock():
    """The simulator's clock: the first class morning, 08:20 in Shanghai."""
    return lambda: class_time("08:20")


@pytest.fixture
def classroom(sim, factory, clock):
    sim.clock = clock
    return build_classroom(sim, factory, 30)


@pytest.fixture
def bot(sim, engine, factory, tmp_path, monkeypatch):
    """Start the product's bot process(es) against the simulator; stopped at teardown."""
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    settings = load({
        "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
        "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    })
    running: list[BotService] = []

    def start(send: bool = True, sender_options: dict | None = None) -> BotService:
        mark = sim.opened
        service = BotService(settings, factory, send=send, sender_options=sender_options).start()
        running.append(service)
        sim.wait_connected_after(mark)
        return service

    yield start
    for service in running:
        service.stop(flush_timeout=5)


def roster_name(factory, person_id: int) -> str:
    """The roster name of the classroom's n-th trainee (bound to the simulator's 学员n)."""
    with factory() as s:
        return s.get(Person, person_id).name


def count(factory, model, *where) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_check_in_reaches_its_handler_and_the_reply_reaches_the_group(sim, bot, classroom, factory):
    group, users = classroom
    bot()
    sim.say(users[0], "签到", group)
    (sent,) = sim.wait_for_sent(1, group)
    assert sent.text == f"{roster_name(factory, 1)}：签到成功 08:20（上午）"  # in a group of 50: whose it is
    assert sent.channel == "webhook"
    assert count(factory, Punch) == 1


def test_help_in_private_chat_is_answered_in_that_chat(sim, bot, classroom):
    group, users = classroom
    bot()
    sim.say(users[1], "帮助")
    (sent,) = sim.wait_for_sent(1, users[1])
    assert "签到" in sent.text
    assert sim.sent(group) == []


def test_duplicate_delivery_gives_one_record_and_one_reply(sim, bot, classroom, factory):
    group, users = classroom
    bot()
    sim.say(users[2], "签到", group, duplicate=True)
    sim.wait_for_acks(2)
    sim.wait_for_sent(1, group)
    assert count(factory, InboundMessage) == 1 and count(factory, Punch) == 1
    bot_sent = sim.sent(group)
    assert len(bot_sent) == 1


def test_ack_is_sent_after_the_commit(sim, bot, classroom, factory):
    group, users = classroom
    bot(send=False)
    msg_id = sim.say(users[3], "签到", group)
    (ack,) = sim.wait_for_acks(1)
    assert ack.code == 200
    assert count(factory, InboundMessage, InboundMessage.msg_id == msg_id) == 1  # committed before the ACK


def test_disconnect_then_reconnect_and_the_next_message_is_handled(sim, bot, classroom, factory):
    group, users = classroom
    bot()
    sim.say(users[4], "签到", group)
    sim.wait_for_sent(1, group)
    sim.disconnect_all()
    sim.wait_connected(1)
    sim.say(users[5], "签到", group)
    sim.wait_for_sent(2, group)
    assert count(factory, Punch) == 2


def fast_clock(speed: float):
    """Real time, running ``speed`` times faster: the per-group budget (20 a minute) passes quickly."""
    t0, start = time.monotonic(), datetime.now(timezone.utc)
    return lambda: start + timedelta(seconds=(time.monotonic() - t0) * speed)


def fast(speed: float) -> dict:
    """Sender options for a clock ``speed`` times faster than real time; the lease (on that clock)
    stays as long in real time as the one derived from the HTTP timeout."""
    return {"clock": fast_clock(speed), "lease": timedelta(seconds=30 * speed)}


def test_100_messages_from_30_users_in_bursts_lose_nothing(sim, bot, classroom, factory):
    group, users = classroom
    bot(sender_options=fast(60))
    texts = ["签到", "签退", "帮助", "我的天", "签到"]
    for n in range(100):
        sim.say(users[n % 30], texts[n % len(texts)], group if n % 4 else None, wait=False)
    sim.wait_for_acks(100, timeout=60)
    assert count(factory, InboundMessage) == 100
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 100
    sim.wait_until(lambda: len(replies(sim)) >= 100, timeout=60, what="100 replies")
    assert len(replies(sim)) == 100  # some merged into digests: every one is there, once
    deadline = time.monotonic() + 10  # the rows are marked just after DingTalk took them
    while count(factory, OutboxMessage, OutboxMessage.status == "sent") < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count(factory, OutboxMessage, OutboxMessage.status == "sent") == 100
    # each trainee checks in once, however often they say 签到 in the group during the morning window
    checked_in = {n % 30 for n in range(100) if texts[n % len(texts)] == "签到" and n % 4}
    assert count(factory, Punch) == len(checked_in)
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_killed_with_replies_queued_then_restarted_delivers_each_exactly_once(sim, bot, classroom, factory):
    group, users = classroom
    first = bot(send=False)  # a process whose sender never ran: its replies stay queued
    for user in users[:5]:
        sim.say(user, "签到", group)
    sim.wait_for_acks(5)
    first.stream.stop()  # killed: no flush
    assert count(factory, OutboxMessage, OutboxMessage.status == "queued") == 5
    assert sim.sent(group) == []
    second = bot()
    sim.wait_until(lambda: len(replies(sim, group)) >= 5, what="5 replies")
    second.stop()
    third = bot()  # a further restart sends nothing again
    third.stop()
    named = [name or text.split("：", 1)[0] for name, text, _ in replies(sim, group)]  # a lone reply: "姓名：…"
    assert sorted(named) == sorted(roster_name(factory, n) for n in range(1, 6))
    assert len(sim.sent(group)) < 5  # all five were due at once: merged (concurrent senders may split them)
    assert count(factory, OutboxMessage, OutboxMessage.status == "sent") == 5


def test_webhook_500_then_success_delivers_the_reply_once(sim, bot, classroom, factory):
    group, users = classroom
    sim.faults.fail_next("/robot/sendBySession", status=500)
    bot(sender_options=fast(60))
    sim.say(users[6], "签到", group)
    (sent,) = sim.wait_for_sent(1, group, timeout=20)
    assert sent.text == f"{roster_name(factory, 7)}：签到成功 08:20（上午）"
    sim.wait_until(lambda: len(sim.requests_to("/robot/sendBySession")) >= 2, what="the retry")
    assert len(sim.sent(group)) == 1


def test_expired_webhook_falls_back_to_the_api_which_backs_off_on_429_and_refreshes_its_token(
        sim, bot, classroom, factory):
    group, users = classroom
    service = bot(send=False)
    sim.say(users[7], "签到", group)
    sim.wait_for_acks(1)
    sim.expire_sessions()  # the reply's sessionWebhook is no longer valid: the OpenAPI must send it
    service.api.access_token()
    sim.expire_tokens()  # …with a token DingTalk no longer accepts: refresh on 401
    sim.faults.throttle("/v1.0/robot/groupMessages/send", times=2)  # …after two 429s
    service.stop()
    sender = bot(sender_options=fast(60))
    (sent,) = sim.wait_for_sent(1, group, timeout=30)
    assert sent.channel == "group" and sent.text == f"{roster_name(factory, 8)}：签到成功 08:20（上午）"
    assert len(sim.requests_to("/v1.0/oauth2/accessToken")) >= 2
    assert len(sim.sent(group)) == 1
    sender.stop()
    assert count(factory, OutboxMessage, OutboxMessage.status == "sent") == 1
