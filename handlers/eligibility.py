"""Class eligibility and trainee marks (R15).

If ``eligibility.failed_checks_limit`` (2) supervision checks of a class — roll calls (R13) or
inspections (R14) — pass fewer than ``eligibility.check_pass`` (80%), the class loses its subsidy
eligibility: a recorded status change (``EligibilityChange``), made once, in the ledger, shown on
the class's pages, exports, API summary and the daily report. Profiles where R15 is not in the seeds
(``enabled = false``) record the failed checks but change nothing.

A supervisor marks a trainee with a reason (``TraineeMark``, a ledger event): ``disqualified`` — data
abnormal (R15) — or ``ineligible`` — not among the people the policy may train, found when the district
re-checks the roster before training (R22, 003 第十三条). Either way the trainee never counts as qualified,
nor in the subsidy package or the qualified list (:func:`excluded_ids`).
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import approval, outbox
from handlers.texts import supervision as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.policy import Profile, format_percent
from storage import ledger
from storage.models import EligibilityChange, Enrollment, Group, Inspection, Klass, Person, RollCall, TraineeMark

DISQUALIFIED = "disqualified"  # R15
INELIGIBLE = approval.INELIGIBLE  # R22
KINDS = (DISQUALIFIED, INELIGIBLE)


def latest_change(s: Session, klass: Klass) -> EligibilityChange | None:
    return s.scalar(select(EligibilityChange).where(EligibilityChange.class_id == klass.id)
                    .order_by(EligibilityChange.id.desc()).limit(1))


def is_eligible(s: Session, klass: Klass) -> bool:
    change = latest_change(s, klass)
    return change is None or change.eligible


def ineligible_class_ids(s: Session, class_ids=None) -> set[int]:
    """The classes whose latest eligibility change took eligibility away (one query)."""
    latest = select(EligibilityChange.class_id, EligibilityChange.eligible,
                    EligibilityChange.id).order_by(EligibilityChange.class_id, EligibilityChange.id)
    if class_ids is not None:
        latest = latest.where(EligibilityChange.class_id.in_(class_ids))
    state: dict[int, bool] = {}
    for class_id, eligible, _ in s.execute(latest):
        state[class_id] = eligible
    return {cid for cid, ok in state.items() if not ok}


def failed_checks(s: Session, klass: Klass) -> list[str]:
    """The failed supervision checks of a class, described, oldest first."""
    found = []
    for rc in s.scalars(select(RollCall).where(RollCall.class_id == klass.id, RollCall.passed.is_(False))
                        .order_by(RollCall.started_at)):
        percent = format_percent(Fraction(rc.answered, rc.counted)) if rc.counted else "0%"
        found.append((rc.started_at, texts.INELIGIBLE_CHECK_ROLLCALL.format(number=rc.number, percent=percent)))
    for ins in s.scalars(select(Inspection).where(Inspection.class_id == klass.id, Inspection.passed.is_(False))
                         .order_by(Inspection.at)):
        percent = format_percent(Fraction(ins.found, ins.expected)) if ins.expected else "0%"
        found.append((ins.at, texts.INELIGIBLE_CHECK_INSPECTION.format(at=ins.at, kind=texts.INSPECTION_KINDS[ins.kind],
                                                                       percent=percent)))
    return [text for _, text in sorted(found, key=lambda pair: pair[0])]


def check_failed(s: Session, klass: Klass, now: datetime, *, actor: str, source: str) -> EligibilityChange | None:
    """R15: after a failed check, take eligibility away once the limit is reached (recorded once)."""
    rules = profile_of(klass).eligibility
    if not rules.enabled or not is_eligible(s, klass):
        return None
    failed = failed_checks(s, klass)
    if len(failed) < rules.failed_checks_limit:
        return None
    reason = texts.INELIGIBLE_REASON.format(count=len(failed), threshold=format_percent(rules.check_pass),
                                            checks="；".join(failed))
    change = EligibilityChange(class_id=klass.id, eligible=False, reason=reason, actor=actor, at=now)
    s.add(change)
    ledger.append(s, "class.ineligible", actor=actor, source=source, subject=change, class_code=klass.code)
    group = s.scalar(select(Group).where(Group.class_id == klass.id).limit(1))
    if group is not None:
        outbox.queue_group_message(s, group.open_conversation_id,
                                   texts.INELIGIBLE_NOTICE.format(code=klass.code, reason=reason),
                                   f"eligibility:{change.id}", None, now)
    return change


def mark_trainee(s: Session, klass: Klass, name: str, kind: str, reason: str, *, actor: str, source: str,
                 now: datetime) -> TraineeMark:
    """Mark a trainee of ``klass`` (by name) with a reason: ``disqualified`` for abnormal data (R15) or
    ``ineligible`` for not being among the policy's target groups (R22)."""
    reason = reason.strip()
    if not reason:
        raise Refusal(texts.MARK_NO_REASON)
    found = list(s.scalars(select(Enrollment).join(Person, Person.id == Enrollment.person_id)
                           .where(Enrollment.class_id == klass.id, Person.name == name.strip())))
    if not found:
        raise Refusal(texts.MARK_NO_TRAINEE.format(code=klass.code, name=name))
    if len(found) > 1:
        raise Refusal(texts.MARK_SEVERAL.format(code=klass.code, count=len(found), name=name))
    (enrollment,) = found
    return mark_enrollment(s, klass, enrollment, kind, reason, actor=actor, source=source, now=now)


