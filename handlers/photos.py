"""The daily study photo (R08): a picture in the group or the 1:1 chat, checked after its download.

A picture with no command (or ``照片`` with a picture) from a trainee is dispatched to ``照片``, which
queues its download; the outbox sender fetches the bytes into the file store and reports a
``DownloadEvent`` to the dispatcher in the same transaction as it marks the download done. The
dispatcher looks the sender and their class up again (the class of the group, or in a 1:1 chat the
class they are in that day), checks the role, and runs :func:`check_photo`, which

1. only sees pictures sent for ``照片`` (pictures sent with another command are not daily photos);
2. validates the bytes (``storage.images``: a real image, size and pixel limits, not truncated) and
   stores a re-encoded copy without EXIF, content-addressed; the raw download is removed from the
   store once the transaction commits (it may carry GPS positions), unless a row names those bytes
   (a photo, or a homework picture sent before or at the same moment: ``storage.file_refs``);
3. flags a duplicate — the same stored bytes (SHA-256), or a perceptual hash within the profile's
   ``photos.near_duplicate_max_distance`` bits — of **any** earlier photo of any trainee in any class:
   status ``duplicate``, not counted, ``duplicate_of_id`` set, for a reviewer (``handlers.review``).
   The index is in the database (``storage.photo_index``: a unique SHA-256 and indexed pHash bands),
   shared by every bot process, and a check first takes the locks that make a second near duplicate
   checked at the same moment in another process wait for this one;
4. otherwise gives the trainee's class day its photo (``photos.per_day``; status ``ok``, ``counted``
   when the class counts for subsidy, R02) under a lock on the trainee's enrollment row. The day's
   photo is the first *sent* (the message's time), not the first downloaded: when a picture sent
   earlier finishes downloading after a later one took the slot, it takes the slot over, the later one
   becomes ``extra`` (a ``photo.slot_moved`` ledger event says why), and the reply to the earlier
   picture tells the trainee so. Later ones are kept as ``extra``;
5. appends the ledger event and returns the outcome, which the dispatcher queues as a reply to the
   trainee's message (its sessionWebhook while valid, else the group or 1:1 OpenAPI), once per picture.

A download that dies (DingTalk never gave the bytes, or they were over the size limit) is answered by
:func:`handlers.downloads.answer_dead_downloads`, run by the scheduler every minute: the trainee is asked to send the
picture again, through the same reply path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import timetable
from handlers.texts import chat as texts
from handlers.classes import counts_for_subsidy, profile_of
from handlers.errors import Refusal
from handlers.registry import TRAINEE, Ctx, command
from storage import file_refs, images, ledger, photo_index
from storage.files import FileStore
from storage.models import Enrollment, Klass, Photo

PHOTO_WORD = "照片"
OK, EXTRA, DUPLICATE = "ok", "extra", "duplicate"
FIRST_OF_DAY = (OK, "accepted")  # statuses of a day's valid photo (accepted: a reviewer cleared a flag)


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
        raw = event.data if event.data is not None else files.get(event.sha256)
        prepared = images.prepare(raw, phash_bits=profile.photos.phash_bits)
    except images.InvalidImage as exc:
        ledger.append(s, "photo.invalid", actor=ctx.actor.label, source=source, class_code=ctx.klass.code,
                      data={"enrollment_id": ctx.actor.enrollment.id, "sha256": event.sha256, "reason": exc.reason})
        file_refs.discard_after_commit(s, files, event.sha256, raw)
        return texts.PHOTO_INVALID[exc.reason]
    stored = file_refs.put_kept(s, files, prepared.data)
    photo, displaced = _record(ctx, stored, prepared.phash, profile.photos.per_day,
                               profile.photos.near_duplicate_max_distance)
    if event.sha256 != stored:
        file_refs.discard_after_commit(s, files, event.sha256, raw)
    outcome = _outcome_text(s, photo, ctx.klass, ctx.now)
    if displaced is not None:
        outcome += texts.PHOTO_SLOT_MOVED.format(other=displaced.received_at.astimezone(ctx.now.tzinfo))
    return outcome


@command(PHOTO_WORD, roles=TRAINEE, on_download=check_photo)
def photo(ctx: Ctx) -> list[str]:
    """照片：每天发1张当天在线学习的照片（群里 @我 附图，或单聊直接发图）"""
    if not ctx.message.image_codes:
        raise Refusal(texts.PHOTO_NEEDS_PICTURE)
    return []  # the outcome is answered once the picture is downloaded and checked (check_photo)


def _record(ctx: Ctx, stored: str, phash: str, per_day: int, max_distance: int) -> tuple[Photo, Photo | None]:
    """The photo row (and the photo it took the day's slot from, if any)."""
    s, klass, enrollment, sent_at = ctx.session, ctx.klass, ctx.actor.enrollment, ctx.now
    source, raw_sha256 = ctx.message.source, ctx.event.sha256
    day = sent_at.date()
    photo_index.lock(s, phash, max_distance)
    match = photo_index.find(s, stored, phash, max_distance)
    counted, displaced = False, None
    if match is not None:
        status = DUPLICATE
    elif not timetable.is_class_day(timetable.timetable_of(s, klass), day):  # R01: rest days too
        status = EXTRA
    else:
        status, displaced = _day_slot(s, enrollment.id, day, sent_at, per_day)
        counted = status == OK and counts_for_subsidy(klass)
    photo = Photo(enrollment_id=enrollment.id, day=day, sha256=stored, phash=phash, status=status,
                  counted=counted, duplicate_of_id=match.photo_id if match else None, received_at=sent_at,
                  source=source)
    s.add(photo)
    s.flush()
    if match is None or not match.exact:
        photo_index.add(s, photo.id, stored, phash)
    data = {"received_sha256": raw_sha256}
    if match is not None:
        data.update(match="exact" if match.exact else "near", distance=match.distance)
    ledger.append(s, "photo.received", actor=ctx.actor.label, source=source, subject=photo,
                  class_code=klass.code, data=data)
    if displaced is not None:
        displaced.status, displaced.counted = EXTRA, False
        ledger.append(s, "photo.slot_moved", actor=ctx.actor.label, source=source, subject=displaced,
                      class_code=klass.code, data={"to_photo_id": photo.id, "reason": "sent_earlier"})
    return photo, displaced


def lock_day(s: Session, enrollment_id: int) -> None:
    """Hold the trainee's photo slots until the transaction ends (PostgreSQL ``FOR NO KEY UPDATE`` on
    the enrollment row, which rows referencing it do not wait for; SQLite has one writer anyway)."""
    s.execute(select(Enrollment.id).where(Enrollment.id == enrollment_id).with_for_update(key_share=True))


def _day_slot(s: Session, enrollment_id: int, day, sent_at: datetime, per_day: int) -> tuple[str, Photo | None]:
    """R08: ``ok`` while the day has a free slot; when it has none, a photo sent before the latest-sent
    ``ok`` holder takes that one's slot (returned, to be made ``extra``); else ``extra``. A photo a
    reviewer accepted keeps its slot."""
    lock_day(s, enrollment_id)
    holders = list(s.scalars(select(Photo).where(
        Photo.enrollment_id == enrollment_id, Photo.day == day, Photo.status.in_(FIRST_OF_DAY))
        .order_by(Photo.received_at.desc(), Photo.id.desc())))
    if len(holders) < per_day:
        return OK, None
    latest = next((p for p in holders if p.status == OK), None)
    if latest is not None and sent_at < latest.received_at:
        return OK, latest
    return EXTRA, None


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
