"""Class inspections (R14): video, live statistics or phone checks by the city or the district.

A check records who, when, kind, expected and found counts and passes when found/expected reaches
the profile's ratio for its kind (video 80%, live statistics 80%, phone: overall attendance 80% of at
least 1/3 of the trainees phoned). Screenshots are kept as evidence (``InspectionEvidence``, stored
by SHA-256). A class of at most ``small_class_max_hours`` 课时 needs one check from the city and one
from the district, a longer class two each (:func:`owed`); after the class ends, the city's findings
are due to the district within ``findings_working_days`` working days (:func:`findings_due`). A
failed check counts toward R15 (``handlers.eligibility``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import eligibility
from handlers.texts import supervision as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.registry import INSPECTOR, Ctx, Role, command
from handlers.policy import Profile, format_percent, meets_ratio, min_count
from storage import file_refs, ledger
from storage.models import Enrollment, Inspection, InspectionEvidence, Klass, StaffRole

CITY, DISTRICT = "city", "district"
KINDS = ("video", "live", "phone")
EVIDENCE_MINUTES = 10  # pictures sent within this time after 检查 become its evidence


def threshold(profile: Profile, kind: str) -> Fraction:
    rules = profile.inspection
    return {"video": rules.video_pass, "live": rules.live_stats_pass, "phone": rules.attendance_pass}[kind]


def record(s: Session, klass: Klass, *, level: str, kind: str, expected: int, found: int, by: str, at: datetime,
           source: str, note: str = "") -> Inspection:
    """R14: record one check; refused (nothing written) for a bad kind or counts."""
    if kind not in KINDS:
        raise Refusal(texts.INSPECTION_BAD_KIND.format(value=kind))
    if expected <= 0 or not 0 <= found <= expected:
        raise Refusal(texts.INSPECTION_BAD_COUNTS.format(expected=expected, found=found))
    profile = profile_of(klass)
    if kind == "phone":
        roster = s.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.class_id == klass.id, Enrollment.removed.is_(False)))
        minimum = min_count(roster, profile.inspection.phone_check_share)
        if expected < minimum:
            raise Refusal(texts.INSPECTION_PHONE_TOO_FEW.format(
                minimum=minimum, roster=roster, share=format_percent(profile.inspection.phone_check_share),
                expected=expected))
    row = Inspection(class_id=klass.id, level=level, kind=kind, by=by, at=at, expected=expected, found=found,
                     passed=meets_ratio(found, expected, threshold(profile, kind)), note=note, source=source)
    s.add(row)
    ledger.append(s, "inspection.recorded", actor=by, source=source, subject=row, class_code=klass.code)
    if not row.passed:
        eligibility.check_failed(s, klass, at, actor=by, source=source)
    return row


def add_evidence(s: Session, inspection: Inspection, sha256: str, filename: str, *, at: datetime, actor: str,
                 source: str) -> InspectionEvidence:
    row = InspectionEvidence(inspection_id=inspection.id, sha256=sha256, filename=filename[:300], received_at=at,
                             source=source)
    s.add(row)
    klass = s.get(Klass, inspection.class_id)
    ledger.append(s, "inspection.evidence", actor=actor, source=source, subject=row, class_code=klass.code)
    return row


def summary_line(klass: Klass, row: Inspection, tz) -> str:
    profile = profile_of(klass)
    return texts.INSPECTION_RECORDED.format(
        level=texts.INSPECTION_LEVELS[row.level], code=klass.code, kind=texts.INSPECTION_KINDS[row.kind],
        at=row.at.astimezone(tz), expected=row.expected, found=row.found,
        percent=format_percent(Fraction(row.found, row.expected)), verdict=texts.ROLLCALL_PASSED[row.passed],
        threshold=format_percent(threshold(profile, row.kind)))


@dataclass(frozen=True)
class Owed:
    required: dict[str, int]
    done: dict[str, int]

    @property
    def missing(self) -> dict[str, int]:
        return {level: max(self.required[level] - self.done.get(level, 0), 0) for level in self.required}


def owed(s: Session, klass: Klass) -> Owed:
    """R14: checks the class needs from the city and the district (by its hours), and those done."""
    rules = profile_of(klass).inspection
    small = klass.total_hours <= rules.small_class_max_hours
    required = {CITY: rules.small_class_city_checks if small else rules.large_class_city_checks,
                DISTRICT: rules.small_class_district_checks if small else rules.large_class_district_checks}
    if not rules.enabled:
        required = {CITY: 0, DISTRICT: 0}
    done = dict(s.execute(select(Inspection.level, func.count()).where(Inspection.class_id == klass.id)
                          .group_by(Inspection.level)).all())
    return Owed(required, done)


def add_working_days(day: date, n: int) -> date:
    """``n`` working days (Monday–Friday) after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def findings_due(klass: Klass) -> date:
    """R14: the city's findings reach the district within N working days of the class's end."""
    return add_working_days(klass.end_date, profile_of(klass).inspection.findings_working_days)


