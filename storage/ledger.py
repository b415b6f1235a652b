"""The tamper-evident ledger (R05, R17): one hash chain per class, one for the city, signed heads.

Every action that creates or changes a fact appends an event whose SHA-256 covers the previous
event's hash on the same chain and a canonical JSON body: chain, sequence number, type, actor, class,
subject (table and row id), payload, source reference (``msg:<msgId>``, ``file:<sha256>``, ``cli``)
and time. An event about a row carries the row's snapshot, so the ledger says what every fact row
must look like now.

**Chains.** Each class has its own chain (its id), and chain 0 holds city-wide facts (districts,
institutions, persons, staff, identities, messages outside a class group). The chain of an event about
a row is read from the row (``chain_of``), so all of a row's events sit on one chain, in order:

- a table with a ``class_id`` column: that class (NULL: the city);
- a table whose rows belong to a class through another row names that foreign-key column in
  ``__ledger_via__`` (punches, photos, leave and minutes use ``"enrollment_id"``);
- ``classes`` itself: the class's own chain; anything else: the city.

A new tracked table only follows this convention. Events get their sequence numbers and hashes at
commit (``_chain``), under a lock on each touched chain's ``ledger_chains`` row, taken in chain order:
appends to different classes never wait for each other.

**Signed checkpoints.** ``checkpoint`` signs each chain's head with an Ed25519 key kept in a file
outside the database (``DINGCLASS_LEDGER_KEY``). Someone with write access to the database but not
the key can rewrite events and recompute every later hash, but cannot sign the new heads: ``verify``
finds the signed hash no longer on the chain, or a signature that does not check. Signed heads leave
the building (``signed_heads``: the daily report, archive manifests, ``dingclass ledger heads``), and
``verify(anchor=...)`` checks that they are still on the chains — which catches a tail truncated
together with its checkpoints.

``verify`` walks every chain *and* compares every tracked row with the last snapshot the ledger holds
for it: a row changed, inserted or deleted with plain SQL, an event edited, inserted or deleted — each
is reported with the table, the row, the chain and the event.

A correction is ``append(..., type="….corrected", reason=…)`` by a named actor: the row changes, the
ledger keeps both versions. A session that changes a tracked row and commits without appending its
event fails with ``UnrecordedChange``: no code path can write a fact quietly.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Table, case, event, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import read_only_factory
from storage.models import (
    Base,
    Klass,
    LedgerChain,
    LedgerCheckpoint,
    LedgerEvent,
    LedgerKey,
    LedgerVerification,
    Tracked,
    tracked_tables,
)
from storage.types import utcnow

GENESIS = "0" * 64
CITY = 0  # the chain of city-wide facts
_PENDING = "ledger_pending"  # tracked rows written since their last event
_EVENTS = "ledger_events"  # events recorded, chained at commit
_CLASS_IDS = "ledger_class_ids"  # class code -> id, per session


class UnrecordedChange(RuntimeError):
    """A tracked row was written without its ledger event."""


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))  # made once: verify calls it per event


def canonical(obj: Any) -> str:
    return _CANONICAL.encode(obj)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plain_value(value: Any) -> Any:
    """A value as the ledger writes it in JSON: times as ISO text (UTC), anything else as it is."""
    return _plain(value)


def snapshot_row(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The row as the ledger records it; long columns marked ``digest`` are kept as their SHA-256."""
    snap = {}
    for column in table.columns:
        value = values[column.name]
        if column.info.get("digest") and value is not None:
            value = "sha256:" + _digest(value)
        snap[column.name] = _plain(value)
    return snap


def _snapshot(obj: Base) -> dict[str, Any]:
    table = obj.__table__
    return snapshot_row(table, {c.name: getattr(obj, inspect(obj).mapper.get_property_by_column(c).key) for c in table.columns})


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return _digest(prev_hash + canonical(body))


def body_of(chain: int, seq: int, type: str, actor: str, class_code: str | None, subject_table: str | None,
            subject_id: int | None, payload: str, source: str, at: datetime) -> dict[str, Any]:
    """What an event's hash covers."""
    return {
        "chain": chain,
        "seq": seq,
        "type": type,
        "actor": actor,
        "class": class_code,
        "subject": [subject_table, subject_id],
        "payload": payload,
        "source": source,
        "at": _plain(at),
    }


