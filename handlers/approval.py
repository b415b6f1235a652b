"""What the district's approval checks before a class may run (R02, R01, R03, R22).

``problems`` lists everything that stands in the way, so one refusal names them all (a district never
approves, finds the next problem, refuses again): a roster with trainees who may be trained (R04, R22),
the signed commitment letter (承诺书, 000 §一), a complete plan (teachers, platform, sessions), a timetable
with class days whose online lessons add up to the online hours (R01), and the online share within the
class's profile (R03), re-checked against the stored plan.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from handlers import timetable
from handlers.texts import classes as texts
from handlers.texts import supervision as supervision_texts
from handlers.errors import Refusal
from handlers.online_share import online_share_problem
from handlers.policy import Profile
from storage import ledger
from storage.db import ids_in
from storage.models import ClassStatus, ClassTransition, Enrollment, Klass, Person, RosterChange, TraineeMark

INELIGIBLE = "ineligible"  # R22: the trainee mark of someone the district found not eligible
CHINA = ZoneInfo("Asia/Shanghai")  # class days are dates in China, where the policies apply
ADD, REMOVE = "add", "remove"


def problems(s: Session, klass: Klass, profile: Profile) -> list[str]:
    """R02: every reason ``klass`` cannot be approved now, in Chinese; empty when it can."""
    found: list[str] = []
    active = s.scalar(select(func.count()).select_from(Enrollment)
                      .where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False))) or 0
    ineligible = s.scalar(select(func.count(func.distinct(TraineeMark.enrollment_id)))
                          .join(Enrollment, Enrollment.id == TraineeMark.enrollment_id)
                          .where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False),
                                 TraineeMark.kind == INELIGIBLE)) or 0
    if active == 0:
        found.append(texts.APPROVAL_NO_ROSTER)
    elif ineligible == active:
        found.append(texts.APPROVAL_ALL_INELIGIBLE.format(count=active))
    if not klass.commitment_sha256:
        found.append(texts.APPROVAL_NO_COMMITMENT)
    if not json.loads(klass.teachers or "[]"):
        found.append(texts.APPROVAL_NO_TEACHERS)
    if not (klass.platform_name or "").strip() or not (klass.platform_url or "").strip():
        found.append(texts.APPROVAL_NO_PLATFORM)
    tt = timetable.timetable_of(s, klass)
    if not tt.sessions:
        found.append(texts.APPROVAL_NO_SESSIONS)
    elif not timetable.class_days(tt):
        found.append(texts.APPROVAL_NO_CLASS_DAYS)
    elif tt.by_lessons and timetable.timetable_online_lessons(tt) != klass.online_hours:
        found.append(texts.APPROVAL_TIMETABLE_MISMATCH.format(lessons=timetable.timetable_online_lessons(tt),
                                                              online=klass.online_hours))
    share = online_share_problem(profile, total=klass.total_hours, online=klass.online_hours,
                                 theory=tt.theory_hours, occupation=klass.occupation, name=klass.name,
                                 online_approval=tt.online_approval)
    if share is not None:
        found.append(share)
    return found


# --- after approval: when counting starts, roster changes (R01, R02) --------------------------------


def approved_at(s: Session, klass: Klass) -> datetime | None:
    """When the district approved ``klass`` (R02), or None while it is not approved."""
    return approvals_at(s, [klass]).get(klass.id)


def approvals_at(s: Session, classes: Sequence[Klass]) -> dict[int, datetime]:
    """When the district last approved each of ``classes`` that is approved or filed (R02), in one query."""
    counting = [k.id for k in classes if k.status in ClassStatus.COUNTING]
    if not counting:
        return {}
    last = (select(func.max(ClassTransition.id)).where(ids_in(ClassTransition.class_id, counting),
                                                       ClassTransition.to_status == ClassStatus.APPROVED)
            .group_by(ClassTransition.class_id))
    return dict(s.execute(select(ClassTransition.class_id, ClassTransition.at).where(ClassTransition.id.in_(last))).all())


@cache
def approved_at() -> ScalarSelect:
    """When the district last approved the class of the enclosing query (R02), as a column of that query
    (see ``scope.class_row_for``); read with :func:`counting_from_at`. Built once: it takes no parameter, and
    an expression is never changed in place (issue 13: building it cost every request)."""
    return (select(ClassTransition.at)
            .where(ClassTransition.class_id == Klass.id, ClassTransition.to_status == ClassStatus.APPROVED)
            .order_by(ClassTransition.id.desc()).limit(1).correlate(Klass).scalar_subquery())


def counting_from_at(klass: Klass, at: datetime | None) -> date | None:
    """:func:`counting_from` given the class's :func:`approved_at` (None unless approved or filed)."""
    return at.astimezone(CHINA).date() if at is not None and klass.status in ClassStatus.COUNTING else None


