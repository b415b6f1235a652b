"""Which rows name a file of the content-addressed store (``storage.files``), and removing one safely.

A file is named by its SHA-256 in a column ``sha256`` or ``*_sha256`` (a photo, an attachment, an
inspection's evidence, an imported file, a commitment letter, a daily report's workbook). The same
bytes stored for two reasons are one file, so a file may be removed only while no row names it.

The one file removed is a photo's raw download (:func:`discard_after_commit`, ``handlers.photos``: it may
carry GPS positions). Another transaction — another thread or bot process — may name the same bytes at
that very moment (the same picture handed in as homework): its row is not visible until it commits, so
the check before the removal cannot see it. Two steps after the commits close that gap without a lock:

- the discarding side removes the file, then asks again on a connection of its own and puts the bytes
  back if a row committed meanwhile names them;
- a side that names a downloaded or uploaded file (:func:`keep_after_commit`, :func:`put_kept`: homework and
  spot-check pictures, inspection evidence, a photo's stored copy) puts the bytes back, if they are gone, once
  its own transaction has committed.

Whichever commits last finds the file missing and puts it back; the file is missing at most for the
moment between the two. ``FileStore.put`` writes nothing when the file is there.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, event, exists, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage import ledger
from storage.db import read_only_engine
from storage.files import FileStore
from storage.models import Base

log = logging.getLogger(__name__)

_AT_COMMIT = "dingclass_files_at_commit"  # Session.info: files to remove or keep once the transaction commits
_COMMITTED = "dingclass_files_committed"  # Session.info: those of a committed transaction, until it has ended


def file_columns() -> list[Column]:
    """Every column that names a stored file: ``sha256`` or ``*_sha256``, in every table."""
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if column.name == "sha256" or column.name.endswith("_sha256")]


def referenced(s: Session | Connection, sha256: str) -> bool:
    """Whether any row (on a session: this transaction's own included) names the stored file ``sha256``."""
    return bool(s.scalar(select(or_(*(exists().where(column == sha256) for column in file_columns())))))


def discard_after_commit(s: Session, files: FileStore, sha256: str, data: bytes) -> None:
    """Remove the stored file ``sha256`` (whose bytes are ``data``) once this transaction commits, unless a
    row names it now; should a row committed meanwhile name it, put it back. Nothing is removed if the
    transaction, or the savepoint this is asked in, rolls back."""
    if not referenced(s, sha256):
        _at_commit(s, (_discard, files, sha256, data))


def keep_after_commit(s: Session, files: FileStore | None, sha256: str, data: bytes | None) -> None:
    """A row of this transaction names the stored file ``sha256`` (whose bytes are ``data``): once the
    transaction commits, put it back should a concurrent :func:`discard_after_commit` have removed it
    (nothing to do without a store or the bytes: a handler run with neither, in tests)."""
    if files is not None and data is not None:
        _at_commit(s, (_keep, files, sha256, data))


def put_kept(s: Session, files: FileStore, data: bytes) -> str:
    """Store ``data`` for a row this transaction writes (``FileStore.put``), kept as :func:`keep_after_commit`
    keeps a download; its SHA-256."""
    sha256 = files.put(data)
    keep_after_commit(s, files, sha256, data)
    return sha256


def _discard(files: FileStore, sha256: str, data: bytes, engine) -> None:
    try:
        files.path(sha256).unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove raw download %s", sha256, exc_info=True)
        return
    try:
        with read_only_engine(engine).connect() as conn:  # what other transactions committed by now
            named = referenced(conn, sha256)
    except Exception:  # noqa: BLE001 - unsure whether a row names it: keep the bytes
        log.warning("could not check whether %s is still named; kept", sha256, exc_info=True)
        named = True
    if named:
        files.put(data)


def _keep(files: FileStore, sha256: str, data: bytes, _engine) -> None:
    if not files.path(sha256).exists():
        files.put(data)


def _at_commit(s: Session, action: tuple) -> None:
    s.info.setdefault(_AT_COMMIT, []).append((*action, ledger.current_transaction(s)))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """The transaction committed (a savepoint released, which SQLAlchemy tells ``after_commit`` too, waits for
    it): its files are removed and kept once the session has given its connection back (the check of a removal
    takes one of its own)."""
    if not session.in_nested_transaction():
        session.info[_COMMITTED] = session.info.pop(_AT_COMMIT, [])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    queued = session.info.get(_AT_COMMIT)
    if queued:
        queued[:] = [q for q in queued if not ledger.inside(q[-1], previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _at_the_end(session: Session, transaction) -> None:
    """The transaction ended, its connection back in the pool: remove and keep the files of a commit, in the
    order asked (one failing does not stop the others, nor the caller, whose transaction has committed);
    nothing for a transaction closed without a commit."""
    if transaction.parent is not None:
        return
    session.info.pop(_AT_COMMIT, None)
    for run, files, sha256, data, _ in session.info.pop(_COMMITTED, ()):
        try:
            run(files, sha256, data, session.get_bind())
        except Exception:  # noqa: BLE001
            log.exception("stored file %s: %s after the commit failed", sha256, run.__name__)
