"""R17, R18, issue 13: a class's chain is exactly what its archive carries. Every tracked table's events
go on the chain of the row's class (or the city's, for city-wide facts); inspection evidence, roll-call
samples and trainee marks used to go on the city chain. A database written before keeps its city-chain
events (their hashes, the signed checkpoints and the heads a district holds stay valid); migration 0018
continues each such row on its class's chain with the snapshot the ledger recorded. An archive written
before still verifies."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from storage import ledger
from storage.migrate import alembic_config
from storage.models import InspectionEvidence, Klass, LedgerEvent, RollCallSample, Staff, TraineeMark, tracked_tables
from storage.types import utcnow
from tests.cli.conftest import cli  # noqa: F401  (the `dingclass` command line, as a user runs it)
from tests.cli.test_archive import CODE, finished, rewrite  # noqa: F401  (a finished class, archived)
from tests.handlers.chat import Chat, roster_of
from tests.storage.test_ledger import _add, world  # noqa: F401  (the fixture: one row in every tracked table)

MOVED = (InspectionEvidence, RollCallSample, TraineeMark)
MOVED_TABLES = tuple(m.__tablename__ for m in MOVED)
CLASS_CHAIN = 1
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

    def forge(name, data):  # the row and its checksum in the manifest: only the ledger catches it
        if name == target:
            return body
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"][target] = {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            return json.dumps(manifest, ensure_ascii=False).encode()
        return data

    forged = tmp_path / "forged.zip"
    rewrite(OLD_ARCHIVE, forged, forge)
    out = cli("verify", str(forged), ok=False).output
    assert "文件被改动" not in out and f"{target} 第 1 行：trainee_marks" in out and "与台账不符（reason）" in out


@pytest.fixture
def legacy(monkeypatch, engine, tmp_path):
    """Before this change: the three tables named no ``__ledger_via__``. Yields the signing key and
    migration 0018's ``carry``, to run once ``world`` is built the old way."""
    for model in MOVED:
        monkeypatch.setattr(model, "__ledger_via__", None)
    migration = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0018").module
    yield ledger.create_key(tmp_path / "ledger.key"), migration.carry


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
        ledger.checkpoint(s, key)
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


def _verify(factory, key, **kw):
    with factory() as s:
        return ledger.verify(s, trusted_keys=[key.public_hex], **kw)


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
    report = _verify(factory, key)
    assert report.ok and report.checkpoints == 2, report.problems
    with factory() as s:
        assert ledger.verify(s, incremental=True).ok
        assert ledger.checkpoint(s, key)[0].chain == CLASS_CHAIN  # only the class chain moved
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
    assert _verify(factory, key).ok
    with factory() as s:
        assert legacy[1](s.connection()) == 0
        s.commit()
    assert _verify(factory, key).ok


def test_R17_a_row_changed_with_plain_sql_before_the_upgrade_is_not_laundered_by_it(legacy, world):  # noqa: F811
    """The carried snapshot is the ledger's, not the table's: the changed mark is still reported."""
    key, carry = legacy
    with world() as s:
        s.execute(text("UPDATE trainee_marks SET reason = '误标'"))
        s.commit()
    with world() as s:
        carry(s.connection())
        s.commit()
    problems = _verify(world, key).problems
    assert [(p.kind, p.table, p.chain, p.params["diffs"]) for p in problems] == [
        ("changed", "trainee_marks", "BT-001", [["reason", "数据异常", "误标"]])]
