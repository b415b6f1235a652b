"""The database schema: SQLAlchemy 2.x typed models.

Tables whose rows are facts (a trainee, a punch, a photo…) subclass ``Tracked``: every insert or
change of such a row must be matched by a ledger event carrying the row's snapshot (R05, R17), and
``storage.ledger.verify`` compares the two. Operational tables (outbox, job claims, tokens,
sessions, binding codes, attempts) and derived ones (the photo duplicate index) are not facts and are
not tracked; web users are (who may do what).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
name_str = Annotated[str, mapped_column(String(100))]
code_str = Annotated[str, mapped_column(String(32))]
actor_str = Annotated[str, mapped_column(String(128))]
source_str = Annotated[str, mapped_column(String(200))]
sha_str = Annotated[str, mapped_column(String(64))]
utc = Annotated[datetime, mapped_column(UTCDateTime())]
created = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
flag = Annotated[bool, mapped_column(Boolean, default=False)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tracked:
    """Marker: rows of this table are facts covered by the ledger.

    Which chain a row's events go on is read from the row itself (``storage.ledger.chain_of``): the
    class's chain if the table has a ``class_id`` column (set, not NULL), or the class of the row its
    ``__ledger_via__`` foreign-key column points to (``"enrollment_id"`` for a trainee's punches,
    photos…); otherwise the city-wide chain. A new tracked table only follows this convention.
    """

    __ledger__: ClassVar[bool] = True
    __ledger_via__: ClassVar[str | None] = None


def fk(target: str, nullable: bool = False) -> Mapped:
    return mapped_column(ForeignKey(target), nullable=nullable, index=True)


# --- organisation -------------------------------------------------------------------------------


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


# --- classes ------------------------------------------------------------------------------------


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


# --- people -------------------------------------------------------------------------------------


class Person(Tracked, Base):
    """A real-name trainee (R04); the ID number is unique across the system."""

    __tablename__ = "persons"
    id: Mapped[intpk]
    name: Mapped[name_str]
    gender: Mapped[str] = mapped_column(String(2))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[created]


class Enrollment(Tracked, Base):
    """A person in a class's roster; removal is a mark with its reason (R16), never a delete."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("class_id", "person_id"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    person_id: Mapped[int] = fk("persons.id")
    identity_category: Mapped[name_str]
    removed: Mapped[flag]
    removed_reason: Mapped[str | None] = mapped_column(Text)
    removed_by: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Staff(Tracked, Base):
    """A teacher, class teacher or supervisor known to the bot."""

    __tablename__ = "staff"
    id: Mapped[intpk]
    name: Mapped[name_str]
    created_at: Mapped[created]


class StaffRole(Tracked, Base):
    """A staff member's role in one class, one district, or (neither) the whole city."""

    __tablename__ = "staff_roles"
    id: Mapped[intpk]
    staff_id: Mapped[int] = fk("staff.id")
    role: Mapped[str] = mapped_column(String(16))  # teacher | class_teacher | inspector
    class_id: Mapped[int | None] = fk("classes.id", nullable=True)
    district_id: Mapped[int | None] = fk("districts.id", nullable=True)


