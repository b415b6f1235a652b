"""Changes of a class's plan and timetable (R01: 003 第九条, 001 §五).

``request_change`` takes a whole new plan file for the class. Some things are the class itself and never
change (its code, institution, district, policy and overrides, lesson length) and sessions are never
removed (days may leave them out with ``[[days]]``); R03 is checked again. What differs is summarised in
Chinese lines, kept with the request.

* Before approval (submitted, returned) the change is part of the application: applied at once
  (``applied``); the district's approval then checks the class as it now stands (R02).
* After approval it is asked for at least ``plan.change_notice_days`` (3) days ahead of the day it takes effect
  (``effective_from``, default that earliest day) and may not rewrite any day before it: those days keep
  their class-day status, their sessions and their planned online minutes (R09). It takes effect when the
  district approves it (``decide``), never before and not after ``effective_from`` has passed; a refusal
  says why. A change of teachers is recorded as such, with who approved it (001 §五).

One change at a time is pending per class. Every request and decision is a ledger event; the class, its
sessions and its timetable row change through ledger events too.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import timetable
from handlers.texts import classes as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.plans import Plan, PlanError, check_plan, parse_plan
from handlers.timetable import Timetable
from storage import ledger
from storage.ledger import canonical
from storage.models import ClassSession, ClassStatus, ClassTimetable, District, Institution, Klass, PlanChange

APPLIED, PENDING, APPROVED, REFUSED = "applied", "pending", "approved", "refused"


def pending_change(s: Session, klass: Klass) -> PlanChange | None:
    return s.scalar(select(PlanChange).where(PlanChange.class_id == klass.id, PlanChange.status == PENDING))


def changes_of(s: Session, klass: Klass) -> list[PlanChange]:
    return list(s.scalars(select(PlanChange).where(PlanChange.class_id == klass.id).order_by(PlanChange.number)))


def request_change(s: Session, klass: Klass, plan_text: str, *, effective_from: date | None, reason: str, actor: str,
                   source: str, now: datetime, commitment: tuple[str, str] | None = None) -> PlanChange:
    """R01: record (and before approval, apply) a change of ``klass``'s plan to ``plan_text``; ``now`` is local."""
    if pending_change(s, klass) is not None:
        raise Refusal(texts.CHANGE_PENDING_EXISTS.format(code=klass.code))
    plan = parse_plan(plan_text)
    _fixed_fields(s, klass, plan)
    check_plan(plan, profile_of(klass))
    old_tt, new_tt = timetable.timetable_of(s, klass), timetable.from_plan(plan, klass.lesson_minutes)
    summary = describe(klass, old_tt, plan, commitment)
    if not summary:
        raise Refusal(texts.CHANGE_NOTHING.format(code=klass.code))
    today = now.date()
    approved = klass.status in ClassStatus.COUNTING
    if approved:
        earliest = today + timedelta(days=profile_of(klass).plan.change_notice_days)
        effective_from = effective_from or earliest
        if effective_from < earliest:
            raise Refusal(texts.CHANGE_TOO_LATE.format(days=profile_of(klass).plan.change_notice_days,
                                                       effective=effective_from, earliest=earliest))
        _keeps_the_past(old_tt, new_tt, effective_from)
    number = (s.scalar(select(func.max(PlanChange.number)).where(PlanChange.class_id == klass.id)) or 0) + 1
    row = PlanChange(class_id=klass.id, number=number, plan=plan_text, summary=canonical(summary),
                     teachers_changed=tuple(json.loads(klass.teachers or "[]")) != tuple(plan.teachers),
                     commitment_name=commitment[0] if commitment else None,
                     commitment_sha256=commitment[1] if commitment else None,
                     effective_from=effective_from or today, reason=reason.strip(),
                     status=PENDING if approved else APPLIED, requested_by=actor, requested_at=now)
    s.add(row)
    ledger.append(s, "plan.change_requested" if approved else "plan.changed", actor=actor, source=source,
                  subject=row, class_code=klass.code, reason=row.reason or None)
    if not approved:
        _apply(s, klass, plan, new_tt, row, actor=actor, source=source)
    return row


