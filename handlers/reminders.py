"""Reminders (R21): the bot urges trainees itself, at times set in the profile, and records whom.

* when each session's check-in window opens, a reminder in the class group (``reminders.checkin``);
* at ``reminders.evening``, a 1:1 reminder to each trainee whose day is short — no counted check-in
  for a session whose window has closed, no counted photo, minutes below the day's line — naming
  what is missing; and to trainees on approved leave, a make-up reminder (replay the missed lessons). In a
  class counted by attendance (R12) the day's minutes are those its check-ins and check-outs earned, and a
  replay earns nothing: no make-up reminder, no replay hint;
* ``reminders.spot_checks_before_end_min`` before the day's class time ends, a reminder to the class
  teacher (1:1 where DingTalk can reach them, else in the class group) when the day's spot checks
  (R10, ``duties.spot_checks_per_day``) are still missing.

Each reminder is a ``Reminder`` row unique per (kind, recipient, slot), inserted before the message is
queued: it is never sent twice for the same slot, by a re-run or a second scheduler. A trainee with
no DingTalk staff id (outside the organisation) cannot be messaged 1:1 and is left out (counted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers import outbox, spot_checks, timetable
from handlers.texts import chat as chat_texts
from handlers.texts import supervision as texts
from handlers.classes import profile_of
from handlers.dates import day_text
from handlers.qualification import by_attendance, day_threshold
from handlers.registry import Ctx, job
from handlers.rollcall import class_days, staff_ids
from storage import reports
from storage.models import (
    ClassSession,
    ClassStatus,
    DingTalkIdentity,
    Enrollment,
    Group,
    Klass,
    Punch,
    Reminder,
    Staff,
    StaffRole,
)

log = logging.getLogger(__name__)
CHECKIN, SHORT_DAY, MAKEUP, SPOT_CHECK = "checkin", "short_day", "makeup", "spot_check"
LATE_START = timedelta(minutes=10)  # a check-in reminder is not sent later than this after the window opened


@dataclass
class Sent:
    checkin: int = 0
    short_day: int = 0
    makeup: int = 0
    spot_check: int = 0
    unreachable: int = 0


def _record(s: Session, kind: str, klass: Klass, recipient: str, slot: str, reason: str, now: datetime) -> bool:
    """Insert the reminder's row; False if this (kind, recipient, slot) was sent before."""
    try:
        with s.begin_nested():
            s.add(Reminder(kind=kind, class_id=klass.id, recipient=recipient, slot=slot, reason=reason[:500],
                           sent_at=now))
            s.flush()
    except IntegrityError:
        return False
    return True


def running(s: Session, today: date) -> list[Klass]:
    """Approved classes with a group that have a class day today."""
    classes = s.scalars(select(Klass).join(Group, Group.class_id == Klass.id)
                        .where(Klass.status.in_(ClassStatus.COUNTING), Klass.start_date <= today,
                               Klass.end_date >= today).distinct().order_by(Klass.id))
    return [k for k in classes if today in class_days(s, k, today)]


def _conversation(s: Session, klass: Klass) -> str | None:
    return s.scalar(select(Group.open_conversation_id).where(Group.class_id == klass.id).order_by(Group.id).limit(1))


def checkin_reminders(s: Session, klass: Klass, now: datetime, sent: Sent | None = None) -> Sent:
    """R21: a group reminder for every session of ``klass`` whose check-in window opened in the last minutes."""
    sent = sent or Sent()
    today = now.date()
    profile = profile_of(klass)
    conversation = _conversation(s, klass)
    if not profile.reminders.checkin or conversation is None or today not in class_days(s, klass, today):
        return sent
    rules = profile.attendance
    for sess in s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id)):
        start = datetime.combine(today, sess.start_time, now.tzinfo)
        opens = start - timedelta(minutes=rules.checkin_opens_before_min)
        if not opens <= now < opens + LATE_START:
            continue
        slot = f"{today.isoformat()}:{sess.position}"
        if not _record(s, CHECKIN, klass, f"group:{klass.id}", slot, sess.name, now):
            continue
        closes = start + timedelta(minutes=rules.checkin_closes_after_min)
        outbox.queue_group_message(s, conversation, texts.REMIND_CHECKIN.format(
            session=sess.name, start=start, opens=opens, closes=closes),
            f"remind:checkin:{klass.id}:{slot}", None, now)
        sent.checkin += 1
    return sent