def _body(ev: LedgerEvent) -> dict[str, Any]:
    return body_of(ev.chain, ev.seq, ev.type, ev.actor, ev.class_code, ev.subject_table, ev.subject_id,
                   ev.payload, ev.source, ev.at)


# --- which chain --------------------------------------------------------------------------------


def _mapped_class(table: Table) -> type:
    return next(m.class_ for m in Base.registry.mappers if m.local_table is table)


def chain_of(session: Session, obj: Base) -> int:
    """The chain a tracked row's events go on (see the module docstring for the convention)."""
    if isinstance(obj, Klass):
        return obj.id
    via = getattr(type(obj), "__ledger_via__", None)
    if via:
        (foreign_key,) = obj.__table__.c[via].foreign_keys
        parent = session.get(_mapped_class(foreign_key.column.table), getattr(obj, via))
        return CITY if parent is None else chain_of(session, parent)
    return getattr(obj, "class_id", None) or CITY


def _class_chain(session: Session, class_code: str | None) -> int:
    if not class_code:
        return CITY
    known = session.info.setdefault(_CLASS_IDS, {})
    if class_code not in known:
        known[class_code] = session.execute(select(Klass.id).where(Klass.code == class_code)).scalar_one_or_none()
    return known[class_code] or CITY


# --- appending ----------------------------------------------------------------------------------


def append(
    session: Session,
    type: str,
    *,
    actor: str,
    source: str,
    subject: Base | None = None,
    class_code: str | None = None,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
    deleted: bool = False,
    at: datetime | None = None,
) -> None:
    """Record one event. With ``subject``, the event carries that row's snapshot (after a flush) and
    goes on the row's chain; without, on ``class_code``'s chain or the city's.

    The event's sequence number and hash are assigned when the transaction commits, in the order the
    events were recorded: a chain's head is locked only for those last statements, so concurrent
    units of work overlap everything else. Events recorded inside a savepoint that rolls back vanish
    with it.
    """
    if not actor:
        raise ValueError("a ledger event needs a named actor")
    if type.endswith(".corrected") and not reason:
        raise ValueError("a correction needs a reason")
    payload: dict[str, Any] = dict(data or {})
    if reason:
        payload["reason"] = reason
    subject_table = subject_id = None
    if subject is not None:
        session.flush()
        subject_table, subject_id = subject.__tablename__, subject.id
        payload["row"] = None if deleted else _snapshot(subject)
        session.info.get(_PENDING, {}).pop(id(subject), None)
        chain = chain_of(session, subject)
    else:
        chain = _class_chain(session, class_code)
    event = dict(chain=chain, type=type, actor=actor, class_code=class_code, subject_table=subject_table,
                 subject_id=subject_id, payload=canonical(payload), source=source,
                 at=(at or utcnow()).astimezone(timezone.utc))
    session.info.setdefault(_EVENTS, []).append((event, _current(session)))


def _chain(session: Session, events: list[dict[str, Any]]) -> None:
    """Give the recorded events their place on their chains: lock each head (in chain order, so two
    units of work never wait for each other in a circle), number, hash, store."""
    by_chain: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        by_chain.setdefault(ev["chain"], []).append(ev)
    for chain in sorted(by_chain):
        head = session.execute(select(LedgerChain).where(LedgerChain.chain == chain).with_for_update()).scalar_one_or_none()
        if head is None:  # a new class's first events: nobody else can see the class yet
            head = LedgerChain(chain=chain, seq=0, hash=GENESIS)
            session.add(head)
        for ev in by_chain[chain]:
            row = LedgerEvent(seq=head.seq + 1, prev_hash=head.hash, **ev)
            row.hash = event_hash(row.prev_hash, _body(row))
            head.seq, head.hash = row.seq, row.hash
            session.add(row)
    session.flush()


def _current(session: Session):
    return session.get_nested_transaction() or session.get_transaction()


def _inside(txn, ancestor) -> bool:
    while txn is not None:
        if txn is ancestor:
            return True
        txn = txn.parent
    return False


