"""Benchmark: ``dingclass verify`` on a city's ledger — events per second and peak memory.

Builds a city with ``tests.benchmarks.city`` (default 50 classes × 50 trainees × 20 days) and gives every
row of it a valid ledger event (a ``<table>.created`` event with the row's snapshot, on the row's chain:
its class's, or the city's), written in bulk, chained and hashed as ``storage.ledger`` does. On
PostgreSQL the city is kept in the schema ``verify_<classes>``, reused with ``--reuse``. Then runs, each
in a fresh child process so that its peak RSS is its own:

- as the baseline, a child process that only streams every event row (no hashing, no comparing);
- the full verification (every chain walked, every row compared with its last snapshot), in one process
  (unless ``--skip-serial``) and with one worker process per core;
- signing the verified heads, then an incremental verification (nothing new since: the floor);
- each chain's verified checkpoint moved back by 1/days of its events, then an incremental
  verification: one day's new events.

Prints seconds, events/s, the ratio to the baseline, peak RSS (the coordinating process and the
largest worker) and the client processes' CPU seconds (per event: what a loaded, shared machine does not
distort; for the baseline also its PostgreSQL backend's, read from /proc when the server is local) of
each. Not a test: nothing here asserts a time.

    python -m tests.benchmarks.bench_verify [--classes 50] [--trainees 50] [--days 20]
                                            [--database-url postgresql://…] [--reuse] [--skip-serial]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, select, text

from storage import ledger, ledger_keys, ledger_verify
from storage.db import make_engine, make_session_factory, normalise_url
from storage.models import LedgerChain, LedgerCheckpoint, LedgerEvent, tracked_tables
from tests.benchmarks import city

AT = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)
VIA_ENROLLMENT = ("punches", "photos", "leave_requests", "study_minutes")


def write_ledger(engine: Engine) -> int:
    """An event for every tracked row, chained per chain; the number of events."""
    with engine.connect() as conn:
        classes = dict(conn.execute(text("SELECT id, code FROM classes")).all())
        enrolled = dict(conn.execute(text("SELECT id, class_id FROM enrollments")).all())
    heads: dict[int, tuple[int, str]] = {}
    columns = ("chain", "seq", "prev_hash", "hash", "type", "actor", "class_code", "subject_table", "subject_id",
               "payload", "source", "at")

    def events():
        with engine.connect() as conn:
            for table in tracked_tables():
                for row in conn.execute(select(table).order_by(table.c.id)).mappings():
                    if table.name == "classes":
                        chain = row["id"]
                    elif table.name in VIA_ENROLLMENT:
                        chain = enrolled[row["enrollment_id"]]
                    else:
                        chain = row.get("class_id") or ledger.CITY
                    seq, prev = heads.get(chain, (0, ledger.GENESIS))
                    code = classes.get(chain) if chain else None
                    payload = ledger.canonical({"row": ledger.snapshot_row(table, dict(row))})
                    body = ledger.body_of(chain, seq + 1, f"{table.name}.created", "bench", code, table.name,
                                          row["id"], payload, "bench", AT)
                    digest = ledger.event_hash(prev, body)
                    heads[chain] = (seq + 1, digest)
                    yield (chain, seq + 1, prev, digest, f"{table.name}.created", "bench", code, table.name, row["id"],
                           payload, "bench", AT)

    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy(f"COPY ledger_events ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in events():
                        copy.write_row(row)
                        count += 1
            raw.commit()
        finally:
            raw.close()
    else:
        rows = [dict(zip(columns, row)) for row in events()]
        count = len(rows)
        with engine.begin() as conn:
            for start in range(0, len(rows), 20000):
                conn.execute(LedgerEvent.__table__.insert(), rows[start:start + 20000])
    with engine.begin() as conn:
        conn.execute(LedgerChain.__table__.delete())
        conn.execute(LedgerChain.__table__.insert(), [{"chain": c, "seq": s, "hash": h} for c, (s, h) in heads.items()])
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE ledger_events")
    return count


CHILD = """
import json, os, resource, sys, time
from pathlib import Path
from sqlalchemy import make_url, select
from storage import ledger_keys, ledger_verify
from storage.db import make_engine, make_session_factory
from storage.models import LedgerEvent
url, options, what, workers, key = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
if options:  # in the URL, so the verify workers (which open the database from its URL) read the same schema
    url = make_url(url).update_query_dict({"options": options}).render_as_string(hide_password=False)
engine = make_engine(url)
factory = make_session_factory(engine)
signer = ledger_keys.load_key(Path(key))
start = time.perf_counter()
server_cpu = None
if what == "stream":
    with engine.connect() as conn:
        rows = conn.execute(select(*LedgerEvent.__table__.c).order_by(LedgerEvent.chain, LedgerEvent.seq)
                            .execution_options(yield_per=5000))
        walked = sum(1 for _ in rows)
        server = Path(f"/proc/{conn.connection.dbapi_connection.info.backend_pid}/stat")
        server_cpu = sum(map(int, server.read_text().rsplit(")", 1)[1].split()[11:13])) / os.sysconf("SC_CLK_TCK") \
            if server.exists() else None
    ok = True
