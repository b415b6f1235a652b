"""Classes: creation from a plan (R01, R03) and the approval workflow (R02).

R02's path: draft → submitted → approved (the district) → filed (the city). The district may instead
return a submitted plan to the institution with a reason (submitted → returned); the institution
corrects it and submits it again (returned → submitted). Approval checks the class first
(``handlers.approval``) and refuses with every problem listed. Each move is a ``ClassTransition`` row
and a ledger event, with who, when and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import approval, timetable
from handlers.texts import classes as texts
from handlers.errors import Refusal
from handlers.plans import Plan, check_plan, class_profile
from handlers.policy import PolicyError, Profile, load_profile
from storage import ledger
from storage.ledger import canonical
from storage.models import ClassSession, ClassStatus, ClassTransition, District, Enrollment, Group, Institution, Klass
from storage.types import utcnow

# R02: the only moves a class's status can make, and what each is called.
TRANSITIONS = {
    (ClassStatus.DRAFT, ClassStatus.SUBMITTED): "submit",
    (ClassStatus.SUBMITTED, ClassStatus.APPROVED): "approve",
    (ClassStatus.SUBMITTED, ClassStatus.RETURNED): "return",
    (ClassStatus.RETURNED, ClassStatus.SUBMITTED): "submit",
    (ClassStatus.APPROVED, ClassStatus.FILED): "file",
}


def get_class(s: Session, code: str) -> Klass:
    klass = s.scalar(select(Klass).where(Klass.code == code))
    if klass is None:
        raise Refusal(texts.NO_SUCH_CLASS.format(code=code))
    return klass


def _district(s: Session, name: str, actor: str, source: str) -> District:
    district = s.scalar(select(District).where(District.name == name))
    if district is None:
        district = District(name=name)
        s.add(district)
        ledger.append(s, "district.created", actor=actor, source=source, subject=district)
    return district


def _institution(s: Session, name: str, district: District, actor: str, source: str) -> Institution:
    inst = s.scalar(select(Institution).where(Institution.name == name))
    if inst is None:
        inst = Institution(name=name, district_id=district.id)
        s.add(inst)
        ledger.append(s, "institution.created", actor=actor, source=source, subject=inst)
    elif inst.district_id != district.id:
        other = s.get(District, inst.district_id)
        raise Refusal(texts.INSTITUTION_IN_OTHER_DISTRICT.format(name=name, district=other.name))
    return inst


def create_class(s: Session, plan: Plan, *, actor: str, source: str, default_policy: str,
                 commitment: tuple[str, str] | None = None, now: datetime | None = None) -> Klass:
    """Create a class from a validated plan and submit it for approval (R01, R02, R03).

    ``commitment`` is the signed 承诺书 as (file name, sha256 of the stored copy).
    """
    try:
        profile = class_profile(plan, default_policy)
    except PolicyError as exc:
        raise Refusal(str(exc)) from None
    check_plan(plan, profile)
    if s.scalar(select(Klass.id).where(Klass.code == plan.code)):
        raise Refusal(texts.CLASS_EXISTS.format(code=plan.code))
    district = _district(s, plan.district, actor, source)
    inst = _institution(s, plan.institution, district, actor, source)
    klass = Klass(
        code=plan.code, name=plan.name, occupation=plan.occupation, institution_id=inst.id,
        district_id=district.id, mode=plan.mode, start_date=plan.start_date, end_date=plan.end_date,
        total_hours=plan.total_hours, online_hours=plan.online_hours,
        lesson_minutes=profile.plan.lesson_minutes if plan.lesson_minutes is None else plan.lesson_minutes,
        policy=profile.name, overrides=canonical(dict(plan.overrides)), platform_name=plan.platform.name,
        platform_url=plan.platform.url, teachers=canonical(list(plan.teachers)),
        materials="\n".join(plan.materials), class_teacher=plan.class_teacher,
        commitment_name=commitment[0] if commitment else None,
        commitment_sha256=commitment[1] if commitment else None,
        live_ids=canonical(list(plan.live_ids)), status=ClassStatus.DRAFT,
    )
    s.add(klass)
    ledger.append(s, "class.created", actor=actor, source=source, subject=klass, class_code=klass.code)
    for position, session in enumerate(plan.sessions, start=1):
        row = ClassSession(class_id=klass.id, position=position, name=session.name,
                           start_time=session.start, end_time=session.end)
        s.add(row)
        ledger.append(s, "session.created", actor=actor, source=source, subject=row, class_code=klass.code)
    table = timetable.new_row(klass, timetable.from_plan(plan, klass.lesson_minutes))
    s.add(table)
    ledger.append(s, "timetable.created", actor=actor, source=source, subject=table, class_code=klass.code)
    _record_transition(s, klass, None, ClassStatus.DRAFT, actor, source, "", now)
    change_status(s, klass, ClassStatus.SUBMITTED, actor=actor, source=source, now=now)
    return klass


def change_status(s: Session, klass: Klass, to: str, *, actor: str, source: str, reason: str = "",
                  now: datetime | None = None) -> ClassTransition:
    """Move a class along R02's path; any other move is refused with where the class stands. The class
    row is locked first, so two people approving at once make one transition, not two. Approval is
    refused, listing every problem, unless ``handlers.approval`` finds none; a return needs a reason."""
    s.refresh(klass, with_for_update=True)
    if (klass.status, to) not in TRANSITIONS:
        raise Refusal(texts.BAD_TRANSITION.format(
            code=klass.code, current=texts.STATUS_NAMES[klass.status], target=texts.STATUS_NAMES[to]))
    if to == ClassStatus.RETURNED and not reason.strip():
        raise Refusal(texts.RETURN_NO_REASON)
    if to == ClassStatus.APPROVED:
        found = approval.problems(s, klass, profile_of(klass))
        if found:
            raise Refusal("\n".join([texts.APPROVAL_REFUSED.format(code=klass.code, count=len(found))]
                                     + [f"{n}. {p}" for n, p in enumerate(found, start=1)]))
    before = klass.status
    klass.status = to
    ledger.append(s, f"class.{TRANSITIONS[(before, to)]}", actor=actor, source=source, subject=klass,
                  class_code=klass.code, reason=reason or None)
    return _record_transition(s, klass, before, to, actor, source, reason, now)


def _record_transition(s, klass, before, to, actor, source, reason, now) -> ClassTransition:
    row = ClassTransition(class_id=klass.id, from_status=before, to_status=to, actor=actor, reason=reason,
                          at=now or utcnow())
    s.add(row)
    ledger.append(s, "class.transition", actor=actor, source=source, subject=row, class_code=klass.code)
    return row


def profile_of(klass: Klass) -> Profile:
    """The class's policy profile with its own overrides."""
    overrides = klass.overrides
    return load_profile(klass.policy, json.loads(overrides) if overrides and overrides != "{}" else None)


def counts_for_subsidy(klass: Klass) -> bool:
    """R02: only an approved or filed class counts attendance for subsidy."""
    return klass.status in ClassStatus.COUNTING


@dataclass(frozen=True)
class ClassLine:
    code: str
    name: str
    status: str
    start_date: date
    end_date: date
    trainees: int
    group_bound: bool


def list_classes(s: Session) -> list[ClassLine]:
    trainees = (select(Enrollment.class_id, func.count().label("n")).where(Enrollment.removed.is_(False))
                .group_by(Enrollment.class_id).subquery())
    groups = select(Group.class_id).distinct().subquery()
    rows = s.execute(
        select(Klass, func.coalesce(trainees.c.n, 0), groups.c.class_id.is_not(None))
        .outerjoin(trainees, trainees.c.class_id == Klass.id)
        .outerjoin(groups, groups.c.class_id == Klass.id)
        .order_by(Klass.start_date, Klass.code)
    ).all()
    return [ClassLine(k.code, k.name, k.status, k.start_date, k.end_date, n, bool(bound)) for k, n, bound in rows]
