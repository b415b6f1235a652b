"""R05, R17: the attacks that passed the single-chain ledger, made with plain SQL by someone who can
write the database and knows the hashing rules but does not hold the ledger key. Each is detected:
a re-hashed chain no longer matches its signed checkpoints, a truncated tail is caught against the
heads a district holds (an anchor)."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select, text

from handlers.texts import ledger_chain, ledger_detail, ledger_problem
from storage import ledger
from storage.models import Enrollment, Klass, LedgerEvent, Punch, tracked_tables
from tests.storage.test_ledger import world  # noqa: F401  (the fixture: one row in every tracked table)

CLASS_CHAIN = 1  # the world's only class


@pytest.fixture
def key(tmp_path):
    return ledger.create_key(tmp_path / "ledger.key")


@pytest.fixture
def signed(world, key):  # noqa: F811
    """The world with every chain's head signed, as at the end of the day."""
    with world() as s:
        ledger.checkpoint(s, key)
        s.commit()
    return world


def verify(factory, key, anchor=None):
    with factory() as s:
        return ledger.verify(s, trusted_keys=[key.public_hex], anchor=anchor)


def events(s, chain):
    return s.execute(select(LedgerEvent).where(LedgerEvent.chain == chain).order_by(LedgerEvent.seq)).scalars().all()


def rehash(s, chain) -> None:
    """The attacker's tool: recompute every hash of a chain from the first event, set its head."""
    prev = ledger.GENESIS
    for ev in events(s, chain):
        ev.prev_hash = prev
        ev.hash = prev = ledger.event_hash(prev, ledger._body(ev))
    s.flush()
    seq = s.execute(text("SELECT max(seq) FROM ledger_events WHERE chain = :c"), {"c": chain}).scalar_one()
    s.execute(text("UPDATE ledger_chains SET seq = :s, hash = :h WHERE chain = :c"), {"s": seq, "h": prev, "c": chain})


def patch_snapshot(ev: LedgerEvent, **changes) -> None:
    payload = json.loads(ev.payload)
    payload["row"].update(changes)
    ev.payload = ledger.canonical(payload)


def make_late_punch_on_time(s) -> None:
    """The first attack: the late check-in's row and snapshot say on time; the chain is re-hashed."""
    punch = s.execute(select(LedgerEvent).where(LedgerEvent.type == "punch.recorded")).scalar_one()
    patch_snapshot(punch, late=False)
    s.execute(text("UPDATE punches SET late = :f"), {"f": False})
    rehash(s, CLASS_CHAIN)


def test_R17_the_attacks_pass_the_hash_chain_alone_so_signatures_are_needed(world, key):  # noqa: F811
    """Without any checkpoint, a re-hashed edit is consistent: this is what the signatures add."""
    with world() as s:
        make_late_punch_on_time(s)
        s.commit()
    assert verify(world, key).ok


def test_R17_late_check_in_made_on_time_and_rehashed_fails_the_signed_checkpoint(signed, key):
    with signed() as s:
        make_late_punch_on_time(s)
        s.commit()
    report = verify(signed, key)
    assert not report.ok
    assert [(p.kind, p.chain) for p in report.problems] == [("signature", "BT-001")]
    assert "签名检查点" in ledger_problem(report.problems[0])


def test_R17_rewriting_the_checkpoint_too_breaks_its_signature(signed, key):
    with signed() as s:
        make_late_punch_on_time(s)
        s.execute(text("UPDATE ledger_checkpoints SET hash = (SELECT hash FROM ledger_chains WHERE chain = :c)"
                       " WHERE chain = :c"), {"c": CLASS_CHAIN})
        s.commit()
    problems = verify(signed, key).problems
    assert [p.kind for p in problems] == ["signature"]
    assert "签名不符" in ledger_detail(problems[0])


def test_R17_a_key_of_the_attackers_own_is_not_trusted(signed, key, tmp_path):
    """Re-signing with another key (and storing that key in the database) is caught when the
    verifier uses the public key it holds itself."""
    forger = ledger.create_key(tmp_path / "forged.key")
    with signed() as s:
        s.execute(text("UPDATE punches SET late = :f"), {"f": False})
        punch = s.execute(select(LedgerEvent).where(LedgerEvent.type == "punch.recorded")).scalar_one()
        patch_snapshot(punch, late=False)
        rehash(s, CLASS_CHAIN)
        s.execute(text("DELETE FROM ledger_checkpoints"))
        ledger.checkpoint(s, forger)
        s.commit()
    problems = verify(signed, key).problems
    assert problems and {p.kind for p in problems} == {"signature"}
    assert all("未知密钥" in ledger_detail(p) for p in problems)