def person_name(s: Session, enrollment: Enrollment) -> str:
    return s.get(Person, enrollment.person_id).name


def mark_enrollment(s: Session, klass: Klass, enrollment: Enrollment, kind: str, reason: str, *, actor: str,
                    source: str, now: datetime) -> TraineeMark:
    """Mark one enrollment (once per kind), with its reason, in the ledger."""
    if kind not in KINDS:
        raise ValueError(f"unknown trainee mark {kind!r}")
    reason = reason.strip()
    if not reason:
        raise Refusal(texts.MARK_NO_REASON)
    earlier = s.scalar(select(TraineeMark).where(TraineeMark.enrollment_id == enrollment.id, TraineeMark.kind == kind))
    if earlier is not None:
        raise Refusal(texts.MARK_EXISTS.format(name=person_name(s, enrollment), at=earlier.at,
                                               kind=texts.MARK_KINDS[kind]))
    mark = TraineeMark(enrollment_id=enrollment.id, kind=kind, reason=reason, actor=actor, at=now)
    s.add(mark)
    ledger.append(s, f"trainee.{kind}", actor=actor, source=source, subject=mark, class_code=klass.code)
    return mark


def marked_ids(s: Session, klass: Klass, *kinds: str) -> set[int]:
    """Enrollments of ``klass`` carrying a mark of one of ``kinds``."""
    return set(s.scalars(select(TraineeMark.enrollment_id).join(Enrollment, Enrollment.id == TraineeMark.enrollment_id)
                         .where(Enrollment.class_id == klass.id, TraineeMark.kind.in_(kinds))))


def disqualified_ids(s: Session, klass: Klass) -> set[int]:
    """R15: trainees disqualified for abnormal data."""
    return marked_ids(s, klass, DISQUALIFIED)


def ineligible_ids(s: Session, klass: Klass) -> set[int]:
    """R22: trainees the district found not eligible for this training."""
    return marked_ids(s, klass, INELIGIBLE)


def outside_target_groups(category: str, profile: Profile) -> bool:
    """R22: the trainee's 身份类别 names none of the profile's target groups, so the district should re-check them
    (and mark them ineligible if so); never when the profile lists no groups."""
    groups = profile.trainees.target_groups
    return bool(groups) and not any(group in category or category in group for group in groups)


def marks_by_enrollment(s: Session, klass: Klass) -> dict[int, str]:
    """R15, R22: each marked enrollment of ``klass`` and the kind of its first mark."""
    found: dict[int, str] = {}
    for enrollment_id, kind in s.execute(
            select(TraineeMark.enrollment_id, TraineeMark.kind).join(Enrollment, Enrollment.id == TraineeMark.enrollment_id)
            .where(Enrollment.class_id == klass.id).order_by(TraineeMark.id)):
        found.setdefault(enrollment_id, kind)
    return found


def excluded_ids(s: Session, klass: Klass) -> set[int]:
    """R15, R22: trainees who never count as qualified nor for subsidy, whatever their hours."""
    return marked_ids(s, klass, *KINDS)