class DingTalkIdentity(Tracked, Base):
    """A DingTalk sender (``senderId`` always present, ``staffId`` only inside the organisation)."""

    __tablename__ = "dingtalk_identities"
    id: Mapped[intpk]
    sender_id: Mapped[str] = mapped_column(String(128), unique=True)
    staff_user_id: Mapped[str | None] = mapped_column(String(64))
    nick: Mapped[str] = mapped_column(String(100), default="")
    person_id: Mapped[int | None] = fk("persons.id", nullable=True)
    staff_id: Mapped[int | None] = fk("staff.id", nullable=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Group(Tracked, Base):
    """A DingTalk group (``openConversationId``) linked to its class."""

    __tablename__ = "groups"
    id: Mapped[intpk]
    open_conversation_id: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    class_id: Mapped[int] = fk("classes.id")
    bound_by: Mapped[actor_str]
    bound_at: Mapped[utc]


# --- what happens in the chat -------------------------------------------------------------------


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


# --- supervision (R13, R14, R15) ------------------------------------------------------------------


class RollCall(Tracked, Base):
    """A random roll call (R13): the committed seed, the roster it drew from, and its result.

    ``seed`` is derived from values fixed before the draw (the ledger head, the class, ``number``,
    ``nonce``: the command's msgId or the job's slot); ``seed_commitment`` is its SHA-256, announced
    with the roll call, and ``seed`` is shown only after ``deadline``. ``roster`` is the canonical JSON
    list of ``[enrollment_id, name]`` the sample was drawn from, so ``rollcall verify`` can recompute it.
    """

    __tablename__ = "rollcalls"
    __table_args__ = (UniqueConstraint("class_id", "number"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    number: Mapped[int]
    trigger: Mapped[str] = mapped_column(String(16))  # command | schedule | cli | admin
    by: Mapped[actor_str]
    started_at: Mapped[utc]
    deadline: Mapped[utc]
    window_minutes: Mapped[int]
    ratio: Mapped[str] = mapped_column(String(16))  # exact fraction text, e.g. "1/2"
    requested_ratio: Mapped[str | None] = mapped_column(String(16))
    ledger_head: Mapped[sha_str]
    nonce: Mapped[str] = mapped_column(String(200))
    seed: Mapped[sha_str]
    seed_commitment: Mapped[sha_str]
    roster: Mapped[str] = mapped_column(Text)
    roster_size: Mapped[int]
    slot: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the scheduled moment drawn for it
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    caller_user_id: Mapped[str | None] = mapped_column(String(64))  # the caller's staffId, for the result
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered: Mapped[int | None]
    counted: Mapped[int | None]  # sampled and not excused: the pass-rate denominator
    passed: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[source_str]


class RollCallSample(Tracked, Base):
    """One trainee drawn in a roll call; ``answered_at`` is the time of their 到 inside the window."""

    __ledger_via__ = "rollcall_id"
    __tablename__ = "rollcall_samples"
    __table_args__ = (UniqueConstraint("rollcall_id", "enrollment_id"),)
    id: Mapped[intpk]
    rollcall_id: Mapped[int] = fk("rollcalls.id")
    enrollment_id: Mapped[int] = fk("enrollments.id")
    position: Mapped[int]
    excused: Mapped[flag]  # on approved leave that day: sampled, shown, not in the denominator
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_source: Mapped[str | None] = mapped_column(String(200))


class Inspection(Tracked, Base):
    """An R14 check of a class by the city or the district: kind, expected and found, pass."""

    __tablename__ = "inspections"
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    level: Mapped[str] = mapped_column(String(16))  # city | district
    kind: Mapped[str] = mapped_column(String(8))  # video | live | phone
    by: Mapped[actor_str]
    at: Mapped[utc]
    expected: Mapped[int]
    found: Mapped[int]
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    findings_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[source_str]


class InspectionEvidence(Tracked, Base):
    """A screenshot kept as an inspection's evidence (R14), content-addressed in the file store."""

    __ledger_via__ = "inspection_id"
    __tablename__ = "inspection_evidence"
    id: Mapped[intpk]
    inspection_id: Mapped[int] = fk("inspections.id")
    sha256: Mapped[sha_str]
    filename: Mapped[str] = mapped_column(String(300), default="")
    received_at: Mapped[utc]
    source: Mapped[source_str]


class EligibilityChange(Tracked, Base):
    """R15: a recorded change of a class's subsidy eligibility, with the checks that caused it."""

    __tablename__ = "eligibility_changes"
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    eligible: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[actor_str]
    at: Mapped[utc]


class TraineeMark(Tracked, Base):
    """A supervisor's mark on a trainee in a class: ``disqualified`` (R15, abnormal data), with its reason."""

    __ledger_via__ = "enrollment_id"
    __tablename__ = "trainee_marks"
    id: Mapped[intpk]
    enrollment_id: Mapped[int] = fk("enrollments.id")
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[actor_str]
    at: Mapped[utc]


# --- certificates (R20) ---------------------------------------------------------------------------


class CertificateCounter(Tracked, Base):
    """R20: the last certificate number handed out in a series (the issue year). Only ever counts up, so a
    number — even a revoked one — is never issued again; ``certificates.number`` is unique besides."""

    __tablename__ = "certificate_counters"
    id: Mapped[intpk]
    series: Mapped[str] = mapped_column(String(16), unique=True)
    last: Mapped[int]


class Certificate(Tracked, Base):
    """R20: a certificate number (结业证书编号) the city issued to a qualified trainee; revocation is a mark
    with its reason, never a delete, and the number stays taken."""

    __tablename__ = "certificates"
    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    class_id: Mapped[int] = fk("classes.id")
    enrollment_id: Mapped[int] = fk("enrollments.id")
    issued_by: Mapped[actor_str]
    issued_at: Mapped[utc]
    revoked: Mapped[flag]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- teaching: homework, Q&A, spot checks (R10) ------------------------------------------------


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
    __table_args__ = (Index("ix_attachments_subject", "subject_table", "subject_id"),)
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


# --- supervision: the district's group and the daily report (R11) ------------------------------


class SupervisionGroup(Tracked, Base):
    """A district's supervision group (督查群), bound by an inspector with ``绑定督查群 <旗县区>``."""

    __tablename__ = "supervision_groups"
    id: Mapped[intpk]
    district_id: Mapped[int] = fk("districts.id")
    open_conversation_id: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    bound_by: Mapped[actor_str]
    bound_at: Mapped[utc]


class DailyReportSend(Tracked, Base):
    """R11: the previous day's report sent to one district; unique per district and day."""

    __tablename__ = "daily_report_sends"
    __table_args__ = (UniqueConstraint("district_id", "day"),)
    id: Mapped[intpk]
    district_id: Mapped[int] = fk("districts.id")
    day: Mapped[date] = mapped_column(Date)
    classes: Mapped[int]
    trainees: Mapped[int]
    workbook_sha256: Mapped[sha_str]
    recipients: Mapped[str] = mapped_column(Text, default="[]")  # canonical JSON: groups and user ids
    sent_by: Mapped[actor_str]
    sent_at: Mapped[utc]


# --- the ledger ---------------------------------------------------------------------------------


class LedgerEvent(Base):
    """One hash-chained event (R05, R17) on one chain: a class's, or the city's (chain 0).

    See ``storage.ledger``."""

    __tablename__ = "ledger_events"
    __table_args__ = (Index("ix_ledger_events_subject", "subject_table", "subject_id"),)
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    prev_hash: Mapped[sha_str]
    hash: Mapped[sha_str]
    type: Mapped[str] = mapped_column(String(48))
    actor: Mapped[actor_str]
    class_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_table: Mapped[str | None] = mapped_column(String(48))
    subject_id: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)
    source: Mapped[source_str]
    at: Mapped[utc]


class LedgerChain(Base):
    """The head of one chain (0: the city's; otherwise a class id); appends lock their chain's row."""

    __tablename__ = "ledger_chains"
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[sha_str]


class LedgerCheckpoint(Base):
    """A chain's head signed with the ledger key (Ed25519), which the database does not hold."""

    __tablename__ = "ledger_checkpoints"
    __table_args__ = (Index("ix_ledger_checkpoints_chain_seq", "chain", "seq"),)
    id: Mapped[intpk]
    chain: Mapped[int]
    seq: Mapped[int]
    hash: Mapped[sha_str]
    class_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[utc]
    verified: Mapped[flag]  # signed after a clean verification: an incremental one may start here
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))  # hex


