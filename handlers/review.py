"""Reviewing flagged study photos (R08) and listing what awaits review.

A photo that repeats an earlier one (same bytes or a near duplicate) is flagged (``duplicate``) and not
counted until a reviewer accepts it. Accepting takes the day's photo slot if it is free (the profile's
``photos.per_day``; the slot is held by photos ``ok`` or ``accepted``, as ``handlers.photos`` counts
them): the photo becomes ``accepted``, and counted when the class counts for subsidy (R02); with the
slot taken it becomes ``extra`` (kept, not counted). Rejecting makes it ``rejected``, uncounted. Either
way the row changes and a ``photo.reviewed`` ledger event records the reviewer, the decision and the
reason (R05, R17).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.classes import counts_for_subsidy, profile_of
from handlers.photos import lock_day
from storage import ledger
from storage.models import Enrollment, Klass, Photo
from storage.types import utcnow

FLAGGED = ("duplicate", "pending")  # awaiting a reviewer
ACCEPTED, REJECTED, EXTRA = "accepted", "rejected", "extra"
DAY_SLOT = ("ok", ACCEPTED)  # the statuses of a day's valid photo (handlers.photos.FIRST_OF_DAY)


class ReviewError(ValueError):
    """A review cannot be made; ``problem`` says why (the admin words it)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def review_photo(s: Session, photo: Photo, klass: Klass, *, accept: bool, reason: str, actor: str,
                 source: str = "admin", now: datetime | None = None) -> Photo:
    """R08: accept or reject a flagged photo, with a reason, as ``actor``; appends ``photo.reviewed``."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("reason_required")
    if photo.status not in FLAGGED:
        raise ReviewError("not_flagged")
    status, counted = REJECTED, False
    if accept:
        lock_day(s, photo.enrollment_id)  # the same lock as a photo taking the slot (handlers.photos)
        taken = s.scalar(select(func.count(Photo.id)).where(
            Photo.enrollment_id == photo.enrollment_id, Photo.day == photo.day, Photo.status.in_(DAY_SLOT),
            Photo.id != photo.id)) or 0
        class_day = klass.start_date <= photo.day <= klass.end_date
        status = ACCEPTED if class_day and taken < profile_of(klass).photos.per_day else EXTRA
        counted = status == ACCEPTED and counts_for_subsidy(klass)
    photo.status = status
    photo.counted = counted
    photo.reviewed_by = actor
    photo.review_reason = reason
    ledger.append(s, "photo.reviewed", actor=actor, source=source, subject=photo, class_code=klass.code,
                  reason=reason, data={"decision": "accept" if accept else "reject", "counted": counted},
                  at=now or utcnow())
    return photo


def flagged_photos(s: Session, class_ids) -> list[tuple[Photo, Enrollment, Klass]]:
    """Photos awaiting review in the given classes (``None``: all), oldest first."""
    stmt = (select(Photo, Enrollment, Klass)
            .join(Enrollment, Enrollment.id == Photo.enrollment_id)
            .join(Klass, Klass.id == Enrollment.class_id)
            .where(Photo.status.in_(FLAGGED))
            .order_by(Photo.received_at, Photo.id))
    if class_ids is not None:
        stmt = stmt.where(Klass.id.in_(class_ids))
    return [tuple(row) for row in s.execute(stmt).all()]
