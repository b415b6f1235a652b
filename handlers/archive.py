"""R18: one dossier per class (一班一卷), archived when the class ends; the group is never dissolved.

``make`` writes the class's zip through ``storage.archive`` (streaming: records, messages, the ledger
slice, photos and files), adds the 考勤台账 and 合格名单 workbooks from ``handlers.sheets``
and an offline ``index.html``, then the manifest: every file's SHA-256 and size, the counts per kind,
the class's signed ledger head, the software version, the kinds not built yet (absent, never silently
missing) and the honest limit that group messages not @-ing the bot were never received.

Determinism: the workbooks are printed "at" the time of the class chain's last event, not the wall
clock, and their zip is normalised (``storage.archive.stable_zip``): an unchanged class archives to
the same data files. Read it in one snapshot (``storage.archive.snapshot_factory``).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handlers import classes, sheets
from handlers.texts import reports as texts
from handlers.outbox import DRIVE, queue_drive_upload
from storage import archive as store_archive
from storage.archive import ArchiveWriter, file_digests, snapshot_factory, stable_zip, write_class
from storage.exports import write_xlsx
from storage.files import FileStore
from storage.ledger import GENESIS
from storage.ledger_keys import Signer, checkpoint, signed_heads
from storage.models import Base, ClassStatus, District, Institution, JobClaim, Klass, LedgerChain, LedgerEvent, OutboxMessage

SENT_TABLE = "@sent"  # the outbox rows of the group: not a tracked table
LEDGER_TABLE = "@ledger"
SHEETS_TABLE = "@sheets"
# What the dossier holds, as R18 and issue 14 list it: (key, tables or files). A kind whose table does
# not exist in this version is listed in the manifest as absent.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("plan", ("classes", "class_sessions", "class_timetables", "class_transitions")),
    ("roster", ("enrollments", "persons")),
    ("messages", ("inbound_messages", SENT_TABLE)),
    ("photos", ("photos",)),
    ("punches", ("punches",)),
    ("leave", ("leave_requests",)),
    ("minutes", ("study_minutes", "import_files")),
    ("homework", ("assignments", "submissions", "submission_checks", "attachments")),
    ("qa", ("qa_sessions", "questions", "answers")),
    ("spot_checks", ("spot_checks",)),
    ("rollcalls", ("rollcalls", "rollcall_samples")),
    ("inspections", ("inspections", "inspection_evidence")),
    ("eligibility", ("eligibility_changes", "trainee_marks")),
    ("ledger", (LEDGER_TABLE,)),
    ("workbooks", (SHEETS_TABLE,)),
    ("certificates", ("certificates",)),
)
ATTENDANCE_BOOK = "sheets/考勤台账.xlsx"
QUALIFICATION_BOOK = "sheets/合格名单.xlsx"
INDEX = "index.html"


@dataclass(frozen=True)
class Made:
    path: Path
    manifest: dict[str, Any]
    upload_id: int | None = None  # the outbox row that uploads it to Drive, when asked


@dataclass(frozen=True)
class Drive:
    """Where archives go on DingTalk Drive (钉盘): the space, the unionId the calls are made as, the folder."""

    space_id: str
    union_id: str
    parent_id: str = "0"


def software_version() -> str:
    try:
        return version("dingclass")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def file_name(code: str) -> str:
    return f"{code}-archive.zip"


def make(s: Session, code: str, *, store: FileStore, out_dir: Path, tz: ZoneInfo, now: datetime) -> Made:
    """Write ``<out_dir>/<CODE>-archive.zip`` (atomically: a ``.part`` file renamed at the end)."""
    klass = classes.get_class(s, code)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = ArchiveWriter(out_dir / file_name(klass.code))
    try:
        data = write_class(s, writer, klass.id, store)
        printed = s.scalar(select(LedgerEvent.at).where(LedgerEvent.chain == klass.id, LedgerEvent.seq == data.chain_seq))
        printed = printed or klass.created_at
        for path, book in ((ATTENDANCE_BOOK, sheets.attendance_sheets(s, klass, tz, printed)),
                           (QUALIFICATION_BOOK, [sheets.qualification_sheet(s, klass, tz, printed)])):
            writer.add_bytes(path, stable_zip(write_xlsx(book), printed), compress=False)
        kinds = _kinds(writer, data.tables)
        facts = _facts(s, klass)
        writer.add_bytes(INDEX, _index(klass, facts, kinds, writer).encode("utf-8"))
        manifest = {
            "format": store_archive.FORMAT,
            "class": facts,
            "software": {"name": "dingclass", "version": software_version()},
            "created_at": now.isoformat(timespec="seconds"),
            "ledger": {"chain": klass.id, "seq": data.chain_seq, "hash": data.chain_hash,
                       "signed": signed_heads(s, [klass.id])},
            "tables": data.tables,
            "digest_columns": data.digest_columns,
            "kinds": kinds,
            "absent": [k["label"] for k in kinds if not k["present"]],
            "limits": list(texts.ARCHIVE_LIMITS),
        }
        manifest = writer.finish(manifest)
    except BaseException:
        writer.abort()
        raise
    return Made(writer.path, manifest)


def _facts(s: Session, klass: Klass) -> dict[str, Any]:
    institution = s.get(Institution, klass.institution_id)
    district = s.get(District, klass.district_id)
    return {"code": klass.code, "name": klass.name, "occupation": klass.occupation,
            "institution": institution.name if institution else "", "district": district.name if district else "",
            "start_date": klass.start_date.isoformat(), "end_date": klass.end_date.isoformat(),
            "status": klass.status}


def _kinds(writer: ArchiveWriter, tables: dict[str, str]) -> list[dict[str, Any]]:
    known = set(Base.metadata.tables)
    paths_of: dict[str, list[str]] = {}
    for path, table in tables.items():
        paths_of.setdefault(table, []).append(path)
    special = {SENT_TABLE: [store_archive.SENT], LEDGER_TABLE: [store_archive.EVENTS, store_archive.CITY_EVENTS],
               SHEETS_TABLE: [ATTENDANCE_BOOK, QUALIFICATION_BOOK]}
    kinds = []
    for key, names in KINDS:
        present = all(n in known or n in special for n in names)
        files = sorted(p for n in names for p in special.get(n, paths_of.get(n, [])))
        if key == "photos":
            files.append("photos/")
        elif key in ("plan", "minutes", "homework", "inspections"):
            files.append("files/")
        rows = sum(writer.counts.get(p, 0) for p in files)
        if key == "photos":
            rows = writer.counts.get("photos", 0)
        kinds.append({"key": key, "label": texts.ARCHIVE_KINDS[key], "present": present, "files": files, "rows": rows})
    return kinds


def _index(klass: Klass, facts: dict[str, Any], kinds: list[dict[str, Any]], writer: ArchiveWriter) -> str:
    """A page to browse the dossier offline: facts, kinds, every file, the photos (no scripts, no CDN)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(k['label'])}</td><td>{texts.ARCHIVE_PRESENT[k['present']]}</td><td>{k['rows']}</td>"
        f"<td>{'<br>'.join(_link(p) for p in k['files'] if not p.endswith('/'))}</td></tr>" for k in kinds)
    files = "".join(f"<tr><td>{_link(p)}</td><td>{entry.size}</td><td><code>{entry.sha256}</code></td></tr>"
                    for p, entry in sorted(writer.entries.items()))
    photos = "".join(f'<a href="{e(p)}"><img loading="lazy" src="{e(p)}" alt="{e(p)}"></a>'
                     for p in sorted(writer.entries) if p.startswith("photos/"))
    labels = texts.ARCHIVE_FACT_LABELS
    fact_rows = "".join(f"<tr><th>{e(labels[key])}</th><td>{e(str(facts[key]))}</td></tr>" for key in labels)
    limits = "".join(f"<li>{e(x)}</li>" for x in texts.ARCHIVE_LIMITS)
    missing = "".join(f"<li><code>{e(m['sha256'])}</code>（{e(m['referenced_by'])}）</li>" for m in writer.missing)
    return texts.ARCHIVE_INDEX.format(
        title=e(texts.ARCHIVE_TITLE.format(code=klass.code, name=klass.name)), facts=fact_rows, kinds=rows,
        limits=limits, missing=missing or texts.ARCHIVE_NONE_MISSING_HTML, files=files, photos=photos)


