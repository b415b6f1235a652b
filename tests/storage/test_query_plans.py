"""One class's day view reads that class's rows, not the city's (issue 13), proven by PostgreSQL's own plans.

A small city (100 classes × 20 trainees × 10 days, written in bulk by the city benchmark's builder) is
analysed, the product's day view (``/api/v1/classes/<c>/days/<d>``) is asked for one class, and every
statement it sends about punches, photos, minutes and leave is explained with ``EXPLAIN (ANALYZE,
FORMAT JSON)``: no sequential scan of those tables, and what each plan reads of the per-trainee-day
tables (punches, photos, minutes) is no more than that class's own rows. Leave requests are a few per
class-day: PostgreSQL may rightly read the whole day's through the day index (a few pages) rather
than probe per trainee, so they are only held to "no sequential scan". The same holds a district's daily report
(R11): its class lines are two statements, run at once, that read the district's rows of the day. SQLite is skipped: the plan
is PostgreSQL's, and SQLite's planner has nothing comparable to assert on.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from handlers import qualification
from storage.db import make_engine, read_only_factory
from storage.models import Enrollment, Klass, LeaveRequest, Photo, Punch, StudyMinutes
from tests.benchmarks import city

BIG = {"punches": Punch, "photos": Photo, "study_minutes": StudyMinutes, "leave_requests": LeaveRequest}
PER_TRAINEE_DAY = ("punches", "photos", "study_minutes")
SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _rows_read(node: dict) -> float:
    """Rows a scan node looked at: those it returned plus those it threw away, over all its loops."""
    seen = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0) + node.get(
        "Rows Removed by Index Recheck", 0)
    return seen * node.get("Actual Loops", 1)


@contextmanager
def _captured(engine):
    """The statements (with their parameters) sent about the big tables inside the block."""
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if any(name in statement for name in BIG):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _explained(engine, statements):
    """Each captured statement's plan nodes that scan one of the big tables: (table, node type, rows read, loops)."""
    with engine.connect() as conn:
        for statement, parameters in statements:
            (plan,) = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()
            plan = plan if isinstance(plan, dict) else json.loads(plan)
            yield statement, [(node["Relation Name"], node["Node Type"], _rows_read(node), node.get("Actual Loops", 1))
                              for node in _nodes(plan["Plan"])
                              if node.get("Relation Name") in BIG and node["Node Type"] in SCANS]


@pytest.fixture
def small_city(factory):
    engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are PostgreSQL's (SQLite's planner has no comparable EXPLAIN to assert on)")
    shape = city.Shape(classes=100, trainees=20, days=10, leave_rate=0.2)  # leave rows enough to be worth an index
    city.build(engine, shape)
    return factory, shape


def test_one_class_day_view_reads_only_that_class_rows(small_city):
    factory, shape = small_city
    engine = factory.kw["bind"]
    day = city.START + timedelta(days=5)
    with factory() as s:
        klass = s.scalar(select(Klass).where(Klass.code == "C0042"))
        with _captured(engine) as statements:
            report = qualification.day_report(s, klass, day)
        assert len(report.lines) == shape.trainees
        own = {table: s.scalar(select(func.count()).select_from(model)
                               .join(Enrollment, Enrollment.id == model.enrollment_id)
                               .where(Enrollment.class_id == klass.id)) for table, model in BIG.items()}
        total = {table: s.scalar(select(func.count()).select_from(model)) for table, model in BIG.items()}
    assert statements, "the day view sent no statement about punches, photos, minutes or leave"
    assert total["punches"] > 50 * own["punches"]  # a city, not one class

    touched = set()
    for statement, scans in _explained(engine, statements):
        for table, kind, read, _loops in scans:
            touched.add(table)
            assert kind != "Seq Scan", f"a sequential scan of {table}:\n{statement}"
            assert table not in PER_TRAINEE_DAY or read <= own[table], (
                f"the plan reads {read:.0f} {table} rows; the class has {own[table]}:\n{statement}")
    assert {"punches", "photos", "study_minutes", "leave_requests"} <= touched


def test_postgresql_connections_run_without_jit(engine):
    """JIT compiled the short report plans for longer than they ran (issue 13): every connection turns it off,
    without a statement of its own, and keeps options given in the database URL."""
    if engine.dialect.name != "postgresql":
        pytest.skip("JIT is a PostgreSQL setting")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"
    url = engine.url.update_query_dict({"options": "-c statement_timeout=12345"})
    other = make_engine(url.render_as_string(hide_password=False))
    try:
        with other.connect() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "12345ms"
    finally:
        other.dispose()


def test_R11_a_districts_daily_report_is_two_statements_that_read_only_that_districts_day(small_city):
    """The class lines of the daily report (R11), as an admin reader asks for them: two statements for every class
    of a district (the minutes; the rest, on a second connection at the same time), reading each big table through
    its day index and the district's trainees — that district's rows of that day, never the city's (leave
    requests, a few a day: the day's at most), and no sequential scan (issue 13)."""
    from handlers import daily_report

    factory, shape = small_city
    engine = factory.kw["bind"]
    day = city.START + timedelta(days=5)
    with read_only_factory(factory)() as s:
        with _captured(engine) as statements:
            report = daily_report.build(s, day, district="区01", detail=False)
        (district,) = report.districts
        assert len(district.classes) == shape.classes // shape.districts
        assert sum(c.line.trainees for c in district.classes) == shape.classes // shape.districts * shape.trainees
        of_day = {table: s.scalar(select(func.count()).select_from(model).where(model.day == day))
                  for table, model in BIG.items()}
        district_id = district.district.id
        own = {table: s.scalar(select(func.count()).select_from(model)
                               .join(Enrollment, Enrollment.id == model.enrollment_id)
                               .join(Klass, Klass.id == Enrollment.class_id)
                               .where(model.day == day, Klass.district_id == district_id)) for table, model in BIG.items()}
    assert of_day["punches"] > 5 * own["punches"]  # a city, not one district
    assert len(statements) == 2, [statement[:200] for statement, _ in statements]
    touched = set()
    for statement, scans in _explained(engine, statements):
        for table, kind, read, loops in scans:
            touched.add(table)
            assert kind != "Seq Scan", f"a sequential scan of {table}:\n{statement}"
            # EXPLAIN gives a loop's rows as a whole-number average: up to half a row per loop too many
            limit = own[table] + loops / 2 if table in PER_TRAINEE_DAY else of_day[table]
            assert read <= limit, f"{read:.0f} {table} rows read; the district's that day: {own[table]}:\n{statement}"
    assert touched == set(BIG)
