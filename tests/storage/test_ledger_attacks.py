"""R05, R17, R18, issue 13 (ledger v2): the attacks that passed the single-chain ledger, made as the issue made them —
with plain SQL, by someone who can write the database and knows the hashing rules (``event_hash``
over ``body_of``, as the README states them) but does not hold the ledger key. Each attack is first
shown to be complete (without a signed checkpoint ``verify`` finds nothing, as it said "台账完整"
before), then detected: a re-hashed chain no longer matches its signed checkpoints, a truncated tail
is caught by a checkpoint left behind or, when those went too, against the heads a district holds (an
anchor). Run on SQLite and on PostgreSQL (``DATABASE_URL``). An archive re-signed with another key is
caught against the district's anchor only.

Chains: a class's chain is exactly what its archive carries. Every tracked table's events go on the
chain of the row's class (or the city's, for city-wide facts); inspection evidence, roll-call samples
and trainee marks used to go on the city chain. A database written before keeps its city-chain events
(their hashes, the signed checkpoints and the heads a district holds stay valid); migration 0018
continues each such row on its class's chain with the snapshot the ledger recorded. An archive written
before still verifies."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from handlers.texts import ledger_chain, ledger_detail, ledger_problem
from storage import ledger, ledger_keys, ledger_verify
from storage.migrate import alembic_config
from storage.models import (Enrollment, InspectionEvidence, Klass, LedgerEvent, Punch, RollCallSample, Staff,
                            TraineeMark, tracked_tables)
from storage.types import UTCDateTime, utcnow
from tests.cli.conftest import cli  # noqa: F401  (the `dingclass` command line, as a user runs it)
from tests.cli.test_archive import CODE, finished, forge_entry, rewrite  # noqa: F401  (a finished class, archived)
from tests.handlers.chat import Chat, roster_of
from tests.storage.test_ledger import _add, world  # noqa: F401  (the fixture: one row in every tracked table)

CLASS_CHAIN = 1  # the world's only class


@pytest.fixture
def key(tmp_path):
    return ledger_keys.create_key(tmp_path / "ledger.key")


@pytest.fixture
def signed(world, key):  # noqa: F811
    """The world with every chain's head signed, as at the end of the day."""
    with world() as s:
        ledger_keys.checkpoint(s, key)
        s.commit()
    return world


def verify(factory, key, anchor=None):
    with factory() as s:
        return ledger_verify.verify(s, trusted_keys=[key.public_hex], anchor=anchor)


# --- the attacker's tools: plain SQL on a connection ---------------------------------------------


_EVENTS = text("SELECT chain, seq, prev_hash, hash, type, actor, class_code, subject_table, subject_id, payload,"
               " source, at FROM ledger_events WHERE chain = :c AND seq >= :s ORDER BY seq").columns(at=UTCDateTime())


def events(conn, chain: int, since: int = 1) -> list:
    return conn.execute(_EVENTS, {"c": chain, "s": since}).all()


def find(conn, type_: str):
    """(chain, seq, payload) of the one event of this type."""
    return conn.execute(text("SELECT chain, seq, payload FROM ledger_events WHERE type = :t"), {"t": type_}).one()


def rehash_from(conn, chain: int, seq: int) -> int:
    """Recompute the hash of every event of ``chain`` from ``seq`` on and point the head row at the
    new last one, as the issue's attacker did; how many events were re-hashed."""
    prev = conn.execute(text("SELECT hash FROM ledger_events WHERE chain = :c AND seq = :s"),
                        {"c": chain, "s": seq - 1}).scalar() or ledger.GENESIS
    rows = events(conn, chain, seq)
    for ev in rows:
        new = ledger.event_hash(prev, ledger.body_of(ev.chain, ev.seq, *ev[4:]))
        conn.execute(text("UPDATE ledger_events SET prev_hash = :p, hash = :h WHERE chain = :c AND seq = :s"),
                     {"p": prev, "h": new, "c": chain, "s": ev.seq})
        prev = new
    conn.execute(text("UPDATE ledger_chains SET seq = (SELECT max(seq) FROM ledger_events WHERE chain = :c),"
                      " hash = :h WHERE chain = :c"), {"c": chain, "h": prev})
    return len(rows)