class LedgerKey(Base):
    """A public key that signed checkpoints, stored for verifiers (who should hold their own copy)."""

    __tablename__ = "ledger_keys"
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # hex, 32 bytes
    created_at: Mapped[created]


class LedgerVerification(Base):
    """A completed verification: what ``/api/v1/ledger/verify`` and the admin show."""

    __tablename__ = "ledger_verifications"
    id: Mapped[intpk]
    started_at: Mapped[utc]
    finished_at: Mapped[utc]
    ok: Mapped[bool] = mapped_column(Boolean)
    events: Mapped[int]
    head: Mapped[sha_str]
    incremental: Mapped[flag]
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of problem lines


# --- operational tables (not facts) -------------------------------------------------------------


class OutboxMessage(Base):
    """A message to send (or a file to fetch), delivered at least once; ``dedupe_key`` is unique."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_conversation", "conversation_id", "status", "sent_at"))
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(16))  # reply | group | oto | download
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sending | sent | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[created]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_with: Mapped[int | None] = mapped_column(Integer)  # a digest's first row: sent in its message


class SendGate(Base):
    """When sending may go on, shared by every bot process: ``api:<path>`` holds the next free call slot
    of a DingTalk API (≤ 20 calls a second per app and API, DINGTALK.md §5), ``pause:<conversationId>``
    the end of DingTalk's throttle of a group (410100, DINGTALK.md §7). ``open_at`` is epoch seconds."""

    __tablename__ = "send_gates"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    open_at: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")


