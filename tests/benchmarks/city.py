"""Benchmark: a whole city in one database — does one class's view stay the same size as the city grows?

Builds two cities in the same run (default 10 and 500 classes × 50 trainees × 20 class days, 2 sessions a
day: per trainee-day 4 punches, 1 photo, 1 minutes row, now and then a leave request or a flagged photo),
then measures, on each, through the Flask test client (min of ``--repeat`` runs, default 5):

- ``/api/v1/reports/daily`` (R11, every class of the city on one day),
- ``/api/v1/classes/<c>/days/<d>`` (one class of 50 trainees on one day),
- the overview ``/`` and a class page ``/classes/<c>`` (signed in as admin),

and, for the two API endpoints, hand-written SQL that gives the same numbers (checked: the benchmark
says so when they differ), measured in the same run on the same indexes and connection settings, each
hand-SQL run right after a product run. It
prints product time, hand-SQL time, their ratio, and the 500-class time against the 10-class one.
Nothing here asserts a time.

The rows are written in bulk (PostgreSQL ``COPY``; Core inserts on SQLite) and carry no ledger events:
the database is for reading. On PostgreSQL each city is a schema (``city_<classes>``) of the database
given, dropped and rebuilt unless ``--reuse``. Building 500 × 50 × 20 days (2M punches) takes about a
minute on PostgreSQL here; ``--days 60`` gives the data set of issue 13 (6M punches).

    python -m tests.benchmarks.city [--classes 500] [--small 10] [--trainees 50] [--days 20]
                                    [--database-url postgresql://…] [--repeat 5] [--reuse]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, insert, text

from storage.db import make_engine, make_session_factory, normalise_url
from storage.migrate import upgrade
from storage.models import ClassSession, District, Enrollment, Institution, Klass, Person

TZ = ZoneInfo("Asia/Shanghai")
START = date(2026, 11, 2)
AT = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)
MINUTES_PER_DAY = 180  # 4 online lessons of 45 minutes a class day; R09 threshold 144
ADMIN = "bench-admin"
BIG_TABLES = ("punches", "photos", "study_minutes", "leave_requests")


@dataclass(frozen=True)
class Shape:
    classes: int
    trainees: int
    days: int
    districts: int = 10
    leave_rate: float = 0.02  # share of trainee-days with a leave request

    @property
    def last_day(self) -> date:
        return START + timedelta(days=self.days - 1)


# --- building ---------------------------------------------------------------------------------------


def _rows(shape: Shape, table: str, rng: random.Random):
    """The generated rows of one big table, as tuples in the column order of ``COLUMNS[table]``; day by day,
    as the bot writes them (a day's rows sit together in the table, as in a real database)."""
    for d in range(shape.days):
        day = START + timedelta(days=d)
        at = datetime.combine(day, dtime(1, 0), tzinfo=timezone.utc)
        for c in range(shape.classes):
            sessions = (2 * c + 1, 2 * c + 2)
            for t in range(shape.trainees):
                eid = c * shape.trainees + t + 1
                if table == "punches":
                    for sid in sessions:
                        if rng.random() < 0.92:
                            yield (eid, day, sid, "in", at, rng.random() < 0.08, False, True, "bench")
                        if rng.random() < 0.9:
                            yield (eid, day, sid, "out", at, False, rng.random() < 0.05, True, "bench")
                elif table == "photos":
                    if rng.random() < 0.85:
                        flagged = rng.random() < 0.02
                        yield (eid, day, f"{eid:032x}{d:032x}", "pending" if flagged else "ok", not flagged, at,
                               "bench")
                elif table == "study_minutes":
                    if rng.random() < 0.95:
                        yield (eid, day, "", rng.randrange(60, 200), rng.randrange(0, 30), "bench", at)
                elif table == "leave_requests":
                    if rng.random() < shape.leave_rate:
                        yield (eid, day, "病假", "approved" if rng.random() < 0.7 else "pending", at, "bench")


COLUMNS = {
    "punches": ("enrollment_id", "day", "session_id", "kind", "at", "late", "early", "counts", "source"),
    "photos": ("enrollment_id", "day", "sha256", "status", "counted", "received_at", "source"),
    "study_minutes": ("enrollment_id", "day", "lesson", "live_minutes", "replay_minutes", "source", "recorded_at"),
    "leave_requests": ("enrollment_id", "day", "reason", "status", "requested_at", "source"),
}


def _small_tables(shape: Shape) -> list[tuple[type, list[dict]]]:
    d = shape.districts
    classes = [{"id": c + 1, "code": f"C{c + 1:04d}", "name": f"育婴员{c + 1}班", "occupation": "育婴员",
                "institution_id": c % d + 1, "district_id": c % d + 1, "mode": "live", "start_date": START,
                "end_date": shape.last_day, "total_hours": 8 * shape.days,
                "online_hours": MINUTES_PER_DAY * shape.days // 45, "lesson_minutes": 45, "policy": "baotou-2020",
                "class_teacher": "王芳", "status": "approved", "created_at": AT} for c in range(shape.classes)]
    sessions = [{"id": 2 * c + i + 1, "class_id": c + 1, "position": i + 1, "name": name, "start_time": start,
                 "end_time": end}
                for c in range(shape.classes)
                for i, (name, start, end) in enumerate((("上午", dtime(8, 30), dtime(11, 30)),
                                                        ("下午", dtime(14, 0), dtime(17, 0))))]
    people = [{"id": e, "name": f"学员{e}", "gender": "男", "id_number": f"{e:018d}", "phone": "13800000000",
               "created_at": AT} for e in range(1, shape.classes * shape.trainees + 1)]
    enrollments = [{"id": e, "class_id": (e - 1) // shape.trainees + 1, "person_id": e,
                    "identity_category": "企业职工", "removed": False} for e in range(1, len(people) + 1)]
    return [(District, [{"id": i + 1, "name": f"区{i + 1:02d}", "city": "包头市"} for i in range(d)]),
            (Institution, [{"id": i + 1, "name": f"机构{i + 1:02d}", "district_id": i + 1} for i in range(d)]),
            (Klass, classes), (ClassSession, sessions), (Person, people), (Enrollment, enrollments)]


def build(engine: Engine, shape: Shape) -> float:
    """Write the city; returns the seconds it took."""
    started = time.perf_counter()
    upgrade(engine)
    with engine.begin() as conn:
        for model, rows in _small_tables(shape):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(model), rows[start:start + 5000])
    rng = random.Random(13)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                for table, columns in COLUMNS.items():
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in _rows(shape, table, rng):
                            copy.write_row(row)
                for table in ("districts", "institutions", "classes", "class_sessions", "persons", "enrollments"):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            raw.commit()
        finally:
            raw.close()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            for table, columns in COLUMNS.items():
                stmt = text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})")
                batch = []
                for row in _rows(shape, table, rng):
                    batch.append(dict(zip(columns, (_sqlite(v) for v in row))))
                    if len(batch) == 20000:
                        conn.execute(stmt, batch)
                        batch = []
                if batch:
                    conn.execute(stmt, batch)
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def _sqlite(value):
    """How the product's column types store a value on SQLite (``UTCDateTime`` keeps naive UTC text)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    return value


def add_admin(factory) -> tuple[str, str]:
    """An admin login and API token, through the product (their ledger events on the city chain)."""
    from handlers import accounts

    with factory.begin() as s:
        password = accounts.add_user(s, ADMIN, "admin", actor="bench")
        token = accounts.issue_token(s, ADMIN)
    return password, token


# --- the hand-written SQL ---------------------------------------------------------------------------

HAND_DAY = """
WITH e AS (SELECT en.id, p.name FROM enrollments en JOIN persons p ON p.id = en.person_id
           WHERE en.class_id = :c AND en.removed = false),
