"""Reminders (R21): the bot urges trainees itself, at times set in the profile, and records whom.

* when each session's check-in window opens, a reminder in the class group (``reminders.checkin``);
* at ``reminders.evening``, a 1:1 reminder to each trainee whose day is short — no counted check-in
  for a session whose window has closed, no counted photo, minutes below the day's line — naming
  what is missing; and to trainees on approved leave, a make-up reminder (replay the missed lessons).

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

from handlers import outbox, texts, timetable
from handlers.classes import profile_of
from handlers.dates import day_text
from handlers.qualification import day_threshold
from handlers.registry import Ctx, job
from handlers.rollcall import class_days, staff_ids
from storage import reports
from storage.models import ClassSession, ClassStatus, Enrollment, Group, Klass, Punch, Reminder

log = logging.getLogger(__name__)
CHECKIN, SHORT_DAY, MAKEUP = "checkin", "short_day", "makeup"
LATE_START = timedelta(minutes=10)  # a check-in reminder is not sent later than this after the window opened


@dataclass
class Sent:
    checkin: int = 0
    short_day: int = 0
    makeup: int = 0
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
    threshold = day_threshold(timetable.timetable_of(s, klass), today, profile_of(klass))
    lines = reports.trainee_days(s, klass.id, today, threshold)
    missing_sessions = _missed_checkins(s, klass, today, now)
    uids = staff_ids(s, [line.enrollment_id for line in lines])
    for line in lines:
        if line.leave == "approved":
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
                                                 replay=texts.REMIND_REPLAY if not line.day_ok else "")
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


CHECKIN_JOB, EVENING_JOB = "remind.checkin", "remind.evening"


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