def _evening(klass: Klass) -> time | None:
    try:
        return time.fromisoformat(profile_of(klass).reminders.evening)
    except ValueError:
        log.warning("class %s: reminders.evening is not HH:MM", klass.code)
        return None


def evening_reminders(s: Session, klass: Klass, now: datetime, sent: Sent | None = None) -> Sent:
    """R21: 1:1 reminders to the trainees of ``klass`` whose day is short, and make-up reminders for leave."""
    sent = sent or Sent()
    today = now.date()
    evening = _evening(klass)
    if evening is None or now.time() < evening or today not in class_days(s, klass, today):
        return sent
    profile = profile_of(klass)
    threshold = day_threshold(timetable.timetable_of(s, klass), today, profile)
    attendance = by_attendance(profile)  # R12: only the minutes earned by check-in and check-out count
    lines = reports.trainee_days(s, klass.id, today, threshold, attendance)
    missing_sessions = _missed_checkins(s, klass, today, now)
    uids = staff_ids(s, [line.enrollment_id for line in lines])
    for line in lines:
        if line.leave == "approved":
            if attendance:  # R12: a replay earns no hours in a class counted by attendance
                continue
            kind, text = MAKEUP, texts.REMIND_MAKEUP.format(name=line.name, day=day_text(today))
            reason = "leave"
        else:
            missing = []
            if missing_sessions.get(line.enrollment_id):
                missing.append(texts.REMIND_MISSING["checkin"].format(
                    sessions="、".join(missing_sessions[line.enrollment_id])))
            if not line.photo:
                missing.append(texts.REMIND_MISSING["photo"])
            if not line.day_ok:
                missing.append(texts.REMIND_MISSING["minutes"].format(minutes=line.study_minutes,
                                                                     threshold=threshold))
            if not missing:
                continue
            kind, reason = SHORT_DAY, "；".join(missing)
            text = texts.REMIND_SHORT_DAY.format(name=line.name, day=day_text(today), missing="、".join(missing),
                                                 replay=texts.REMIND_REPLAY if not (line.day_ok or attendance) else "")
        uid = uids.get(line.enrollment_id)
        if uid is None:
            sent.unreachable += 1
            continue
        recipient = f"enrollment:{line.enrollment_id}"
        if not _record(s, kind, klass, recipient, today.isoformat(), reason, now):
            continue
        outbox.queue_oto(s, [uid], text, f"remind:{kind}:{line.enrollment_id}:{today.isoformat()}", None, now)
        setattr(sent, kind, getattr(sent, kind) + 1)
    return sent


def class_time_ends(s: Session, klass: Klass, day: date, tz) -> datetime | None:
    """The end of the last session the timetable holds on ``day`` (None: no class that day)."""
    slots = timetable.sessions_on(timetable.timetable_of(s, klass), day)
    return datetime.combine(day, max(slot.end for slot in slots), tz) if slots else None


def spot_check_due(s: Session, klass: Klass, now: datetime) -> datetime | None:
    """R10/R21: the end of today's class time if the spot-check reminder is due now (from
    ``spot_checks_before_end_min`` before it until the day is over), else None."""
    ends = class_time_ends(s, klass, now.date(), now.tzinfo)
    if ends is None:
        return None
    before = timedelta(minutes=profile_of(klass).reminders.spot_checks_before_end_min)
    return ends if now >= ends - before else None


def _class_teachers(s: Session, klass: Klass) -> list[tuple[Staff, str | None]]:
    """The class's class teachers with their DingTalk staff id (None: outside the organisation)."""
    rows = s.execute(select(Staff, DingTalkIdentity.staff_user_id)
                     .join(StaffRole, StaffRole.staff_id == Staff.id)
                     .outerjoin(DingTalkIdentity, DingTalkIdentity.staff_id == Staff.id)
                     .where(StaffRole.role == "class_teacher", StaffRole.class_id == klass.id)
                     .order_by(Staff.id, DingTalkIdentity.staff_user_id)).all()
    found: dict[int, tuple[Staff, str | None]] = {}
    for staff, uid in rows:
        if found.get(staff.id, (staff, None))[1] is None:
            found[staff.id] = (staff, uid)
    return list(found.values())