def test_R17_deleted_event_renumbered_and_rehashed_is_detected(signed, key):
    with signed() as s:
        photo = s.execute(select(LedgerEvent).where(LedgerEvent.type == "photo.received")).scalar_one()
        gone = photo.seq
        s.execute(text("DELETE FROM photos"))
        s.execute(text("DELETE FROM ledger_events WHERE chain = :c AND seq = :s"), {"c": CLASS_CHAIN, "s": gone})
        for later in range(gone + 1, 1 + len(events(s, CLASS_CHAIN)) + 1):
            s.execute(text("UPDATE ledger_events SET seq = :n WHERE chain = :c AND seq = :s"),
                      {"n": later - 1, "c": CLASS_CHAIN, "s": later})
        s.expire_all()
        rehash(s, CLASS_CHAIN)
        s.commit()
    problems = verify(signed, key).problems
    assert problems and {p.chain for p in problems} == {"BT-001"}
    assert any("截断" in ledger_detail(p) for p in problems)  # the signed last seq is no longer on the chain


def test_R05_trainee_renamed_and_city_chain_rehashed_is_detected(signed, key):
    with signed() as s:
        person = s.execute(select(LedgerEvent).where(LedgerEvent.type == "person.created")).scalar_one()
        patch_snapshot(person, name="李四")
        s.execute(text("UPDATE persons SET name = '李四'"))
        rehash(s, ledger.CITY)
        s.commit()
    problems = verify(signed, key).problems
    assert [(p.kind, ledger_chain(p)) for p in problems] == [("signature", "全市")]


def _add_a_punch(factory) -> None:
    with factory() as s:
        enrollment = s.execute(select(Enrollment)).scalar_one()
        first = s.get(Punch, 1)
        punch = Punch(enrollment_id=enrollment.id, day=date(2026, 3, 3), session_id=first.session_id, kind="in",
                      at=datetime(2026, 3, 3, 0, 50, tzinfo=timezone.utc), counts=True, source="msg:day2")
        s.add(punch)
        ledger.append(s, "punch.recorded", actor="bot", source="msg:day2", subject=punch, class_code="BT-001")
        s.commit()


def _truncate_tail(factory, keep: int, checkpoints_too: bool = True) -> None:
    """Delete the class chain's events after ``keep`` with their rows (and checkpoints); fix the head."""
    with factory() as s:
        for ev in reversed(events(s, CLASS_CHAIN)[keep:]):  # newest first: rows refer to older ones
            for table in tracked_tables():  # rows elsewhere that refer to it go too
                for fk in table.foreign_keys:
                    if fk.column.table.name == ev.subject_table and fk.parent.table is table:
                        s.execute(text(f"DELETE FROM {table.name} WHERE {fk.parent.name} = :i"), {"i": ev.subject_id})
            s.execute(text(f"DELETE FROM {ev.subject_table} WHERE id = :i"), {"i": ev.subject_id})
            s.delete(ev)
        if checkpoints_too:
            s.execute(text("DELETE FROM ledger_checkpoints WHERE chain = :c AND seq > :k"),
                      {"c": CLASS_CHAIN, "k": keep})
        s.flush()
        head = events(s, CLASS_CHAIN)[-1]
        s.execute(text("UPDATE ledger_chains SET seq = :s, hash = :h WHERE chain = :c"),
                  {"s": head.seq, "h": head.hash, "c": CLASS_CHAIN})
        s.commit()


def test_R17_truncated_tail_with_its_rows_is_caught_by_the_remaining_checkpoint(signed, key):
    _add_a_punch(signed)
    with signed() as s:
        kept = len(events(s, CLASS_CHAIN)) - 3  # the day's last two events and the new punch
    _truncate_tail(signed, kept, checkpoints_too=False)
    problems = verify(signed, key).problems
    assert [(p.kind, p.chain) for p in problems if p.chain == "BT-001"] == [("checkpoint", "BT-001")]


def test_R17_truncated_tail_with_its_checkpoints_is_caught_against_the_district_anchor(signed, key):
    """The attacker also deletes the checkpoints: only the heads that left the building catch it."""
    with signed() as s:
        anchor = json.loads(json.dumps(ledger.signed_heads(s)))  # as the district received it
        kept = len(events(s, CLASS_CHAIN)) - 2
    _truncate_tail(signed, kept)
    assert not [p for p in verify(signed, key).problems if p.chain == "BT-001"]  # the class's chain shows nothing
    report = verify(signed, key, anchor=anchor)
    (problem,) = [p for p in report.problems if p.chain == "BT-001"]
    assert problem.kind == "anchor" and "截断" in ledger_problem(problem)


def test_R17_the_anchor_alone_is_enough_for_a_district_without_the_key_file(signed, key):
    with signed() as s:
        anchor = ledger.signed_heads(s)
    assert anchor["public_keys"] == [key.public_hex]
    with signed() as s:
        report = ledger.verify(s, anchor=anchor)
    assert report.ok and report.key_source == "anchor"
    _truncate_tail(signed, 5)
    with signed() as s:
        assert [p.kind for p in ledger.verify(s, anchor=anchor).problems if p.chain == "BT-001"] == ["anchor"]