@event.listens_for(Session, "after_flush")
def _remember_tracked_writes(session: Session, _ctx) -> None:
    pending = session.info.setdefault(_PENDING, {})
    txn = _current(session)
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, Tracked):
            pending[id(obj)] = (obj, txn)
    for obj in session.dirty:
        if isinstance(obj, Tracked) and session.is_modified(obj, include_collections=False):
            pending[id(obj)] = (obj, txn)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_writes(session: Session, previous_transaction) -> None:
    """A transaction or savepoint rolled back (a refused command): what was written and recorded
    inside it is gone. (``after_rollback`` would fire for a savepoint too, but cannot say which.)"""
    pending = session.info.get(_PENDING, {})
    for key in [k for k, (_, txn) in pending.items() if _inside(txn, previous_transaction)]:
        del pending[key]
    events = session.info.get(_EVENTS)
    if events:
        events[:] = [(e, txn) for e, txn in events if not _inside(txn, previous_transaction)]
    if previous_transaction.parent is None:
        session.info.pop(_CLASS_IDS, None)


@event.listens_for(Session, "before_commit")
def _chain_and_refuse_unrecorded_writes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit does this
    session.flush()
    session.info.pop(_CLASS_IDS, None)
    pending = session.info.pop(_PENDING, {})
    if pending:
        session.info.pop(_EVENTS, None)
        names = sorted(f"{o.__tablename__}#{getattr(o, 'id', '?')}" for o, _ in pending.values())
        raise UnrecordedChange("tracked rows written without a ledger event: " + ", ".join(names))
    events = session.info.pop(_EVENTS, None)
    if events:
        _chain(session, [e for e, _ in events])


# --- the signing key and checkpoints ------------------------------------------------------------


class LedgerKeyError(RuntimeError):
    """The ledger key file is missing, unreadable or not an Ed25519 key."""


@dataclass(frozen=True)
class Signer:
    """The ledger's Ed25519 private key, loaded from its file."""

    private: Ed25519PrivateKey

    @property
    def public_hex(self) -> str:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    @property
    def key_id(self) -> str:
        return key_id(self.public_hex)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()


def key_id(public_hex: str) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def create_key(path: Path) -> Signer:
    """Write a new Ed25519 private key (PEM, readable by its owner only); never overwrites a key."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return Signer(private)


def load_key(path: Path) -> Signer:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise LedgerKeyError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise LedgerKeyError(f"{path} is not a PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise LedgerKeyError(f"{path} is not an Ed25519 key")
    return Signer(private)


def register_key(session: Session, signer: Signer) -> None:
    """Store the public key for verifiers (who should compare it with the one ``init`` printed)."""
    if session.get(LedgerKey, signer.key_id) is None:
        session.add(LedgerKey(key_id=signer.key_id, public_key=signer.public_hex))
        session.flush()


def signed_message(chain: int, class_code: str | None, seq: int, hash_: str, at: datetime, verified: bool) -> bytes:
    """What a checkpoint's signature covers."""
    return canonical({"chain": chain, "class": class_code, "seq": seq, "hash": hash_, "at": _plain(at),
                      "verified": bool(verified)}).encode()


def _signature_ok(public_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _class_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Klass.id, Klass.code)).all())


def checkpoint(session: Session, signer: Signer, at: datetime | None = None,
               chains: Iterable[int] | None = None, *, verified: bool = False,
               heads: dict[int, tuple[int, str]] | None = None) -> list[LedgerCheckpoint]:
    """Sign the head of every chain (or of ``chains``) that moved since its last checkpoint.

    Called at each day's end and at archiving, by ``dingclass ledger checkpoint|heads``, and after a
    clean verification with ``verified=True`` and the ``heads`` it verified (an incremental
    verification starts from the last verified checkpoint). Otherwise reads the committed heads
    without locking them: appends go on meanwhile.
    """
    at = (at or utcnow()).astimezone(timezone.utc)
    register_key(session, signer)
    done = select(LedgerCheckpoint.chain, func.max(LedgerCheckpoint.seq).label("seq"))
    if verified:
        done = done.where(LedgerCheckpoint.verified.is_(True))
    last = done.group_by(LedgerCheckpoint.chain).subquery()
    stmt = (select(LedgerChain.chain, LedgerChain.seq, LedgerChain.hash)
            .outerjoin(last, last.c.chain == LedgerChain.chain)
            .where(LedgerChain.seq > func.coalesce(last.c.seq, 0)))
    if chains is not None:
        stmt = stmt.where(LedgerChain.chain.in_(list(chains)))
    codes = _class_codes(session)
    made = []
    for chain, seq, hash_ in session.execute(stmt.order_by(LedgerChain.chain)).all():
        if heads is not None:  # what was verified, not what was appended since
            if chain not in heads:
                continue
            seq, hash_ = heads[chain]
        code = codes.get(chain)
        made.append(LedgerCheckpoint(
            chain=chain, seq=seq, hash=hash_, class_code=code, at=at, verified=verified, key_id=signer.key_id,
            signature=signer.sign(signed_message(chain, code, seq, hash_, at, verified))))
    session.add_all(made)
    session.flush()
    return made