def counting_from(s: Session, klass: Klass) -> date | None:
    """R02: the first day whose study minutes count — the day of the approval, in China's time; None while the
    class is not approved (then nothing counts for subsidy: ``qualification.eligible`` is false)."""
    return counting_from_each(s, [klass]).get(klass.id)


def counting_from_each(s: Session, classes: Sequence[Klass]) -> dict[int, date]:
    """:func:`counting_from` of each of ``classes`` that is approved (a class missing from the result: None)."""
    return {cid: at.astimezone(CHINA).date() for cid, at in approvals_at(s, classes).items()}


def after_approval(klass: Klass) -> bool:
    """Roster changes need the district's note once the class is approved (R02)."""
    return klass.status in ClassStatus.COUNTING


def record_roster_change(s: Session, klass: Klass, enrollment: Enrollment, kind: str, *, reason: str, actor: str,
                         source: str, now: datetime) -> RosterChange:
    """R02: a roster change of an approved class, recorded for the district to note."""
    change = RosterChange(class_id=klass.id, enrollment_id=enrollment.id, kind=kind, reason=reason,
                          requested_by=actor, requested_at=now)
    s.add(change)
    ledger.append(s, f"roster.{kind}", actor=actor, source=source, subject=change, class_code=klass.code,
                  reason=reason or None)
    return change


def remove_trainee(s: Session, klass: Klass, name: str, *, reason: str, actor: str, source: str,
                   now: datetime) -> RosterChange | None:
    """Take a trainee off the roster (marked removed with the reason, never deleted, R05/R16). After approval the
    removal is also a roster change the district notes (R02)."""
    reason = reason.strip()
    if not reason:
        raise Refusal(texts.ROSTER_REMOVE_NO_REASON)
    found = list(s.scalars(select(Enrollment).join(Person, Person.id == Enrollment.person_id)
                           .where(Enrollment.class_id == klass.id, Person.name == name.strip(),
                                  Enrollment.removed.is_(False))))
    if not found:
        raise Refusal(supervision_texts.MARK_NO_TRAINEE.format(code=klass.code, name=name))
    if len(found) > 1:
        raise Refusal(supervision_texts.MARK_SEVERAL.format(code=klass.code, count=len(found), name=name))
    (enrollment,) = found
    enrollment.removed, enrollment.removed_reason = True, reason
    enrollment.removed_by, enrollment.removed_at = actor, now
    ledger.append(s, "enrollment.removed", actor=actor, source=source, subject=enrollment, class_code=klass.code,
                  reason=reason)
    if after_approval(klass):
        return record_roster_change(s, klass, enrollment, REMOVE, reason=reason, actor=actor, source=source, now=now)
    return None


def pending_roster_changes(s: Session, klass: Klass) -> list[RosterChange]:
    return list(s.scalars(select(RosterChange).where(RosterChange.class_id == klass.id,
                                                     RosterChange.noted_at.is_(None)).order_by(RosterChange.id)))


def roster_changes(s: Session, klass: Klass) -> list[tuple[RosterChange, str]]:
    """Every roster change of ``klass`` with the trainee's name, oldest first."""
    return [(c, name) for c, name in s.execute(
        select(RosterChange, Person.name).join(Enrollment, Enrollment.id == RosterChange.enrollment_id)
        .join(Person, Person.id == Enrollment.person_id).where(RosterChange.class_id == klass.id)
        .order_by(RosterChange.id)).all()]


def pending_additions(s: Session, klass: Klass) -> set[int]:
    """R02: trainees added after approval whose addition the district has not noted: they do not count yet."""
    return {c.enrollment_id for c in pending_roster_changes(s, klass) if c.kind == ADD}


def note_roster_changes(s: Session, klass: Klass, *, note: str, actor: str, source: str,
                        now: datetime) -> list[RosterChange]:
    """R02: the district notes every pending roster change of ``klass`` (recorded with who, when and the note)."""
    pending = pending_roster_changes(s, klass)
    if not pending:
        raise Refusal(texts.ROSTER_NOTHING_TO_NOTE.format(code=klass.code))
    for change in pending:
        change.noted_by, change.noted_at, change.note = actor, now, note.strip()
        ledger.append(s, "roster.noted", actor=actor, source=source, subject=change, class_code=klass.code,
                      reason=note.strip() or None)
    return pending