pu AS (SELECT enrollment_id AS id, sum(CASE WHEN kind = 'in' THEN 1 ELSE 0 END) AS ci,
              sum(CASE WHEN kind = 'out' THEN 1 ELSE 0 END) AS co,
              sum(CASE WHEN late THEN 1 ELSE 0 END) AS late, sum(CASE WHEN early THEN 1 ELSE 0 END) AS early
       FROM punches WHERE day = :d AND counts AND enrollment_id IN (SELECT id FROM e) GROUP BY enrollment_id),
ph AS (SELECT DISTINCT enrollment_id AS id FROM photos
       WHERE day = :d AND counted AND enrollment_id IN (SELECT id FROM e)),
ls AS (SELECT enrollment_id AS id, lesson, max(live_minutes + replay_minutes) AS m FROM study_minutes
       WHERE day = :d AND enrollment_id IN (SELECT id FROM e) GROUP BY enrollment_id, lesson),
mi AS (SELECT id, sum(CASE WHEN lesson <> '' THEN m ELSE 0 END) AS named,
              max(CASE WHEN lesson = '' THEN m ELSE 0 END) AS whole FROM ls GROUP BY id),
lv AS (SELECT enrollment_id AS id, status FROM leave_requests WHERE day = :d AND enrollment_id IN (SELECT id FROM e))
SELECT e.name, coalesce(pu.ci, 0), coalesce(pu.co, 0), coalesce(pu.late, 0), coalesce(pu.early, 0),
       ph.id IS NOT NULL, coalesce(lv.status, 'none'),
       coalesce(CASE WHEN mi.whole > mi.named THEN mi.whole ELSE mi.named END, 0)