def _latest_checkpoints(verified_only: bool = False):
    """A select of each chain's newest checkpoint (highest seq, then latest made)."""
    ranked = select(LedgerCheckpoint.id, func.row_number().over(
        partition_by=LedgerCheckpoint.chain,
        order_by=(LedgerCheckpoint.seq.desc(), LedgerCheckpoint.id.desc())).label("rn"))
    if verified_only:
        ranked = ranked.where(LedgerCheckpoint.verified.is_(True))
    ranked = ranked.subquery()
    return select(LedgerCheckpoint).join(ranked, ranked.c.id == LedgerCheckpoint.id).where(ranked.c.rn == 1)


def signed_heads(session: Session, chains: Iterable[int] | None = None) -> dict[str, Any]:
    """The latest signed head of each chain, as an anchor file carries them (JSON-ready)."""
    stmt = _latest_checkpoints()
    if chains is not None:
        stmt = stmt.where(LedgerCheckpoint.chain.in_(list(chains)))
    rows = session.execute(stmt.order_by(LedgerCheckpoint.chain)).scalars().all()
    keys = {k.key_id: k.public_key for k in session.execute(select(LedgerKey)).scalars()}
    return {
        "format": "dingclass-ledger-heads/1",
        "public_keys": sorted({keys[r.key_id] for r in rows if r.key_id in keys}),
        "heads": [{"chain": r.chain, "class": r.class_code, "seq": r.seq, "hash": r.hash, "at": _plain(r.at),
                   "verified": r.verified, "key_id": r.key_id, "signature": r.signature} for r in rows],
    }


# --- verification -------------------------------------------------------------------------------


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
    return _digest(canonical(sorted([list(h) for h in heads])))


def _stream(session: Session, stmt) -> Iterator:
    return session.execute(stmt.execution_options(yield_per=5000))


def verify(session: Session, *, trusted_keys: Iterable[str] = (), anchor: dict[str, Any] | None = None,
           incremental: bool = False) -> Report:
    """Walk every chain, check the signed checkpoints (and ``anchor``'s heads), and compare every
    tracked row with the ledger's last snapshot of it. Memory stays flat whatever the size: events
    and rows are streamed (Core rows, not ORM objects), and rows are merged with their last events
    in id order.

    ``incremental``: per chain, start from the last checkpoint signed after a clean verification
    (its signature checked, its hash found on the chain) and check only the events after it and the
    rows they name. Rows changed with plain SQL without an event are found by a full run only.

    ``trusted_keys`` are the public keys (hex) the verifier holds itself — from the key file or an
    anchor. Without them the keys stored in the database are used, which proves less (someone who can
    rewrite the database can store a key of their own): ``Report.key_source`` says which.
    """
    report = Report(incremental=incremental)
    names = {CITY: CITY_CHAIN, **_class_codes(session)}
    trusted = {key_id(k): k for k in trusted_keys}
    report.key_source = "file" if trusted else "none"
    if anchor is not None:
        for k in anchor.get("public_keys", []):
            trusted.setdefault(key_id(k), k)
        report.key_source = "file" if trusted_keys else "anchor"
    if not trusted:
        trusted = {k.key_id: k.public_key for k in session.execute(select(LedgerKey)).scalars()}
        report.key_source = "database" if trusted else "none"
    if incremental:
        _verify_since_checkpoints(session, trusted, names, report)
    else:
        checkpoints = _check_signatures(session, trusted, names, report, select(LedgerCheckpoint))
        _walk(session, _stream(session, select(*_EVENT_COLUMNS).order_by(LedgerEvent.chain, LedgerEvent.seq)),
              {}, checkpoints, names, report)
        _lost_checkpoints(checkpoints, names, report)
    if anchor is not None:
        _check_anchor(session, anchor, trusted, names, report)
    report.chains = len(report.heads)
    report.head = heads_digest((c, s_, h) for c, (s_, h) in report.heads.items())
    if incremental:
        report.events = sum(seq for seq, _ in report.heads.values())
    else:
        for table in tracked_tables():
            _compare_table(session, table, report, names)
    return report


