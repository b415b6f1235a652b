"""Benchmark: the R11 daily report at city scale (500 classes, 25,000 trainees by default).

One database, one run, three measurements of the same query (``storage.daily`` via
``handlers.daily_report.build``):
- baseline: one class (the smallest unit a report can ask for);
- one district (a tenth of the city): what the morning job builds per district;
- the whole city;
and the ledger heads the report carries (each class chain's head at the end of the day, R11/R17):
their share of the city's build, with ``--events`` ledger events per class chain, a tenth of them
stamped after the day ended (the next morning's, which the head must skip).
Every subquery is restricted to the asked classes before it groups, so a district should cost about a
tenth of the city, and far less than ten times one class. Prints the times, rows and ratios; also the
time to write the district's workbook. Not a test: nothing here asserts a time.

The rows are written with bulk inserts (no ledger events: this database is thrown away).

    python -m tests.benchmarks.bench_daily_report [--classes 500] [--trainees 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from handlers import daily_report
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import (
    Assignment,
    ClassSession,
    District,
    Enrollment,
    Institution,
    Klass,
    LedgerChain,
    LedgerEvent,
    Person,
    Photo,
    Punch,
    Question,
    StudyMinutes,
    Submission,
)

DAY = date(2026, 12, 1)
TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def seed(factory, classes: int, trainees: int, districts: int, events: int = 0) -> None:
    rng = random.Random(11)
    with factory.begin() as s:
        s.execute(insert(District), [{"id": d + 1, "name": f"区{d + 1:02d}", "city": "包头市"} for d in range(districts)])
        s.execute(insert(Institution), [{"id": d + 1, "name": f"机构{d + 1:02d}", "district_id": d + 1}
                                        for d in range(districts)])
        s.execute(insert(Klass), [{
            "id": c + 1, "code": f"C{c + 1:04d}", "name": f"班{c + 1}", "occupation": "育婴员",
            "institution_id": c % districts + 1, "district_id": c % districts + 1, "mode": "live",
            "start_date": date(2026, 11, 25), "end_date": date(2026, 12, 10), "total_hours": 100, "online_hours": 40,
            "lesson_minutes": 45, "policy": "baotou-2020", "class_teacher": "王芳", "status": "approved",
            "overrides": "{}", "teachers": "[]", "live_ids": "[]", "created_at": AT} for c in range(classes)])
        s.execute(insert(ClassSession), [{"id": c + 1, "class_id": c + 1, "position": 1, "name": "上午",
                                          "start_time": dtime(8, 30), "end_time": dtime(11, 30)}
                                         for c in range(classes)])
        people, enrollments, punches, photos, minutes, subs, questions = [], [], [], [], [], [], []
        assignments = [{"id": c + 1, "class_id": c + 1, "number": 1, "content": "练习", "day": DAY,
                        "posted_by": "staff:1", "posted_at": AT, "source": "bench"} for c in range(classes)]
        eid = 0
        for c in range(classes):
            for _ in range(trainees):
                eid += 1
                people.append({"id": eid, "name": f"学员{eid}", "gender": "男", "id_number": f"{eid:018d}",
                               "phone": "13800000000", "created_at": AT})
                enrollments.append({"id": eid, "class_id": c + 1, "person_id": eid, "identity_category": "企业职工",
                                    "removed": False})
                if rng.random() < 0.9:
                    punches.append({"enrollment_id": eid, "day": DAY, "session_id": c + 1, "kind": "in", "at": AT,
                                    "late": rng.random() < 0.1, "early": False, "counts": True, "source": "bench"})
                if rng.random() < 0.8:
                    photos.append({"enrollment_id": eid, "day": DAY, "sha256": f"{eid:064x}", "status": "ok",
                                   "counted": True, "received_at": AT, "source": "bench"})
                minutes.append({"enrollment_id": eid, "day": DAY, "live_minutes": rng.randrange(60, 180),
                                "replay_minutes": 0, "source": "bench", "recorded_at": AT})
                if rng.random() < 0.8:
                    subs.append({"assignment_id": c + 1, "enrollment_id": eid, "content": "答案", "day": DAY,
                                 "submitted_at": AT, "late": False, "source": "bench"})
            questions += [{"class_id": c + 1, "number": n, "enrollment_id": eid - n, "content": "?", "day": DAY,
                           "asked_at": AT, "source": "bench"} for n in range(1, 4)]
        ledger_rows = [{"chain": c + 1, "seq": n, "prev_hash": f"{n - 1:064x}", "hash": f"{n:064x}", "type": "bench",
                        "actor": "bench", "class_code": f"C{c + 1:04d}", "payload": "{}", "source": "bench",
                        "at": AT + timedelta(seconds=n * 60 if n <= events * 9 // 10 else 86_400 + n)}
                       for c in range(classes) for n in range(1, events + 1)]
        chains = [{"chain": c + 1, "seq": events, "hash": f"{events:064x}"} for c in range(classes) if events]
        for model, rows in ((Person, people), (Enrollment, enrollments), (Punch, punches), (Photo, photos),
                            (LedgerEvent, ledger_rows), (LedgerChain, chains),
                            (StudyMinutes, minutes), (Assignment, assignments), (Submission, subs),
                            (Question, questions)):
            for start in range(0, len(rows), 5000):
                s.execute(insert(model), rows[start:start + 5000])


def timed(factory, repeat: int, **kwargs) -> tuple[float, daily_report.DailyReport]:
    best, report = float("inf"), None
    for _ in range(repeat):
        with factory() as s:
            start = time.perf_counter()
            report = daily_report.build(s, DAY, tz=TZ, **kwargs)
            best = min(best, time.perf_counter() - start)
    return best, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--trainees", type=int, default=50, help="per class")
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--events", type=int, default=2000, help="ledger events per class chain")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file (an empty database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        upgrade(engine)
        factory = make_session_factory(engine)
        start = time.perf_counter()
        seed(factory, args.classes, args.trainees, args.districts, args.events)
        print(f"seeded {args.classes} classes × {args.trainees} trainees in {time.perf_counter() - start:.1f} s "
              f"({engine.dialect.name})")
        one, _ = timed(factory, args.repeat, class_ids=[1])
        district, d_report = timed(factory, args.repeat, district="区01")
        city, c_report = timed(factory, args.repeat)
        heads = float("inf")
        for _ in range(args.repeat):
            with factory() as s:
                start = time.perf_counter()
                found = daily_report.class_heads(s, [c.klass for d in c_report.districts for c in d.classes], DAY, TZ)
                heads = min(heads, time.perf_counter() - start)
        start = time.perf_counter()
        data = daily_report.workbook(d_report)
        book = time.perf_counter() - start
        d_classes = sum(len(d.classes) for d in d_report.districts)
        c_classes = sum(len(d.classes) for d in c_report.districts)
        print(f"one class      {one * 1000:8.1f} ms")
        print(f"one district   {district * 1000:8.1f} ms  ({d_classes} classes)  = {district / one:5.1f}× one class")
        print(f"whole city     {city * 1000:8.1f} ms  ({c_classes} classes)  = {city / district:5.1f}× one district")
        print(f"district workbook {book * 1000:8.1f} ms, {len(data) / 1024:.0f} KiB")
        print(f"class heads    {heads * 1000:8.1f} ms  ({len(found)} chains × {args.events} events) "
              f"= {heads / city:5.2f} of the city's build (included in it)")
        engine.dispose()


if __name__ == "__main__":
    main()
