"""Benchmark (issue 15, 6b): a city's morning — G groups × N trainees check in within S seconds, against
the simulator, on PostgreSQL, with 3 bot processes (``dingclass run --only bot``) sharing the database.

Prints push→ACK and ACK→reply p50/p99 (ms), messages lost (no ACK, no record, or no reply: must be 0)
and duplicates (a second record or a second reply: must be 0), beside a baseline measured in the same
run: a bare SDK handler (one process) that ACKs and answers each message at once through its
sessionWebhook, under the same schedule. Not a test: nothing here asserts.

    python -m tests.benchmarks.bench_city --database-url postgresql://postgres@127.0.0.1:5432/postgres \\
        [--groups 100] [--trainees 50] [--seconds 300] [--processes 3] [--baseline-seconds S]

The database URL names a server: a fresh database ``bench_city_<pid>`` is made there and dropped after.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import dingtalk_stream
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.samples.generate import trainees
from bot.simulator import DingTalkSimulator, sdk_pointed_at
from bot.stream import StreamThread, make_client
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import InboundMessage, Punch
from tests.e2e.classroom import build_classroom, class_time
from tests.e2e.replies import is_digest, lines


def fresh_database(server_url: str) -> str:
    """A new empty database on the server of ``server_url``; its URL."""
    url = make_url(server_url)
    name = f"bench_city_{os.getpid()}_{int(time.time())}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def real_time_clock(sim) -> tuple[float, float]:
    """The simulator's clock: 08:20 on a class day, running in real time; (start ms, wall t0)."""
    start_ms, t0 = class_time("08:20").timestamp() * 1000, time.time()
    sim.clock = lambda: start_ms + (time.time() - t0) * 1000
    return start_ms, t0


def schedule(groups: int, size: int, seconds: float, seed: int = 15) -> list[tuple[float, int, int]]:
    """(offset s, group, trainee) for every check-in, spread at random over ``seconds``."""
    rng = random.Random(seed)
    return sorted((rng.uniform(0, seconds), g, i) for g in range(groups) for i in range(size))


def push(sim, plan, group_list, users_of) -> None:
    first = time.time()
    for offset, g, i in plan:
        time.sleep(max(0.0, first + offset - time.time()))
        sim.say(users_of[g][i], "签到", group_list[g], wait=False)


def measure(sim, plan, group_list, users_of, names_of: list[list[str]], start_ms: float, t0: float,
            timeout: float) -> dict:
    """Wait for every reply (or ``timeout``), then the figures: latencies, lost, duplicates.
    ``names_of[g][i]``: how the replies name trainee i of group g."""
    expected = len(plan)

    def replies_in(group) -> int:
        return sum(len(lines(s)) for s in sim.sent(group))

    try:
        sim.wait_until(lambda: sum(replies_in(g) for g in group_list) >= expected, timeout=timeout,
                       what="every reply")
    except TimeoutError:
        pass
    time.sleep(2)  # a reply sent twice would show by now
    mono_to_wall = time.time() - time.monotonic()
    acks = {a.msg_id: a for a in sim.acks if a.msg_id}
    pushed = {m.msg_id: m for m in sim.messages if m.to_bot}
    push_ack = [a.latency * 1000 for a in acks.values() if a.latency is not None]
    index = {id(user): (g, i) for g, users in enumerate(users_of) for i, user in enumerate(users)}
    by_name: dict = {}  # (conversation, name) → msg ids, in order
    for m in sorted(pushed.values(), key=lambda m: m.created_at):
        g, i = index[id(m.user)]
        by_name.setdefault((m.conversation_id, names_of[g][i]), []).append(m.msg_id)
    seen: Counter = Counter()
    ack_reply, push_reply = [], []
    for g, group in enumerate(group_list):
        for sent in sim.sent(group):
            wall = t0 + (sent.at - start_ms) / 1000
            for name, body, _ in lines(sent) if is_digest(sent) else [(_lone_name(sent, names_of[g]), sent.text, None)]:
                key = (group.conversation_id, name)
                seen[key] += 1
                ids = by_name.get(key, [])
                if seen[key] <= len(ids) and ids[seen[key] - 1] in acks:
                    ack = acks[ids[seen[key] - 1]]
                    ack_reply.append((wall - (ack.received_at + mono_to_wall)) * 1000)
                    push_reply.append((wall - (ack.received_at - (ack.latency or 0) + mono_to_wall)) * 1000)
    duplicates = sum(max(0, n - len(by_name.get(key, []))) for key, n in seen.items())
    replied = sum(min(n, len(by_name.get(key, []))) for key, n in seen.items())
    return {"messages": expected, "acked": len(acks), "replied": replied,
            "lost": expected - min(len(acks), replied) + len(sim.dropped), "duplicate_replies": duplicates,
            "push_ack_p50": statistics.median(push_ack) if push_ack else float("nan"),
            "push_ack_p99": pct(push_ack, 0.99), "ack_reply_p50": statistics.median(ack_reply) if ack_reply else
            float("nan"), "ack_reply_p99": pct(ack_reply, 0.99), "push_reply_p50": statistics.median(push_reply) if push_reply
            else float("nan"), "push_reply_p99": pct(push_reply, 0.99), "sends": len(sim.sent())}


