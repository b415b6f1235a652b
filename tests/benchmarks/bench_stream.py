"""Benchmark: messages per second and push→ACK latency through the real SDK and the local simulator.

Runs on the same machine, in the same process, one after the other:
- ACK-only: an SDK handler that only ACKs (the transport's ceiling);
- bare SDK: a ChatbotHandler that replies through the sessionWebhook, then ACKs;
- product, burst: dingclass's 签到 path (store the raw message, resolve the trainee, R06 window, punch,
  ledger events, outbox row; group commit, then ACK; the outbox sender replies through the webhook);
- product, steady: the same path with the messages pushed at a steady offered rate (default 100 a
  second), for the push→ACK latency a class sees at a busy moment.
A burst pushes N messages from N trainees at once and waits for every ACK (and, for the product and
the bare handler, every reply). The three bursts run ``--rounds`` times in turn (default 3): a burst of the
ACK-only handler lasts a tenth of a second, and one busy moment of a shared machine would move its figure
by half. Prints each round's figures and ratios, then each handler's median round and the median of the
rounds' ratios. Not a test: nothing here asserts a time.

By default the simulator and the handler share one interpreter (and its GIL), so every figure pays for
the simulator's work too. ``--processes`` runs each handler — the ACK-only one, the bare one and the bot
— in a process of its own (spawned; the simulator stays here), as in production, where DingTalk is
another machine: the three are compared alike, and the bot's process does only the bot's work.

    python -m tests.benchmarks.bench_stream [--messages 300] [--rate 100] [--seconds 3] [--database-url URL]
                                            [--processes] [--rounds 3]

On PostgreSQL the database may be reused: each product run creates its own class and roster.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dingtalk_stream

from bot.service import BotService
from bot.settings import load
from bot.simulator import DingTalkSimulator, sdk_pointed_at
from bot.stream import StreamThread, make_client
from handlers.errors import Refusal
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.e2e.classroom import build_classroom, class_time
from tests.e2e.replies import lines


class AckOnlyHandler(dingtalk_stream.CallbackHandler):
    async def process(self, callback):
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


class BareHandler(dingtalk_stream.ChatbotHandler):
    async def process(self, callback):
        self.reply_text("收到", dingtalk_stream.ChatbotMessage.from_dict(callback.data))
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


def _push(sim, group, users, rate: float | None) -> float:
    """Push one 签到 per user: at once (``rate`` None) or ``rate`` a second; the start time."""
    start = time.perf_counter()
    for n, user in enumerate(users):
        if rate is not None:
            time.sleep(max(0.0, start + n / rate - time.perf_counter()))
        sim.say(user, "签到", group, wait=False)
    return start


def _measure(sim, group, users, *, rate: float | None = None, replies: bool = True, warm_up: bool = False) -> dict:
    """``warm_up``: the first user's message goes alone first, untimed (the bot compiles its statements on
    it: in a fresh process the first messages would pay for that); the others are measured."""
    def replied() -> int:  # a digest (several replies in one message) counts its lines
        return sum(len(lines(s)) for s in sim.sent(group))

    if warm_up:
        sim.say(users[0], "签到", group, wait=False)
        sim.wait_for_acks(1, timeout=120)
        sim.wait_until(lambda: replied() >= 1, timeout=120, what="the warm-up reply")
        users = users[1:]
    acked_before, replied_before = len(sim.acks), replied()
    start = _push(sim, group, users, rate)
    sim.wait_for_acks(acked_before + len(users), timeout=300)
    acked = time.perf_counter()
    all_replied = None
    if replies:
        sim.wait_until(lambda: replied() - replied_before >= len(users), timeout=300, what="replies")
        all_replied = time.perf_counter() - start
    acks = sim.acks[acked_before:]
    latencies = sorted(a.latency * 1000 for a in acks)
    return {
        "msgs_per_s": len(users) / (acked - start),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "all_replied_s": all_replied,
        "ok": sum(1 for a in acks if a.code == 200),
    }


HANDLERS = {"ack-only": AckOnlyHandler, "bare": BareHandler}


def _start(kind: str, sim_keys: tuple[str, str, str], url: str | None, data_dir: str) -> Callable[[], dict]:
    """Start one handler (``ack-only``, ``bare`` or the bot: ``product``) against the simulator; returns
    the function that stops it and gives its figures."""
    endpoint, client_id, secret = sim_keys
    if kind in HANDLERS:
        runner = StreamThread(make_client(client_id, secret, HANDLERS[kind]())).start()
        return lambda: (runner.stop(), {})[1]
    engine = make_engine(url)
    settings = load({"DINGTALK_CLIENT_ID": client_id, "DINGTALK_CLIENT_SECRET": secret,
                     "DINGTALK_OPENAPI_ENDPOINT": endpoint, "DINGCLASS_DATA_DIR": data_dir, "DATABASE_URL": url})
    # The per-group budget (20 replies a minute) would stretch 300 replies over 15 minutes; the sender's
    # clock runs 60x so the burst's replies all go out, and the ACK figures are what they are.
    t0, wall = time.monotonic(), datetime.now(timezone.utc)
    fast = {"clock": lambda: wall + timedelta(seconds=(time.monotonic() - t0) * 60),
            "lease": timedelta(minutes=30)}  # the lease on that clock: 30 s of real time
    service = BotService(settings, make_session_factory(engine), sender_options=fast).start()

    def stop() -> dict:
        committer = service.committer
        figures = {"per_commit": committer.committed / max(1, committer.transactions)}
        service.stop(flush_timeout=30)
        engine.dispose()
        return figures
    return stop


def _serve(kind: str, sim_keys: tuple[str, str, str], url: str | None, data_dir: str, pipe) -> None:
    """A handler's own process (``--processes``): start, say so, wait for the word to stop, send the figures."""
    logging.basicConfig(level=logging.WARNING)
    with sdk_pointed_at(sim_keys[0]):
        stop = _start(kind, sim_keys, url, data_dir)
        pipe.send("ready")
        pipe.recv()
        pipe.send(stop())