def decide(s: Session, klass: Klass, *, approve: bool, note: str, actor: str, source: str, now: datetime) -> PlanChange:
    """R01: the district approves (the change takes effect now) or refuses (with a reason) the pending change."""
    row = pending_change(s, klass)
    if row is None:
        raise Refusal(texts.CHANGE_NONE_PENDING.format(code=klass.code))
    note = note.strip()
    if approve:
        if now.date() > row.effective_from:
            raise Refusal(texts.CHANGE_EXPIRED.format(number=row.number, effective=row.effective_from))
        plan = parse_plan(row.plan)
        new_tt = timetable.from_plan(plan, klass.lesson_minutes)
        _keeps_the_past(timetable.timetable_of(s, klass), new_tt, row.effective_from)
    elif not note:
        raise Refusal(texts.CHANGE_REFUSE_NO_REASON)
    row.status, row.decided_by, row.decided_at, row.decision_note = (APPROVED if approve else REFUSED), actor, now, note
    ledger.append(s, f"plan.change_{row.status}", actor=actor, source=source, subject=row, class_code=klass.code,
                  reason=note or None)
    if approve:
        _apply(s, klass, plan, new_tt, row, actor=actor, source=source)
    return row


# --- checks ----------------------------------------------------------------------------------------


def _fixed_fields(s: Session, klass: Klass, plan: Plan) -> None:
    """What a change may not touch; every problem at once."""
    problems = []
    institution = s.get(Institution, klass.institution_id).name
    district = s.get(District, klass.district_id).name
    for field, old, new in (("code", klass.code, plan.code), ("institution", institution, plan.institution),
                            ("district", district, plan.district), ("policy", klass.policy, plan.policy or klass.policy),
                            ("overrides", klass.overrides or "{}", canonical(dict(plan.overrides))),
                            ("lesson_minutes", klass.lesson_minutes, plan.lesson_minutes or klass.lesson_minutes)):
        if old != new:
            problems.append(texts.CHANGE_FIXED_FIELD.format(field=field, label=texts.PLAN_FIELD_LABELS[field]))
    kept = {row.name for row in s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id))}
    dropped = sorted(kept - {session.name for session in plan.sessions})
    if dropped:
        problems.append(texts.CHANGE_SESSION_DROPPED.format(names="、".join(dropped)))
    if problems:
        raise PlanError(problems)


def rewritten_days(old: Timetable, new: Timetable, before: date) -> list[date]:
    """The days before ``before`` whose class-day status, sessions or planned online minutes would change."""
    first = min(old.start_date, new.start_date)
    days = (first + timedelta(days=n) for n in range(max((before - first).days, 0)))
    return [d for d in days if (timetable.is_class_day(old, d), [x.name for x in timetable.sessions_on(old, d)],
                                timetable.planned_online_minutes(old, d))
            != (timetable.is_class_day(new, d), [x.name for x in timetable.sessions_on(new, d)],
                timetable.planned_online_minutes(new, d))]


def _keeps_the_past(old: Timetable, new: Timetable, effective_from: date) -> None:
    changed = rewritten_days(old, new, effective_from)
    if changed:
        shown = "、".join(f"{d:%m-%d}" for d in changed[:5]) + ("等" if len(changed) > 5 else "")
        raise Refusal(texts.CHANGE_REWRITES_PAST.format(effective=effective_from, count=len(changed), days=shown))


# --- what changes ------------------------------------------------------------------------------------


def _sessions_text(slots) -> str:
    parts = []
    for slot in slots:
        extra = texts.CHANGE_PRACTICAL if slot.practical else (
            texts.CHANGE_ONLINE_LESSONS.format(n=slot.online_lessons) if slot.online_lessons is not None else "")
        parts.append(f"{slot.name} {slot.start:%H:%M}–{slot.end:%H:%M}{extra}")
    return "，".join(parts)


def _dates(values) -> str:
    return "、".join(d.isoformat() for d in sorted(values)) or texts.CHANGE_NONE


