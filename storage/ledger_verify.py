"""Verifying the ledger (R05, R17): every chain walked, every signature checked, every row compared.

Chains are independent, so verification works **per chain**, each in one snapshot of the database:

1. the chain's signed checkpoints must carry good signatures by a trusted key;
2. its events are walked from the start (genesis; for an incremental run, the last checkpoint signed
   after a clean verification, if its signature and hash hold): sequence numbers, links and hashes,
   the signed hashes found on the way, the head row at the end;
3. the rows on the chain (``storage.ledger.rows_on_chain``) are compared with the last event about
   each — a row changed, inserted or deleted with plain SQL is named with its table, row, chain and
   event. An incremental run compares only the rows its new events name.

Memory is one chain's last events, whatever the city's size; events and rows are streamed as Core
rows. ``workers`` > 1 processes take the chains in turn, largest first; the findings are the same
as serially, in chain order. A row found on a chain without an event there, or named by a chain's
last event but no longer on it (deleted, or moved to another chain), is settled at the end against
all of its events.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine, Table, select, text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, read_only_engine, read_only_factory
from storage.ledger import CITY, GENESIS, body_of, canonical, event_hash, rows_on_chain, snapshot_values
from storage.ledger_keys import (
    Signer,
    checkpoint,
    class_codes,
    key_id,
    latest_checkpoints,
    signature_ok,
    signed_message,
)
from storage.models import LedgerChain, LedgerCheckpoint, LedgerEvent, LedgerKey, LedgerVerification, tracked_tables
from storage.types import utcnow

CITY_CHAIN = "*"  # the name of the city-wide chain in a Problem (not a class code; the texts call it 全市)


class Finding(str, Enum):
    """What verification found, as a code; ``handlers.texts`` renders it (storage holds no UI text).
    The parameters each finding carries are named in the comment."""

    CHECKPOINT_LOST = "checkpoint_lost"  # a signed checkpoint's event is no longer on the chain
    CHECKPOINT_REWRITTEN = "checkpoint_rewritten"  # the event differs from the hash a checkpoint signed
    UNKNOWN_KEY = "unknown_key"  # key_id: a checkpoint signed by a key nobody trusts
    BAD_SIGNATURE = "bad_signature"  # a checkpoint's signature does not match
    HEAD_MISMATCH = "head_mismatch"  # seq: the head row differs from the last event
    SEQ_GAP = "seq_gap"  # expected, found: event numbers jump
    PREV_HASH = "prev_hash"  # an event's link to the one before is broken
    EVENT_HASH = "event_hash"  # an event's content differs from its hash
    CHAIN_EMPTIED = "chain_emptied"  # seq: the head row counts events the chain no longer has
    ROW_DELETED = "row_deleted"  # a tracked row is gone without an event
    ROW_NOT_DELETED = "row_not_deleted"  # the ledger deleted a row that still exists
    ROW_CHANGED = "row_changed"  # diffs: [[column, recorded, now], …]
    ROW_INSERTED = "row_inserted"  # a row without any event
    ANCHOR_SIGNATURE = "anchor_signature"  # an anchored head's signature does not match
    ANCHOR_LOST = "anchor_lost"  # an anchored head is no longer on the chain
    ANCHOR_REWRITTEN = "anchor_rewritten"  # the event differs from the anchored hash


@dataclass(frozen=True)
class Problem:
    kind: str  # chain | changed | inserted | deleted | head | signature | checkpoint | anchor
    table: str
    row_id: int | None
    seq: int | None
    finding: Finding
    chain: str = ""  # the chain's name: a class code, or CITY_CHAIN
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def stored(self) -> dict[str, Any]:
        """The problem as JSON-ready data (what :func:`record` keeps)."""
        return {"kind": self.kind, "table": self.table, "row_id": self.row_id, "seq": self.seq,
                "finding": self.finding.value, "chain": self.chain, "params": self.params}

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Problem:
        return cls(data["kind"], data["table"], data["row_id"], data["seq"], Finding(data["finding"]),
                   data.get("chain", ""), data.get("params") or {})


@dataclass
class Report:
    events: int = 0
    head: str = GENESIS  # one digest over every chain's head
    chains: int = 0
    checkpoints: int = 0  # signed checkpoints checked
    key_source: str = "none"  # file | anchor | database | none: where the trusted public keys came from
    incremental: bool = False  # only the events after each chain's last verified checkpoint
    walked: int = 0  # events whose links were checked in this run
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)  # chain -> (seq, hash) as verified
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def heads_digest(heads: Iterable[tuple[int, int, str]]) -> str:
    """One SHA-256 over every chain's (chain, seq, hash), in chain order."""
    return hashlib.sha256(canonical(sorted([list(h) for h in heads])).encode()).hexdigest()