@contextmanager
def _running(kind: str, sim, url: str | None, data_dir: str, separate: bool) -> Iterator[dict]:
    """The handler connected to ``sim`` (here, or in a process of its own); the dict gets its figures."""
    figures: dict = {}
    sim_keys = (sim.endpoint, sim.client_id, sim.client_secret)
    if separate:
        context = multiprocessing.get_context("spawn")
        here, there = context.Pipe()
        process = context.Process(target=_serve, args=(kind, sim_keys, url, data_dir, there), daemon=True)
        process.start()
        here.recv()
        stop = lambda: (here.send("stop"), here.recv())[1]  # noqa: E731
    else:
        stop = _start(kind, sim_keys, url, data_dir)
    sim.wait_connected(1)
    try:
        yield figures
    finally:
        figures.update(stop())
        if separate:
            process.join(60)


def run_transport(n: int, kind: str, replies: bool, separate: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp, \
            DingTalkSimulator(clock=lambda: class_time("08:20")) as sim, sdk_pointed_at(sim.endpoint):
        users = [sim.add_user(f"u{i}") for i in range(n)]
        group = sim.add_group("bench", members=users)
        with _running(kind, sim, None, tmp, separate):
            return _measure(sim, group, users, replies=replies)


def _classroom(sim, factory, size: int, attempts: int = 5):
    """A class and a roster of its own (the database may hold earlier runs). The roster's ID numbers are drawn
    at random: should one belong to a trainee of an earlier run's class, the import is refused (one person, two
    classes at once) and nothing is kept; another draw then."""
    run = time.time_ns()
    for attempt in range(attempts):
        try:
            return build_classroom(sim, factory, size, code=f"BENCH-{(run + attempt) % 10**12}", seed=run + attempt)
        except Refusal:
            if attempt == attempts - 1:
                raise


def run_product(n: int, database_url: str | None, rate: float | None = None, separate: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp, \
            DingTalkSimulator(clock=lambda: class_time("08:20")) as sim, sdk_pointed_at(sim.endpoint):
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        group, users = _classroom(sim, make_session_factory(engine), n + 1)
        engine.dispose()
        with _running("product", sim, url, tmp, separate) as figures:
            result = _measure(sim, group, users, rate=rate, warm_up=True)
        return {**result, **figures}


def _row(name: str, r: dict) -> str:
    replied = f"{r['all_replied_s']:>11.2f}" if r["all_replied_s"] is not None else f"{'—':>11}"
    per_commit = f"{r['per_commit']:>11.1f}" if "per_commit" in r else f"{'—':>11}"
    return (f"{name:28}{r['msgs_per_s']:>10.1f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{replied}"
            f"{r['ok']:>9}{per_commit}")


def _median_run(runs: list[dict]) -> dict:
    """The run with the median throughput (the lower middle one of an even number)."""
    return sorted(runs, key=lambda r: r["msgs_per_s"])[(len(runs) - 1) // 2]


def _median_ratio(rounds: list[tuple[dict, dict, dict]], over: int, under: int, figure: str = "msgs_per_s") -> float:
    """The median over the rounds of one handler's ``figure`` over another's in the same round."""
    return statistics.median(r[over][figure] / r[under][figure] for r in rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="messages in each burst")
    parser.add_argument("--rate", type=float, default=100.0, help="steady mode: messages offered a second")
    parser.add_argument("--seconds", type=float, default=3.0, help="steady mode: how long")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--processes", action="store_true",
                        help="each handler in a process of its own, the simulator in this one")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of the three handlers, in turn")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n, separate = args.messages, args.processes
    rounds = [(run_transport(n, "ack-only", replies=False, separate=separate),
               run_transport(n, "bare", replies=True, separate=separate),
               run_product(n, args.database_url, separate=separate)) for _ in range(max(1, args.rounds))]
    steady = run_product(max(1, round(args.rate * args.seconds)), args.database_url, rate=args.rate, separate=separate)
    ack_only, bare, burst = (_median_run([r[i] for r in rounds]) for i in range(3))
    print(f"{n} messages in one burst from {n} senders; steady: {args.rate:g} a second for {args.seconds:g} s; "
          f"database {'SQLite (temporary file)' if not args.database_url else args.database_url.split('@')[-1]}; "
          f"{'each handler in its own process' if separate else 'the simulator and the handler in one process'}")
    print(f"{'':28}{'msgs/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'replies s':>11}{'ACK 200':>9}{'per commit':>11}")
    for name, r in (("ACK-only handler, burst", ack_only), ("bare SDK handler, burst", bare),
                    ("dingclass 签到, burst", burst), (f"dingclass 签到, {args.rate:g}/s steady", steady)):
        print(_row(name, r))
    print("msgs/s: pushed ÷ time to the last ACK (steady: bounded by the offered rate); p50/p99: push→ACK; "
          "replies s: until every reply reached the group (the product's sender clock ran 60x past its "
          "20-a-minute group budget); per commit: messages per transaction")
    print(f"bursts: each handler's median of {len(rounds)} rounds, run in turn:")
    for k, (a, b, p) in enumerate(rounds, start=1):
        print(f"  round {k}: ACK-only {a['msgs_per_s']:.0f}, bare SDK {b['msgs_per_s']:.0f}, dingclass "
              f"{p['msgs_per_s']:.0f} msgs/s; product/bare {p['msgs_per_s'] / b['msgs_per_s']:.2f}x, "
              f"product/ACK-only {p['msgs_per_s'] / a['msgs_per_s']:.2f}x")
    print(f"ratio product/bare SDK: throughput {_median_ratio(rounds, 2, 1):.2f}x (median of the rounds), "
          f"p50 {_median_ratio(rounds, 2, 1, 'p50_ms'):.2f}x, p99 {_median_ratio(rounds, 2, 1, 'p99_ms'):.2f}x "
          f"(medians of the rounds too)")
    print(f"ratio product/ACK-only: throughput {_median_ratio(rounds, 2, 0):.2f}x (median of the rounds)")
    print(f"steady {args.rate:g}/s: p99 push→ACK {steady['p99_ms']:.1f} ms (target < 300 ms)")


if __name__ == "__main__":
    main()
