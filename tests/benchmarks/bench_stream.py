"""Benchmark: messages per second and push→ACK latency through the real SDK and the local simulator.

Two runs on the same machine, in the same process, one after the other:
- baseline: a bare SDK ChatbotHandler that only ACKs and replies through the sessionWebhook;
- product: dingclass's 签到 path (store the raw message, resolve the trainee, R06 window, punch,
  ledger events, outbox row, commit, then ACK; the outbox sender replies through the webhook).
Each run pushes N messages from N trainees in one burst and waits for every ACK and every reply.
Prints both figures and the ratios. Not a test: nothing here asserts a time.

    python -m tests.benchmarks.bench_stream [--messages 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dingtalk_stream

from bot.service import BotService
from bot.settings import load
from bot.simulator import DingTalkSimulator, sdk_pointed_at
from bot.stream import StreamThread, make_client
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.e2e.classroom import build_classroom, class_time
from tests.e2e.replies import lines



class BareHandler(dingtalk_stream.ChatbotHandler):
    async def process(self, callback):
        self.reply_text("收到", dingtalk_stream.ChatbotMessage.from_dict(callback.data))
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


def _burst(sim, group, users) -> dict:
    start = time.perf_counter()
    for user in users:
        sim.say(user, "签到", group, wait=False)
    sim.wait_for_acks(len(users), timeout=300)
    acked = time.perf_counter()
    # a digest (several replies in one message) counts its lines
    sim.wait_until(lambda: sum(len(lines(s)) for s in sim.sent(group)) >= len(users), timeout=300, what="replies")
    replied = time.perf_counter()
    latencies = sorted(a.latency * 1000 for a in sim.acks)
    return {
        "msgs_per_s": len(users) / (acked - start),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "all_replied_s": replied - start,
        "ok": sum(1 for a in sim.acks if a.code == 200),
    }


def run_baseline(n: int) -> dict:
    with DingTalkSimulator(clock=lambda: class_time("08:20")) as sim, sdk_pointed_at(sim.endpoint):
        users = [sim.add_user(f"u{i}") for i in range(n)]
        group = sim.add_group("bench", members=users)
        runner = StreamThread(make_client(sim.client_id, sim.client_secret, BareHandler())).start()
        sim.wait_connected(1)
        try:
            return _burst(sim, group, users)
        finally:
            runner.stop()


def run_product(n: int, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp, \
            DingTalkSimulator(clock=lambda: class_time("08:20")) as sim, sdk_pointed_at(sim.endpoint):
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        factory = make_session_factory(engine)
        group, users = build_classroom(sim, factory, n)
        settings = load({"DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
                         "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": tmp, "DATABASE_URL": url})
        # The per-group budget (20 replies a minute) would stretch 300 replies over 15 minutes; the sender's
        # clock runs 60x so the burst's replies all go out, and the ACK figures are what they are.
        t0, wall = time.monotonic(), datetime.now(timezone.utc)
        fast = {"clock": lambda: wall + timedelta(seconds=(time.monotonic() - t0) * 60),
                "lease": timedelta(minutes=30)}  # the lease on that clock: 30 s of real time
        service = BotService(settings, factory, sender_options=fast).start()
        sim.wait_connected(1)
        try:
            return _burst(sim, group, users)
        finally:
            service.stop(flush_timeout=30)
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base = run_baseline(args.messages)
    prod = run_product(args.messages, args.database_url)
    print(f"{args.messages} messages in one burst, {args.messages} senders, database "
          f"{'SQLite (temporary file)' if not args.database_url else args.database_url.split('@')[-1]}")
    print(f"{'':24}{'msgs/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'replies s':>11}{'ACK 200':>9}")
    for name, r in (("bare SDK handler", base), ("dingclass 签到 path", prod)):
        print(f"{name:24}{r['msgs_per_s']:>10.1f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}"
              f"{r['all_replied_s']:>11.2f}{r['ok']:>9}")
    print("replies s: until every reply reached the group; the product's sender clock ran 60x past its "
          "20-a-minute group budget")
    print(f"ratio product/bare: throughput {prod['msgs_per_s'] / base['msgs_per_s']:.2f}x, "
          f"p50 latency {prod['p50_ms'] / base['p50_ms']:.2f}x, p99 latency {prod['p99_ms'] / base['p99_ms']:.2f}x")


if __name__ == "__main__":
    main()
