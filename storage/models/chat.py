"""What happens in the chat: messages, punches, leave, photos, study minutes, imported files."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Tracked, actor_str, created, fk, flag, intpk, sha_str, source_str, utc
from storage.types import UTCDateTime


class InboundMessage(Tracked, Base):
    """Every message the bot received, whole; ``msg_id`` is unique so a redelivery is a no-op."""

    __tablename__ = "inbound_messages"
    id: Mapped[intpk]
    msg_id: Mapped[str] = mapped_column(String(128), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    conversation_type: Mapped[str] = mapped_column(String(2))
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"))  # the group's class: its chain
    msgtype: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[utc]
    received_at: Mapped[created]
    payload: Mapped[str] = mapped_column(Text, info={"digest": True})


class Punch(Tracked, Base):
    """A check-in or check-out (R06); one per trainee, day, session and kind."""

    __ledger_via__ = "enrollment_id"
    __tablename__ = "punches"
    __table_args__ = (UniqueConstraint("enrollment_id", "day", "session_id", "kind"),
                      Index("ix_punches_day_enrollment", "day", "enrollment_id"))
    id: Mapped[intpk]
    enrollment_id: Mapped[int] = fk("enrollments.id")
    day: Mapped[date] = mapped_column(Date)
    session_id: Mapped[int] = fk("class_sessions.id")
    kind: Mapped[str] = mapped_column(String(3))  # in | out
    at: Mapped[utc]
    late: Mapped[flag]
    early: Mapped[flag]
    counts: Mapped[flag]  # the class was approved when it was made (R02)
    source: Mapped[source_str]


class LeaveRequest(Tracked, Base):
    """请假 (R07); its id is the number the class teacher answers with."""

    __ledger_via__ = "enrollment_id"
    __tablename__ = "leave_requests"
    __table_args__ = (UniqueConstraint("enrollment_id", "day"),
                      Index("ix_leave_requests_day_enrollment", "day", "enrollment_id"))
    id: Mapped[intpk]
    enrollment_id: Mapped[int] = fk("enrollments.id")
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[utc]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[source_str]


class Photo(Tracked, Base):
    """A daily study photo (R08), stored content-addressed by its sha256."""

    __ledger_via__ = "enrollment_id"
    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_day_enrollment", "day", "enrollment_id"),
                      Index("ix_photos_status_enrollment", "status", "enrollment_id"))  # R08: flagged photos
    id: Mapped[intpk]
    enrollment_id: Mapped[int] = fk("enrollments.id")
    day: Mapped[date] = mapped_column(Date)
    sha256: Mapped[sha_str] = mapped_column(index=True)
    phash: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    counted: Mapped[flag]
    duplicate_of_id: Mapped[int | None] = fk("photos.id", nullable=True)
    received_at: Mapped[utc]
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    review_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[source_str]


class PhotoIndex(Base):
    """The duplicate index of study photos (R08; ``storage.photo_index``): one row per distinct stored
    content — its SHA-256 (unique), the first photo with those bytes, the 64-bit pHash (as a signed
    bigint) and its three bands (22, 21, 21 bits) for the near-duplicate lookup. Derived from
    ``photos`` (which the ledger covers), so not a fact itself; it can be rebuilt from them."""

    __tablename__ = "photo_index"
    id: Mapped[intpk]
    sha256: Mapped[sha_str] = mapped_column(unique=True)
    photo_id: Mapped[int] = fk("photos.id")
    phash: Mapped[int | None] = mapped_column(BigInteger)
    band0: Mapped[int | None] = mapped_column(Integer, index=True)
    band1: Mapped[int | None] = mapped_column(Integer, index=True)
    band2: Mapped[int | None] = mapped_column(Integer, index=True)


class StudyMinutes(Tracked, Base):
    """Study minutes of a trainee on a day from one source (an import file, the live API, attendance), for one
    lesson (``lesson``: the 场次 or live id; empty when the source gives the whole day, R09)."""

    __ledger_via__ = "enrollment_id"
    __tablename__ = "study_minutes"
    __table_args__ = (UniqueConstraint("enrollment_id", "day", "source", "lesson"),
                      Index("ix_study_minutes_day_enrollment", "day", "enrollment_id"))
    id: Mapped[intpk]
    enrollment_id: Mapped[int] = fk("enrollments.id")
    day: Mapped[date] = mapped_column(Date)
    lesson: Mapped[str] = mapped_column(String(64), default="", server_default="")
    live_minutes: Mapped[int] = mapped_column(default=0)
    replay_minutes: Mapped[int] = mapped_column(default=0)
    source: Mapped[source_str]
    recorded_at: Mapped[created]


class ImportFile(Tracked, Base):
    """An imported file (roster, viewing statistics): the source reference of the rows it made."""

    __tablename__ = "import_files"
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(16))
    class_id: Mapped[int] = fk("classes.id")
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[sha_str]
    rows: Mapped[int]
    imported_by: Mapped[actor_str]
    imported_at: Mapped[created]