def describe(klass: Klass, old: Timetable, plan: Plan, commitment: tuple[str, str] | None = None) -> list[str]:
    """Each field the plan changes, as ``label：old → new`` (Chinese), in the plan's field order."""
    new = timetable.from_plan(plan, klass.lesson_minutes)
    pairs: list[tuple[str, Any, Any]] = [
        ("name", klass.name, plan.name), ("occupation", klass.occupation, plan.occupation),
        ("mode", texts.PLAN_MODE_LABELS.get(klass.mode, klass.mode), texts.PLAN_MODE_LABELS[plan.mode]),
        ("start_date", klass.start_date, plan.start_date), ("end_date", klass.end_date, plan.end_date),
        ("total_hours", klass.total_hours, plan.total_hours), ("online_hours", klass.online_hours, plan.online_hours),
        ("theory_hours", old.theory_hours, plan.theory_hours),
        ("platform.name", klass.platform_name, plan.platform.name), ("platform.url", klass.platform_url, plan.platform.url),
        ("teachers", "、".join(json.loads(klass.teachers or "[]")), "、".join(plan.teachers)),
        ("class_teacher", klass.class_teacher, plan.class_teacher),
        ("materials", "；".join(m for m in (klass.materials or "").splitlines() if m), "；".join(plan.materials)),
        ("live_ids", "、".join(json.loads(klass.live_ids or "[]")), "、".join(plan.live_ids)),
        ("sessions", _sessions_text(old.sessions), _sessions_text(new.sessions)),
        ("rest_weekdays", "、".join(map(str, sorted(old.rest_weekdays))) or texts.CHANGE_NONE,
         "、".join(map(str, sorted(new.rest_weekdays))) or texts.CHANGE_NONE),
        ("rest_dates", _dates(old.rest_dates), _dates(new.rest_dates)),
        ("extra_dates", _dates(old.extra_dates), _dates(new.extra_dates)),
        ("days", "；".join(f"{d:%m-%d} {'、'.join(n)}" for d, n in sorted(old.days.items())) or texts.CHANGE_NONE,
         "；".join(f"{d:%m-%d} {'、'.join(n)}" for d, n in sorted(new.days.items())) or texts.CHANGE_NONE),
        ("subsidy_standard", old.subsidy_standard, plan.subsidy_standard),
        ("online_approval", old.online_approval, plan.online_approval),
    ]
    lines = [texts.CHANGE_LINE.format(label=texts.PLAN_FIELD_LABELS[field], old=_shown(a), new=_shown(b))
             for field, a, b in pairs if _shown(a) != _shown(b)]
    if commitment is not None and commitment[1] != klass.commitment_sha256:
        lines.append(texts.CHANGE_LINE.format(label=texts.PLAN_FIELD_LABELS["commitment_file"],
                                              old=klass.commitment_name or texts.CHANGE_NONE, new=commitment[0]))
    return lines


def _shown(value: Any) -> str:
    if value is None or value == "":
        return texts.CHANGE_NONE
    return value.isoformat() if isinstance(value, date) else str(value)


# --- applying ----------------------------------------------------------------------------------------


def _apply(s: Session, klass: Klass, plan: Plan, tt: Timetable, change: PlanChange, *, actor: str, source: str) -> None:
    """The class, its sessions and its timetable become what ``plan`` says; each row's change is a ledger event."""
    klass.name, klass.occupation, klass.mode = plan.name, plan.occupation, plan.mode
    klass.start_date, klass.end_date = plan.start_date, plan.end_date
    klass.total_hours, klass.online_hours = plan.total_hours, plan.online_hours
    klass.platform_name, klass.platform_url = plan.platform.name, plan.platform.url
    klass.teachers, klass.class_teacher = canonical(list(plan.teachers)), plan.class_teacher
    klass.materials, klass.live_ids = "\n".join(plan.materials), canonical(list(plan.live_ids))
    if change.commitment_sha256:
        klass.commitment_name, klass.commitment_sha256 = change.commitment_name, change.commitment_sha256
    ledger.append(s, "class.changed", actor=actor, source=source, subject=klass, class_code=klass.code,
                  data={"change": change.number})
    rows = {row.name: row for row in s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id))}
    position = max((row.position for row in rows.values()), default=0)
    for session in plan.sessions:
        row = rows.get(session.name)
        if row is None:
            position += 1
            row = ClassSession(class_id=klass.id, position=position, name=session.name, start_time=session.start,
                               end_time=session.end)
            s.add(row)
            ledger.append(s, "session.created", actor=actor, source=source, subject=row, class_code=klass.code)
        elif (row.start_time, row.end_time) != (session.start, session.end):
            row.start_time, row.end_time = session.start, session.end
            ledger.append(s, "session.changed", actor=actor, source=source, subject=row, class_code=klass.code)
    table = s.scalar(select(ClassTimetable).where(ClassTimetable.class_id == klass.id))
    fresh = timetable.new_row(klass, tt)
    if table is None:
        s.add(fresh)
        ledger.append(s, "timetable.created", actor=actor, source=source, subject=fresh, class_code=klass.code)
    elif (table.spec, table.theory_hours, table.subsidy_standard) != (fresh.spec, fresh.theory_hours,
                                                                       fresh.subsidy_standard):
        table.spec, table.theory_hours, table.subsidy_standard = fresh.spec, fresh.theory_hours, fresh.subsidy_standard
        ledger.append(s, "timetable.changed", actor=actor, source=source, subject=table, class_code=klass.code)