FROM e LEFT JOIN pu ON pu.id = e.id LEFT JOIN ph ON ph.id = e.id LEFT JOIN mi ON mi.id = e.id
       LEFT JOIN lv ON lv.id = e.id
ORDER BY e.id
"""

HAND_DAILY = """
WITH e AS (SELECT en.id, en.class_id FROM enrollments en JOIN classes k ON k.id = en.class_id
           WHERE en.removed = false AND k.start_date <= :d AND k.end_date >= :d),
pu AS (SELECT enrollment_id AS id, max(CASE WHEN kind = 'in' THEN 1 ELSE 0 END) AS ci,
              max(CASE WHEN kind = 'out' THEN 1 ELSE 0 END) AS co,
              sum(CASE WHEN late THEN 1 ELSE 0 END) AS late, sum(CASE WHEN early THEN 1 ELSE 0 END) AS early
       FROM punches WHERE day = :d AND counts GROUP BY enrollment_id),
ph AS (SELECT enrollment_id AS id, max(CASE WHEN counted THEN 1 ELSE 0 END) AS counted,
              sum(CASE WHEN status IN ('duplicate', 'pending') THEN 1 ELSE 0 END) AS flagged
       FROM photos WHERE day = :d GROUP BY enrollment_id),
ls AS (SELECT enrollment_id AS id, lesson, max(live_minutes + replay_minutes) AS m FROM study_minutes
       WHERE day = :d GROUP BY enrollment_id, lesson),
mi AS (SELECT id, CASE WHEN max(CASE WHEN lesson = '' THEN m ELSE 0 END) > sum(CASE WHEN lesson <> '' THEN m ELSE 0 END)
                       THEN max(CASE WHEN lesson = '' THEN m ELSE 0 END)
                       ELSE sum(CASE WHEN lesson <> '' THEN m ELSE 0 END) END AS m FROM ls GROUP BY id),
lv AS (SELECT enrollment_id AS id FROM leave_requests WHERE day = :d)
SELECT k.code, count(*), sum(coalesce(pu.ci, 0)), sum(coalesce(pu.co, 0)), sum(coalesce(pu.late, 0)),
       sum(coalesce(pu.early, 0)), sum(coalesce(ph.counted, 0)), sum(coalesce(ph.flagged, 0)), count(lv.id),
       sum(CASE WHEN coalesce(mi.m, 0) >= :threshold THEN 1 ELSE 0 END)
FROM e JOIN classes k ON k.id = e.class_id LEFT JOIN pu ON pu.id = e.id LEFT JOIN ph ON ph.id = e.id
       LEFT JOIN mi ON mi.id = e.id LEFT JOIN lv ON lv.id = e.id
