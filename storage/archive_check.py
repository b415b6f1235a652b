"""Checking an R18 dossier offline, with no database: ``dingclass verify ARCHIVE``.

Three things must hold, and every departure is one :class:`Finding`:

1. every file matches the SHA-256 and size in ``manifest.json``, none is missing, none was added (a
   photo's or file's name is its own SHA-256 too, so an edit hidden by rewriting the manifest shows);
2. the ledger slice is one unbroken chain from the class's first event (every link and every event's
   hash), ends where the manifest says, and the signed head it carries is signed and on the slice; with a
   district's anchor file (``anchor_heads``), each of the class's anchored heads that the slice reaches
   is signed by a trusted key and is on the slice (R17: a rewrite of events after the archive's own
   signed head shows), and the anchored heads beyond the slice's end are told (``later_heads``: the class
   went on after this archive was made, or the slice was cut short);
3. every archived row equals the snapshot its last ledger event holds (the class chain; for the city
   rows the archive carries — persons, 1:1 messages — their own last events, each hash checked), no
   row is there without an event, and no row an event describes is missing.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from storage.archive import CHUNK, CITY_EVENTS, EVENTS, MANIFEST, PRIVATE, RECEIVED
from storage.ledger import GENESIS, body_of, canonical, event_hash
from storage.ledger_keys import key_id, signed_message, signature_ok


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold. ``kind``: unreadable, no_manifest, file_changed, file_added,
    file_removed, chain, slice_end, signature, anchor_signature, anchor_rewritten, row_changed, row_added,
    row_removed, bad_line."""

    kind: str
    path: str = ""
    line: int | None = None
    table: str = ""
    row_id: Any = None
    seq: int | None = None
    columns: tuple[str, ...] = ()


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    events: int = 0
    rows: int = 0
    signed_seq: int | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    anchored: int = 0  # the anchor file's heads of this class found on the slice
    later_heads: list[dict[str, Any]] = field(default_factory=list)  # its heads beyond the slice's end

    @property
    def ok(self) -> bool:
        return not self.findings


def _lines(archive: zipfile.ZipFile, name: str) -> Iterator[tuple[int, str]]:
    with archive.open(name) as raw:
        for number, line in enumerate(raw, start=1):
            yield number, line.decode("utf-8", errors="replace").rstrip("\n")


def check(path: Path, trusted_keys: tuple[str, ...] = (), anchor_heads: Sequence[dict[str, Any]] = ()) -> Result:
    """``trusted_keys``: the only public keys to believe (an anchor file's), else the archive's own;
    ``anchor_heads``: the heads of that anchor file (every class's: those of other chains are passed over)."""
    result = Result()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        result.findings.append(Finding("unreadable", str(path)))
        return result
    with archive:
        try:
            result.manifest = json.loads(archive.read(MANIFEST))
        except (KeyError, ValueError, zipfile.BadZipFile):
            result.findings.append(Finding("no_manifest", MANIFEST))
            return result
        present = _check_files(archive, result)
        subjects = _check_chain(archive, result, present, trusted_keys, anchor_heads)
        _check_rows(archive, result, present, subjects)
    return result


def _check_files(archive: zipfile.ZipFile, result: Result) -> set[str]:
    listed: dict[str, dict] = result.manifest.get("files", {})
    present = set()
    for info in archive.infolist():
        name = info.filename
        if name == MANIFEST or name.endswith("/"):
            continue
        present.add(name)
        expected = listed.get(name)
        if expected is None:
            result.findings.append(Finding("file_added", name))
            continue
        digest, size = hashlib.sha256(), 0
        try:
            with archive.open(info) as data:
                while block := data.read(CHUNK):
                    digest.update(block)
                    size += len(block)
        except (zipfile.BadZipFile, OSError):  # the zip's own CRC no longer matches
            result.findings.append(Finding("file_changed", name))
            continue
        sha = digest.hexdigest()
        named = PurePosixPath(name).stem if name.startswith(("photos/", "files/")) else sha
        if sha != expected.get("sha256") or size != expected.get("size") or named != sha:
            result.findings.append(Finding("file_changed", name))
        result.files += 1
    for name in sorted(set(listed) - present):
        result.findings.append(Finding("file_removed", name))
    return present


def _event(row: dict[str, Any]) -> str:
    return event_hash(row["prev_hash"], body_of(row["chain"], row["seq"], row["type"], row["actor"], row["class_code"],
                                               row["subject_table"], row["subject_id"], row["payload"],
                                               row["source"], row["at"]))


