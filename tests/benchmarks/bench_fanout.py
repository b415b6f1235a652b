"""Benchmark: a city's scheduled roll calls fanned out inside DingTalk's limits (R13).

N classes (default 500) of T trainees (default 25, all inside the organisation), each with its group
in the local simulator, get their roll call at the same slot: the ``start_rollcalls`` job draws all N
(announcement to the group + 1:1 notices to every sampled trainee, 100% here so each class sends
⌈T/20⌉ batches), then the product's outbox sender delivers them through the OpenAPI client, which
paces each API at 20 calls a second (DINGTALK.md §5). Measured in the same run:

- baseline: the same calls made directly by a paced OpenAPI client, no database (the floor the limits set);
- product: slot → every row committed (the job), and slot → the last message delivered;
- limits as the simulator saw them: the most calls to one API in any 1 s window, and the most messages
  to one group in any 60 s window (limits: 20 and 20).

Prints the figures and the ratio product/baseline; nothing here asserts a time.

    python -m tests.benchmarks.bench_fanout [--classes 500] [--trainees 25] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import tempfile
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from bot.openapi import OpenApi
from bot.outbox import OutboxSender
from bot.samples.generate import trainees
from bot.simulator import DingTalkSimulator
from handlers import classes, roster
from handlers.plans import parse_plan
from scheduler import run_job
from scheduler.jobs import by_id
from storage import ledger
from storage.db import make_engine, make_session_factory
from storage.files import FileStore
from storage.migrate import upgrade
from storage.models import DingTalkIdentity, Enrollment, Group, OutboxMessage
from tests.e2e.classroom import TZ, CLASS_DAY, class_time
from tests.commitment import sign_commitment

SEND_PATHS = ("/v1.0/robot/groupMessages/send", "/v1.0/robot/oToMessages/batchSend")


def plan(code: str) -> str:
    return "\n".join([
        f'code = "{code}"', f'name = "{code} 育婴员线上培训"', 'occupation = "育婴员"',
        f'institution = "机构{code[-3:]}"', 'district = "昆都仑区"', 'mode = "live"',
        f"start_date = {CLASS_DAY.isoformat()}", f"end_date = {(CLASS_DAY + timedelta(days=11)).isoformat()}",
        "total_hours = 100", "online_hours = 40", 'policy = "baotou-2020"',
        'platform = { name = "钉钉直播", url = "https://www.dingtalk.com" }', 'teachers = ["张丽华"]',
        'class_teacher = "王芳"', "", "[[sessions]]", 'name = "上午"', 'start = "08:30"', 'end = "11:30"', ""])


def build(sim: DingTalkSimulator, factory, n_classes: int, n_trainees: int) -> tuple[list[str], list[str]]:
    """The classes, rosters, groups and bound trainees; the groups' conversation ids and the staff ids."""
    conversations, staff_ids = [], []
    people = trainees(n_classes * n_trainees * 2, seed=11)
    seen, unique = set(), []
    for row in people:
        if row[2] not in seen:
            seen.add(row[2])
            unique.append(row)
    for c in range(n_classes):
        rows = unique[c * n_trainees:(c + 1) * n_trainees]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["姓名", "性别", "身份证号", "手机号", "身份类别"])
        writer.writerows(rows)
        users = [sim.add_user(f"c{c}u{i}") for i in range(n_trainees)]
        group = sim.add_group(f"班{c}", members=users)
        with factory.begin() as s:
            klass = classes.create_class(s, parse_plan(plan(f"FAN-{c:03d}")), actor="bench", source="bench",
                                         default_policy="baotou-2020")
            enrollments = roster.import_roster(s, klass, buffer.getvalue().encode(), "roster.csv", actor="bench",
                                               today=klass.start_date)
            assert enrollments == n_trainees
            klass.overrides = '{"roll_call":{"min_sample":1}}'  # every trainee: T notices per class
            ledger.append(s, "class.overrides", actor="bench", source="bench", subject=klass, class_code=klass.code)
            sign_commitment(s, klass)
            classes.change_status(s, klass, "approved", actor="bench", source="bench")
            row = Group(open_conversation_id=group.open_conversation_id, title=group.title, class_id=klass.id,
                        bound_by="bench", bound_at=datetime.now(timezone.utc))
            s.add(row)
            ledger.append(s, "group.bound", actor="bench", source="bench", subject=row)
            persons = s.scalars(select(Enrollment.person_id).where(Enrollment.class_id == klass.id)
                                .order_by(Enrollment.id)).all()
            for person_id, user in zip(persons, users):
                ident = DingTalkIdentity(sender_id=user.sender_id, staff_user_id=user.staff_id, nick=user.name,
                                         person_id=person_id)
                s.add(ident)
                ledger.append(s, "identity.bound", actor="bench", source="bench", subject=ident)
        conversations.append(group.open_conversation_id)
        staff_ids += [u.staff_id for u in users]
    return conversations, staff_ids


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def limits(sim: DingTalkSimulator, since: float) -> tuple[int, int]:
    per_api = max(max_in_window([r.time for r in sim.requests_to(path) if r.time >= since], 1.0)
                  for path in SEND_PATHS)
    per_group: dict[str, list[float]] = defaultdict(list)
    for r in sim.requests_to(SEND_PATHS[0]):
        if r.time >= since:
            per_group[r.json["openConversationId"]].append(r.time)
    return per_api, max((max_in_window(t, 60.0) for t in per_group.values()), default=0)


