"""Benchmark: the near-duplicate photo lookup (R08) with a city's 1.5 million photos, PostgreSQL.

One database, one run: ``--rows`` photos with random 64-bit perceptual hashes are generated directly
in SQL (``generate_series``), indexed into ``photo_index`` (three bands), then each query hash —
half of them an existing hash with 8 bits flipped, spread 3/3/2 over the bands (the worst case for
the lookup), half random (no match) — is looked up twice:

- the product's lookup, ``storage.photo_index.find``: rows sharing a band within 2 bits, compared in
  Python;
- the baseline: a full scan computing every row's distance in PostgreSQL
  (``bit_count((phash # q)::bit(64))``), the best a lookup without the bands can do in the database.

Both must give the same answer for every query (checked). Prints the seeding time, p50/mean/p99 per
lookup, the candidates read per lookup, and the ratio. Not a test: nothing here asserts a time.

    python -m tests.benchmarks.bench_photo_index --database-url postgresql://…/empty_db [--rows 1500000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, datetime, timezone

from sqlalchemy import insert, text

from storage import photo_index
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import District, Enrollment, Institution, Klass, Person

AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
THRESHOLD = 8  # the profiles' photos.near_duplicate_max_distance


def seed(engine, factory, rows: int) -> None:
    with factory.begin() as s:
        s.execute(insert(District), [{"id": 1, "name": "区01", "city": "包头市"}])
        s.execute(insert(Institution), [{"id": 1, "name": "机构01", "district_id": 1}])
        s.execute(insert(Klass), [{
            "id": 1, "code": "C0001", "name": "班1", "occupation": "育婴员", "institution_id": 1, "district_id": 1,
            "mode": "live", "start_date": date(2026, 11, 25), "end_date": date(2026, 12, 10), "total_hours": 100,
            "online_hours": 40, "lesson_minutes": 45, "policy": "baotou-2020", "class_teacher": "王芳",
            "status": "approved", "overrides": "{}", "teachers": "[]", "live_ids": "[]", "created_at": AT}])
        s.execute(insert(Person), [{"id": 1, "name": "学员1", "gender": "男", "id_number": "1" * 18,
                                    "phone": "13800000000", "created_at": AT}])
        s.execute(insert(Enrollment), [{"id": 1, "class_id": 1, "person_id": 1, "identity_category": "企业职工",
                                        "removed": False}])
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.15)"))
        conn.execute(text(
            "INSERT INTO photos (enrollment_id, day, sha256, phash, status, counted, received_at, source) "
            "SELECT 1, DATE '2026-12-01', md5(n::text) || md5((-n)::text), "
            "lpad(to_hex(((floor(random() * 4294967296)::bigint) << 32) | floor(random() * 4294967296)::bigint), 16, '0'), "
            "'ok', true, TIMESTAMPTZ '2026-12-01 01:00+00', 'bench' FROM generate_series(1, :rows) AS n"),
            {"rows": rows})
        conn.execute(text(
            "INSERT INTO photo_index (sha256, photo_id, phash, band0, band1, band2) "
            "SELECT sha256, id, h, (h >> 42) & 4194303, (h >> 21) & 2097151, h & 2097151 "
            "FROM (SELECT sha256, id, ('x' || phash)::bit(64)::bigint AS h FROM photos) AS p"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE photo_index"))


def queries(engine, n: int) -> list[int]:
    """Half: an existing hash with 8 bits flipped, spread 3/3/2 over the bands; half: random."""
    rng = random.Random(8)
    with engine.connect() as conn:
        existing = [int(h, 16) for (h,) in conn.execute(
            text("SELECT phash FROM photos TABLESAMPLE SYSTEM (1) LIMIT :n"), {"n": n // 2})]
    near = []
    for value in existing:
        for (shift, width), count in zip(photo_index.BANDS, (3, 3, 2)):
            for bit in rng.sample(range(width), count):
                value ^= 1 << (shift + bit)
        near.append(value)
    return near + [rng.getrandbits(64) for _ in range(n - len(near))]


def full_scan(s, value: int) -> photo_index.Match | None:
    row = s.execute(text(
        "SELECT photo_id, bit_count((phash # :q)::bit(64)) AS d FROM photo_index "
        "WHERE phash IS NOT NULL AND bit_count((phash # :q)::bit(64)) <= :t ORDER BY d, photo_id LIMIT 1"),
        {"q": photo_index.to_signed(value), "t": THRESHOLD}).first()
    return photo_index.Match(row[0], row[1], False) if row else None


def timed(fn, items) -> tuple[list[float], list]:
    times, answers = [], []
    for item in items:
        start = time.perf_counter()
        answers.append(fn(item))
        times.append(time.perf_counter() - start)
    return times, answers


def describe(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name:<28} p50 {statistics.median(times) * 1000:8.2f} ms   mean {statistics.mean(times) * 1000:8.2f} ms"
            f"   p99 {p99 * 1000:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database (it is filled)")
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--lookups", type=int, default=200, help="band lookups (the full scan runs a quarter)")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    if engine.dialect.name != "postgresql":
        parser.error("the benchmark generates its rows with PostgreSQL's SQL")
    upgrade(engine)
    factory = make_session_factory(engine)
    start = time.perf_counter()
    seed(engine, factory, args.rows)
    print(f"seeded {args.rows:,} photos and their index rows in {time.perf_counter() - start:.1f} s")
    values = queries(engine, args.lookups)
    with factory() as s:
        sha = "0" * 64
        find = lambda value: photo_index.find(s, sha, f"{value:016x}", THRESHOLD)  # noqa: E731
        find(values[0])  # warm the connection and the mask cache
        band_times, band_answers = timed(find, values)
        sampled = values[:: 4]
        scan_times, scan_answers = timed(lambda value: full_scan(s, value), sampled)
        read = [len(photo_index.candidates(s, value, THRESHOLD)) for value in values[:50]]
    assert band_answers[:: 4] == scan_answers, "the band lookup and the full scan disagree"
    found = sum(answer is not None for answer in band_answers)
    print(f"{len(values)} lookups, threshold {THRESHOLD}: {found} found a near duplicate "
          f"(planted at distance 8 spread 3/3/2), the rest none; full scan agrees on every one of {len(sampled)}")
    print(f"candidates read per band lookup: mean {statistics.mean(read):.0f}, max {max(read)} "
          f"(of {args.rows:,} rows)")
    print(describe("baseline: full scan (PG)", scan_times))
    print(describe("band lookup (product)", band_times))
    print(f"ratio (mean): the full scan takes {statistics.mean(scan_times) / statistics.mean(band_times):.0f}× "
          "the band lookup")
    engine.dispose()


if __name__ == "__main__":
    main()