@dataclass(frozen=True)
class _Context:
    """What every chain's check needs (sent once to each worker process)."""

    trusted: dict[str, str]  # key id -> public key (hex)
    names: dict[int, str]  # chain -> its name in a Problem
    incremental: bool
    tables: tuple[str, ...]  # full run: the tracked tables that have rows


@dataclass
class _ChainResult:
    chain: int
    head: tuple[int, str] | None = None  # (seq, hash) as walked; None: no event checked
    walked: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    unclaimed: list[tuple[str, int]] = field(default_factory=list)  # rows on the chain without an event there
    missing: list[tuple[str, int]] = field(default_factory=list)  # rows the chain's last events say exist, not on it


def verify(session: Session, *, trusted_keys: Iterable[str] = (), anchor: dict[str, Any] | None = None,
           incremental: bool = False, workers: int = 1) -> Report:
    """Check every chain (see the module docstring), then ``anchor``'s heads.

    ``incremental``: per chain, only the events after the last verified checkpoint and the rows they
    name; rows changed with plain SQL without an event are found by a full run only.

    ``trusted_keys`` are the public keys (hex) the verifier holds itself — from the key file or an
    anchor. Without them the keys stored in the database are used, which proves less (someone who can
    rewrite the database can store a key of their own): ``Report.key_source`` says which.

    ``workers`` > 1: that many processes check the chains of the committed database (each chain in a
    snapshot of its own); with 1, everything is read through ``session``.
    """
    report = Report(incremental=incremental)
    names = {CITY: CITY_CHAIN, **class_codes(session)}
    trusted = {key_id(k): k for k in trusted_keys}
    report.key_source = "file" if trusted else "none"
    if anchor is not None:
        for k in anchor.get("public_keys", []):
            trusted.setdefault(key_id(k), k)
        report.key_source = "file" if trusted_keys else "anchor"
    if not trusted:
        trusted = {k.key_id: k.public_key for k in session.execute(select(LedgerKey)).scalars()}
        report.key_source = "database" if trusted else "none"
    tables = () if incremental else tuple(
        t.name for t in tracked_tables() if session.execute(select(t.c.id).limit(1)).first() is not None)
    context = _Context(trusted, names, incremental, tables)
    unclaimed: dict[tuple[str, int], int] = {}
    missing: set[tuple[str, int]] = set()
    for result in sorted(_check_chains(session, context, workers), key=lambda r: r.chain):
        report.problems += result.problems
        report.walked += result.walked
        report.checkpoints += result.checkpoints
        if result.head is not None:
            report.heads[result.chain] = result.head
        unclaimed.update((key, result.chain) for key in result.unclaimed)
        missing.update(result.missing)
    _settle(session, unclaimed, missing, names, report)
    if anchor is not None:
        _check_anchor(session, anchor, trusted, names, report)
    report.chains = len(report.heads)
    report.head = heads_digest((c, s_, h) for c, (s_, h) in report.heads.items())
    report.events = sum(seq for seq, _ in report.heads.values()) if incremental else report.walked
    return report


