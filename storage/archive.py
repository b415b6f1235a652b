"""The R18 dossier (一班一卷): one zip per class, written by streaming.

Layout. Every path is fixed, every list in a stable order and every zip entry dated ``STAMP``, so
archiving an unchanged class twice gives byte-identical data files; only ``manifest.json`` (its time
and the signed head) may differ.

- ``records/<table>.jsonl``: every row the class owns, one JSON object a line, by id. "Owns" is the
  ledger's own convention (``storage.ledger``: a ``class_id`` column, or ``__ledger_via__``), found
  generically, so a tracked table built later is archived without a change here.
- ``messages/received.jsonl``: the messages the bot received in the class's group, whole, in order
  (the ``inbound_messages`` rows); ``messages/private.jsonl``: 1:1 messages that are the source of
  one of the class's records; ``messages/sent.jsonl``: what the bot sent to the group (the outbox's
  replies and group messages, without their webhook URLs; not ledger facts).
- ``records/persons.jsonl``: the roster's persons (they live on the city chain).
- ``ledger/events.jsonl``: the class's chain from its first event to its head, links and all: every
  event about the class's own rows is on it (issue 13);
  ``ledger/city-events.jsonl``: the last city-chain event of each city-chain row included above
  (the roster's persons, 1:1 messages). Archives written before inspection evidence, roll-call
  samples and trainee marks moved to their class's chain (migration 0018) carry those rows' last
  city events here too; ``storage.archive_check`` reads both.
- ``photos/<sha256>.<ext>`` (each photo once, by content hash, stored as it is — JPEGs are already
  compressed, so they are never recompressed) and ``files/<sha256>.<ext>`` (the 承诺书, attachments,
  inspection evidence, import files).
- whatever the caller adds (the workbooks, ``index.html``), then ``manifest.json``: every file's
  SHA-256 and size, the counts, what is missing.

Memory stays flat: rows are streamed (``yield_per``: server-side cursors on PostgreSQL), JSON Lines
are written in chunks, each file is hashed while it is written, photos are copied into their zip
entry with ``shutil.copyfileobj``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import read_only_engine
from storage.file_refs import file_columns
from storage.files import FileStore
from storage.ledger import canonical, plain_value
from storage.models import Base, Group, InboundMessage, LedgerChain, LedgerEvent, OutboxMessage, Person, tracked_tables

FORMAT = "dingclass-archive/1"
STAMP = (2000, 1, 1, 0, 0, 0)  # every entry's date: the same bytes whenever the archive is made
CHUNK = 1 << 20
ROWS_PER_FETCH = 2000
MANIFEST = "manifest.json"
RECEIVED = "messages/received.jsonl"
PRIVATE = "messages/private.jsonl"
SENT = "messages/sent.jsonl"
EVENTS = "ledger/events.jsonl"
CITY_EVENTS = "ledger/city-events.jsonl"
PERSONS = "records/persons.jsonl"
_SENT_KINDS = ("reply", "group")
_EVENT_COLUMNS = ("chain", "seq", "prev_hash", "hash", "type", "actor", "class_code", "subject_table", "subject_id",
                  "payload", "source", "at")


def records_path(table: str) -> str:
    """The archive file of a table's rows."""
    return RECEIVED if table == "inbound_messages" else f"records/{table}.jsonl"


def snapshot_factory(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Readers that see one moment for the whole archive: rows and events must agree. SQLite's read
    transaction already does; PostgreSQL needs REPEATABLE READ (read committed moves per statement)."""
    engine = read_only_engine(factory.kw["bind"])
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    return sessionmaker(engine, expire_on_commit=False)


def sniff(head: bytes) -> str:
    """A file's extension from its first bytes (for a browser opening the archive offline)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head[:4] in (b"GIF8",):
        return "gif"
    return "bin"


# ``canonical`` for rows straight from the database: only times need converting, and the encoder's
# ``default`` hook converts just those (a Python call per time value, not per value)
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=plain_value).encode


class _Hashing:
    """A reader that hashes what passes through it (``shutil.copyfileobj`` reads from it)."""

    def __init__(self, source: BinaryIO, digest) -> None:
        self.source, self.digest, self.size = source, digest, 0

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


@dataclass
class Entry:
    sha256: str
    size: int


