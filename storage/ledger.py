"""The tamper-evident ledger (R05, R17).

Every action that creates or changes a fact appends an event whose SHA-256 covers the previous
event's hash and a canonical JSON body: sequence number, type, actor, class, subject (table and row
id), payload, source reference (``msg:<msgId>``, ``file:<sha256>``, ``cli``) and time. An event about
a row carries the row's snapshot, so the ledger says what every fact row must look like now.

``verify`` walks the chain *and* compares every tracked row with the last snapshot the ledger holds
for it: a row changed, inserted or deleted with plain SQL, an event edited, inserted or deleted — each
is reported with the table, the row and the event.

A correction is ``append(..., type="….corrected", reason=…)`` by a named actor: the row changes, the
ledger keeps both versions. A session that changes a tracked row and commits without appending its
event fails with ``UnrecordedChange``: no code path can write a fact quietly.

Events get their sequence numbers and hashes at commit (``_chain``), under a lock on the single
``ledger_head`` row, so the chain never forks and concurrent units of work hold the lock only briefly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import Table, event, inspect, select
from sqlalchemy.orm import Session

from storage.models import Base, LedgerEvent, LedgerHead, Tracked, tracked_tables
from storage.types import utcnow

GENESIS = "0" * 64
_PENDING = "ledger_pending"  # tracked rows written since their last event
_EVENTS = "ledger_events"  # events recorded, chained at commit


class UnrecordedChange(RuntimeError):
    """A tracked row was written without its ledger event."""


def canonical(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def _body(ev: LedgerEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq,
        "type": ev.type,
        "actor": ev.actor,
        "class": ev.class_code,
        "subject": [ev.subject_table, ev.subject_id],
        "payload": ev.payload,
        "source": ev.source,
        "at": _plain(ev.at),
    }


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
    """Record one event. With ``subject``, the event carries that row's snapshot (after a flush).

    The event's sequence number and hash are assigned when the transaction commits, in the order the
    events were recorded: the chain's head is locked only for those last statements, so concurrent
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
    event = dict(type=type, actor=actor, class_code=class_code, subject_table=subject_table, subject_id=subject_id,
                 payload=canonical(payload), source=source, at=(at or utcnow()).astimezone(timezone.utc))
    session.info.setdefault(_EVENTS, []).append((event, _current(session)))


def _chain(session: Session, events: list[dict[str, Any]]) -> None:
    """Give the recorded events their place in the chain: lock the head, number, hash, store."""
    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()
    for event in events:
        ev = LedgerEvent(seq=head.seq + 1, prev_hash=head.hash, **event)
        ev.hash = event_hash(ev.prev_hash, _body(ev))
        head.seq, head.hash = ev.seq, ev.hash
        session.add(ev)
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


@event.listens_for(Session, "before_commit")
def _chain_and_refuse_unrecorded_writes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit does this
    session.flush()
    pending = session.info.pop(_PENDING, {})
    if pending:
        session.info.pop(_EVENTS, None)
        names = sorted(f"{o.__tablename__}#{getattr(o, 'id', '?')}" for o, _ in pending.values())
        raise UnrecordedChange("tracked rows written without a ledger event: " + ", ".join(names))
    events = session.info.pop(_EVENTS, None)
    if events:
        _chain(session, [e for e, _ in events])


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str  # chain | changed | inserted | deleted | head
    table: str
    row_id: int | None
    seq: int | None
    detail: str

    def __str__(self) -> str:
        where = self.table + (f" 第 {self.row_id} 行" if self.row_id is not None else "")
        event_ref = f"（台账事件 #{self.seq}）" if self.seq is not None else ""
        return f"{where}{event_ref}：{self.detail}"


@dataclass
class Report:
    events: int = 0
    head: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _stream(session: Session, stmt) -> Iterator:
    return session.execute(stmt.execution_options(yield_per=2000))


def verify(session: Session) -> Report:
    """Walk the chain and compare every tracked row with the ledger's last snapshot of it."""
    report = Report()
    expected = _walk_chain(session, report)
    head = session.get(LedgerHead, 1)
    if head is None or (head.seq, head.hash) != (report.events, report.head):
        report.problems.append(
            Problem("head", "ledger_head", 1, head.seq if head else None,
                    f"链头记录与最后一个事件不符（事件 {report.events} 条），台账末尾可能被删除")
        )
    for table in tracked_tables():
        _compare_table(session, table, expected.pop(table.name, {}), report)
    return report


def _walk_chain(session: Session, report: Report) -> dict[str, dict[int, tuple[int, str | None]]]:
    """Check every link; return, per table and row id, the last event and its snapshot's digest."""
    expected: dict[str, dict[int, tuple[int, str | None]]] = {}
    prev = GENESIS
    seq = 0
    for ev in _stream(session, select(LedgerEvent).order_by(LedgerEvent.seq)).scalars():
        seq += 1
        if ev.seq != seq:
            report.problems.append(Problem("chain", "ledger_events", None, ev.seq,
                                           f"事件序号不连续：应为 #{seq}，实为 #{ev.seq}（有事件被删除或插入）"))
            seq = ev.seq
        if ev.prev_hash != prev:
            report.problems.append(Problem("chain", "ledger_events", None, ev.seq, "前一事件的哈希不符（链被改动）"))
        if event_hash(ev.prev_hash, _body(ev)) != ev.hash:
            report.problems.append(Problem("chain", "ledger_events", None, ev.seq, "事件内容与其哈希不符（事件被改动）"))
        prev = ev.hash
        if ev.subject_table:
            row = json.loads(ev.payload).get("row", None) if ev.payload else None
            digest = None if row is None else _digest(canonical(row))
            expected.setdefault(ev.subject_table, {})[ev.subject_id] = (ev.seq, digest)
    report.events, report.head = seq, prev
    return expected


def _compare_table(session: Session, table: Table, expected: dict[int, tuple[int, str | None]], report: Report) -> None:
    for values in _stream(session, select(table).order_by(table.c.id)).mappings():
        row_id = values["id"]
        snap = snapshot_row(table, dict(values))
        seq, digest = expected.pop(row_id, (None, None))
        if seq is None:
            report.problems.append(Problem("inserted", table.name, row_id, None, "此行没有对应的台账事件（被直接插入）"))
        elif digest is None:
            report.problems.append(Problem("inserted", table.name, row_id, seq, "台账记载此行已删除，但它仍存在"))
        elif _digest(canonical(snap)) != digest:
            report.problems.append(Problem("changed", table.name, row_id, seq, _describe_change(session, seq, snap)))
    for row_id, (seq, digest) in sorted(expected.items()):
        if digest is not None:
            report.problems.append(Problem("deleted", table.name, row_id, seq, "台账记载的此行已不存在（被直接删除）"))


def _describe_change(session: Session, seq: int, snap: dict[str, Any]) -> str:
    recorded = json.loads(session.get(LedgerEvent, seq).payload)["row"]
    diffs = [
        f"{name} 台账为 {recorded.get(name)!r}，现为 {value!r}"
        for name, value in snap.items()
        if recorded.get(name) != value
    ]
    return "此行被改动：" + "；".join(diffs)