def _chains(session: Session) -> list[int]:
    """Every chain that has a head row, a checkpoint or an event; the longest first."""
    heads = dict(session.execute(select(LedgerChain.chain, LedgerChain.seq)).all())
    found = set(heads) | set(session.execute(select(LedgerCheckpoint.chain).distinct()).scalars())
    found |= set(session.execute(text(  # each distinct chain by one index probe, not a scan of every event
        "WITH RECURSIVE c(chain) AS (SELECT min(chain) FROM ledger_events UNION ALL "
        "SELECT (SELECT min(chain) FROM ledger_events WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL) "
        "SELECT chain FROM c WHERE chain IS NOT NULL")).scalars())
    return sorted(found, key=lambda c: (-heads.get(c, 0), c))


def _check_chains(session: Session, context: _Context, workers: int) -> Iterator[_ChainResult]:
    chains = _chains(session)
    if workers <= 1 or len(chains) <= 1:
        conn = session.connection()
        for chain in chains:
            yield _check_chain(conn, chain, context)
        return
    # Spawned, not forked: verification runs inside threaded processes (the admin's background job
    # beside the bot's committer and sender threads), and a fork copies locks other threads hold.
    # Each worker opens its own engine from the URL, and checks it reads the very database (and schema)
    # this session reads: settings given to the engine beside the URL are not in it.
    url = session.get_bind().url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(min(workers, len(chains)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(url, _where(session.connection()), context)) as pool:
        yield from pool.map(_check_chain_in_worker, chains)


_WORKER: dict[str, Any] = {}  # in a worker process: its engine and the context


def _where(conn: Connection) -> tuple:
    """Which database a connection reads: PostgreSQL's database and schema, SQLite's main file."""
    if conn.dialect.name == "postgresql":
        return tuple(conn.execute(text("SELECT current_database(), current_schema()")).one())
    return tuple(row[2] for row in conn.execute(text("PRAGMA database_list")) if row[1] == "main")


def _start_worker(url: str, where: tuple, context: _Context) -> None:
    engine = read_only_engine(make_engine(url))
    with engine.connect() as conn:
        if _where(conn) != where:
            raise RuntimeError(f"verify worker reads {_where(conn)}, not {where}: give the database in its URL")
    _WORKER["engine"], _WORKER["context"] = engine, context


def _check_chain_in_worker(chain: int) -> _ChainResult:
    engine: Engine = _WORKER["engine"]
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        return _check_chain(conn, chain, _WORKER["context"])


def _stream(conn: Connection, stmt):
    return conn.execute(stmt.execution_options(yield_per=5000))


def _check_chain(conn: Connection, chain: int, context: _Context) -> _ChainResult:
    result = _ChainResult(chain)
    name = context.names.get(chain, str(chain))
    start = (0, GENESIS)
    if context.incremental:
        start = _verified_start(conn, chain, context, name, result)
        if start is None:
            return result
    signed = _check_signatures(conn, chain, start[0], context, name, result)
    last: dict[tuple[str, int], tuple[int, str]] = {}
    _walk(conn, chain, start, signed, name, result, last)
    for seq in sorted(signed):
        result.problems.append(Problem("checkpoint", "ledger_checkpoints", None, seq, Finding.CHECKPOINT_LOST, name))
    if context.incremental:
        _compare_named_rows(conn, last, name, result)
    else:
        _compare_chain_rows(conn, chain, context.tables, last, name, result)
    return result


def _verified_start(conn: Connection, chain: int, context: _Context, name: str,
                    result: _ChainResult) -> tuple[int, str] | None:
    """Where an incremental walk of ``chain`` starts: its last verified checkpoint, if its signature
    holds and its hash is still on the chain; genesis without one; None (a problem) otherwise."""
    cp = conn.execute(latest_checkpoints(verified_only=True).where(LedgerCheckpoint.chain == chain)).first()
    if cp is None:
        return 0, GENESIS
    if not _signature_holds(cp, context, name, result):
        return 0, GENESIS
    found = conn.execute(select(LedgerEvent.hash).where(LedgerEvent.chain == chain, LedgerEvent.seq == cp.seq)
                         ).scalar_one_or_none()
    if found == cp.hash:
        return cp.seq, cp.hash
    result.problems.append(Problem("signature" if found else "checkpoint", "ledger_events", None, cp.seq,
                                   Finding.CHECKPOINT_REWRITTEN if found else Finding.CHECKPOINT_LOST, name))
    return None


def _signature_holds(cp, context: _Context, name: str, result: _ChainResult) -> bool:
    result.checkpoints += 1
    public = context.trusted.get(cp.key_id)
    if public is None:
        result.problems.append(Problem("signature", "ledger_checkpoints", cp.id, cp.seq, Finding.UNKNOWN_KEY, name,
                                       {"key_id": cp.key_id}))
        return False
    if not signature_ok(public, cp.signature, signed_message(cp.chain, cp.class_code, cp.seq, cp.hash, cp.at,
                                                             cp.verified)):
        result.problems.append(Problem("signature", "ledger_checkpoints", cp.id, cp.seq, Finding.BAD_SIGNATURE, name))
        return False
    return True


def _check_signatures(conn: Connection, chain: int, after: int, context: _Context, name: str,
                      result: _ChainResult) -> dict[int, str]:
    """The chain's checkpoints after ``after`` must carry good signatures; the good ones, seq -> hash."""
    stmt = (select(*LedgerCheckpoint.__table__.c).where(LedgerCheckpoint.chain == chain, LedgerCheckpoint.seq > after)
            .order_by(LedgerCheckpoint.seq, LedgerCheckpoint.id))
    return {cp.seq: cp.hash for cp in conn.execute(stmt) if _signature_holds(cp, context, name, result)}


_EVENT_COLUMNS = (LedgerEvent.seq, LedgerEvent.prev_hash, LedgerEvent.hash, LedgerEvent.type, LedgerEvent.actor,
                  LedgerEvent.class_code, LedgerEvent.subject_table, LedgerEvent.subject_id, LedgerEvent.payload,
                  LedgerEvent.source, LedgerEvent.at)


def _walk(conn: Connection, chain: int, start: tuple[int, str], signed: dict[int, str], name: str,
          result: _ChainResult, last: dict[tuple[str, int], tuple[int, str]]) -> None:
    """Check every link of the chain after ``start`` and its head row; consume the signed hashes found
    on the way; remember each named row's last event in ``last``."""
    seq, prev = start
    walked = 0
    problems = result.problems
    rows = _stream(conn, select(*_EVENT_COLUMNS).where(LedgerEvent.chain == chain, LedgerEvent.seq > start[0])
                   .order_by(LedgerEvent.seq))
    for row_seq, prev_hash, hash_, type_, actor, code, table, row_id, payload, source, at in rows:
        seq += 1
        walked += 1
        if row_seq != seq:
            problems.append(Problem("chain", "ledger_events", None, row_seq, Finding.SEQ_GAP, name,
                                    {"expected": seq, "found": row_seq}))
            seq = row_seq
        if prev_hash != prev:
            problems.append(Problem("chain", "ledger_events", None, row_seq, Finding.PREV_HASH, name))
        if event_hash(prev_hash, body_of(chain, row_seq, type_, actor, code, table, row_id, payload, source, at)
                      ) != hash_:
            problems.append(Problem("chain", "ledger_events", None, row_seq, Finding.EVENT_HASH, name))
        if signed and signed.pop(row_seq, hash_) != hash_:
            problems.append(Problem("signature", "ledger_events", None, row_seq, Finding.CHECKPOINT_REWRITTEN, name))
        if table:
            last[(table, row_id)] = (row_seq, payload)
        prev = hash_
    result.walked = walked
    stored = conn.execute(select(LedgerChain.seq, LedgerChain.hash).where(LedgerChain.chain == chain)).first()
    if walked or seq:
        result.head = (seq, prev)
        if stored is None or tuple(stored) != (seq, prev):
            problems.append(Problem("head", "ledger_chains", chain, seq, Finding.HEAD_MISMATCH, name, {"seq": seq}))
    elif stored is not None and stored.seq:
        problems.append(Problem("head", "ledger_chains", chain, stored.seq, Finding.CHAIN_EMPTIED, name,
                                {"seq": stored.seq}))


_TABLES = {t.name: t for t in tracked_tables()}


def _compare_chain_rows(conn: Connection, chain: int, tables: tuple[str, ...],
                        last: dict[tuple[str, int], tuple[int, str]], name: str, result: _ChainResult) -> None:
    """Every row on the chain against its last event there; what is left over is settled later."""
    for table_name in tables:
        table = _TABLES[table_name]
        for row in _stream(conn, rows_on_chain(table, chain)):
            found = last.pop((table_name, row.id), None)
            if found is None:
                result.unclaimed.append((table_name, row.id))
            else:
                _compare_one(table, row.id, row, found[0], found[1], name, result.problems)
    for (table_name, row_id), (_, payload) in last.items():
        if table_name in _TABLES and json.loads(payload).get("row") is not None:
            result.missing.append((table_name, row_id))


def _compare_named_rows(conn: Connection, last: dict[tuple[str, int], tuple[int, str]], name: str,
                        result: _ChainResult) -> None:
    """Incremental: the rows the walked events name against the last of those events."""
    by_table: dict[str, list[int]] = {}
    for table_name, row_id in last:
        if table_name in _TABLES:
            by_table.setdefault(table_name, []).append(row_id)
    for table_name, ids in sorted(by_table.items()):
        table = _TABLES[table_name]
        for chunk, rows in _rows_by_id(conn, table, ids):
            for row_id in chunk:
                seq, payload = last[(table_name, row_id)]
                _compare_one(table, row_id, rows.get(row_id), seq, payload, name, result.problems)


def _rows_by_id(conn: Connection, table: Table, ids: list[int]) -> Iterator[tuple[list[int], dict[int, Any]]]:
    ids = sorted(ids)
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        yield chunk, {r.id: r for r in conn.execute(select(*table.c).where(table.c.id.in_(chunk)))}


def _compare_one(table: Table, row_id: int, row, seq: int, payload: str, name: str, problems: list[Problem]) -> None:
    snap = snapshot_values(table, row) if row is not None else None
    if snap is not None and payload == canonical({"row": snap}):
        return  # the common case, decided without parsing the payload: it is exactly this row's snapshot
    recorded = json.loads(payload).get("row") if payload else None
    if snap is None:
        if recorded is not None:
            problems.append(Problem("deleted", table.name, row_id, seq, Finding.ROW_DELETED, name))
    elif recorded is None:
        problems.append(Problem("inserted", table.name, row_id, seq, Finding.ROW_NOT_DELETED, name))
    elif canonical(snap) != canonical(recorded):
        problems.append(Problem("changed", table.name, row_id, seq, Finding.ROW_CHANGED, name,
                                {"diffs": [[column, recorded.get(column), value] for column, value in snap.items()
                                           if recorded.get(column) != value]}))


def _settle(session: Session, unclaimed: dict[tuple[str, int], int], missing: set[tuple[str, int]],
            names: dict[int, str], report: Report) -> None:
    """Rows found on a chain without an event there, and rows a chain's last event says exist but that
    are not on it: each against its last event on any chain (a row moved by plain SQL is "changed")."""
    conn = session.connection()
    by_table: dict[str, list[int]] = {}
    for table_name, row_id in set(unclaimed) | missing:
        by_table.setdefault(table_name, []).append(row_id)
    for table_name in [t.name for t in tracked_tables() if t.name in by_table]:
        table = _TABLES[table_name]
        for chunk, rows in _rows_by_id(conn, table, by_table[table_name]):
            events: dict[int, tuple[int, int, str]] = {}
            stmt = (select(LedgerEvent.subject_id, LedgerEvent.chain, LedgerEvent.seq, LedgerEvent.payload)
                    .where(LedgerEvent.subject_table == table_name, LedgerEvent.subject_id.in_(chunk))
                    .order_by(LedgerEvent.at, LedgerEvent.seq))
            for row_id, chain, seq, payload in conn.execute(stmt):
                events[row_id] = (chain, seq, payload)  # the latest wins
            for row_id in chunk:
                row = rows.get(row_id)
                if row is not None and (table_name, row_id) not in unclaimed:
                    continue  # on a chain that holds its events, and compared there
                if row_id not in events:
                    if row is not None:
                        report.problems.append(Problem("inserted", table_name, row_id, None, Finding.ROW_INSERTED))
                    continue
                chain, seq, payload = events[row_id]
                _compare_one(table, row_id, row, seq, payload, names.get(chain, str(chain)), report.problems)


def _check_anchor(session: Session, anchor: dict[str, Any], trusted: dict[str, str], names: dict[int, str],
                  report: Report) -> None:
    """The heads a district holds must carry good signatures and still be on their chains."""
    for head in anchor.get("heads", []):
        chain, seq, hash_ = head["chain"], head["seq"], head["hash"]
        name = head.get("class") or names.get(chain, str(chain))
        at = datetime.fromisoformat(head["at"])
        public = trusted.get(head.get("key_id", ""))
        message = signed_message(chain, head.get("class"), seq, hash_, at, head.get("verified", False))
        if public is None or not signature_ok(public, head["signature"], message):
            report.problems.append(Problem("anchor", "anchor", None, seq, Finding.ANCHOR_SIGNATURE, name))
            continue
        found = session.execute(select(LedgerEvent.hash).where(LedgerEvent.chain == chain, LedgerEvent.seq == seq)
                                ).scalar_one_or_none()
        if found is None:
            report.problems.append(Problem("anchor", "ledger_events", None, seq, Finding.ANCHOR_LOST, name))
        elif found != hash_:
            report.problems.append(Problem("anchor", "ledger_events", None, seq, Finding.ANCHOR_REWRITTEN, name))


# --- stored verifications -----------------------------------------------------------------------


def record(session: Session, report: Report, started_at: datetime, finished_at: datetime | None = None
           ) -> LedgerVerification:
    """Store a completed verification (the admin and ``/api/v1/ledger/verify`` show the last one)."""
    row = LedgerVerification(started_at=started_at, finished_at=finished_at or utcnow(), ok=report.ok,
                             events=report.events, head=report.head, incremental=report.incremental,
                             problems=canonical([p.stored() for p in report.problems[:500]]))
    session.add(row)
    session.flush()
    return row


def last_verification(session: Session) -> LedgerVerification | None:
    return session.execute(select(LedgerVerification).order_by(LedgerVerification.id.desc()).limit(1)
                           ).scalar_one_or_none()


def default_workers() -> int:
    """Worker processes for a verification job: one per core."""
    return os.cpu_count() or 1


def run_verification(factory: sessionmaker[Session], *, trusted_keys: Iterable[str] = (), signer: Signer | None = None,
                     anchor: dict[str, Any] | None = None, incremental: bool = False,
                     workers: int | None = None) -> Report:
    """One verification as a job: read in a read-only session (on SQLite it never takes the write
    lock, so the bot goes on writing) with ``workers`` processes (default: one per core), then in a
    short unit of work store the result and — when it is clean and the key is here — sign the verified
    heads (``verified=True``), where the next incremental verification starts."""
    started = utcnow()
    workers = default_workers() if workers is None else workers
    with read_only_factory(factory)() as s:
        if workers <= 1 and s.get_bind().dialect.name == "postgresql":
            # one snapshot for the whole run: an event committed meanwhile is neither half-seen (walked
            # without its head row, or the row without its event) nor reported as a mismatch
            s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report = verify(s, trusted_keys=trusted_keys, anchor=anchor, incremental=incremental,
                        workers=workers)
        s.rollback()
    with factory.begin() as s:
        record(s, report, started)
        if report.ok and signer is not None:
            checkpoint(s, signer, verified=True, heads=report.heads)
    return report