@dataclass
class ArchiveWriter:
    """A zip written entry by entry; ``entries`` holds each file's SHA-256 and size as it was written."""

    path: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # rows per JSON Lines file, files per folder
    missing: list[dict[str, str]] = field(default_factory=list)  # files the records name but the store lacks

    def __post_init__(self) -> None:
        self._part = self.path.with_name(self.path.name + ".part")
        self.zip = zipfile.ZipFile(self._part, "w", allowZip64=True)

    def _info(self, name: str, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, STAMP)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        self.zip.writestr(self._info(name, compress), data)
        self.entries[name] = Entry(hashlib.sha256(data).hexdigest(), len(data))

    def add_file(self, name: str, source: BinaryIO, size: int) -> None:
        """Copy an already compressed file (a photo) into a stored entry, hashing it on the way."""
        reader = _Hashing(source, hashlib.sha256())
        with self.zip.open(self._info(name, False), "w", force_zip64=size >= 1 << 31) as out:
            shutil.copyfileobj(reader, out, CHUNK)
        self.entries[name] = Entry(reader.digest.hexdigest(), reader.size)

    def add_lines(self, name: str, rows: Iterable[dict[str, Any]]) -> int:
        """Rows as JSON Lines (the ledger's canonical JSON, one a line; times as the ledger writes them),
        written and hashed in chunks; the count."""
        digest, size, count, chunk, pending = hashlib.sha256(), 0, 0, [], 0
        with self.zip.open(self._info(name, True), "w", force_zip64=True) as out:
            def flush() -> None:
                nonlocal size
                data = "".join(chunk).encode("utf-8")
                out.write(data)
                digest.update(data)
                size += len(data)
                chunk.clear()

            for row in rows:
                line = _encode(row) + "\n"
                chunk.append(line)
                pending += len(line)
                count += 1
                if pending >= CHUNK:
                    flush()
                    pending = 0
            flush()
        self.entries[name] = Entry(digest.hexdigest(), size)
        self.counts[name] = count
        return count

    def data_digest(self) -> str:
        """One SHA-256 over every data file's path and digest: equal for two archives of an unchanged class."""
        return hashlib.sha256(canonical(sorted([p, e.sha256] for p, e in self.entries.items())).encode()).hexdigest()

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Write ``manifest.json`` (with every entry so far), move the zip into place; the whole manifest."""
        manifest = {**manifest, "files": {p: {"sha256": e.sha256, "size": e.size} for p, e in sorted(self.entries.items())},
                    "counts": dict(sorted(self.counts.items())), "missing_files": self.missing,
                    "data_digest": self.data_digest()}
        self.zip.writestr(self._info(MANIFEST, True),
                          json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))
        self.zip.close()
        os.replace(self._part, self.path)
        return manifest

    def abort(self) -> None:
        self.zip.close()
        self._part.unlink(missing_ok=True)


# --- what a class owns ----------------------------------------------------------------------------


def _mapped() -> dict[str, type]:
    return {m.local_table.name: m.class_ for m in Base.registry.mappers}


def owner_clause(table: Table, class_id: int, mapped: dict[str, type] | None = None):
    """The WHERE clause selecting the rows of ``table`` on class ``class_id``'s chain, or None (city rows)."""
    mapped = mapped or _mapped()
    if table.name == "classes":
        return table.c.id == class_id
    via = getattr(mapped.get(table.name), "__ledger_via__", None)
    if via:
        (foreign_key,) = table.c[via].foreign_keys
        parent = foreign_key.column.table
        inner = owner_clause(parent, class_id, mapped)
        return None if inner is None else table.c[via].in_(select(parent.c.id).where(inner))
    if "class_id" in table.c:
        return table.c.class_id == class_id
    return None


def class_tables(class_id: int) -> list[tuple[Table, Any]]:
    """Every tracked table with rows on the class's chain, in dependency order: (table, clause)."""
    mapped = _mapped()
    found = []
    for table in tracked_tables():
        clause = owner_clause(table, class_id, mapped)
        if clause is not None:
            found.append((table, clause))
    return found


def _stream(s: Session, stmt) -> Iterator:
    return s.execute(stmt.execution_options(yield_per=ROWS_PER_FETCH)).mappings()