def _lost_checkpoints(checkpoints: dict[tuple[int, int], str], names: dict[int, str], report: Report) -> None:
    for (chain, seq), _ in sorted(checkpoints.items()):
        report.problems.append(Problem("checkpoint", "ledger_checkpoints", None, seq, Finding.CHECKPOINT_LOST,
                                       names.get(chain, str(chain))))


def _verify_since_checkpoints(session: Session, trusted: dict[str, str], names: dict[int, str], report: Report) -> None:
    """Per chain: from the last verified checkpoint, if its signature and hash hold, else from the start."""
    starts = {cp.chain: cp for cp in session.execute(_latest_checkpoints(verified_only=True)).scalars()}
    good = _check_signatures(session, trusted, names, report,
                             select(LedgerCheckpoint).where(LedgerCheckpoint.id.in_([c.id for c in starts.values()])))
    chains = sorted(set(session.execute(select(LedgerChain.chain)).scalars()) | set(starts))
    subjects: dict[tuple[str, int], tuple[int, int, str]] = {}
    for chain in chains:
        cp = starts.get(chain)
        start = (0, GENESIS)
        if cp is not None and good.pop((chain, cp.seq), None) is not None:
            found = session.execute(select(LedgerEvent.hash).where(LedgerEvent.chain == chain, LedgerEvent.seq == cp.seq)
                                    ).scalar_one_or_none()
            if found == cp.hash:
                start = (cp.seq, cp.hash)
            else:
                report.problems.append(Problem(
                    "signature" if found else "checkpoint", "ledger_events", None, cp.seq,
                    Finding.CHECKPOINT_REWRITTEN if found else Finding.CHECKPOINT_LOST, names.get(chain, str(chain))))
                continue
        later = _check_signatures(session, trusted, names, report, select(LedgerCheckpoint).where(
            LedgerCheckpoint.chain == chain, LedgerCheckpoint.seq > start[0]))
        rows = _stream(session, select(*_EVENT_COLUMNS).where(LedgerEvent.chain == chain, LedgerEvent.seq > start[0])
                       .order_by(LedgerEvent.seq))
        _walk(session, rows, {chain: start}, later, names, report, subjects, only=chain)
        _lost_checkpoints(later, names, report)
    _compare_named_rows(session, subjects, names, report)


def _check_signatures(session: Session, trusted: dict[str, str], names: dict[int, str],
                      report: Report, stmt) -> dict[tuple[int, int], str]:
    """Every checkpoint ``stmt`` selects must carry a good signature by a trusted key; return the good ones."""
    good: dict[tuple[int, int], str] = {}
    for cp in _stream(session, stmt.order_by(LedgerCheckpoint.chain, LedgerCheckpoint.seq)).scalars():
        report.checkpoints += 1
        name = names.get(cp.chain, str(cp.chain))
        public = trusted.get(cp.key_id)
        if public is None:
            report.problems.append(Problem("signature", "ledger_checkpoints", cp.id, cp.seq, Finding.UNKNOWN_KEY, name,
                                           {"key_id": cp.key_id}))
        elif not _signature_ok(public, cp.signature,
                               signed_message(cp.chain, cp.class_code, cp.seq, cp.hash, cp.at, cp.verified)):
            report.problems.append(Problem("signature", "ledger_checkpoints", cp.id, cp.seq, Finding.BAD_SIGNATURE, name))
        else:
            good[(cp.chain, cp.seq)] = cp.hash
    return good


_EVENT_COLUMNS = (LedgerEvent.chain, LedgerEvent.seq, LedgerEvent.prev_hash, LedgerEvent.hash, LedgerEvent.type,
                  LedgerEvent.actor, LedgerEvent.class_code, LedgerEvent.subject_table, LedgerEvent.subject_id,
                  LedgerEvent.payload, LedgerEvent.source, LedgerEvent.at)


