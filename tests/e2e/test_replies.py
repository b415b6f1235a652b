"""Replies that keep up, end to end through the SDK and the simulator: a rush answered in digests by
name within the group budget, and faults in one place that hold up nothing else (issue 15)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import dingtalk_stream.stream
import pytest
from sqlalchemy import func, select

from bot.service import BotService
from bot.settings import load
from storage.models import OutboxMessage, Person

from .classroom import build_classroom, class_time
from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio
from .replies import is_digest, lines, replies

SPEED = 3  # the simulated clock (sim and sender) runs 3× faster than real time


class FastClock:
    """08:20 on a class day, then running ``SPEED`` times faster than real time."""

    def __init__(self, start) -> None:
        self.start, self.t0 = start, time.monotonic()

    def __call__(self):
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * SPEED)


@pytest.fixture
def bot(sim, engine, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    settings = load({
        "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
        "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    })
    running: list[BotService] = []

    def start(**sender_options) -> BotService:
        service = BotService(settings, factory, sender_options=sender_options).start()
        running.append(service)
        return service

    yield start
    for service in running:
        service.stop(flush_timeout=5)


def confirmations(sent, user, name: str | None = None) -> list:
    """The messages that answer ``user`` (called ``name``, default their DingTalk nick) by name: a
    digest line, a lone reply that @-mentions them, or a lone reply that starts with their name."""
    name = name or user.name

    def names(s) -> bool:
        if is_digest(s):
            return any(n == name for n, _, _ in lines(s))
        return bool(user.staff_id and user.staff_id in s.at_user_ids) or s.text.startswith(f"{name}：")

    return [s for s in sent if names(s)]


def delivered(sim, target) -> int:
    """Replies delivered to a conversation: a digest counts its lines."""
    return sum(len(lines(s)) for s in sim.sent(target))


def test_50_trainees_checking_in_within_30_s_are_each_confirmed_by_name_within_60_s(sim, bot, factory):
    clock = FastClock(class_time("08:20"))
    sim.clock = clock
    group, users = build_classroom(sim, factory, 50)
    bot(clock=clock, lease=timedelta(seconds=30 * SPEED))
    with factory() as s:  # the bot names people as the roster does (学员n is the n-th trainee)
        roster = {u.name: s.get(Person, n).name for n, u in enumerate(users, start=1)}
    said = {}
    for n, user in enumerate(users):  # one every 0.6 s (simulated): 50 within 30 s
        words = "签退" if n % 10 == 9 else "签到"  # five of them say the wrong thing: refused
        said[user.name] = (words, sim.payload(sim.say(user, words, group, wait=False))["createAt"])
        time.sleep(0.6 / SPEED)

    sim.wait_until(lambda: delivered(sim, group) >= 50, timeout=60, what="50 replies")

    sent = sim.sent(group)
    assert delivered(sim, group) == 50 and any(is_digest(s) for s in sent)
    for user in users:  # each confirmed once, by name, within 60 s of their own message
        words, at = said[user.name]
        [confirmation] = confirmations(sent, user, roster[user.name])
        assert confirmation.at - at <= 60_000, (user.name, confirmation.at - at)
    times = sorted(s.at for s in sent)
    assert max(sum(1 for t in times if w <= t < w + 60_000) for w in times) <= 20  # the group budget
    refusals = [(name, text, at) for name, text, at in replies(sim, group) if name and "签退时间" in text]
    for name, text, at in refusals:  # a refusal needs the person: on top, @-mentioned where possible
        user = next(u for u in users if roster[u.name] == name)
        assert text.startswith("现在不在签退时间内") and at == user.staff_id
    for s in sent:
        if is_digest(s) and "签退时间" in s.text:
            assert s.text.startswith("#### 请注意")


def test_faults_in_one_group_and_30_percent_injected_errors_hold_up_nothing_else(sim, bot, factory):
    users = [sim.add_user(f"用户{n}", in_org=n % 3 != 0) for n in range(30)]
    groups = [sim.add_group(f"群{g}", users[g * 5:(g + 1) * 5]) for g in range(6)]
    dead = groups[0]
    sim.faults.dead_conversation(dead.conversation_id)  # every send to it fails, always
    for path in ("/robot/sendBySession", "/v1.0/robot/groupMessages/send", "/v1.0/robot/oToMessages/batchSend"):
        sim.faults.flaky(path, 0.3, seed=15)  # and 30% of all calls fail with 500, 503 or 429
    bot(backoff=timedelta(seconds=0.2), max_backoff=timedelta(seconds=2))
    for group in groups:
        for user in group.members:
            sim.say(user, "帮助", group, wait=False)
    for user in users:
        sim.say(user, "帮助", wait=False)

    def all_but_the_dead_group() -> bool:
        return all(delivered(sim, g) >= 5 for g in groups[1:]) and all(sim.sent(user=u) for u in users)

    sim.wait_until(all_but_the_dead_group, timeout=120, what="every reply but the dead group's")
    time.sleep(1)  # a reply sent twice would show by now

    for group in groups[1:]:  # exactly once: an injected error delivers nothing, and nothing is resent
        assert delivered(sim, group) == 5
        assert all(len(confirmations(sim.sent(group), u)) == 1 for u in group.members)
    assert all(len(sim.sent(user=u)) == 1 for u in users)
    assert sim.sent(dead) == []
    with factory() as s:
        stuck = s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == dead.conversation_id)).all()
        assert stuck and all(r.status != "sent" and r.attempts >= 1 for r in stuck)
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")) \
            == s.scalar(select(func.count()).select_from(OutboxMessage)) - len(stuck)
