"""Benchmark: ``dingclass verify`` on a city's ledger — events per second and peak memory.

Builds a city with ``tests.benchmarks.city`` (default 50 classes × 50 trainees × 20 days) and gives every
row of it a valid ledger event (a ``<table>.created`` event with the row's snapshot, on the row's chain:
its class's, or the city's), written in bulk, chained and hashed as ``storage.ledger`` does. Then runs,
each in a fresh child process so that its peak RSS is its own:

- the full verification (every chain walked, every row compared with its last snapshot);
- signing the verified heads, then an incremental verification (nothing new since: the floor);
- as the baseline, the same child process that only streams every event row (no hashing, no comparing).

Prints seconds, events/s and peak RSS of each. Not a test: nothing here asserts a time.

    python -m tests.benchmarks.bench_verify [--classes 50] [--trainees 50] [--days 20]
                                            [--database-url postgresql://…]
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

from storage import ledger
from storage.db import make_engine, make_session_factory, normalise_url
from storage.models import LedgerChain, LedgerEvent, tracked_tables
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
import json, resource, sys, time
from pathlib import Path
from sqlalchemy import select
from storage import ledger
from storage.db import make_engine, make_session_factory
from storage.models import LedgerEvent
url, options, what, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
engine = make_engine(url, connect_args={"options": options}) if options else make_engine(url)
factory = make_session_factory(engine)
signer = ledger.load_key(Path(key))
start = time.perf_counter()
if what == "stream":
    with factory() as s:
        walked = sum(1 for _ in ledger._stream(s, select(*ledger._EVENT_COLUMNS).order_by(LedgerEvent.chain,
                                                                                          LedgerEvent.seq)))
    ok = True
else:
    report = ledger.run_verification(factory, trusted_keys=[signer.public_hex], signer=signer,
                                     incremental=what == "incremental")
    walked, ok = report.walked, report.ok
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "walked": walked, "ok": ok,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(url: str, options: str, what: str, key: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, url, options, what, str(key)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--trainees", type=int, default=50)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL: a schema verify_<N> of it; "
                        "default: a temporary SQLite file")
    args = parser.parse_args()
    shape = city.Shape(args.classes, args.trainees, args.days)
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"verify_{args.classes}"
        engine, _ = city._engine(args.database_url, schema, Path(tmp), reuse=False)
        url = args.database_url if args.database_url else f"sqlite:///{Path(tmp) / (schema + '.sqlite3')}"
        options = f"-c search_path={schema}" if normalise_url(url).startswith("postgresql") else ""
        seconds = city.build(engine, shape)
        start = time.perf_counter()
        events = write_ledger(engine)
        print(f"built {args.classes} classes × {args.trainees} trainees × {args.days} days in {seconds:.1f} s, "
              f"{events:,} ledger events in {time.perf_counter() - start:.1f} s ({engine.dialect.name})")
        engine.dispose()
        key = Path(tmp) / "ledger.key"
        ledger.create_key(key)
        print(f"{'run':24} {'seconds':>8} {'events':>10} {'events/s':>10} {'peak RSS MB':>12}  ok")
        for what in ("stream", "full", "incremental"):
            r = run_child(url, options, what, key)
            rate = r["walked"] / r["seconds"] if r["seconds"] else 0
            print(f"{what:24} {r['seconds']:8.1f} {r['walked']:10,} {rate:10,.0f} {r['rss_mb']:12.0f}  {r['ok']}")
        print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
