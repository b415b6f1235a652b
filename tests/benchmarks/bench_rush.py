"""Benchmark (issue 15, 6a): 50 trainees check in within 30 s in one group; seconds until the last
confirmation, through the real SDK, the simulator and the product's bot, in real time.

Two runs in the same process, one after the other, with the same rush:
- baseline: every reply sent alone, 20 at once then nothing until a minute has passed (the outbox
  before digests: ``digest=False, burst=20``);
- product: the outbox as it ships: 10 at once, then one send every 3 s, the replies queued meanwhile
  merged into one digest naming each person.
Prints, for each: seconds from the first message to the last confirmation, each trainee's wait (p50,
max), the most messages the group got in any 60 s, and the ratios. Not a test: nothing here asserts.

    python -m tests.benchmarks.bench_rush [--trainees 50] [--seconds 30] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bot.service import BotService
from bot.settings import load
from bot.simulator import DingTalkSimulator, sdk_pointed_at
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import InboundMessage, OutboxMessage
from tests.benchmarks.bench_city import fresh_database
from tests.e2e.classroom import build_classroom, class_time
from tests.e2e.replies import lines


def run(trainees: int, seconds: float, database_url: str | None, sender_options: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp, DingTalkSimulator() as sim, sdk_pointed_at(sim.endpoint):
        start = class_time("08:20")
        t0 = time.time()
        sim.clock = lambda: start.timestamp() * 1000 + (time.time() - t0) * 1000  # 08:20, running in real time
        url = fresh_database(database_url) if database_url else f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        factory = make_session_factory(engine)
        group, users = build_classroom(sim, factory, trainees)
        settings = load({"DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
                         "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": tmp, "DATABASE_URL": url})
        service = BotService(settings, factory, sender_options=sender_options).start()
        try:
            first = time.time()
            for n, user in enumerate(users):
                time.sleep(max(0.0, first + n * seconds / trainees - time.time()))
                sim.say(user, "签到", group, wait=False)
            sim.wait_until(lambda: sum(len(lines(s)) for s in sim.sent(group)) >= trainees, timeout=600,
                           what="every confirmation")
            time.sleep(0.5)  # the last rows' marks
            with factory() as s:
                asked = dict(s.execute(select(InboundMessage.msg_id, InboundMessage.sent_at)).all())
                rows = s.execute(select(OutboxMessage.dedupe_key, OutboxMessage.sent_at)
                                 .where(OutboxMessage.kind == "reply")).all()
        finally:
            service.stop(flush_timeout=10)
            engine.dispose()
        shift = start.timestamp() - t0  # the simulated day (createAt) runs this far ahead of the sender's clock
        asked_at = {msg_id: at.timestamp() - shift for msg_id, at in asked.items()}
        sent = [(key.split(":")[1], at.timestamp()) for key, at in rows if at]
        waits = sorted(at - asked_at[msg_id] for msg_id, at in sent)
        times = sorted(m.at / 1000 for m in sim.sent(group))
        return {
            "last_s": max(at for _, at in sent) - min(asked_at.values()),
            "p50_wait": statistics.median(waits), "max_wait": waits[-1], "messages": len(times),
            "per_minute": max(sum(1 for t in times if w <= t < w + 60) for w in times),
            "confirmed": len(waits),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="the rush lasts this long")
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (a fresh database is made); "
                                                            "default: a temporary SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("dingclass.sdk").setLevel(logging.CRITICAL)  # the SDK's reconnect noise on stop
    base = run(args.trainees, args.seconds, args.database_url, {"digest": False, "burst": 20})
    prod = run(args.trainees, args.seconds, args.database_url, {})
    print(f"{args.trainees} trainees check in within {args.seconds:.0f} s in one group, real time, database "
          f"{'SQLite' if not args.database_url else 'PostgreSQL'}")
    print(f"{'':34}{'last s':>8}{'p50 wait':>10}{'max wait':>10}{'messages':>10}{'max/60 s':>10}{'confirmed':>11}")
    for name, r in (("baseline: every reply alone", base), ("dingclass: digests, 3 s spacing", prod)):
        print(f"{name:34}{r['last_s']:>8.1f}{r['p50_wait']:>10.1f}{r['max_wait']:>10.1f}{r['messages']:>10}"
              f"{r['per_minute']:>10}{r['confirmed']:>11}")
    print(f"ratio dingclass/baseline: last confirmation {prod['last_s'] / base['last_s']:.2f}x, "
          f"max wait {prod['max_wait'] / base['max_wait']:.2f}x, messages {prod['messages'] / base['messages']:.2f}x")


if __name__ == "__main__":
    main()
