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

**Signed checkpoints** (``storage.ledger_keys``) sign each chain's head with a key the database does not
hold, and **verification** (``storage.ledger_verify``) walks every chain, checks the signatures and
compares every tracked row with the last snapshot the ledger holds for it.

A correction is ``append(..., type="….corrected", reason=…)`` by a named actor: the row changes, the
ledger keeps both versions. A session that changes a tracked row and commits without appending its
event fails with ``UnrecordedChange``: no code path can write a fact quietly.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timezone
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, event, false, insert, inspect, select, update
from sqlalchemy.orm import Session

from storage.models import Base, Klass, LedgerChain, LedgerEvent, Tracked
from storage.types import utcnow

GENESIS = "0" * 64
CITY = 0  # the chain of city-wide facts
_PENDING = "ledger_pending"  # tracked rows written since their last event
_EVENTS = "ledger_events"  # events recorded, chained at commit
_CLASS_IDS = "ledger_class_ids"  # class code -> id, per session


class UnrecordedChange(RuntimeError):
    """A tracked row was written without its ledger event."""


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# The C encoder ``_CANONICAL.encode`` would build on every call, built once: for verify's per-event
# bodies building it cost as much as the encoding. Same text (``ensure_ascii=False``, sorted keys,
# no spaces); ``markers=None`` skips the check for circular references, which facts never have.
_ENCODE = c_make_encoder(None, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, True)


def canonical(obj: Any) -> str:
    return "".join(_ENCODE(obj, 0))


def _utc_iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


_ISO = {datetime: _utc_iso, date: date.isoformat, time: time.isoformat}  # by exact type: verify calls this per value