def _lone_name(sent, names: list[str]) -> str | None:
    head = sent.text.split("：", 1)[0]
    return head if head in names else None


class BareHandler(dingtalk_stream.ChatbotHandler):
    async def process(self, callback):
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
        self.reply_text(f"{incoming.sender_nick}：收到", incoming)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


def run_baseline(groups: int, size: int, seconds: float) -> dict:
    with DingTalkSimulator() as sim, sdk_pointed_at(sim.endpoint):
        start_ms, t0 = real_time_clock(sim)
        names_of = [[f"u{i}" for i in range(size)]] * groups
        users_of = [[sim.add_user(f"u{i}") for i in range(size)] for _ in range(groups)]
        group_list = [sim.add_group(f"bench{g}", members=users_of[g]) for g in range(groups)]
        runner = StreamThread(make_client(sim.client_id, sim.client_secret, BareHandler())).start()
        sim.wait_connected(1)
        try:
            plan = schedule(groups, size, seconds)
            push(sim, plan, group_list, users_of)
            return measure(sim, plan, group_list, users_of, names_of, start_ms, t0, timeout=120)
        finally:
            runner.stop()


def run_product(groups: int, size: int, seconds: float, processes: int, server_url: str) -> dict:
    db_url = fresh_database(server_url)
    procs: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, DingTalkSimulator() as sim, sdk_pointed_at(sim.endpoint):
            start_ms, t0 = real_time_clock(sim)
            engine = make_engine(db_url)
            upgrade(engine)
            factory = make_session_factory(engine)
            built = time.monotonic()
            classes = [build_classroom(sim, factory, size, code=f"BC-{g:03d}", title=f"班级群{g:03d}", seed=2026 + g)
                       for g in range(groups)]  # different people in every class
            print(f"set up {groups} classes × {size} trainees in {time.monotonic() - built:.0f} s", flush=True)
            group_list = [c[0] for c in classes]
            users_of = [c[1] for c in classes]
            names_of = [[row[0] for row in trainees(size, 2026 + g)] for g in range(groups)]
            env = {**os.environ, "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
                   "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DATABASE_URL": db_url, "NO_PROXY": "127.0.0.1"}
            for n in range(processes):
                data_dir = Path(tmp) / f"bot{n}"
                data_dir.mkdir()
                procs.append(subprocess.Popen(
                    [sys.executable, "-c", "from bot.cli import main; main()", "run", "--only", "bot"],
                    env={**env, "DINGCLASS_DATA_DIR": str(data_dir)}, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True))
            sim.wait_connected(processes, timeout=120)
            plan = schedule(groups, size, seconds)
            push(sim, plan, group_list, users_of)
            result = measure(sim, plan, group_list, users_of, names_of, start_ms, t0, timeout=300)
            with factory() as s:
                records = s.scalar(select(func.count()).select_from(InboundMessage))
                punches = s.scalar(select(func.count()).select_from(Punch))
            result["lost"] += max(0, len(plan) - records)
            result["duplicate_records"] = max(0, records - len(plan)) + max(0, punches - len(plan))
            result["punches"] = punches
            engine.dispose()
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.communicate(timeout=60)
            return result
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        drop_database(db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server (a fresh database is made)")
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--baseline-seconds", type=float, default=None, help="default: --seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("dingclass.sdk").setLevel(logging.CRITICAL)  # the SDK's reconnect noise on stop
    base = run_baseline(args.groups, args.trainees, args.baseline_seconds or args.seconds)
    prod = run_product(args.groups, args.trainees, args.seconds, args.processes, args.database_url)
    print(f"{args.groups} groups × {args.trainees} trainees check in within {args.seconds:.0f} s; "
          f"dingclass: {args.processes} bot processes on PostgreSQL")
    print("ms; the bare handler answers before it ACKs (its ACK→reply is negative), so compare push→reply")
    print(f"{'':30}{'push→ACK p50':>13}{'p99':>8}{'ACK→reply p50':>14}{'p99':>8}{'push→reply p50':>15}{'p99':>8}"
          f"{'lost':>6}{'dup':>5}{'sends':>7}")
    for name, r in (("bare SDK handler (1 process)", base), ("dingclass", prod)):
        dup = r["duplicate_replies"] + r.get("duplicate_records", 0)
        print(f"{name:30}{r['push_ack_p50']:>13.1f}{r['push_ack_p99']:>8.1f}{r['ack_reply_p50']:>14.1f}"
              f"{r['ack_reply_p99']:>8.1f}{r['push_reply_p50']:>15.1f}{r['push_reply_p99']:>8.1f}"
              f"{r['lost']:>6}{dup:>5}{r['sends']:>7}")
    print(f"dingclass: {prod['punches']} check-ins recorded, {prod['duplicate_records']} duplicate records, "
          f"{prod['duplicate_replies']} duplicate replies, {prod['lost']} lost")
    print(f"ratio dingclass/bare: push→ACK p50 {prod['push_ack_p50'] / base['push_ack_p50']:.2f}x, "
          f"p99 {prod['push_ack_p99'] / base['push_ack_p99']:.2f}x; push→reply p50 "
          f"{prod['push_reply_p50'] / base['push_reply_p50']:.2f}x, p99 {prod['push_reply_p99'] / base['push_reply_p99']:.2f}x")


if __name__ == "__main__":
    main()