else:
    report = ledger_verify.run_verification(factory, trusted_keys=[signer.public_hex], signer=signer,
                                            incremental=what != "full", workers=workers)
    walked, ok = report.walked, report.ok
seconds = time.perf_counter() - start
usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps({"seconds": seconds, "walked": walked, "ok": ok, "server_cpu": server_cpu,
                  "cpu": sum(u.ru_utime + u.ru_stime for u in usage),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run_child(url: str, options: str, what: str, workers: int, key: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, url, options, what, str(workers), str(key)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def rewind_verified(engine: Engine, key: Path, days: int) -> None:
    """Move each chain's verified checkpoint back by a day's share of its events, as if the last day
    had been appended since the last clean verification."""
    signer = ledger_keys.load_key(key)
    with make_session_factory(engine).begin() as s:
        s.execute(LedgerCheckpoint.__table__.delete())
        heads = {}
        for chain, seq in s.execute(select(LedgerChain.chain, LedgerChain.seq)).all():
            back = max(seq - -(-seq // days), 0)
            if back:
                heads[chain] = (back, s.execute(select(LedgerEvent.hash).where(LedgerEvent.chain == chain,
                                                                               LedgerEvent.seq == back)).scalar_one())
        ledger_keys.checkpoint(s, signer, verified=True, heads=heads)


def _has_ledger(url: str | None, schema: str) -> bool:
    """Whether PostgreSQL ``url`` has the schema with ledger events from an earlier run."""
    if not url or not normalise_url(url).startswith("postgresql"):
        return False
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM information_schema.tables WHERE table_schema = :s "
                                  "AND table_name = 'ledger_events'"), {"s": schema}).first() is not None
        found = found and conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {schema}.ledger_events)")).scalar_one()
    engine.dispose()
    return bool(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL: a schema verify_<N> of it; "
                        "default: a temporary SQLite file")
    parser.add_argument("--reuse", action="store_true", help="PostgreSQL: keep a schema verify_<N> built before")
    parser.add_argument("--skip-serial", action="store_true", help="no full verification in one process")
    args = parser.parse_args()
    shape = city.Shape(args.classes, args.trainees, args.days)
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"verify_{args.classes}"
        built = args.reuse and _has_ledger(args.database_url, schema)
        engine = (make_engine(args.database_url, connect_args={"options": f"-c search_path={schema}"}) if built
                  else city._engine(args.database_url, schema, Path(tmp), reuse=False)[0])
        url = args.database_url if args.database_url else f"sqlite:///{Path(tmp) / (schema + '.sqlite3')}"
        options = f"-c search_path={schema}" if normalise_url(url).startswith("postgresql") else ""
        if built:
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM ledger_checkpoints; DELETE FROM ledger_keys; "
                                     "DELETE FROM ledger_verifications")
                events = conn.execute(text("SELECT count(*) FROM ledger_events")).scalar_one()
            print(f"reused {schema}: {events:,} ledger events")
        else:
            seconds = city.build(engine, shape)
            start = time.perf_counter()
            events = write_ledger(engine)
            print(f"built {args.classes} classes × {args.trainees} trainees × {args.days} days in {seconds:.1f} s, "
                  f"{events:,} ledger events in {time.perf_counter() - start:.1f} s ({engine.dialect.name})")
        key = Path(tmp) / "ledger.key"
        ledger_keys.create_key(key)
        workers = ledger_verify.default_workers()
        print(f"{'run':32} {'seconds':>8} {'events':>10} {'events/s':>10} {'vs stream':>9} {'RSS MB':>7} "
              f"{'per worker':>10} {'client CPU s':>12} {'µs/event':>8}  ok")
        baseline = None
        runs = [("stream", 1, "stream only (baseline)"), ("full", 1, "full, serial"),
                ("full", workers, f"full, {workers} workers"), ("incremental", workers, "incremental, nothing new"),
                ("day", workers, f"incremental, last 1/{args.days} new")]
        for what, n, title in runs[:1] + runs[1 + args.skip_serial:]:
            if what == "day":
                rewind_verified(engine, key, args.days)
            r = run_child(url, options, "incremental" if what == "day" else what, n, key)
            rate = r["walked"] / r["seconds"] if r["seconds"] else 0
            baseline = baseline or rate
            worker = f"{r['worker_rss_mb']:10.0f}" if n > 1 else f"{'—':>10}"
            per_event = f"{r['cpu'] / r['walked'] * 1e6:8.1f}" if r["walked"] else f"{'—':>8}"
            print(f"{title:32} {r['seconds']:8.1f} {r['walked']:10,} {rate:10,.0f} {rate / baseline:8.2f}× "
                  f"{r['rss_mb']:7.0f} {worker} {r['cpu']:12.1f} {per_event}  {r['ok']}")
            if r["server_cpu"] is not None:
                print(f"{'  (its PostgreSQL backend)':32} {'':8} {'':10} {'':10} {'':9} {'':7} {'':10} "
                      f"{r['server_cpu']:12.1f} {r['server_cpu'] / r['walked'] * 1e6:8.1f}")
        engine.dispose()
        print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