def test_R17_a_forged_anchor_head_is_refused(signed, key):
    with signed() as s:
        anchor = ledger.signed_heads(s)
    anchor["heads"][0]["seq"] += 1
    with signed() as s:
        problems = ledger.verify(s, anchor=anchor).problems
    assert [p.kind for p in problems] == ["anchor"] and "签名不符" in ledger_detail(problems[0])


def test_R17_each_class_has_its_own_chain_and_city_facts_their_own(world):  # noqa: F811
    with world() as s:
        chains = dict(s.execute(select(LedgerEvent.subject_table, LedgerEvent.chain)).all())
        klass = s.execute(select(Klass)).scalar_one()
    assert klass.id == CLASS_CHAIN
    for table in ("classes", "class_sessions", "enrollments", "punches", "photos", "leave_requests",
                  "study_minutes", "groups", "import_files", "staff_roles", "class_transitions"):
        assert chains[table] == CLASS_CHAIN, table
    for table in ("districts", "institutions", "persons", "staff", "dingtalk_identities", "inbound_messages"):
        assert chains[table] == ledger.CITY, table


def test_R17_checkpoint_signs_only_chains_that_moved(signed, key):
    with signed() as s:
        assert ledger.checkpoint(s, key) == []
    _add_a_punch(signed)
    with signed() as s:
        made = ledger.checkpoint(s, key)
        s.commit()
    assert [(c.chain, c.class_code) for c in made] == [(CLASS_CHAIN, "BT-001")]
    report = verify(signed, key)
    assert report.ok and report.checkpoints == 3 and report.key_source == "file"


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="SQLite serialises every writer with BEGIN IMMEDIATE; chains matter on PostgreSQL")
def test_R17_appends_to_different_classes_do_not_wait_for_each_other(world):  # noqa: F811
    from sqlalchemy.exc import OperationalError

    from storage.models import ClassSession, LedgerChain

    with world() as s:
        a = s.execute(select(Klass)).scalar_one()
        b = Klass(**{c.key: getattr(a, c.key) for c in Klass.__table__.columns if c.key not in ("id", "code")},
                  code="BT-002")
        s.add(b)
        ledger.append(s, "class.created", actor="test", source="test", subject=b, class_code="BT-002")
        s.commit()
    holder = world()  # a unit of work of class A in the middle of its commit: A's head is locked
    holder.execute(select(LedgerChain).where(LedgerChain.chain == a.id).with_for_update())
    try:
        for klass, timeout, blocked in ((b, "5s", False), (a, "300ms", True)):
            with world() as s:
                s.execute(text(f"SET LOCAL lock_timeout = '{timeout}'"))
                row = ClassSession(class_id=klass.id, position=9, name="晚上", start_time=a.created_at.time(),
                                   end_time=a.created_at.time())
                s.add(row)
                ledger.append(s, "session.created", actor="test", source="test", subject=row)
                if blocked:
                    with pytest.raises(OperationalError, match="lock timeout"):
                        s.commit()
                else:
                    s.commit()
    finally:
        holder.rollback()
        holder.close()


def _verified(factory, key):
    report = ledger.run_verification(factory, trusted_keys=[key.public_hex], signer=key)
    assert report.ok
    return report


def test_R17_incremental_verification_walks_only_events_after_the_verified_checkpoints(world, key):  # noqa: F811
    _verified(world, key)
    _add_a_punch(world)
    report = ledger.run_verification(world, trusted_keys=[key.public_hex], signer=key, incremental=True)
    assert report.ok and report.walked == 1 and report.incremental
    with world() as s:
        assert report.events == s.scalar(text("SELECT count(*) FROM ledger_events"))
        assert ledger.last_verification(s).incremental


def test_R17_incremental_verification_catches_a_changed_new_row_and_a_rehashed_old_chain(world, key):  # noqa: F811
    _verified(world, key)
    _add_a_punch(world)
    with world() as s:
        s.execute(text("UPDATE punches SET late = :t WHERE id = 2"), {"t": True})
        s.commit()
    with world() as s:
        (problem,) = ledger.verify(s, trusted_keys=[key.public_hex], incremental=True).problems
    assert (problem.kind, problem.table, problem.row_id) == ("changed", "punches", 2)
    with world() as s:  # the old part re-hashed: the verified checkpoint no longer matches
        punch = s.execute(select(LedgerEvent).where(LedgerEvent.type == "punch.recorded")).scalars().first()
        patch_snapshot(punch, late=False)
        rehash(s, CLASS_CHAIN)
        s.commit()
    with world() as s:
        problems = ledger.verify(s, trusted_keys=[key.public_hex], incremental=True).problems
    assert any(p.kind == "signature" and p.chain == "BT-001" for p in problems)
