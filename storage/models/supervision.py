"""Supervision: roll calls (R13), inspections (R14), eligibility and marks (R15), certificates (R20), the district's
group and daily report (R11)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Tracked, actor_str, fk, flag, intpk, sha_str, source_str, utc
from storage.types import UTCDateTime


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
