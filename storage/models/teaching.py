"""Teaching (R10): homework, Q&A, spot checks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Tracked, actor_str, fk, flag, intpk, source_str, utc
from storage.types import UTCDateTime


class Assignment(Tracked, Base):
    """布置作业 (R10): numbered per class from 1, so a teacher and trainees can name it in the chat."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("class_id", "number"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    number: Mapped[int]
    content: Mapped[str] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)  # the class day it was posted on
    posted_by: Mapped[actor_str]
    posted_at: Mapped[utc]
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[source_str]


class Submission(Tracked, Base):
    """交作业 (R10): one per trainee and assignment; ``late`` when handed in after the deadline."""

    __tablename__ = "submissions"
    __ledger_via__ = "enrollment_id"
    __table_args__ = (UniqueConstraint("assignment_id", "enrollment_id"),)
    id: Mapped[intpk]
    assignment_id: Mapped[int] = fk("assignments.id")
    enrollment_id: Mapped[int] = fk("enrollments.id")
    content: Mapped[str] = mapped_column(Text, default="")
    day: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[utc]
    late: Mapped[flag]
    source: Mapped[source_str]


class SubmissionCheck(Tracked, Base):
    """批改 (R10): a teacher's comment and optional score on a submission; a later check adds, never edits."""

    __tablename__ = "submission_checks"
    __ledger_via__ = "submission_id"
    id: Mapped[intpk]
    submission_id: Mapped[int] = fk("submissions.id")
    comment: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[int | None]
    day: Mapped[date] = mapped_column(Date)
    checked_by: Mapped[actor_str]
    checked_at: Mapped[utc]
    source: Mapped[source_str]


class Attachment(Tracked, Base):
    """A picture or file that came with homework or a spot check; ``sha256`` once downloaded."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_subject", "subject_table", "subject_id"),
                      Index("ix_attachments_sha256", "sha256"))  # storage.file_refs: is a file still named
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    subject_table: Mapped[str] = mapped_column(String(32))  # assignments | submissions | spot_checks
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # picture | file
    download_code: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[utc]
    source: Mapped[source_str]


class QaSession(Tracked, Base):
    """答疑 (R10): opened and closed by a teacher; numbered per class."""

    __tablename__ = "qa_sessions"
    __table_args__ = (UniqueConstraint("class_id", "number"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    number: Mapped[int]
    topic: Mapped[str] = mapped_column(Text, default="")
    day: Mapped[date] = mapped_column(Date)
    opened_by: Mapped[actor_str]
    started_at: Mapped[utc]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[source_str]


class Question(Tracked, Base):
    """提问 (R10): numbered per class; asked outside a session it waits for the next one."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("class_id", "number"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    number: Mapped[int]
    qa_session_id: Mapped[int | None] = fk("qa_sessions.id", nullable=True)
    enrollment_id: Mapped[int] = fk("enrollments.id")
    asker_staff_user_id: Mapped[str | None] = mapped_column(String(64))  # to @-mention with the answer
    content: Mapped[str] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    asked_at: Mapped[utc]
    source: Mapped[source_str]


class Answer(Tracked, Base):
    """答 (R10): a teacher's answer, linked to its question."""

    __tablename__ = "answers"
    __ledger_via__ = "question_id"
    id: Mapped[intpk]
    question_id: Mapped[int] = fk("questions.id")
    content: Mapped[str] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    answered_by: Mapped[actor_str]
    answered_at: Mapped[utc]
    source: Mapped[source_str]


class SpotCheck(Tracked, Base):
    """抽查 (R10): what the institution's class teacher found checking the class during class time."""

    __tablename__ = "spot_checks"
    __table_args__ = (Index("ix_spot_checks_class_day", "class_id", "day"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    checked_by: Mapped[actor_str]
    checked_at: Mapped[utc]
    source: Mapped[source_str]