def _walk(session: Session, rows, starts: dict[int, tuple[int, str]], checkpoints: dict[tuple[int, int], str],
          names: dict[int, str], report: Report, subjects: dict | None = None, only: int | None = None) -> None:
    """Check every link of the events in ``rows`` (ordered by chain, seq), each chain from its start
    (default: genesis), and each chain's head row; consume the checkpoints found on the way; with
    ``subjects``, remember each named row's last event."""
    stmt = select(LedgerChain) if only is None else select(LedgerChain).where(LedgerChain.chain == only)
    stored = {c.chain: (c.seq, c.hash) for c in session.execute(stmt).scalars()}
    chain, seq, prev = None, 0, GENESIS

    def close() -> None:
        if chain is None:
            return
        report.heads[chain] = (seq, prev)
        if stored.pop(chain, None) != (seq, prev):
            report.problems.append(Problem("head", "ledger_chains", chain, seq, Finding.HEAD_MISMATCH,
                                           names.get(chain, str(chain)), {"seq": seq}))

    if only is not None:
        chain, (seq, prev) = only, starts.get(only, (0, GENESIS))
    for row in rows:
        if row.chain != chain:
            close()
            chain = row.chain
            seq, prev = starts.get(chain, (0, GENESIS))
        name = names.get(chain, str(chain))
        seq += 1
        report.walked += 1
        if row.seq != seq:
            report.problems.append(Problem("chain", "ledger_events", None, row.seq, Finding.SEQ_GAP, name,
                                           {"expected": seq, "found": row.seq}))
            seq = row.seq
        if row.prev_hash != prev:
            report.problems.append(Problem("chain", "ledger_events", None, row.seq, Finding.PREV_HASH, name))
        if event_hash(row.prev_hash, body_of(*row[:2], *row[4:])) != row.hash:
            report.problems.append(Problem("chain", "ledger_events", None, row.seq, Finding.EVENT_HASH, name))
        signed = checkpoints.pop((row.chain, row.seq), None)
        if signed is not None and signed != row.hash:
            report.problems.append(Problem("signature", "ledger_events", None, row.seq, Finding.CHECKPOINT_REWRITTEN, name))
        if subjects is not None and row.subject_table:
            subjects[(row.subject_table, row.subject_id)] = (row.chain, row.seq, row.payload)
        prev = row.hash
    close()
    if only is None:
        report.events = report.walked
    for lost, (seq_, _) in stored.items():
        if seq_:
            report.problems.append(Problem("head", "ledger_chains", lost, seq_, Finding.CHAIN_EMPTIED,
                                           names.get(lost, str(lost)), {"seq": seq_}))


def _compare_named_rows(session: Session, subjects: dict[tuple[str, int], tuple[int, int, str]],
                        names: dict[int, str], report: Report) -> None:
    """Compare the rows the checked events name with the last of those events."""
    tables = {t.name: t for t in tracked_tables()}
    by_table: dict[str, list[int]] = {}
    for table, row_id in subjects:
        by_table.setdefault(table, []).append(row_id)
    for name, ids in sorted(by_table.items()):
        table = tables.get(name)
        if table is None:
            continue
        ids.sort()
        for i in range(0, len(ids), 1000):
            chunk = ids[i:i + 1000]
            rows = {r["id"]: r for r in session.execute(select(table).where(table.c.id.in_(chunk))).mappings()}
            for row_id in chunk:
                chain, seq, payload = subjects[(name, row_id)]
                _compare_one(table, row_id, rows.get(row_id), chain, seq, payload, names, report)


def _compare_one(table: Table, row_id: int, row, chain: int, seq: int, payload: str, names: dict[int, str],
                 report: Report) -> None:
    if row is not None and payload and payload == canonical({"row": snapshot_row(table, dict(row))}):
        return  # the common case, decided without parsing the payload: it is exactly this row's snapshot
    recorded = json.loads(payload).get("row") if payload else None
    name = names.get(chain, str(chain))
    if row is None:
        if recorded is not None:
            report.problems.append(Problem("deleted", table.name, row_id, seq, Finding.ROW_DELETED, name))
    elif recorded is None:
        report.problems.append(Problem("inserted", table.name, row_id, seq, Finding.ROW_NOT_DELETED, name))
    else:
        snap = snapshot_row(table, dict(row))
        if canonical(snap) != canonical(recorded):
            report.problems.append(Problem("changed", table.name, row_id, seq, Finding.ROW_CHANGED, name,
                                           {"diffs": _changes(recorded, snap)}))