def patch_snapshot(conn, chain: int, seq: int, payload: str, **changes) -> None:
    body = json.loads(payload)
    body["row"].update(changes)
    conn.execute(text("UPDATE ledger_events SET payload = :p WHERE chain = :c AND seq = :s"),
                 {"p": ledger.canonical(body), "c": chain, "s": seq})


# --- the attacks of issue 13 ----------------------------------------------------------------------


def late_check_in_made_on_time(conn) -> int:
    """The late check-in's row and its event's snapshot say on time; every later hash and the head
    row are recomputed. Returns how many events were re-hashed."""
    chain, seq, payload = find(conn, "punch.recorded")
    conn.execute(text("UPDATE punches SET late = :f"), {"f": False})
    patch_snapshot(conn, chain, seq, payload, late=False)
    return rehash_from(conn, chain, seq)


def middle_event_deleted_and_renumbered(conn) -> int:
    """The photo and its event go; the later events are renumbered down by one and re-hashed."""
    chain, gone, _ = find(conn, "photo.received")
    conn.execute(text("DELETE FROM photos"))
    conn.execute(text("DELETE FROM ledger_events WHERE chain = :c AND seq = :s"), {"c": chain, "s": gone})
    for ev in events(conn, chain, gone + 1):  # one by one, upwards: (chain, seq) stays unique throughout
        conn.execute(text("UPDATE ledger_events SET seq = :n WHERE chain = :c AND seq = :s"),
                     {"n": ev.seq - 1, "c": chain, "s": ev.seq})
    return rehash_from(conn, chain, gone)


def trainee_renamed(conn) -> int:
    """The trainee's name in the persons row and in its snapshot; the city chain re-hashed from there."""
    chain, seq, payload = find(conn, "person.created")
    conn.execute(text("UPDATE persons SET name = '李四'"))
    patch_snapshot(conn, chain, seq, payload, name="李四")
    return rehash_from(conn, chain, seq)


def truncate_tail(conn, keep: int, checkpoints_too: bool = False) -> int:
    """Delete the class chain's events after ``keep`` with the rows they describe (and the rows that
    refer to those), optionally the checkpoints signed after ``keep``; point the head at ``keep``."""
    doomed = events(conn, CLASS_CHAIN, keep + 1)
    for ev in reversed(doomed):  # newest first: rows refer to older ones
        for table in tracked_tables():
            for fk in table.foreign_keys:
                if fk.column.table.name == ev.subject_table and fk.parent.table is table:
                    conn.execute(text(f"DELETE FROM {table.name} WHERE {fk.parent.name} = :i"), {"i": ev.subject_id})
        conn.execute(text(f"DELETE FROM {ev.subject_table} WHERE id = :i"), {"i": ev.subject_id})
    conn.execute(text("DELETE FROM ledger_events WHERE chain = :c AND seq > :k"), {"c": CLASS_CHAIN, "k": keep})
    if checkpoints_too:
        conn.execute(text("DELETE FROM ledger_checkpoints WHERE chain = :c AND seq > :k"), {"c": CLASS_CHAIN, "k": keep})
    conn.execute(text("UPDATE ledger_chains SET seq = :k, hash = (SELECT hash FROM ledger_events WHERE chain = :c"
                      " AND seq = :k) WHERE chain = :c"), {"c": CLASS_CHAIN, "k": keep})
    return len(doomed)


def tail_truncated(conn) -> int:
    return truncate_tail(conn, _length(conn) - 3)


def _length(conn, chain: int = CLASS_CHAIN) -> int:
    return conn.execute(text("SELECT seq FROM ledger_chains WHERE chain = :c"), {"c": chain}).scalar_one()


def attack(factory, how) -> int:
    with factory.begin() as s:
        return how(s.connection())


