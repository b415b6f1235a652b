"""R06 for recorded and platform classes: the daily Q&A (答疑) is the check-in/out session.

"每日在线答疑开始和结束学员需在班级群签到签退…上午答疑的，签到签退各1次；上下午均有答疑的各2次"
(seed 000 §二(一)2(1)). In those classes the plan's sessions are the daily Q&A times: they say how
many check-ins and check-outs a day holds and when their windows are, as in a live class. A Q&A
session a teacher opens with ``答疑开始`` *is* one of those sessions: from then on the check-in and
check-out windows follow the Q&A as it is actually held, with the same rule (the profile's windows):

* check-in closes ``checkin_closes_after_min`` after ``答疑开始``; a check-in after it is late;
* while the Q&A runs, a check-out (inside the planned check-out window) is early: the Q&A has not ended;
* after ``答疑结束`` check-out is open until ``checkout_closes_after_min`` after it, not early.

Which of the day's Q&A times a Q&A session is (:func:`links`) follows from the records alone: the
day's Q&A sessions in the order they opened each take the free Q&A time whose planned span (check-in
opening to check-out closing) holds their start, else the next one to come. A Q&A opened when every Q&A
time of the day has passed or is taken, or on a day without class, is held but is not a check-in session.
Punches stay on the class session (``punches.session_id``), so the tallies, R12 hours and reminders
count them as before; the Q&A session's attendance is the punches of its session that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import timetable
from handlers.classes import profile_of
from storage.models import ClassSession, Klass, Punch, QaSession

QA_MODES = ("recorded", "platform")


def applies(klass: Klass) -> bool:
    """R06: in recorded and platform classes the sessions are the daily Q&A times."""
    return klass.mode in QA_MODES


def held_sessions(s: Session, klass: Klass, day: date) -> list[ClassSession]:
    """The class sessions the timetable holds on ``day`` (R01), in order."""
    names = {slot.name for slot in timetable.sessions_on(timetable.timetable_of(s, klass), day)}
    return [x for x in s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id)
                                 .order_by(ClassSession.position)) if x.name in names]


def _span(klass: Klass, sess: ClassSession, start: datetime) -> tuple[datetime, datetime]:
    """The session's planned span on ``start``'s day: check-in opening to check-out closing."""
    rules = profile_of(klass).attendance
    first = datetime.combine(start.date(), sess.start_time, start.tzinfo) - timedelta(
        minutes=rules.checkin_opens_before_min)
    last = datetime.combine(start.date(), sess.end_time, start.tzinfo) + timedelta(
        minutes=rules.checkout_closes_after_min)
    return first, last


def links(s: Session, klass: Klass, day: date, tz) -> dict[int, QaSession]:
    """R06: the day's Q&A sessions that are check-in sessions, by the class session (Q&A time) each is."""
    if not applies(klass):
        return {}
    free = held_sessions(s, klass, day)
    linked: dict[int, QaSession] = {}
    for qa in s.scalars(select(QaSession).where(QaSession.class_id == klass.id, QaSession.day == day)
                        .order_by(QaSession.started_at, QaSession.id)):
        start = qa.started_at.astimezone(tz)
        spans = {x.id: _span(klass, x, start) for x in free}
        ahead = [x for x in free if spans[x.id][1] >= start]  # a Q&A time already over is not taken later
        if not ahead:
            continue
        best = min(ahead, key=lambda x: (max(0.0, (spans[x.id][0] - start).total_seconds()), x.position))
        linked[best.id] = qa
        free.remove(best)
    return linked


def session_of(s: Session, klass: Klass, qa: QaSession, tz) -> ClassSession | None:
    """The Q&A time (class session) ``qa`` is, or None when it is not a check-in session."""
    for session_id, linked in links(s, klass, qa.day, tz).items():
        if linked.id == qa.id:
            return s.get(ClassSession, session_id)
    return None


@dataclass(frozen=True)
class Attendance:
    session: str  # the Q&A time's name (上午, 下午)
    checked_in: int
    checked_out: int


def attendance(s: Session, klass: Klass, tz) -> dict[int, Attendance]:
    """Per Q&A session id of ``klass`` that is a check-in session: its check-ins and check-outs (SQL counts)."""
    if not applies(klass):
        return {}
    days = list(s.scalars(select(QaSession.day).where(QaSession.class_id == klass.id).distinct()))
    pairs = {(day, session_id): qa for day in days for session_id, qa in links(s, klass, day, tz).items()}
    if not pairs:
        return {}
    counts: dict[tuple[date, int, str], int] = {}
    for day, session_id, kind, n in s.execute(
            select(Punch.day, Punch.session_id, Punch.kind, func.count(Punch.id))
            .where(Punch.session_id.in_({sid for _, sid in pairs}), Punch.day.in_({d for d, _ in pairs}))
            .group_by(Punch.day, Punch.session_id, Punch.kind)):
        counts[(day, session_id, kind)] = n
    names = dict(s.execute(select(ClassSession.id, ClassSession.name).where(ClassSession.class_id == klass.id)).all())
    return {qa.id: Attendance(names[sid], counts.get((day, sid, "in"), 0), counts.get((day, sid, "out"), 0))
            for (day, sid), qa in pairs.items()}
