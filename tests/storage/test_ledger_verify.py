"""R17: verification works chain by chain — worker processes find exactly what a serial run finds, on
every chain, and a row that changed chains is judged against all of its events."""

from __future__ import annotations

import json
from concurrent.futures.process import BrokenProcessPool

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from handlers.texts import ledger_problem
from storage import ledger, ledger_verify
from storage.db import make_engine
from storage.models import Klass, LedgerEvent, StaffRole, tracked_tables
from tests.storage.test_ledger import world  # noqa: F401  (the fixture: one row in every tracked table)


def verify(factory, workers):
    with factory() as s:
        return ledger_verify.verify(s, workers=workers)


def test_R17_rows_on_chain_finds_every_row_on_the_chain_its_events_are_on(world):  # noqa: F811
    tracked = {t.name for t in tracked_tables()}
    with world() as s:
        chains = [ledger.CITY, *s.scalars(select(Klass.id))]
        placed: dict[tuple[str, int], int] = {}
        for table in tracked_tables():
            for chain in chains:
                for row in s.execute(ledger.rows_on_chain(table, chain)):
                    assert (table.name, row.id) not in placed, "a row on two chains"
                    placed[(table.name, row.id)] = chain
        events = {(t, i): c for t, i, c in s.execute(select(LedgerEvent.subject_table, LedgerEvent.subject_id,
                                                              LedgerEvent.chain)) if t in tracked}
    assert placed == events


def test_R17_worker_processes_report_the_same_findings_as_a_serial_run_on_every_chain(world):  # noqa: F811
    with world() as s:
        s.execute(text("UPDATE persons SET name = '李四' WHERE id = 1"))  # the city's chain
        s.execute(text("UPDATE punches SET source = 'forged' WHERE id = 1"))  # the class's, via the enrollment
        s.execute(text("UPDATE ledger_events SET actor = 'someone-else' WHERE chain = 1 AND seq = 3"))
        s.execute(text("DELETE FROM photos WHERE id = 1"))
        s.execute(text("UPDATE staff_roles SET class_id = NULL WHERE id = 1"))  # moved to the city's chain
        s.commit()
    serial, parallel = verify(world, 1), verify(world, 2)
    assert [p.stored() for p in parallel.problems] == [p.stored() for p in serial.problems]
    assert {(p.kind, p.table, p.chain) for p in parallel.problems} == {
        ("changed", "persons", "*"), ("changed", "punches", "BT-001"), ("chain", "ledger_events", "BT-001"),
        ("deleted", "photos", "BT-001"), ("changed", "staff_roles", "BT-001")}
    assert (parallel.heads, parallel.walked, parallel.head) == (serial.heads, serial.walked, serial.head)


def test_R17_events_committed_while_one_process_verifies_are_not_reported_as_tampering(world, monkeypatch):  # noqa: F811
    """A verification beside the working bot: the class's chain grows between reading its events and its head."""
    stream, appended = ledger_verify._stream, []

    def stream_then_append(conn, stmt):
        rows = stream(conn, stmt)
        if not appended:
            with world() as w:
                ledger.append(w, "test.note", actor="test", source="test", class_code="BT-001")
                w.commit()
            appended.append(True)
        return rows

    monkeypatch.setattr(ledger_verify, "_stream", stream_then_append)
    report = ledger_verify.run_verification(world, workers=1)
    assert appended and report.ok, [p.stored() for p in report.problems]
    monkeypatch.undo()
    assert verify(world, 1).ok  # and the event itself is on the chain


def test_R17_workers_that_would_read_another_database_stop_the_verification(world, engine):  # noqa: F811
    """Workers open the database from its URL; an engine given settings beside the URL (here a schema
    through connect_args) would let them read other tables and call an unchecked ledger whole."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a schema given beside the URL is PostgreSQL's (SQLite's database is its file)")
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS verify_elsewhere"))
    other = make_engine(engine.url.render_as_string(hide_password=False),
                        connect_args={"options": "-c search_path=verify_elsewhere,public"})
    try:
        with Session(other) as s, pytest.raises(BrokenProcessPool):
            ledger_verify.verify(s, workers=2)
    finally:
        other.dispose()
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA verify_elsewhere"))


def test_R17_a_row_moved_to_another_chain_with_plain_sql_is_reported_as_changed(world):  # noqa: F811
    with world() as s:
        s.execute(text("UPDATE staff_roles SET class_id = NULL WHERE id = 1"))
        s.commit()
    (problem,) = verify(world, 1).problems
    assert (problem.kind, problem.table, problem.row_id, problem.chain) == ("changed", "staff_roles", 1, "BT-001")
    assert "class_id" in ledger_problem(problem)


def test_R17_a_row_moved_to_another_chain_with_its_event_verifies_clean(world):  # noqa: F811
    with world() as s:
        role = s.get(StaffRole, 1)
        role.class_id = None
        ledger.append(s, "staff.role_changed", actor="test", source="test", subject=role)
        s.commit()
        moved = s.execute(select(LedgerEvent.chain).where(LedgerEvent.type == "staff.role_changed")).scalar_one()
    assert moved == ledger.CITY
    serial, parallel = verify(world, 1), verify(world, 2)
    assert serial.ok and parallel.ok, [ledger_problem(p) for p in serial.problems + parallel.problems]


def test_R17_canonical_json_is_the_text_earlier_events_were_hashed_over():
    """``canonical`` drives the C encoder directly (faster); its text must stay what ``json.dumps``
    gives, or every stored hash would stop matching."""
    value = {"row": {"name": "张三 \"小\"\n", "n": 3, "x": 1.5, "ok": True, "none": None,
                     "list": [1, "二", {"b": 1, "a": 2}]}, "reason": "更正", "at": "2026-03-02T00:52:00+00:00"}
    assert ledger.canonical(value) == json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with pytest.raises(TypeError):
        ledger.canonical({"at": object()})
