"""Benchmark: the Python CPU one 签到 costs the bot's committer, without the SDK, the simulator or threads.

One class (``--trainees`` bound trainees, one group), then one class day after another: every trainee
checks in at 08:20 through the real ``Dispatcher`` (``optimistic=True``, as ``bot.service`` builds it),
``--batch`` messages a transaction as the group committer takes them under load, each transaction
starting with the committer's ``prepare`` (``handlers.dispatch.prepare``) as the bot's does. Prints, per day, the
CPU time (``time.process_time``) and the wall time per message, and the median over the days after
the first (which warms the caches). ``--profile FILE`` writes a cProfile of the days (CPU clock) for
``python -m pstats FILE``. Not a test: nothing here asserts a time.

    python -m tests.benchmarks.bench_checkin_cpu [--trainees 100] [--days 8] [--batch 5] [--database-url URL]

On PostgreSQL the database may be reused: each run creates its own class, and marks its replies dead
so that no bot sender (bench_stream's) tries to deliver them.
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from handlers import dispatch
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.messages import MessageEvent
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage
from tests.handlers.chat import TZ, at, bind_group, bind_person, create_class, incoming, roster_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=100, help="check-ins a day")
    parser.add_argument("--days", type=int, default=8, help="class days measured (the class has 12)")
    parser.add_argument("--batch", type=int, default=5, help="messages a transaction")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--profile", default=None, help="write a cProfile (CPU clock) of the days here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        factory = make_session_factory(engine)
        run = time.time_ns() % 10**9
        group = f"cid-cpu-{run}"
        with factory.begin() as s:
            klass = create_class(s, size=args.trainees, seed=run, code=f"CPU-{run}")
            bind_group(s, klass, group)
            senders = [bind_person(s, person, f"cpu{run}-{n}").sender_id for n, person in enumerate(roster_of(s, klass))]
            first_day = klass.start_date
        dispatcher = Dispatcher(build_registry(), tz=TZ, optimistic=True)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        cpu = []
        for n in range(min(args.days, 12)):
            day = first_day + timedelta(days=n)
            events = [MessageEvent(incoming("签到", when=at("08:20", day), sender=u, group=group, msg_id=f"{u}-{day}"))
                      for u in senders]
            started, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            replies = []
            for i in range(0, len(events), args.batch):
                batch = events[i:i + args.batch]
                with factory.begin() as s:
                    if len(batch) > 1:  # as GroupCommitter does with its prepare hook
                        dispatch.prepare(s, [e.message for e in batch])
                    replies += [dispatcher.dispatch(s, e).replies[0].text for e in batch]
            if profile:
                profile.disable()
            cpu.append((time.process_time() - started) * 1000 / len(events))
            assert all(r.startswith("签到成功") for r in replies), set(replies)
            print(f"{day}: {cpu[-1]:.3f} ms CPU, {(time.perf_counter() - wall) * 1000 / len(events):.3f} ms wall a 签到")
        with factory.begin() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.conversation_id == group).values(status="dead"))
        print(f"median over days 2+: {statistics.median(cpu[1:] or cpu):.3f} ms CPU a 签到 "
              f"({args.trainees} trainees, {args.batch} a transaction, {engine.dialect.name})")
        if profile:
            profile.dump_stats(args.profile)
        engine.dispose()


if __name__ == "__main__":
    main()