class JobClaim(Base):
    """A job's claim on (scope, period), so two schedulers or a re-run never act twice."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "scope", "period"),)
    id: Mapped[intpk]
    job: Mapped[str] = mapped_column(String(48))
    scope: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[created]
    outcome: Mapped[str] = mapped_column(String(16), default="done")  # done | missed | nothing
    detail: Mapped[str] = mapped_column(Text, default="")


class Reminder(Base):
    """A reminder the bot sent (R21): to whom, when, why; one per (kind, recipient, slot)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("kind", "recipient", "slot"),)
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(16))  # checkin | short_day | makeup
    class_id: Mapped[int] = fk("classes.id")
    recipient: Mapped[str] = mapped_column(String(64))  # "group" or "enrollment:<id>"
    slot: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[created]


class User(Tracked, Base):
    """A web/API user of the admin. Tracked: who may see and change what is a fact, so creating a
    user or changing a role or a password is a ledger event (the hash is kept as its digest)."""

    __tablename__ = "users"
    id: Mapped[intpk]
    name: Mapped[name_str] = mapped_column(unique=True)
    password_hash: Mapped[str] = mapped_column(String(200), info={"digest": True})
    role: Mapped[str] = mapped_column(String(16))  # admin | city | district | institution | teacher
    institution_id: Mapped[int | None] = fk("institutions.id", nullable=True)
    district_id: Mapped[int | None] = fk("districts.id", nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created]


class TeacherClass(Tracked, Base):
    """A teacher login's class: the stable link that scopes what a ``teacher`` user sees (never names)."""

    __tablename__ = "teacher_classes"
    __table_args__ = (UniqueConstraint("user_id", "class_id"),)
    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id")
    class_id: Mapped[int] = fk("classes.id")
    granted_by: Mapped[actor_str]
    granted_at: Mapped[created]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id")
    token_hash: Mapped[sha_str] = mapped_column(unique=True)
    created_at: Mapped[created]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[flag]


class BindCode(Base):
    """A one-time code a staff member sends to the bot; only its SHA-256 is stored."""

    __tablename__ = "bind_codes"
    id: Mapped[intpk]
    code_hash: Mapped[sha_str] = mapped_column(unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    class_id: Mapped[int | None] = fk("classes.id", nullable=True)
    district_id: Mapped[int | None] = fk("districts.id", nullable=True)
    created_by: Mapped[actor_str]
    created_at: Mapped[created]
    expires_at: Mapped[utc]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_identity_id: Mapped[int | None] = fk("dingtalk_identities.id", nullable=True)



class AdminSession(Base):
    """A signed-in admin session. The cookie holds a random token and only its SHA-256 is kept here,
    so logging out or a password change ends the session on the server, not only in one browser."""

    __tablename__ = "admin_sessions"
    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id")
    token_hash: Mapped[sha_str] = mapped_column(unique=True)
    created_at: Mapped[created]
    expires_at: Mapped[utc]


class LoginAttempt(Base):
    """An admin login attempt, for rate limiting across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_at", "name", "at"),
                      Index("ix_login_attempts_addr_at", "remote_addr", "at"))
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    ok: Mapped[flag]
    at: Mapped[created]


class BindAttempt(Base):
    """A binding attempt in the chat, for the locks after repeated failures: per sender, and per
    trainee name (``name``) across all senders."""

    __tablename__ = "bind_attempts"
    __table_args__ = (Index("ix_bind_attempts_sender_at", "sender_id", "at"),
                      Index("ix_bind_attempts_name_at", "name", "at"))
    id: Mapped[intpk]
    sender_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(100))  # the trainee name tried; None for a staff code
    ok: Mapped[flag]
    at: Mapped[created]


def tracked_tables() -> list:
    """The tables whose rows the ledger covers, in dependency order."""
    tracked = {m.class_.__tablename__ for m in Base.registry.mappers if issubclass(m.class_, Tracked)}
    return [t for t in Base.metadata.sorted_tables if t.name in tracked]