def _link(path: str) -> str:
    escaped = html.escape(path)
    return f'<a href="{escaped}">{escaped}</a>'


# --- after the class: archive, upload (R18) ----------------------------------------------------------

ARCHIVE_JOB = "archive_finished"
UNFINISHED = ("queued", "sending")


def archive_class(factory: sessionmaker[Session], code: str, *, store: FileStore, out_dir: Path, tz: ZoneInfo,
                  now: datetime, drive: Drive | None = None, signer: Signer | None = None) -> Made:
    """With the ledger key (``signer``), sign the class's head first, so the manifest carries it; archive
    in one read-only snapshot (the bot goes on writing); then, with ``drive``, queue its upload (the
    outbox sender or ``deliver_now`` does the calls)."""
    if signer is not None:
        with factory.begin() as s:
            checkpoint(s, signer, chains=[classes.get_class(s, code).id])
    with snapshot_factory(factory)() as s:
        made = make(s, code, store=store, out_dir=out_dir, tz=tz, now=now)
        s.rollback()
    if drive is None:
        return made
    sha, md5, size = file_digests(made.path)
    ledger = made.manifest["ledger"]
    with factory.begin() as s:
        supersede_uploads(s, code)
        row = queue_drive_upload(s, class_code=code, path=str(made.path.resolve()), name=drive_name(code, sha),
                                 size=size, md5=md5, sha256=sha, head=[ledger["seq"], ledger["hash"]],
                                 space_id=drive.space_id, union_id=drive.union_id, parent_id=drive.parent_id)
        return Made(made.path, made.manifest, row.id)


