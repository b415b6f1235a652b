"""The daily study photo (R08): a picture in the group or the 1:1 chat, checked after its download.

A picture with no command (or ``照片`` with a picture) from a trainee is dispatched to ``照片``, which
queues its download; the outbox sender fetches the bytes into the file store and reports a
``DownloadEvent`` to the dispatcher in the same transaction as it marks the download done. The
dispatcher looks the sender and their class up again (the class of the group, or in a 1:1 chat the
class they are in that day), checks the role, and runs :func:`check_photo`, which

1. only sees pictures sent for ``照片`` (pictures sent with another command are not daily photos);
2. validates the bytes (``storage.images``: a real image, size and pixel limits, not truncated) and
   stores a re-encoded copy without EXIF, content-addressed; the raw download is removed from the
   store once the transaction commits (it may carry GPS positions), unless a photo uses those bytes;
3. flags a duplicate — the same stored bytes (SHA-256), or a perceptual hash within the profile's
   ``photos.near_duplicate_max_distance`` bits — of **any** earlier photo of any trainee in any class:
   status ``duplicate``, not counted, ``duplicate_of_id`` set, for a reviewer (``handlers.review``);
4. otherwise counts the first valid photo of the trainee's class day (``photos.per_day``; status
   ``ok``, ``counted`` when the class counts for subsidy, R02); later ones are kept as ``extra``;
5. appends the ledger event and returns the outcome, which the dispatcher queues as a reply to the
   trainee's message (its sessionWebhook while valid, else the group or 1:1 OpenAPI), once per picture.

Near duplicates are found with :class:`PhashIndex`, an in-process copy of every photo's hash that
reads only new rows on each use, so a photo is compared with all earlier ones in a few milliseconds
even with a million stored.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import numpy as np
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from handlers import texts, timetable
from handlers.classes import counts_for_subsidy, profile_of
from handlers.errors import Refusal
from handlers.registry import TRAINEE, Ctx, command
from storage import images, ledger
from storage.files import FileStore
from storage.models import Klass, Photo

log = logging.getLogger(__name__)

PHOTO_WORD = "照片"
OK, EXTRA, DUPLICATE = "ok", "extra", "duplicate"
FIRST_OF_DAY = (OK, "accepted")  # statuses of a day's valid photo (accepted: a reviewer cleared a flag)


# --- the near-duplicate index ---------------------------------------------------------------------


class PhashIndex:
    """Every stored photo's 64-bit perceptual hash, kept in memory and brought up to date from the
    database before each search (rows above the highest id seen, less a margin for transactions that
    commit out of id order). Safe to share between threads; one per process is enough."""

    MARGIN = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[int, int] = {}
        self._ids = np.empty(0, dtype=np.int64)
        self._hashes = np.empty(0, dtype=np.uint64)
        self._dirty = False

    def _refresh(self, s: Session) -> None:
        top = max(self._known, default=0)
        rows = s.execute(select(Photo.id, Photo.phash).where(Photo.id > top - self.MARGIN,
                                                             Photo.phash.is_not(None))).all()
        seen = {pid: int(h, 16) for pid, h in rows if len(h) == 16}
        stale = any(self._known.get(pid, value) != value for pid, value in seen.items()) or (
            top and top not in seen)
        if stale:  # the table was emptied or restored under us: start again
            self._known.clear()
            seen = {pid: int(h, 16) for pid, h in s.execute(
                select(Photo.id, Photo.phash).where(Photo.phash.is_not(None))).all() if len(h) == 16}
        new = {pid: value for pid, value in seen.items() if pid not in self._known}
        if new or stale:
            self._known.update(new)
            self._dirty = True

    def nearest(self, s: Session, phash: str, max_distance: int) -> tuple[int, int] | None:
        """(photo id, Hamming distance) of the closest earlier photo within ``max_distance``
        (the oldest among equally close ones), or None."""
        if len(phash) != 16:
            raise ValueError("the index holds 64-bit hashes")
        with self._lock:
            self._refresh(s)
            if self._dirty:
                order = sorted(self._known)
                self._ids = np.array(order, dtype=np.int64)
                self._hashes = np.array([self._known[i] for i in order], dtype=np.uint64)
                self._dirty = False
            if not len(self._ids):
                return None
            distances = np.bitwise_count(self._hashes ^ np.uint64(int(phash, 16)))
            best = int(distances.min())
            if best > max_distance:
                return None
            return int(self._ids[int(np.argmax(distances == best))]), best


# --- after the download ---------------------------------------------------------------------------


def check_photo(ctx: Ctx) -> str:
    """R08: check and record a downloaded picture as the sender's daily photo; the outcome is the reply.

    Runs for a ``DownloadEvent`` of a message dispatched to ``照片`` (so the dispatcher has looked up
    the trainee and their class and checked the role, as for any command).
    """
    s, event, services = ctx.session, ctx.event, ctx.services
    files: FileStore = services.files
    profile = profile_of(ctx.klass)
    source = ctx.message.source
    try:
        prepared = images.prepare(files.get(event.sha256), phash_bits=profile.photos.phash_bits)
    except images.InvalidImage as exc:
        ledger.append(s, "photo.invalid", actor=ctx.actor.label, source=source, class_code=ctx.klass.code,
                      data={"enrollment_id": ctx.actor.enrollment.id, "sha256": event.sha256, "reason": exc.reason})
        _discard_after_commit(s, files, event.sha256)
        return texts.PHOTO_INVALID[exc.reason]
    stored = files.put(prepared.data)
    photo = _record(ctx, stored, prepared.phash, services.photo_index, profile.photos.per_day,
                    profile.photos.near_duplicate_max_distance)
    if event.sha256 != stored:
        _discard_after_commit(s, files, event.sha256)
    return _outcome_text(s, photo, ctx.klass, ctx.now)


@command(PHOTO_WORD, roles=TRAINEE, on_download=check_photo)
def photo(ctx: Ctx) -> list[str]:
    """照片：每天发1张当天在线学习的照片（群里 @我 附图，或单聊直接发图）"""
    if not ctx.message.image_codes:
        raise Refusal(texts.PHOTO_NEEDS_PICTURE)
    return []  # the outcome is answered once the picture is downloaded and checked (check_photo)


def _record(ctx: Ctx, stored: str, phash: str, index: PhashIndex, per_day: int, max_distance: int) -> Photo:
    s, klass, enrollment, sent_at = ctx.session, ctx.klass, ctx.actor.enrollment, ctx.now
    source, raw_sha256 = ctx.message.source, ctx.event.sha256
    day = sent_at.date()
    exact = s.scalar(select(Photo.id).where(Photo.sha256 == stored).order_by(Photo.id).limit(1))
    near = None if exact is not None else index.nearest(s, phash, max_distance)
    duplicate_of = exact if exact is not None else (near[0] if near else None)
    counted = False
    if duplicate_of is not None:
        status = DUPLICATE
    elif not timetable.is_class_day(timetable.timetable_of(s, klass), day):  # R01: rest days too
        status = EXTRA
    else:
        earlier = s.scalar(select(func.count(Photo.id)).where(
            Photo.enrollment_id == enrollment.id, Photo.day == day, Photo.status.in_(FIRST_OF_DAY)))
        status = OK if earlier < per_day else EXTRA
        counted = status == OK and counts_for_subsidy(klass)
    photo = Photo(enrollment_id=enrollment.id, day=day, sha256=stored, phash=phash, status=status,
                  counted=counted, duplicate_of_id=duplicate_of, received_at=sent_at, source=source)
    s.add(photo)
    data = {"received_sha256": raw_sha256}
    if duplicate_of is not None:
        data.update(match="exact" if exact is not None else "near", distance=0 if exact is not None else near[1])
    ledger.append(s, "photo.received", actor=ctx.actor.label, source=source, subject=photo,
                  class_code=klass.code, data=data)
    return photo


def _outcome_text(s: Session, photo: Photo, klass: Klass, sent_at: datetime) -> str:
    if photo.status == DUPLICATE:
        return texts.PHOTO_DUPLICATE
    if photo.status == EXTRA:
        if not timetable.is_class_day(timetable.timetable_of(s, klass), photo.day):
            return texts.PHOTO_NOT_A_CLASS_DAY.format(at=sent_at)
        return texts.PHOTO_EXTRA.format(at=sent_at)
    if photo.counted:
        return texts.PHOTO_COUNTED.format(at=sent_at)
    return texts.PHOTO_RECORDED_NOT_APPROVED.format(at=sent_at)


def _discard_after_commit(s: Session, files: FileStore, sha256: str) -> None:
    """Remove the raw download from the store once this transaction commits — unless a photo's stored
    copy is those very bytes. If the transaction rolls back, the file stays for the retry."""
    if s.scalar(select(Photo.id).where(Photo.sha256 == sha256).limit(1)) is not None:
        return

    def discard(_session: Session) -> None:
        try:
            files.path(sha256).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove raw download %s", sha256, exc_info=True)

    event.listen(s, "after_commit", discard, once=True)