ATTACKS = {  # the attack, and what verification says once the heads were signed before it
    "late check-in made on time": (late_check_in_made_on_time, [("signature", "BT-001")]),
    "middle event deleted, renumbered": (middle_event_deleted_and_renumbered, [("checkpoint", "BT-001")]),
    "trainee renamed": (trainee_renamed, [("signature", "全市")]),
    "tail truncated with its rows": (tail_truncated, [("checkpoint", "BT-001")]),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_R17_each_attack_of_issue_13_passes_the_hash_chain_alone(world, key, name):  # noqa: F811
    """Reproduced as the issue found it: without a signed checkpoint every link and head holds and
    every row matches its snapshot — this is what the signatures add."""
    changed = attack(world, ATTACKS[name][0])
    assert changed >= 3  # later events re-hashed, or the tail's events gone
    report = verify(world, key)
    assert report.ok, [ledger_problem(p) for p in report.problems]


@pytest.mark.parametrize("name", ATTACKS)
def test_R17_each_attack_of_issue_13_is_caught_by_the_signed_checkpoints(signed, key, name):
    how, found = ATTACKS[name]
    attack(signed, how)
    problems = verify(signed, key).problems
    assert [(p.kind, ledger_chain(p)) for p in problems] == found
    text_ = ledger_problem(problems[0])
    assert ("签名检查点" in text_) and (("截断" in ledger_detail(problems[0])) == (found[0][0] == "checkpoint"))


def test_R17_the_late_check_in_attack_rewrites_many_later_events(world):  # noqa: F811
    """As in the issue (397 following hashes there): the punch sits early on the class chain."""
    with world() as s:
        _, seq, _ = find(s.connection(), "punch.recorded")
        length = _length(s.connection())
    assert length - seq >= 20
    assert attack(world, late_check_in_made_on_time) == length - seq + 1


def test_R17_rewriting_the_checkpoint_too_breaks_its_signature(signed, key):
    with signed.begin() as s:
        late_check_in_made_on_time(s.connection())
        s.execute(text("UPDATE ledger_checkpoints SET hash = (SELECT hash FROM ledger_chains WHERE chain = :c)"
                       " WHERE chain = :c"), {"c": CLASS_CHAIN})
    problems = verify(signed, key).problems
    assert [p.kind for p in problems] == ["signature"]
    assert "签名不符" in ledger_detail(problems[0])


def test_R17_a_key_of_the_attackers_own_is_not_trusted(signed, key, tmp_path):
    """Re-signing with another key (and storing that key in the database) is caught when the
    verifier uses the public key it holds itself."""
    forger = ledger_keys.create_key(tmp_path / "forged.key")
    with signed.begin() as s:
        late_check_in_made_on_time(s.connection())
        s.execute(text("DELETE FROM ledger_checkpoints"))
        ledger_keys.checkpoint(s, forger)
    problems = verify(signed, key).problems
    assert problems and {p.kind for p in problems} == {"signature"}
    assert all("未知密钥" in ledger_detail(p) for p in problems)


def _add_a_punch(factory) -> None:
    with factory() as s:
        enrollment = s.execute(select(Enrollment)).scalar_one()
        first = s.get(Punch, 1)
        punch = Punch(enrollment_id=enrollment.id, day=date(2026, 3, 3), session_id=first.session_id, kind="in",
                      at=datetime(2026, 3, 3, 0, 50, tzinfo=timezone.utc), counts=True, source="msg:day2")
        s.add(punch)
        ledger.append(s, "punch.recorded", actor="bot", source="msg:day2", subject=punch, class_code="BT-001")
        s.commit()


def test_R17_truncated_tail_with_its_rows_is_caught_by_the_remaining_checkpoint(signed, key):
    _add_a_punch(signed)  # the new punch is not signed yet: cutting only it would go unseen until the next signing
    with signed.begin() as s:
        truncate_tail(s.connection(), _length(s.connection()) - 3)  # the day's last two events and the new punch
    problems = verify(signed, key).problems
    assert [(p.kind, p.chain) for p in problems if p.chain == "BT-001"] == [("checkpoint", "BT-001")]


def test_R17_truncated_tail_with_its_checkpoints_is_caught_against_the_district_anchor(signed, key):
    """The attacker also deletes the checkpoints: only the heads that left the building catch it."""
    with signed() as s:
        anchor = json.loads(json.dumps(ledger_keys.signed_heads(s)))  # as the district received it
    with signed.begin() as s:
        truncate_tail(s.connection(), _length(s.connection()) - 2, checkpoints_too=True)
    assert not [p for p in verify(signed, key).problems if p.chain == "BT-001"]  # the class's chain shows nothing
    report = verify(signed, key, anchor=anchor)
    (problem,) = [p for p in report.problems if p.chain == "BT-001"]
    assert problem.kind == "anchor" and "截断" in ledger_problem(problem)


def test_R17_the_anchor_alone_is_enough_for_a_district_without_the_key_file(signed, key):
    with signed() as s:
        anchor = ledger_keys.signed_heads(s)
    assert anchor["public_keys"] == [key.public_hex]
    with signed() as s:
        report = ledger_verify.verify(s, anchor=anchor)
    assert report.ok and report.key_source == "anchor"
    with signed.begin() as s:
        truncate_tail(s.connection(), 5, checkpoints_too=True)
    with signed() as s:
        assert [p.kind for p in ledger_verify.verify(s, anchor=anchor).problems if p.chain == "BT-001"] == ["anchor"]


def test_R17_a_forged_anchor_head_is_refused(signed, key):
    with signed() as s:
        anchor = ledger_keys.signed_heads(s)
    anchor["heads"][0]["seq"] += 1
    with signed() as s:
        problems = ledger_verify.verify(s, anchor=anchor).problems
    assert [p.kind for p in problems] == ["anchor"] and "签名不符" in ledger_detail(problems[0])


def test_R17_checkpoint_signs_only_chains_that_moved(signed, key):
    with signed() as s:
        assert ledger_keys.checkpoint(s, key) == []
    _add_a_punch(signed)
    with signed() as s:
        made = ledger_keys.checkpoint(s, key)
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
    report = ledger_verify.run_verification(factory, trusted_keys=[key.public_hex], signer=key)
    assert report.ok
    return report


def test_R17_incremental_verification_walks_only_events_after_the_verified_checkpoints(world, key):  # noqa: F811
    _verified(world, key)
    _add_a_punch(world)
    report = ledger_verify.run_verification(world, trusted_keys=[key.public_hex], signer=key, incremental=True)
    assert report.ok and report.walked == 1 and report.incremental
    with world() as s:
        assert report.events == s.scalar(text("SELECT count(*) FROM ledger_events"))
        assert ledger_verify.last_verification(s).incremental


def test_R17_incremental_verification_catches_a_changed_new_row_and_a_rehashed_old_chain(world, key):  # noqa: F811
    _verified(world, key)
    _add_a_punch(world)
    with world() as s:
        s.execute(text("UPDATE punches SET late = :t WHERE id = 2"), {"t": True})
        s.commit()
    with world() as s:
        (problem,) = ledger_verify.verify(s, trusted_keys=[key.public_hex], incremental=True).problems
    assert (problem.kind, problem.table, problem.row_id) == ("changed", "punches", 2)
    with world.begin() as s:  # the old part re-hashed: the verified checkpoint no longer matches
        chain, seq, payload = s.execute(text("SELECT chain, seq, payload FROM ledger_events"
                                             " WHERE type = 'punch.recorded' ORDER BY seq")).first()
        patch_snapshot(s.connection(), chain, seq, payload, late=False)
        rehash_from(s.connection(), chain, seq)
    with world() as s:
        problems = ledger_verify.verify(s, trusted_keys=[key.public_hex], incremental=True).problems
    assert any(p.kind == "signature" and p.chain == "BT-001" for p in problems)


# --- one chain per class (issue 13) ---------------------------------------------------------------


MOVED = (InspectionEvidence, RollCallSample, TraineeMark)
MOVED_TABLES = tuple(m.__tablename__ for m in MOVED)
CITY_TABLES = {"districts", "institutions", "institution_accounts", "persons", "staff", "dingtalk_identities",
               "users", "supervision_groups", "daily_report_sends", "certificate_counters"}
OLD_ARCHIVE = Path(__file__).parent / "data" / "archive-city-chain-rows.zip"


def test_R17_every_tracked_table_lands_on_its_class_chain_or_on_the_city_chain_for_city_facts(world):  # noqa: F811
    """One row in every tracked table: a class's rows on its chain, city-wide facts on the city's, like a
    message outside a class group (the world's has no class)."""
    with world() as s:
        chains = dict(s.execute(select(LedgerEvent.subject_table, LedgerEvent.chain)).all())
        klass = s.execute(select(Klass)).scalar_one()
    assert klass.id == CLASS_CHAIN
    assert set(chains) == {t.name for t in tracked_tables()}
    assert {t for t, c in chains.items() if c == ledger.CITY} == CITY_TABLES | {"inbound_messages"}
    assert {t for t, c in chains.items() if c == CLASS_CHAIN} == set(chains) - CITY_TABLES - {"inbound_messages"}
    for table in MOVED_TABLES:
        assert chains[table] == CLASS_CHAIN, table


def test_R18_evidence_roll_call_samples_and_marks_are_on_the_class_chain_and_in_its_archive(cli, finished, factory,  # noqa: F811
                                                                                           tmp_path):
    """An inspection's screenshot, a roll call's sampled trainees (and their 到) and a supervisor's mark
    on a trainee, made the way users make them, are on the class's chain and its archive's slice."""
    chat = Chat(factory, tmp_path / "var")
    cli("rollcall", "start", CODE, "--ratio", "100", "--minutes", "10")
    assert "应答" in chat.say("到", when=utcnow() + timedelta(minutes=1), sender="u1", staff_user_id="staff1")[0]
    chat.deliver()
    with factory() as s:
        klass = s.scalar(select(Klass).where(Klass.code == CODE))
        name = roster_of(s, klass)[3].name
    cli("trainee", "mark", CODE, name, "--disqualified", "--reason", "数据异常")
    made = cli("archive", CODE, "--out", str(tmp_path / "again"))
    archive = tmp_path / "again" / f"{CODE}-archive.zip"
    with factory() as s:
        chains = s.execute(select(LedgerEvent.subject_table, LedgerEvent.type, LedgerEvent.chain)
                           .where(LedgerEvent.subject_table.in_(MOVED_TABLES))).all()
    assert {t for t, _, _ in chains} == set(MOVED_TABLES)
    assert {c for _, _, c in chains} == {klass.id}
    assert {ty for _, ty, _ in chains} >= {"inspection.evidence", "rollcall.sampled", "rollcall.answered",
                                          "trainee.disqualified"}
    with zipfile.ZipFile(archive) as z:
        slice_ = [json.loads(line) for line in z.read("ledger/events.jsonl").decode().splitlines()]
        city = [json.loads(line) for line in z.read("ledger/city-events.jsonl").decode().splitlines()]
        samples = [json.loads(line) for line in z.read("records/rollcall_samples.jsonl").decode().splitlines()]
    on_slice = {(e["subject_table"], e["type"]) for e in slice_}
    assert {("inspection_evidence", "inspection.evidence"), ("rollcall_samples", "rollcall.answered"),
            ("trainee_marks", "trainee.disqualified")} <= on_slice
    assert {e["subject_table"] for e in city} == {"persons", "inbound_messages"}  # the roster, 1:1 photo messages
    assert len(samples) == 4 and sum(s_["answered_at"] is not None for s_ in samples) == 1
    assert "已写入归档" in made.output
    assert "校验无误" in cli("verify", str(archive)).output
    assert "台账完整" in cli("verify").output


def test_R18_an_archive_written_while_those_rows_were_on_the_city_chain_still_verifies(cli, tmp_path):  # noqa: F811
    """Made before migration 0018: its inspection evidence, roll-call samples and trainee mark are
    checked against their last city-chain events, which the archive carries beside the class's slice;
    a changed mark in it is still caught."""
    with zipfile.ZipFile(OLD_ARCHIVE) as z:
        city = {json.loads(line)["subject_table"] for line in z.read("ledger/city-events.jsonl").decode().splitlines()}
    assert set(MOVED_TABLES) <= city
    out = cli("verify", str(OLD_ARCHIVE)).output
    assert "校验无误" in out and "22 行记录与台账一致" in out
    target = "records/trainee_marks.jsonl"
    with zipfile.ZipFile(OLD_ARCHIVE) as z:
        body = z.read(target).decode().replace("数据异常", "误标").encode()

    forged = tmp_path / "forged.zip"
    forge_entry(OLD_ARCHIVE, forged, target, body)  # the row and its checksum: only the ledger catches it
    out = cli("verify", str(forged), ok=False).output
    assert "文件被改动" not in out and f"{target} 第 1 行：trainee_marks" in out and "与台账不符（reason）" in out


@pytest.fixture
def legacy(monkeypatch, engine, key):
    """Before this change: the three tables named no ``__ledger_via__``. Yields the signing key and
    migration 0018's ``carry``, to run once ``world`` is built the old way."""
    for model in MOVED:
        monkeypatch.setattr(model, "__ledger_via__", None)
    migration = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0018").module
    yield key, migration.carry


@pytest.fixture
def old_world(legacy, world, monkeypatch):  # noqa: F811
    """The world as an old database holds it — the three rows' events on the city chain, every head
    signed — then upgraded: the code routes them to the class, and migration 0018 runs."""
    key, carry = legacy
    with world() as s:
        for n in range(40):  # a city chain longer than the class's, as in any real city
            _add(s, Staff(name=f"督查{n}"), "staff.created")
        sample = s.scalars(select(RollCallSample)).one()
        sample.answer_source = "msg:msg-5b"
        ledger.append(s, "rollcall.answered", actor="test", source="test", subject=sample)
        s.commit()
        assert _chains(s) == {t.__tablename__: {ledger.CITY} for t in MOVED}
        ledger_keys.checkpoint(s, key)
        s.commit()
    monkeypatch.undo()
    with world() as s:
        before = s.execute(select(LedgerEvent.chain, LedgerEvent.seq, LedgerEvent.hash)).all()
        made = carry(s.connection())
        s.commit()
    assert made == len(MOVED)
    return world, key, before


def _chains(s) -> dict[str, set[int]]:
    names = [m.__tablename__ for m in MOVED]
    found: dict[str, set[int]] = {}
    for table, chain in s.execute(select(LedgerEvent.subject_table, LedgerEvent.chain)
                                  .where(LedgerEvent.subject_table.in_(names))).all():
        found.setdefault(table, set()).add(chain)
    return found


def test_R17_migration_continues_old_rows_on_their_class_chain_and_leaves_the_city_chain_as_signed(old_world):
    factory, key, before = old_world
    with factory() as s:
        still = set(s.execute(select(LedgerEvent.chain, LedgerEvent.seq, LedgerEvent.hash)).all())
        carried = s.scalars(select(LedgerEvent).where(LedgerEvent.type == "ledger.carried")
                            .order_by(LedgerEvent.seq)).all()
        city_of = {(e.subject_table, e.subject_id): (e.seq, e.hash) for e in s.scalars(
            select(LedgerEvent).where(LedgerEvent.chain == ledger.CITY).order_by(LedgerEvent.seq))}
    assert set(before) <= still  # not one old event moved or changed
    assert [(e.chain, e.subject_table, e.class_code) for e in carried] == [
        (CLASS_CHAIN, m.__tablename__, "BT-001") for m in MOVED]
    for e in carried:
        payload = json.loads(e.payload)
        origin = payload["carried_from"]
        assert (origin["chain"], origin["seq"], origin["hash"]) == (ledger.CITY, *city_of[(e.subject_table, e.subject_id)])
        assert payload["row"]["id"] == e.subject_id
    report = verify(factory, key)
    assert report.ok and report.checkpoints == 2, report.problems
    with factory() as s:
        assert ledger_verify.verify(s, incremental=True).ok
        assert ledger_keys.checkpoint(s, key)[0].chain == CLASS_CHAIN  # only the class chain moved
        s.commit()


def test_R17_after_the_migration_a_change_goes_on_the_class_chain_and_running_it_again_adds_nothing(old_world, legacy):
    factory, key, _ = old_world
    with factory() as s:
        sample = s.scalars(select(RollCallSample)).one()
        sample.answered_at = None
        ledger.append(s, "rollcall.corrected", actor="test", source="test", subject=sample, reason="误记应答")
        s.commit()
        assert _chains(s)["rollcall_samples"] == {ledger.CITY, CLASS_CHAIN}
        last = s.scalars(select(LedgerEvent).where(LedgerEvent.subject_table == "rollcall_samples")
                         .order_by(LedgerEvent.chain.desc(), LedgerEvent.seq.desc())).first()
        assert (last.chain, last.type) == (CLASS_CHAIN, "rollcall.corrected")
        city_seq = s.scalar(select(LedgerEvent.seq).where(LedgerEvent.type == "rollcall.answered"))
        assert city_seq > last.seq  # the row's newest event has the lower number: chains count apart
    assert verify(factory, key).ok
    with factory() as s:
        assert legacy[1](s.connection()) == 0
        s.commit()
    assert verify(factory, key).ok


def test_R17_a_row_changed_with_plain_sql_before_the_upgrade_is_not_laundered_by_it(legacy, world,  # noqa: F811
                                                                                      monkeypatch):
    """The carried snapshot is the ledger's, not the table's: the changed mark is still reported."""
    key, carry = legacy
    with world() as s:
        s.execute(text("UPDATE trainee_marks SET reason = '误标'"))
        s.commit()
    monkeypatch.undo()  # upgraded: the code routes the rows to their class, as in ``old_world``
    with world() as s:
        carry(s.connection())
        s.commit()
    problems = verify(world, key).problems
    assert [(p.kind, p.table, p.chain, p.params["diffs"]) for p in problems] == [
        ("changed", "trainee_marks", "BT-001", [["reason", "数据异常", "误标"]])]


# --- archives ------------------------------------------------------------------------------------


def test_R18_an_archive_rewritten_and_re_signed_with_another_key_is_caught_only_against_the_district_anchor(
        cli, finished, tmp_path):  # noqa: F811
    """The README's table: a forger who edits a record, its event's snapshot, re-hashes the slice and
    re-signs its head with a key of their own (putting that public key in the manifest) passes a check
    that trusts the archive's own key; the district's anchor file names the key that really signs."""
    heads = tmp_path / "heads.json"
    cli("ledger", "heads", "--out", str(heads))
    forger = ledger_keys.create_key(tmp_path / "forged.key")
    target, slice_path = "records/punches.jsonl", "ledger/events.jsonl"
    with zipfile.ZipFile(finished) as z:
        manifest = json.loads(z.read("manifest.json"))
        rows = z.read(target).decode().splitlines(keepends=True)
        events = [json.loads(line) for line in z.read(slice_path).decode().splitlines()]
    punch = json.loads(rows[0])
    punch["late"] = not punch["late"]
    rows[0] = ledger.canonical(punch) + "\n"
    prev = ledger.GENESIS
    for ev in events:
        payload = json.loads(ev["payload"])
        if (ev["subject_table"], ev["subject_id"]) == ("punches", punch["id"]) and payload.get("row"):
            payload["row"]["late"] = punch["late"]
            ev["payload"] = ledger.canonical(payload)
        ev["prev_hash"] = prev
        ev["hash"] = prev = ledger.event_hash(prev, ledger.body_of(
            ev["chain"], ev["seq"], ev["type"], ev["actor"], ev["class_code"], ev["subject_table"], ev["subject_id"],
            ev["payload"], ev["source"], ev["at"]))
    head = manifest["ledger"]["signed"]["heads"][0]
    head.update(hash=events[head["seq"] - 1]["hash"], key_id=forger.key_id, signature=forger.sign(ledger_keys.signed_message(
        head["chain"], head["class"], head["seq"], events[head["seq"] - 1]["hash"],
        datetime.fromisoformat(head["at"]), head["verified"])))
    manifest["ledger"].update(hash=prev, signed={**manifest["ledger"]["signed"], "public_keys": [forger.public_hex]})
    bodies = {target: "".join(rows).encode(),
              slice_path: "".join(ledger.canonical(ev) + "\n" for ev in events).encode()}
    for path, body in bodies.items():
        manifest["files"][path] = {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}

    def forge(name, data):
        if name == "manifest.json":
            return json.dumps(manifest, ensure_ascii=False).encode()
        return bodies.get(name, data)

    forged = tmp_path / "forged.zip"
    rewrite(finished, forged, forge)
    trusting_itself = cli("verify", str(forged)).output
    assert "校验无误" in trusting_itself and "公钥取自归档本身，未与库外保存的公钥核对" in trusting_itself
    out = cli("verify", str(forged), "--anchor", str(heads), ok=False).output
    assert "manifest.json：签名链头" in out and "签名不符" in out
    assert "校验无误" in cli("verify", str(finished), "--anchor", str(heads)).output


def test_R17_an_archive_slice_rewritten_after_an_older_genuine_signed_head_is_caught_against_the_district_anchor(
        cli, finished, tmp_path):  # noqa: F811
    """The forger has no key: they rewrite events after the archive's signed head, re-hash the slice and put
    an older genuine signed head in the manifest. The archive alone holds together; the district's anchor
    holds a later head of the class, which the rewritten slice no longer carries."""
    first = tmp_path / "first.zip"
    first.write_bytes(finished.read_bytes())
    older = json.loads(zipfile.ZipFile(first).read("manifest.json"))["ledger"]["signed"]
    work = tmp_path / "work"
    cli("inspect", CODE, "--kind", "video", "--expected", "4", "--found", "3", "--evidence", str(work / "shot.png"))
    heads = tmp_path / "heads.json"
    cli("ledger", "heads", "--out", str(heads))
    cli("archive", CODE, "--out", str(tmp_path / "second"))
    second = tmp_path / "second" / f"{CODE}-archive.zip"
    slice_path = "ledger/events.jsonl"
    with zipfile.ZipFile(second) as z:
        manifest = json.loads(z.read("manifest.json"))
        events = [json.loads(line) for line in z.read(slice_path).decode().splitlines()]
    assert len(events) > older["heads"][0]["seq"]
    events[older["heads"][0]["seq"]]["actor"] = "someone else"  # the first event after the older head
    prev = ledger.GENESIS
    for ev in events:
        ev["prev_hash"] = prev
        ev["hash"] = prev = ledger.event_hash(prev, ledger.body_of(
            ev["chain"], ev["seq"], ev["type"], ev["actor"], ev["class_code"], ev["subject_table"], ev["subject_id"],
            ev["payload"], ev["source"], ev["at"]))
    body = "".join(ledger.canonical(ev) + "\n" for ev in events).encode()
    manifest["ledger"].update(hash=prev, signed=older)
    manifest["files"][slice_path] = {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
    forged = tmp_path / "forged.zip"
    rewrite(second, forged, lambda name, data: json.dumps(manifest, ensure_ascii=False).encode()
            if name == "manifest.json" else body if name == slice_path else data)

    assert "校验无误" in cli("verify", str(forged)).output
    out = cli("verify", str(forged), "--anchor", str(heads), ok=False).output
    anchored = json.loads(heads.read_text())["heads"]
    seq = next(h["seq"] for h in anchored if h["class"] == CODE)
    assert f"事件 #{seq} 与存证文件中签名的链头不符（台账片段被改写）" in out
    good = cli("verify", str(second), "--anchor", str(heads)).output
    assert "校验无误" in good and "本班的 1 个签名链头都在台账片段上" in good


def test_R17_an_older_archive_against_a_later_anchor_is_told_not_failed(cli, finished, tmp_path):  # noqa: F811
    """The class went on after it was archived (or the archive was cut short): the anchored head beyond the
    slice is named, so whoever checks compares with the later archive; nothing in the archive is wrong."""
    cli("inspect", CODE, "--kind", "video", "--expected", "4", "--found", "3",
        "--evidence", str(tmp_path / "work" / "shot.png"))
    heads = tmp_path / "heads.json"
    cli("ledger", "heads", "--out", str(heads))
    seq = next(h["seq"] for h in json.loads(heads.read_text())["heads"] if h["class"] == CODE)
    out = cli("verify", str(finished), "--anchor", str(heads)).output
    assert "校验无误" in out and "本班的 0 个签名链头都在台账片段上" in out
    assert f"注意：存证文件中本班的签名链头 #{seq}" in out and "在本归档台账片段" in out


def test_R17_an_anchor_head_of_the_class_with_a_bad_signature_fails_the_archive_check(cli, finished, tmp_path):  # noqa: F811
    heads = tmp_path / "heads.json"
    cli("ledger", "heads", "--out", str(heads))
    anchor = json.loads(heads.read_text())
    mine = next(h for h in anchor["heads"] if h["class"] == CODE)
    mine["signature"] = mine["signature"][::-1]
    heads.write_text(json.dumps(anchor))
    out = cli("verify", str(finished), "--anchor", str(heads), ok=False).output
    assert f"存证文件：本班签名链头（事件 #{mine['seq']}）的签名不符" in out