@dataclass
class _Refs:
    """What the class's records point at outside their own tables: files, persons, private messages."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # sha256 -> (folder, first referrer)
    persons: set[int] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)


def _rows(s: Session, table: Table, clause, refs: _Refs) -> Iterator[dict[str, Any]]:
    folder = "photos" if table.name == "photos" else "files"  # where a named file's copy goes
    named = [column.name for column in file_columns() if column.table is table]
    for row in _stream(s, select(table).where(clause).order_by(table.c.id)):
        plain = dict(row)
        for col in named:
            sha = plain.get(col)
            if sha:
                refs.files.setdefault(sha, (folder, f"{table.name}#{plain['id']}"))
        source = plain.get("source")
        if isinstance(source, str) and source.startswith("msg:") and table.name != "inbound_messages":
            refs.messages.add(source[4:])
        if table.name == "enrollments":
            refs.persons.add(plain["person_id"])
        yield plain


def _by_ids(s: Session, table: Table, column, values: Iterable, extra=None) -> Iterator[dict[str, Any]]:
    """Rows whose ``column`` is in ``values``, by id, fetched in chunks."""
    values = sorted(values)
    for start in range(0, len(values), 1000):
        stmt = select(table).where(column.in_(values[start:start + 1000]))
        if extra is not None:
            stmt = stmt.where(extra)
        for row in _stream(s, stmt.order_by(table.c.id)):
            yield dict(row)


def _events(s: Session, chain: int, up_to: int) -> Iterator[dict[str, Any]]:
    stmt = select(LedgerEvent.__table__).where(LedgerEvent.chain == chain, LedgerEvent.seq <= up_to).order_by(LedgerEvent.seq)
    for row in _stream(s, stmt):
        yield dict(row)


def _last_city_events(s: Session, subjects: dict[str, list[int]]) -> Iterator[dict[str, Any]]:
    """The last city-chain event of each named row (a row's events all sit on one chain)."""
    table = LedgerEvent.__table__
    for name in sorted(subjects):
        ids = sorted(subjects[name])
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            last: dict[int, dict[str, Any]] = {}
            stmt = select(table).where(LedgerEvent.chain == 0, LedgerEvent.subject_table == name,
                                       LedgerEvent.subject_id.in_(chunk)).order_by(LedgerEvent.seq)
            for row in _stream(s, stmt):
                last[row["subject_id"]] = dict(row)
            for row_id in chunk:
                if row_id in last:
                    yield last[row_id]


def _sent(s: Session, conversations: list[str]) -> Iterator[dict[str, Any]]:
    """The group's outgoing messages, without the webhook URL (a short-lived credential)."""
    if not conversations:
        return
    stmt = (select(OutboxMessage.__table__).where(OutboxMessage.conversation_id.in_(conversations),
                                                  OutboxMessage.kind.in_(_SENT_KINDS)).order_by(OutboxMessage.id))
    for row in _stream(s, stmt):
        body = json.loads(row["body"])
        yield {"id": row["id"], "kind": row["kind"], "conversation_id": row["conversation_id"],
               "status": row["status"], "created_at": row["created_at"], "sent_at": row["sent_at"],
               **{k: body[k] for k in ("text", "markdown", "file", "at_user_ids") if k in body}}


@dataclass(frozen=True)
class ClassData:
    """What ``write_class`` put in: the chain's end, the digest columns per file, the counts."""

    chain_seq: int
    chain_hash: str
    tables: dict[str, str]  # archive path -> table name
    digest_columns: dict[str, list[str]]  # table -> columns the ledger keeps as their SHA-256


def write_class(s: Session, w: ArchiveWriter, class_id: int, store: FileStore) -> ClassData:
    """Everything the class owns, its ledger slice, its messages and its files."""
    head = s.execute(select(LedgerChain.seq, LedgerChain.hash).where(LedgerChain.chain == class_id)).first()
    seq, hash_ = head if head is not None else (0, "0" * 64)
    refs = _Refs()
    tables: dict[str, str] = {}
    digest_columns: dict[str, list[str]] = {}
    for table, clause in class_tables(class_id):
        path = records_path(table.name)
        w.add_lines(path, _rows(s, table, clause, refs))
        tables[path] = table.name
        digests = [c.name for c in table.columns if c.info.get("digest")]
        if digests:
            digest_columns[table.name] = digests
    persons, inbound = Person.__table__, InboundMessage.__table__
    w.add_lines(PERSONS, _by_ids(s, persons, persons.c.id, refs.persons))
    tables[PERSONS] = "persons"
    private_ids: list[int] = []

    def private() -> Iterator[dict[str, Any]]:
        for row in _by_ids(s, inbound, inbound.c.msg_id, refs.messages, inbound.c.class_id.is_(None)):
            private_ids.append(row["id"])
            yield row

    w.add_lines(PRIVATE, private())
    tables[PRIVATE] = "inbound_messages"
    digest_columns.setdefault("inbound_messages", [c.name for c in inbound.columns if c.info.get("digest")])
    groups = list(s.scalars(select(Group.open_conversation_id).where(Group.class_id == class_id).order_by(Group.id)))
    w.add_lines(SENT, _sent(s, groups))
    w.add_lines(EVENTS, _events(s, class_id, seq))
    w.add_lines(CITY_EVENTS, _last_city_events(s, {"persons": list(refs.persons), "inbound_messages": private_ids}))
    _copy_files(w, store, refs.files)
    return ClassData(seq, hash_, tables, digest_columns)


def _copy_files(w: ArchiveWriter, store: FileStore, files: dict[str, tuple[str, str]]) -> None:
    for sha in sorted(files):
        folder, referrer = files[sha]
        path = store.path(sha)
        try:
            source = open(path, "rb")
        except OSError:
            w.missing.append({"sha256": sha, "referenced_by": referrer})
            continue
        with source:
            ext = sniff(source.read(8))
            source.seek(0)
            w.add_file(f"{folder}/{sha}.{ext}", source, os.fstat(source.fileno()).st_size)
        w.counts[folder] = w.counts.get(folder, 0) + 1


_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def stable_zip(data: bytes, when: datetime) -> bytes:
    """A zip (an xlsx from openpyxl) rewritten with every entry dated ``STAMP`` and the document's
    created/modified times set to ``when``: the same workbook gives the same bytes."""
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIMES.sub(lambda m: m.group(1) + stamp + m.group(3), body)
            fixed = zipfile.ZipInfo(info.filename, STAMP)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            target.writestr(fixed, body)
    return out.getvalue()


def file_digests(path: Path) -> tuple[str, str, int]:
    """A file's SHA-256, MD5 (DingTalk Drive's pre-check asks for it) and size, read once in chunks."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as source:
        while block := source.read(CHUNK):
            sha.update(block)
            md5.update(block)
            size += len(block)
    return sha.hexdigest(), md5.hexdigest(), size