def spot_check_reminders(s: Session, klass: Klass, now: datetime, sent: Sent | None = None) -> Sent:
    """R10/R21: when today's spot checks are still short near the end of class time, remind the class
    teacher — 1:1 where DingTalk can reach them, otherwise in the class group — once per class day."""
    sent = sent or Sent()
    today = now.date()
    ends = spot_check_due(s, klass, now)
    if ends is None:
        return sent
    short = spot_checks.missing(s, [klass], today)
    if not short:
        return sent
    done, required = short[0].done, short[0].required
    reason = f"{done}/{required}"
    slot = today.isoformat()
    teachers = _class_teachers(s, klass)
    reachable = [(staff, uid) for staff, uid in teachers if uid]
    for staff, uid in reachable:
        if not _record(s, SPOT_CHECK, klass, f"staff:{staff.id}", slot, reason, now):
            continue
        outbox.queue_oto(s, [uid], texts.REMIND_SPOT_CHECKS.format(
            name=staff.name, code=klass.code, day=day_text(today), done=done, required=required, ends=ends),
            f"remind:{SPOT_CHECK}:{klass.id}:{staff.id}:{slot}", None, now)
        sent.spot_check += 1
    if reachable:
        return sent
    conversation = _conversation(s, klass)  # nobody reachable 1:1: the class group, where the class teacher is
    if conversation is None or not _record(s, SPOT_CHECK, klass, f"group:{klass.id}", slot, reason, now):
        return sent
    name = "、".join(staff.name for staff, _ in teachers) or chat_texts.ROLE_NAMES["class_teacher"]
    outbox.queue_group_message(s, conversation, texts.REMIND_SPOT_CHECKS.format(
        name=name, code=klass.code, day=day_text(today), done=done, required=required, ends=ends),
        f"remind:{SPOT_CHECK}:{klass.id}:group:{slot}", None, now)
    sent.spot_check += 1
    return sent


CHECKIN_JOB, EVENING_JOB, SPOT_CHECK_JOB = "remind.checkin", "remind.evening", "remind.spot_checks"


@job(CHECKIN_JOB)
def checkin_job(ctx: Ctx) -> list[str]:
    """R21: the check-in reminders of ``ctx.klass`` due at ``ctx.now`` (each recorded once)."""
    checkin_reminders(ctx.session, ctx.klass, ctx.now)
    return []


@job(EVENING_JOB)
def evening_job(ctx: Ctx) -> list[str]:
    """R21: the evening reminders of ``ctx.klass`` (each recorded once)."""
    evening_reminders(ctx.session, ctx.klass, ctx.now)
    return []


def spot_checks_due(s: Session, now: datetime) -> list[Klass]:
    """R10/R21: the running classes whose spot-check reminder time has come today, still short of the
    day's spot checks and not reminded yet (the job's targets; the handler checks again)."""
    today = now.date()
    classes = [k for k in running(s, today) if spot_check_due(s, k, now) is not None]
    short = {x.klass.id for x in spot_checks.missing(s, classes, today)}
    reminded = set(s.scalars(select(Reminder.class_id).where(Reminder.kind == SPOT_CHECK,
                                                             Reminder.slot == today.isoformat())))
    return [k for k in classes if k.id in short and k.id not in reminded]


@job(SPOT_CHECK_JOB)
def spot_check_job(ctx: Ctx) -> list[str]:
    """R10/R21: the end-of-day spot-check reminder of ``ctx.klass`` (recorded once per class day)."""
    spot_check_reminders(ctx.session, ctx.klass, ctx.now)
    return []


def _missed_checkins(s: Session, klass: Klass, day: date, now: datetime) -> dict[int, list[str]]:
    """Per enrollment, the sessions of ``day`` whose check-in window has closed without a counted check-in."""
    rules = profile_of(klass).attendance
    closed = [sess for sess in s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id)
                                         .order_by(ClassSession.position))
              if datetime.combine(day, sess.start_time, now.tzinfo)
              + timedelta(minutes=rules.checkin_closes_after_min) <= now]
    if not closed:
        return {}
    done = set(s.execute(select(Punch.enrollment_id, Punch.session_id).where(
        Punch.day == day, Punch.kind == "in", Punch.session_id.in_([x.id for x in closed]))).all())
    result: dict[int, list[str]] = {}
    for (eid,) in s.execute(select(Enrollment.id).where(Enrollment.class_id == klass.id,
                                                        Enrollment.removed.is_(False))):
        names = [x.name for x in closed if (eid, x.id) not in done]
        if names:
            result[eid] = names
    return result