def run_baseline(sim: DingTalkSimulator, groups: list[str], users: list[str], n_classes: int,
                 n_trainees: int) -> float:
    """The same number of calls per API, made by a paced client with no database: the floor."""
    batches = -(-n_trainees // 20) * n_classes
    start = time.monotonic()
    with OpenApi(sim.endpoint, sim.client_id, sim.client_secret) as api:
        def groups_job():
            for i in range(n_classes):
                api.send_group(sim.client_id, groups[i % len(groups)], "baseline")

        def batch_job():
            for i in range(batches):
                api.batch_send(sim.client_id, users[(i * 20) % len(users):][:20], "baseline")

        threads = [threading.Thread(target=groups_job), threading.Thread(target=batch_job)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--trainees", type=int, default=25)
    parser.add_argument("--senders", type=int, default=1, help="outbox sender threads (default 1, as the bot runs)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    slot = class_time("09:00").astimezone(TZ)
    with tempfile.TemporaryDirectory() as tmp, DingTalkSimulator(clock=lambda: class_time("09:00")) as sim:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        factory = make_session_factory(engine)
        t_build = time.monotonic()
        groups, users = build(sim, factory, args.classes, args.trainees)
        print(f"set-up: {args.classes} classes × {args.trainees} trainees in {time.monotonic() - t_build:.0f} s")

        baseline = run_baseline(sim, groups, users, args.classes, args.trainees)
        since = time.time()
        t0 = time.monotonic()
        # every class's window is its first two class days; at the end of the second day's session all
        # are overdue or due, so one run starts every roll call
        run_job(factory, by_id("start_rollcalls"), (slot + timedelta(days=1)).replace(hour=11, minute=25),
                "bench")
        job_s = time.monotonic() - t0
        with factory() as s:
            rows = s.query(OutboxMessage).count()
        api = OpenApi(sim.endpoint, sim.client_id, sim.client_secret)
        stop = threading.Event()
        senders = [OutboxSender(factory, api, FileStore(Path(tmp) / "files")) for _ in range(args.senders)]
        threads = [threading.Thread(target=x.run_forever, args=(stop,), kwargs={"idle_sleep": 0.05})
                   for x in senders]
        for t in threads:
            t.start()
        expected = rows
        sim.wait_until(lambda: len([r for r in sim.requests if r.path in SEND_PATHS and r.time >= since])
                       >= expected, timeout=3600, what="deliveries")
        delivered_s = time.monotonic() - t0
        stop.set()
        for t in threads:
            t.join()
        api.close()
        per_api, per_group = limits(sim, since)
        engine.dispose()
    print(f"{args.classes} roll calls at one slot: {rows} OpenAPI sends (announcements + 1:1 batches of ≤20), "
          f"database {'SQLite' if not args.database_url else args.database_url.split('@')[-1]}, "
          f"{args.senders} sender thread(s)")
    print(f"baseline (paced client, no database):        {baseline:7.1f} s")
    print(f"job (draw, record, queue every roll call):    {job_s:7.1f} s")
    print(f"slot → last message delivered:                {delivered_s:7.1f} s  (budget 120 s)")
    print(f"most calls to one API in any 1 s:             {per_api:7d}    (limit 20)")
    print(f"most messages to one group in any 60 s:       {per_group:7d}    (limit 20)")
    print(f"ratio product/baseline: {delivered_s / baseline:.2f}x")


if __name__ == "__main__":
    main()