def drive_name(code: str, sha256: str) -> str:
    """The file's name on Drive: the class and the zip's digest (a repeated commit finds the same file)."""
    return f"{code}-archive-{sha256[:12]}.zip"


def _uploads(s: Session, code: str):
    return s.scalars(select(OutboxMessage).where(OutboxMessage.kind == DRIVE,
                                                 OutboxMessage.dedupe_key.startswith(f"drive:{code}:", autoescape=True),
                                                 OutboxMessage.status.in_(UNFINISHED)).order_by(OutboxMessage.id.desc()))


def unfinished_upload(s: Session, code: str) -> OutboxMessage | None:
    """The latest upload of this class that did not finish, if its zip is still there and the class has not
    changed since it was made (same chain head): resuming it is the same as archiving again."""
    klass = classes.get_class(s, code)
    head = s.execute(select(LedgerChain.seq, LedgerChain.hash).where(LedgerChain.chain == klass.id)).first()
    current = [head[0], head[1]] if head is not None else [0, GENESIS]
    for row in _uploads(s, code):
        body = json.loads(row.body)
        if body.get("head") == current and Path(body.get("path", "")).is_file():
            return row
    return None


def supersede_uploads(s: Session, code: str) -> None:
    """Older unfinished uploads of the class give way to a new archive (never upload an outdated one)."""
    for row in _uploads(s, code):
        row.status, row.last_error = "dead", texts.ARCHIVE_SUPERSEDED


def due(s: Session, today: date, limit: int) -> list[str]:
    """Classes that have ended (before ``today``) and were approved, not archived by the job yet, oldest first."""
    done = select(JobClaim.scope).where(JobClaim.job == ARCHIVE_JOB)
    return list(s.scalars(select(Klass.code).where(Klass.end_date < today, Klass.status.in_(ClassStatus.COUNTING),
                                                   Klass.code.not_in(done))
                          .order_by(Klass.end_date, Klass.id).limit(limit)))