def _check_chain(archive: zipfile.ZipFile, result: Result, present: set[str], trusted_keys: tuple[str, ...],
                 anchor_heads: Sequence[dict[str, Any]]) -> dict[tuple[str, int], tuple[str, str]]:
    """Walk the slice and the city events; each subject's last snapshot (as JSON text) and its file."""
    ledger = result.manifest.get("ledger", {})
    signed = (ledger.get("signed") or {}).get("heads") or []
    signed_head = signed[0] if signed else None
    subjects: dict[tuple[str, int], tuple[str, str]] = {}
    seq, prev, signed_hash, chain = 0, GENESIS, None, ledger.get("chain")
    on_slice: dict[int, str] = {}  # seq -> hash, at the seqs the anchor file names
    wanted = {head.get("seq") for head in anchor_heads}
    if EVENTS in present:
        for number, line in _lines(archive, EVENTS):
            try:
                row = json.loads(line)
                ok_link = row["seq"] == seq + 1 and row["prev_hash"] == prev and _event(row) == row["hash"]
            except (ValueError, KeyError, TypeError):
                result.findings.append(Finding("bad_line", EVENTS, number))
                continue
            if not ok_link:
                result.findings.append(Finding("chain", EVENTS, number, seq=row.get("seq")))
            seq, prev, chain = row["seq"], row["hash"], row["chain"]
            result.events += 1
            if seq in wanted:
                on_slice[seq] = prev
            if signed_head is not None and seq == signed_head.get("seq"):
                signed_hash = row["hash"]
            if row.get("subject_table"):
                subjects[(row["subject_table"], row["subject_id"])] = (row["payload"], EVENTS)
    if (seq, prev) != (ledger.get("seq", 0), ledger.get("hash", GENESIS)):
        result.findings.append(Finding("slice_end", EVENTS, seq=seq))
    if signed_head is not None:
        result.signed_seq = signed_head.get("seq")
        own = (ledger.get("signed") or {}).get("public_keys") or []
        good = _signed(signed_head, trusted_keys or own)  # a verifier's own keys, when it has them
        if not good or signed_hash != signed_head.get("hash"):
            result.findings.append(Finding("signature", MANIFEST, seq=signed_head.get("seq")))
    _check_anchored(result, [h for h in anchor_heads if h.get("chain") == chain], trusted_keys, seq, on_slice)
    if CITY_EVENTS in present:
        for number, line in _lines(archive, CITY_EVENTS):
            try:
                row = json.loads(line)
                good = _event(row) == row["hash"] and row["chain"] == 0
            except (ValueError, KeyError, TypeError):
                good, row = False, None
            if not good:
                result.findings.append(Finding("chain", CITY_EVENTS, number, seq=(row or {}).get("seq")))
                continue
            subjects[(row["subject_table"], row["subject_id"])] = (row["payload"], CITY_EVENTS)
    return subjects


def _signed(head: dict[str, Any], public_keys: Sequence[str]) -> bool:
    """A signed head (as manifests and anchor files carry them) whose signature one of ``public_keys`` makes."""
    public = {key_id(k): k for k in public_keys}.get(head.get("key_id", ""))
    try:
        message = signed_message(head["chain"], head.get("class"), head["seq"], head["hash"],
                                 datetime.fromisoformat(head["at"]), head.get("verified", False))
        return public is not None and signature_ok(public, head["signature"], message)
    except (KeyError, TypeError, ValueError):
        return False


def _check_anchored(result: Result, heads: list[dict[str, Any]], trusted_keys: tuple[str, ...], end: int,
                    on_slice: dict[int, str]) -> None:
    """R17: the class's heads a district holds, against the slice (``end``: its last seq)."""
    for head in heads:
        if not _signed(head, trusted_keys):
            result.findings.append(Finding("anchor_signature", seq=head.get("seq")))
        elif head["seq"] > end:
            result.later_heads.append(head)
        elif on_slice.get(head["seq"]) != head["hash"]:
            result.findings.append(Finding("anchor_rewritten", EVENTS, seq=head["seq"]))
        else:
            result.anchored += 1


def _snapshot(row: dict[str, Any], digests: list[str]) -> dict[str, Any]:
    snap = dict(row)
    for column in digests:
        if snap.get(column) is not None:
            snap[column] = "sha256:" + hashlib.sha256(snap[column].encode("utf-8")).hexdigest()
    return snap


def _check_rows(archive: zipfile.ZipFile, result: Result, present: set[str],
                subjects: dict[tuple[str, int], tuple[str, str]]) -> None:
    tables: dict[str, str] = result.manifest.get("tables", {})
    digests: dict[str, list[str]] = result.manifest.get("digest_columns", {})
    seen: set[tuple[str, int]] = set()
    for path in sorted(tables):
        if path not in present:
            continue
        table = tables[path]
        for number, line in _lines(archive, path):
            try:
                row = json.loads(line)
                key = (table, row["id"])
            except (ValueError, KeyError, TypeError):
                result.findings.append(Finding("bad_line", path, number))
                continue
            result.rows += 1
            seen.add(key)
            recorded = subjects.get(key)
            snap = json.loads(recorded[0]).get("row") if recorded else None
            if snap is None:
                result.findings.append(Finding("row_added", path, number, table, row["id"]))
                continue
            mine = _snapshot(row, digests.get(table, []))
            if canonical(mine) != canonical(snap):
                changed = tuple(sorted(c for c in set(mine) | set(snap) if mine.get(c) != snap.get(c)))
                result.findings.append(Finding("row_changed", path, number, table, row["id"], columns=changed))
    by_table = {table: path for path, table in tables.items()}
    for (table, row_id), (payload, origin) in sorted(subjects.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if (table, row_id) in seen or json.loads(payload).get("row") is None:
            continue
        path = (PRIVATE if origin == CITY_EVENTS else RECEIVED) if table == "inbound_messages" else by_table.get(table, table)
        result.findings.append(Finding("row_removed", path, None, table, row_id))
