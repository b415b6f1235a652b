"""R08 with several bot processes (issue 15): three `dingclass run --only bot` processes on one
PostgreSQL database, every frame delivered twice, all the pictures arriving at the same moment.

Each trainee sends two pictures of their own; some also send a copy of a classmate's picture (the
same bytes) or a resized, re-encoded one (a near duplicate). Whichever process receives a frame,
downloads a picture or checks it: no message is lost or recorded twice, every picture is answered
exactly once, each trainee has exactly one counted photo — the first *sent* of their valid ones — and
in every set of repeated pictures all but one are flagged as duplicates.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.models import InboundMessage, OutboxMessage, Photo
from tests.handlers.chat import near_copy, picture

from .classroom import build_classroom, class_time
from .test_run import dingclass

PROCESSES = 3
TRAINEES = 12

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL: three processes race only where writers run concurrently; SQLite serialises "
           "every write transaction (BEGIN IMMEDIATE), so there is no race to test")


def test_R08_three_bot_processes_photos_at_once_every_frame_twice(sim, engine, factory, tmp_path):
    start, t0 = class_time("09:00"), time.monotonic()
    sim.clock = lambda: start + timedelta(seconds=time.monotonic() - t0)  # send times advance, in ms
    _group, users = build_classroom(sim, factory, TRAINEES)
    env = {**os.environ, "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
           "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
           "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    procs = [dingclass("run", "--only", "bot", env=env) for _ in range(PROCESSES)]
    try:
        sim.wait_connected(PROCESSES, timeout=120)
        sent = _send_all(sim, users)
        sim.wait_until(lambda: len(sim.sent()) >= len(sent), timeout=180, what="a reply to every picture")
        time.sleep(2)  # room for a reply sent twice to show up
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, (_out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    log = (tmp_path / "dingclass.log").read_text(encoding="utf-8")
    assert "handler failed" not in log, log  # no check failed (it would be answered with an apology)

    with factory() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == len(sent)  # 0 lost, 0 twice
        photos = {p.source.removeprefix("msg:"): p for p in s.scalars(select(Photo))}
        replies = Counter(key.split(":")[1] for key in s.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "reply", OutboxMessage.status == "sent")))
    assert sorted(photos) == sorted(sent)  # every picture recorded once
    assert replies == Counter({msg_id: 1 for msg_id in sent})  # …and answered once
    sessions = Counter(r.query.get("session") for r in sim.requests_to("/robot/sendBySession") if r.status == 200)
    assert len(sim.sent()) == len(sent) and set(sessions.values()) == {1}  # no reply delivered twice

    by_trainee = defaultdict(list)
    for msg_id, (sender, _image) in sent.items():
        by_trainee[sender].append(photos[msg_id])
    for sender, rows in by_trainee.items():
        ok = [p for p in rows if p.status == "ok"]
        valid = [p for p in rows if p.status != "duplicate"]
        assert len(ok) == 1 and ok[0].counted, sender  # exactly one first photo per trainee-day
        assert ok[0].received_at == min(p.received_at for p in valid), sender  # the first sent
        assert all(p.status == "extra" for p in valid if p is not ok[0])

    by_image = defaultdict(list)
    for msg_id, (_sender, image) in sent.items():
        by_image[image].append(photos[msg_id])
    for image, rows in by_image.items():
        originals = [p for p in rows if p.status != "duplicate"]
        assert len(originals) == 1, image  # every repeat flagged, and only repeats
        assert all(p.duplicate_of_id is not None for p in rows if p.status == "duplicate")


def _send_all(sim, users) -> dict[str, tuple[str, int]]:
    """Every picture (in the 1:1 chat: a group's replies wait for its budget of 20 a minute), each frame
    pushed twice, as fast as the simulator takes them; msgId → (sender, image number: pictures with the
    same number are the same picture, exact or near copies)."""
    originals = {n: picture(5000 + n) for n in range(2 * len(users))}
    plan = []
    for i, user in enumerate(users):
        plan += [(user, 2 * i, originals[2 * i]), (user, 2 * i + 1, originals[2 * i + 1])]
        neighbour = (2 * i + 2) % len(originals)
        if i % 3 == 0:
            plan.append((user, neighbour, originals[neighbour]))  # a classmate's picture, the same bytes
        elif i % 3 == 1:
            plan.append((user, neighbour, near_copy(originals[neighbour])))  # resized and re-encoded
    return {sim.send_picture(user, data, duplicate=True): (user.sender_id, n) for user, n, data in plan}
