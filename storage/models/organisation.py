"""Districts, institutions and classes: the plan (R01), its approval (R02), its changes."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Tracked, actor_str, code_str, created, fk, flag, intpk, name_str, utc
from storage.types import UTCDateTime


class District(Tracked, Base):
    """旗县区: the district bureau that approves classes (R02)."""

    __tablename__ = "districts"
    id: Mapped[intpk]
    name: Mapped[name_str] = mapped_column(unique=True)
    city: Mapped[str] = mapped_column(String(100), default="")


class Institution(Tracked, Base):
    """培训机构: a training institution, in one district."""

    __tablename__ = "institutions"
    id: Mapped[intpk]
    name: Mapped[name_str] = mapped_column(unique=True)
    district_id: Mapped[int] = fk("districts.id")


class InstitutionAccount(Tracked, Base):
    """R19: the bank account (开户银行, 账号) an institution's subsidy is paid to; one per institution, its
    changes kept by the ledger. A table of its own, so existing institution rows (and their ledger
    snapshots) stay as they are."""

    __tablename__ = "institution_accounts"
    id: Mapped[intpk]
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), unique=True)
    bank: Mapped[name_str]
    account: Mapped[str] = mapped_column(String(40))
    set_by: Mapped[actor_str]
    set_at: Mapped[utc]


class ClassStatus:
    """R02: draft → submitted → approved (district) → filed (city); a submitted plan may be returned to the
    institution (returned) and submitted again."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    FILED = "filed"
    COUNTING = (APPROVED, FILED)


class Klass(Tracked, Base):
    """培训班 with every R01 field."""

    __tablename__ = "classes"
    id: Mapped[intpk]
    code: Mapped[code_str] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    occupation: Mapped[name_str]
    institution_id: Mapped[int] = fk("institutions.id")
    district_id: Mapped[int] = fk("districts.id")
    mode: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    total_hours: Mapped[int]
    online_hours: Mapped[int]
    lesson_minutes: Mapped[int]
    policy: Mapped[code_str]
    overrides: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    platform_name: Mapped[str] = mapped_column(String(200), default="")
    platform_url: Mapped[str] = mapped_column(String(500), default="")
    teachers: Mapped[str] = mapped_column(Text, default="[]")  # canonical JSON list of names
    materials: Mapped[str] = mapped_column(Text, default="")
    class_teacher: Mapped[name_str]
    commitment_name: Mapped[str | None] = mapped_column(String(200))
    commitment_sha256: Mapped[str | None] = mapped_column(String(64))
    live_ids: Mapped[str] = mapped_column(Text, default="[]")  # canonical JSON list
    status: Mapped[str] = mapped_column(String(16), default=ClassStatus.DRAFT)
    created_at: Mapped[created]


class ClassTransition(Tracked, Base):
    """One R02 status change: who, when, from, to."""

    __tablename__ = "class_transitions"
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[actor_str]
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[utc]


class ClassSession(Tracked, Base):
    """A daily session of a class (上午 08:30–11:30); the R06 windows hang on it."""

    __tablename__ = "class_sessions"
    __table_args__ = (UniqueConstraint("class_id", "position"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(32))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class ClassTimetable(Tracked, Base):
    """R01: what a class's timetable adds to its plan: rest weekdays and dates, extra dates, per-day sessions,
    each session's online lessons and practical mark (``spec``, canonical JSON), theory hours (R03) and the
    subsidy standard per trainee in yuan (R19, decimal text). A class without a row is an old plan: every
    day from start to end is a class day with every session."""

    __tablename__ = "class_timetables"
    id: Mapped[intpk]
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), unique=True)
    spec: Mapped[str] = mapped_column(Text, default="{}")
    theory_hours: Mapped[int | None]
    subsidy_standard: Mapped[str | None] = mapped_column(String(20))


class RosterChange(Tracked, Base):
    """R01/R02: a trainee added to or removed from the roster of an approved class. The change is recorded
    at once; an added trainee counts for subsidy only once the district has noted the change."""

    __tablename__ = "roster_changes"
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    enrollment_id: Mapped[int] = fk("enrollments.id")
    kind: Mapped[str] = mapped_column(String(8))  # add | remove
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[actor_str]
    requested_at: Mapped[utc]
    noted_by: Mapped[str | None] = mapped_column(String(128))
    noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class PlanChange(Tracked, Base):
    """R01 (003 第九条, 001 §五): a change of a class's plan or timetable. Before approval it is applied at once
    (``applied``); after approval it is asked for at least ``plan.change_notice_days`` ahead of
    ``effective_from`` and takes effect when the district approves it (``pending`` → ``approved`` or
    ``refused``, with who decided). ``plan`` is the new plan file's text; ``summary`` what it changes."""

    __tablename__ = "plan_changes"
    __table_args__ = (UniqueConstraint("class_id", "number"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    number: Mapped[int]
    plan: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)  # canonical JSON list of Chinese lines
    teachers_changed: Mapped[flag]
    commitment_name: Mapped[str | None] = mapped_column(String(200))
    commitment_sha256: Mapped[str | None] = mapped_column(String(64))
    effective_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # applied | pending | approved | refused
    requested_by: Mapped[actor_str]
    requested_at: Mapped[utc]
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