def _plain(value: Any) -> Any:
    convert = _ISO.get(type(value))
    if convert is None:
        if not isinstance(value, (date, time)):
            return value
        convert = _utc_iso if isinstance(value, datetime) else type(value).isoformat
    return convert(value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plain_value(value: Any) -> Any:
    """A value as the ledger writes it in JSON: times as ISO text (UTC), anything else as it is."""
    return _plain(value)


@functools.cache
def _snapshot_columns(table: Table) -> tuple[tuple[str, bool], ...]:
    """Each column's name and whether the snapshot keeps its SHA-256 (``digest``) instead of it."""
    return tuple((column.name, bool(column.info.get("digest"))) for column in table.columns)


def snapshot_values(table: Table, values: Sequence[Any]) -> dict[str, Any]:
    """The row as the ledger records it, from its values in the table's column order (a Core row);
    long columns marked ``digest`` are kept as their SHA-256."""
    snap = {}
    for (name, digest), value in zip(_snapshot_columns(table), values, strict=True):
        if digest and value is not None:
            value = "sha256:" + _digest(value)
        snap[name] = _plain(value)
    return snap


def snapshot_row(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """The row as the ledger records it, from its values by column name."""
    return snapshot_values(table, [values[name] for name, _ in _snapshot_columns(table)])


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


def rows_on_chain(table: Table, chain: int) -> Select:
    """The rows of ``table`` whose events go on ``chain`` — ``chain_of`` in SQL, for a whole table."""
    source, owner = table, _owner_column(table, table)
    while owner is not None and not isinstance(owner, ColumnElement):  # a foreign key to follow (via)
        column, fk_column = owner
        parent = fk_column.table.alias()
        source = source.outerjoin(parent, parent.c[fk_column.name] == column)
        owner = _owner_column(fk_column.table, parent)
    stmt = select(*table.c).select_from(source)
    if owner is None:
        return stmt if chain == CITY else stmt.where(false())
    return stmt.where(owner.is_(None) if chain == CITY else owner == chain)


def _owner_column(table: Table, alias):
    """What decides the chain of ``table``'s rows (read through ``alias``): the class id column, the
    (via column, referenced column) pair to follow, or None for the city."""
    if table.name == Klass.__tablename__:
        return alias.c.id
    via = getattr(_mapped_class(table), "__ledger_via__", None)
    if via:
        (foreign_key,) = table.c[via].foreign_keys
        return alias.c[via], foreign_key.column
    return alias.c.class_id if "class_id" in table.c else None


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
    _record(session, chain, type, actor, class_code, subject_table, subject_id, payload, source, at)


def append_inserted(session: Session, type: str, *, actor: str, source: str, table: Table, row: Mapping[str, Any],
                    chain: int, class_code: str | None = None) -> None:
    """Record the event of a row inserted with Core (``storage.rows.insert_row``, issue 13: no ORM object on
    the intake path): its snapshot from ``row``, the stored values by column name. ``chain``
    is the row's, as ``chain_of`` would find it (the caller holds the class: a wrong one fails ``verify``)."""
    if not actor:
        raise ValueError("a ledger event needs a named actor")
    _record(session, chain, type, actor, class_code, table.name, row["id"], {"row": snapshot_row(table, row)},
            source, None)


def recorded(session: Session) -> int:
    """How many events this session has recorded and not yet chained (``storage.rows.wrote_since``)."""
    return len(session.info.get(_EVENTS, ()))


def _record(session: Session, chain: int, type: str, actor: str, class_code: str | None, subject_table: str | None,
            subject_id: int | None, payload: dict[str, Any], source: str, at: datetime | None) -> None:
    event = dict(chain=chain, type=type, actor=actor, class_code=class_code, subject_table=subject_table,
                 subject_id=subject_id, payload=canonical(payload), source=source,
                 at=(at or utcnow()).astimezone(timezone.utc))
    session.info.setdefault(_EVENTS, []).append((event, current_transaction(session)))


# Built once (issue 13: a check-in's Python): the head read under its lock, the head written back, the
# events inserted — Core statements, no ORM objects or unit of work for rows nothing reads back.
_HEAD = select(LedgerChain.seq, LedgerChain.hash).where(LedgerChain.chain == bindparam("c")).with_for_update()
_NEW_HEAD = insert(LedgerChain)
_SET_HEAD = (update(LedgerChain.__table__).where(LedgerChain.__table__.c.chain == bindparam("c"))
             .values(seq=bindparam("s"), hash=bindparam("h")))
_EVENT_ROWS = insert(LedgerEvent.__table__)


def _chain(session: Session, events: list[dict[str, Any]]) -> None:
    """Give the recorded events their place on their chains: lock each head (in chain order, so two
    units of work never wait for each other in a circle), number, hash, store (one statement for the
    events of all chains, one per head)."""
    by_chain: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        by_chain.setdefault(ev["chain"], []).append(ev)
    conn = session.connection()
    rows = []
    for chain in sorted(by_chain):
        head = conn.execute(_HEAD, {"c": chain}).first()
        seq, prev = (0, GENESIS) if head is None else head  # None: a new class's first events (nobody else sees it yet)
        for ev in by_chain[chain]:
            seq += 1
            digest = event_hash(prev, body_of(chain, seq, ev["type"], ev["actor"], ev["class_code"],
                                              ev["subject_table"], ev["subject_id"], ev["payload"], ev["source"],
                                              ev["at"]))
            rows.append({**ev, "seq": seq, "prev_hash": prev, "hash": digest})
            prev = digest
        if head is None:
            conn.execute(_NEW_HEAD, {"chain": chain, "seq": seq, "hash": prev})
        else:
            conn.execute(_SET_HEAD, {"c": chain, "s": seq, "h": prev})
    conn.execute(_EVENT_ROWS, rows)


def current_transaction(session: Session):
    """The savepoint or transaction the session is in now (what a rollback of it takes back: ``inside``)."""
    return session.get_nested_transaction() or session.get_transaction()


def inside(txn, ancestor) -> bool:
    """Whether ``txn`` is ``ancestor`` or a savepoint within it."""
    while txn is not None:
        if txn is ancestor:
            return True
        txn = txn.parent
    return False


@event.listens_for(Session, "after_flush")
def _remember_tracked_writes(session: Session, _ctx) -> None:
    pending = session.info.setdefault(_PENDING, {})
    txn = current_transaction(session)
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
    for key in [k for k, (_, txn) in pending.items() if inside(txn, previous_transaction)]:
        del pending[key]
    events = session.info.get(_EVENTS)
    if events:
        events[:] = [(e, txn) for e, txn in events if not inside(txn, previous_transaction)]
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