def _check_anchor(session: Session, anchor: dict[str, Any], trusted: dict[str, str], names: dict[int, str],
                  report: Report) -> None:
    """The heads a district holds must carry good signatures and still be on their chains."""
    for head in anchor.get("heads", []):
        chain, seq, hash_ = head["chain"], head["seq"], head["hash"]
        name = head.get("class") or names.get(chain, str(chain))
        at = datetime.fromisoformat(head["at"])
        public = trusted.get(head.get("key_id", ""))
        message = signed_message(chain, head.get("class"), seq, hash_, at, head.get("verified", False))
        if public is None or not _signature_ok(public, head["signature"], message):
            report.problems.append(Problem("anchor", "anchor", None, seq, Finding.ANCHOR_SIGNATURE, name))
            continue
        found = session.execute(select(LedgerEvent.hash).where(LedgerEvent.chain == chain, LedgerEvent.seq == seq)
                                ).scalar_one_or_none()
        if found is None:
            report.problems.append(Problem("anchor", "ledger_events", None, seq, Finding.ANCHOR_LOST, name))
        elif found != hash_:
            report.problems.append(Problem("anchor", "ledger_events", None, seq, Finding.ANCHOR_REWRITTEN, name))


def _last_events(table: Table):
    """Per row of ``table``, its last event's chain, seq and payload, in row id order. A row whose
    events moved from the city chain to its class's (migration 0018) has its last one on the class's."""
    ranked = select(
        LedgerEvent.subject_id, LedgerEvent.chain, LedgerEvent.seq, LedgerEvent.payload,
        func.row_number().over(partition_by=LedgerEvent.subject_id,
                               order_by=(case((LedgerEvent.chain == CITY, 1), else_=0), LedgerEvent.seq.desc(),
                                         LedgerEvent.chain.desc())).label("rn"),
    ).where(LedgerEvent.subject_table == table.name).subquery()
    return (select(ranked.c.subject_id, ranked.c.chain, ranked.c.seq, ranked.c.payload)
            .where(ranked.c.rn == 1).order_by(ranked.c.subject_id))


_END = float("inf")


def _compare_table(session: Session, table: Table, report: Report, names: dict[int, str]) -> None:
    """Merge the table's rows (by id) with their last events (by subject id)."""
    rows = iter(_stream(session, select(table).order_by(table.c.id)).mappings())
    events = iter(_stream(session, _last_events(table)))
    row = next(rows, None)
    ev = next(events, None)
    while row is not None or ev is not None:
        row_id = row["id"] if row is not None else _END
        ev_id = ev.subject_id if ev is not None else _END
        if row_id < ev_id:
            report.problems.append(Problem("inserted", table.name, row_id, None, Finding.ROW_INSERTED))
            row = next(rows, None)
            continue
        _compare_one(table, ev_id, row if row_id == ev_id else None, ev.chain, ev.seq, ev.payload, names, report)
        ev = next(events, None)
        if row_id == ev_id:
            row = next(rows, None)


def _changes(recorded: dict[str, Any], snap: dict[str, Any]) -> list[list[Any]]:
    """Each changed column as [column, value in the ledger, value now]."""
    return [[name, recorded.get(name), value] for name, value in snap.items() if recorded.get(name) != value]


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


def run_verification(factory: sessionmaker[Session], *, trusted_keys: Iterable[str] = (), signer: Signer | None = None,
                     anchor: dict[str, Any] | None = None, incremental: bool = False) -> Report:
    """One verification as a job: read in a read-only session (on SQLite it never takes the write
    lock, so the bot goes on writing), then in a short unit of work store the result and — when it is
    clean and the key is here — sign the verified heads (``verified=True``), where the next
    incremental verification starts."""
    started = utcnow()
    with read_only_factory(factory)() as s:
        report = verify(s, trusted_keys=trusted_keys, anchor=anchor, incremental=incremental)
        s.rollback()
    with factory.begin() as s:
        record(s, report, started)
        if report.ok and signer is not None:
            checkpoint(s, signer, verified=True, heads=report.heads)
    return report