GROUP BY k.code ORDER BY k.code
"""
DAILY_FIELDS = ("trainees", "checked_in", "checked_out", "late", "early", "photos", "photos_flagged", "leave",
                "day_ok")
THRESHOLD = MINUTES_PER_DAY * 4 // 5  # R09: 80% of the day's planned minutes, in whole minutes


# --- measuring --------------------------------------------------------------------------------------


def best_of(repeat: int, *runs) -> list[tuple[float, object]]:
    """For each of ``runs``, the fastest of ``repeat`` timed runs and its result, after one untimed run of each
    (compiled-statement caches, the pool). The runs take turns, so a busy moment of this shared machine falls on
    the product and on its hand-written SQL alike rather than on whichever ran then."""
    results = [run() for run in runs]
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for n, run in enumerate(runs):
            start = time.perf_counter()
            results[n] = run()
            best[n] = min(best[n], time.perf_counter() - start)
    return list(zip(best, results))


def measure(engine: Engine, shape: Shape, repeat: int, data_dir: Path) -> dict[str, tuple[float, float | None]]:
    """Product and hand-SQL seconds for each view: {view: (product, hand or None)}."""
    import re

    from admin import create_app

    factory = make_session_factory(engine)
    password, token = add_admin(factory)
    day = START + timedelta(days=shape.days // 2)
    code = f"C{shape.classes // 2 + 1:04d}"
    app = create_app({"SECRET_KEY": "benchmark-secret-key-of-at-least-32-bytes", "SESSION_FACTORY": factory,
                      "NOW": lambda: datetime.combine(day, dtime(12, 0), tzinfo=TZ), "DATA_DIR": data_dir,
                      "TIMEZONE": TZ})
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    pages = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', pages.get("/login").get_data(as_text=True)).group(1)
    assert pages.post("/login", data={"name": ADMIN, "password": password, "csrf_token": csrf}).status_code == 302

    def get(client, url, **kw):
        response = client.get(url, **kw)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
        return response

    def hand(sql, **params):
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    results: dict[str, tuple[float, float | None]] = {}
    (product, response), (by_hand, rows) = best_of(
        repeat, lambda: get(api, f"/api/v1/reports/daily?date={day}", headers=bearer),
        lambda: hand(HAND_DAILY, d=day, threshold=THRESHOLD))
    mine = [(r["class"], *[r[f] for f in DAILY_FIELDS]) for r in sorted(response.get_json(), key=lambda r: r["class"])]
    _same("reports/daily", mine, [tuple(int(v) if i else v for i, v in enumerate(r)) for r in rows])
    results["/api/v1/reports/daily"] = (product, by_hand)

    cid = int(code[1:])
    (product, response), (by_hand, rows) = best_of(
        repeat, lambda: get(api, f"/api/v1/classes/{code}/days/{day}", headers=bearer), lambda: hand(HAND_DAY, c=cid, d=day))
    mine = [(t["name"], t["checkins"], t["checkouts"], t["late"], t["early"], t["photo"], t["leave"],
             t["study_minutes"]) for t in response.get_json()["trainees"]]
    _same("classes/days", mine, [(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), bool(r[5]), r[6], int(r[7]))
                                 for r in rows])
    results["/api/v1/classes/<c>/days/<d>"] = (product, by_hand)

    results["overview /"] = (best_of(repeat, lambda: get(pages, f"/?date={day}"))[0][0], None)
    results["class page /classes/<c>"] = (best_of(repeat, lambda: get(pages, f"/classes/{code}"))[0][0], None)
    return results


def _same(what: str, product: list, hand: list) -> None:
    if product != hand:
        diff = next((p, h) for p, h in zip(product + [None] * len(hand), hand + [None] * len(product)) if p != h)
        print(f"!! {what}: the product and the hand SQL disagree, e.g. {diff}")


def _engine(url: str | None, schema: str, tmp: Path, reuse: bool) -> tuple[Engine, bool]:
    """An engine on a fresh city (PostgreSQL: a schema of ``url``; else a SQLite file); True if it has data."""
    if url and normalise_url(url).startswith("postgresql"):
        admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                                  {"s": schema}).first() is not None
            if not (reuse and exists):
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        admin.dispose()
        engine = make_engine(url, connect_args={"options": f"-c search_path={schema}"})
        if reuse and exists:
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM api_tokens; DELETE FROM admin_sessions; DELETE FROM login_attempts")
                users = "SELECT id FROM users WHERE name = 'bench-admin'"
                conn.exec_driver_sql(f"DELETE FROM ledger_events WHERE subject_table = 'users' "
                                     f"AND subject_id IN ({users}); DELETE FROM users WHERE name = 'bench-admin'")
                conn.exec_driver_sql("UPDATE ledger_chains SET seq = 0, hash = repeat('0', 64) WHERE chain = 0")
        return engine, reuse and exists
    path = tmp / f"{schema}.sqlite3"
    return make_engine(f"sqlite:///{path}"), False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--small", type=int, default=10, help="the smaller city to compare with")
    parser.add_argument("--trainees", type=int, default=50, help="per class")
    parser.add_argument("--days", type=int, default=20, help="class days (all of them have data)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="PostgreSQL: cities are schemas city_<N> of it; "
                        "default: temporary SQLite files")
    parser.add_argument("--reuse", action="store_true", help="PostgreSQL: keep a city schema that exists")
    args = parser.parse_args()
    measured = {}
    with tempfile.TemporaryDirectory() as tmp:
        for classes in (args.small, args.classes):
            shape = Shape(classes, args.trainees, args.days)
            engine, built = _engine(args.database_url, f"city_{classes}", Path(tmp), args.reuse)
            if not built:
                seconds = build(engine, shape)
                print(f"built {classes} classes × {shape.trainees} trainees × {shape.days} days "
                      f"({engine.dialect.name}) in {seconds:.1f} s")
            with engine.connect() as conn:
                counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in BIG_TABLES}
            print(f"  {classes} classes: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
            measured[classes] = measure(engine, shape, args.repeat, Path(tmp))
            engine.dispose()
    small, big = measured[args.small], measured[args.classes]
    print(f"\n{'view':32} {'classes':>7} {'product ms':>11} {'hand SQL ms':>12} {'product/hand':>13} "
          f"{'vs ' + str(args.small) + ' classes':>16}")
    for view in big:
        for classes, figures in ((args.small, small), (args.classes, big)):
            product, hand = figures[view]
            ratio = f"{product / hand:12.1f}×" if hand else f"{'—':>13}"
            growth = f"{product / small[view][0]:15.1f}×" if classes == args.classes else f"{'':16}"
            hand_text = f"{hand * 1000:12.1f}" if hand else f"{'—':>12}"
            print(f"{view:32} {classes:7d} {product * 1000:11.1f} {hand_text} {ratio} {growth}")


if __name__ == "__main__":
    main()
