"""The database schema: SQLAlchemy 2.x typed models.

Tables whose rows are facts (a trainee, a punch, a photo…) subclass ``Tracked``: every insert or
change of such a row must be matched by a ledger event carrying the row's snapshot (R05, R17), and
``storage.ledger_verify.verify`` compares the two. Operational tables (outbox, job claims, tokens,
sessions, binding codes, attempts) and derived ones (the photo duplicate index) are not facts and are
not tracked; web users are (who may do what).

One module per area — ``base`` (``Base``, ``Tracked``, the column kinds), ``organisation``,
``people``, ``chat``, ``supervision``, ``teaching``, ``ledger_tables``, ``operations``, ``access`` —
imported here, so ``from storage.models import X`` reaches every model and SQLAlchemy sees them all.
"""

from __future__ import annotations

from storage.models.base import Base, Tracked
from storage.models.organisation import (
    District, Institution, InstitutionAccount, ClassStatus, Klass, ClassTransition, ClassSession, ClassTimetable,
    RosterChange, PlanChange,
)
from storage.models.people import Person, Enrollment, Staff, StaffRole, DingTalkIdentity, Group
from storage.models.chat import InboundMessage, Punch, LeaveRequest, Photo, PhotoIndex, StudyMinutes, ImportFile
from storage.models.supervision import (
    RollCall, RollCallSample, Inspection, InspectionEvidence, EligibilityChange, TraineeMark, CertificateCounter,
    Certificate, SupervisionGroup, DailyReportSend,
)
from storage.models.teaching import (
    Assignment, Submission, SubmissionCheck, Attachment, QaSession, Question, Answer, SpotCheck,
)
from storage.models.ledger_tables import LedgerEvent, LedgerChain, LedgerCheckpoint, LedgerKey, LedgerVerification
from storage.models.operations import OutboxMessage, SendGate, JobClaim, Reminder
from storage.models.access import User, TeacherClass, ApiToken, BindCode, AdminSession, LoginAttempt, BindAttempt

__all__ = [
    "AdminSession",
    "Answer",
    "ApiToken",
    "Assignment",
    "Attachment",
    "Base",
    "BindAttempt",
    "BindCode",
    "Certificate",
    "CertificateCounter",
    "ClassSession",
    "ClassStatus",
    "ClassTimetable",
    "ClassTransition",
    "DailyReportSend",
    "DingTalkIdentity",
    "District",
    "EligibilityChange",
    "Enrollment",
    "Group",
    "ImportFile",
    "InboundMessage",
    "Inspection",
    "InspectionEvidence",
    "Institution",
    "InstitutionAccount",
    "JobClaim",
    "Klass",
    "LeaveRequest",
    "LedgerChain",
    "LedgerCheckpoint",
    "LedgerEvent",
    "LedgerKey",
    "LedgerVerification",
    "LoginAttempt",
    "OutboxMessage",
    "Person",
    "Photo",
    "PhotoIndex",
    "PlanChange",
    "Punch",
    "QaSession",
    "Question",
    "Reminder",
    "RollCall",
    "RollCallSample",
    "RosterChange",
    "SendGate",
    "SpotCheck",
    "Staff",
    "StaffRole",
    "StudyMinutes",
    "Submission",
    "SubmissionCheck",
    "SupervisionGroup",
    "TeacherClass",
    "Tracked",
    "TraineeMark",
    "User",
    "tracked_tables",
]


def tracked_tables() -> list:
    """The tables whose rows the ledger covers, in dependency order."""
    tracked = {m.class_.__tablename__ for m in Base.registry.mappers if issubclass(m.class_, Tracked)}
    return [t for t in Base.metadata.sorted_tables if t.name in tracked]