def overdue_findings(s: Session, klass: Klass, today: date) -> list[Inspection]:
    """The city's checks of an ended class whose findings were not sent to the district in time."""
    if today <= findings_due(klass):
        return []
    return list(s.scalars(select(Inspection).where(Inspection.class_id == klass.id, Inspection.level == CITY,
                                                   Inspection.findings_sent_at.is_(None)).order_by(Inspection.at)))


def mark_findings_sent(s: Session, row: Inspection, *, actor: str, source: str, at: datetime) -> None:
    """R14: the city's findings of this check reached the district (recorded once)."""
    if row.findings_sent_at is not None:
        return
    row.findings_sent_at = at
    ledger.append(s, "inspection.findings_sent", actor=actor, source=source, subject=row,
                  class_code=s.get(Klass, row.class_id).code)


def listing(s: Session, klass: Klass) -> list[Inspection]:
    return list(s.scalars(select(Inspection).where(Inspection.class_id == klass.id).order_by(Inspection.at.desc())))


# --- chat -------------------------------------------------------------------------------------------


def level_of(s: Session, staff_id: int) -> str:
    """A supervisor bound for a district is the district's; one bound for the whole city, the city's."""
    rows = s.execute(select(StaffRole.district_id, StaffRole.class_id).where(
        StaffRole.staff_id == staff_id, StaffRole.role == Role.INSPECTOR)).all()
    return CITY if any(d is None and c is None for d, c in rows) else DISTRICT


def _class_named(s: Session, args: str, here: Klass | None) -> Klass | None:
    tokens = args.split()
    return s.scalar(select(Klass).where(Klass.code == tokens[0])) if tokens else None


def _latest_by(s: Session, actor_label: str, now: datetime) -> Inspection | None:
    """The inspection this person recorded in the last ``EVIDENCE_MINUTES`` minutes, if any."""
    return s.scalar(select(Inspection).where(Inspection.by == actor_label,
                                             Inspection.at >= now - timedelta(minutes=EVIDENCE_MINUTES),
                                             Inspection.at <= now)
                    .order_by(Inspection.at.desc(), Inspection.id.desc()).limit(1))


def _awaits_evidence(s: Session, actor, now: datetime) -> bool:
    return actor.staff is not None and _latest_by(s, actor.label, now) is not None


def evidence(ctx: Ctx) -> str:
    """A screenshot sent with ``检查`` or alone within 10 minutes after it: kept as that check's evidence."""
    row = _latest_by(ctx.session, ctx.actor.label, ctx.now)
    if row is None:
        raise Refusal(texts.INSPECTION_EVIDENCE_TOO_LATE.format(minutes=EVIDENCE_MINUTES))
    add_evidence(ctx.session, row, ctx.event.sha256, f"{ctx.message.msg_id}.img", at=ctx.now, actor=ctx.actor.label,
                 source=ctx.message.source)
    file_refs.keep_after_commit(ctx.session, ctx.files, ctx.event.sha256, ctx.event.data)
    count = ctx.session.scalar(select(func.count()).select_from(InspectionEvidence)
                               .where(InspectionEvidence.inspection_id == row.id))
    return texts.INSPECTION_EVIDENCE_SAVED.format(count=count, number=row.id, code=_class_code(ctx.session, row))


def _class_code(s: Session, row: Inspection) -> str:
    return s.get(Klass, row.class_id).code


@command("检查", roles=INSPECTOR, acts_on=_class_named, on_download=evidence, pictures_after=_awaits_evidence)
def inspect(ctx: Ctx) -> list[str]:
    """检查 班级编号 视频|直播|电话 应到 实到：督查人员记录一次检查（随后发截图作证据）"""
    tokens = ctx.args.split()
    if ctx.klass is None or len(tokens) != 4 or not tokens[2].isdigit() or not tokens[3].isdigit():
        raise Refusal(texts.INSPECTION_USAGE)
    kind = texts.INSPECTION_KIND_WORDS.get(tokens[1])
    if kind is None:
        raise Refusal(texts.INSPECTION_BAD_KIND.format(value=tokens[1]))
    row = record(ctx.session, ctx.klass, level=level_of(ctx.session, ctx.actor.staff.id), kind=kind,
                 expected=int(tokens[2]), found=int(tokens[3]), by=ctx.actor.label, at=ctx.now,
                 source=ctx.message.source)
    return [summary_line(ctx.klass, row, ctx.now.tzinfo) + texts.INSPECTION_EVIDENCE_HINT.format(
        minutes=EVIDENCE_MINUTES)]
