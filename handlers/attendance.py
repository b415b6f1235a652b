"""签到/签退 (R06): windows from the class's sessions and its profile; one punch per session and kind.

Each session (for recorded and platform classes: each daily Q&A time, 答疑) has a check-in window
around its start and a check-out window around its end; the windows open now decide which session a
punch is for. A check-in after the start is late, a check-out before the end early. A morning-only
class gets 1 + 1 punches a day, a morning-and-afternoon class 2 + 2: one check-in and one check-out per
session, which the unique constraint (trainee, day, session, kind) keeps so — not a profile setting. In a
class counted by attendance (R12) every punch re-computes the day's hours. In a recorded or platform
class, once a teacher opens a Q&A session (``答疑开始``) that is one of the day's Q&A times, its windows
follow the Q&A as held (``handlers.qa_attendance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import hours, qa_attendance, timetable
from handlers.texts import chat as texts
from handlers.classes import counts_for_subsidy, profile_of
from handlers.errors import Refusal
from handlers.registry import IN_GROUP, TRAINEE, Ctx, command
from storage import ledger
from storage.models import ClassSession, Klass, Punch, QaSession
from storage.rows import insert_row

IN, OUT = "in", "out"
_PUNCHES = Punch.__table__


@dataclass(frozen=True)
class Window:
    session: ClassSession
    opens: datetime
    closes: datetime
    due: datetime  # the session's start (check-in) or end (check-out)
    qa: QaSession | None = None  # R06: the Q&A session this Q&A time is today (recorded, platform)
    running: bool = False  # a check-out while that Q&A is still running: early whatever the clock says

    @property
    def label(self) -> str:
        if self.qa is None:
            return self.session.name
        return texts.QA_PUNCH_SESSION.format(session=self.session.name, number=self.qa.number)


def _at(day_start: datetime, t: time) -> datetime:
    return day_start.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0)


def windows(s: Session, klass: Klass, kind: str, now: datetime,
            table: timetable.Timetable | None = None) -> list[Window]:
    """R06: check-in opens N min before start and closes M after; check-out likewise around the end.
    Only the sessions the timetable holds that day (R01). In recorded and platform classes a Q&A time
    whose Q&A session has opened follows that session's real start and end (R06, ``qa_attendance``).
    ``table``: the class's timetable, when the caller has it already."""
    rules = profile_of(klass).attendance
    table = table if table is not None else timetable.timetable_of(s, klass)
    held = {slot.name for slot in timetable.sessions_on(table, now.date())}
    linked = qa_attendance.links(s, klass, now.date(), now.tzinfo)
    result = []
    for session in timetable.class_sessions(s, klass):
        if session.name not in held:
            continue
        if kind == IN:
            due = _at(now, session.start_time)
            opens = due - timedelta(minutes=rules.checkin_opens_before_min)
            closes = due + timedelta(minutes=rules.checkin_closes_after_min)
        else:
            due = _at(now, session.end_time)
            opens = due - timedelta(minutes=rules.checkout_opens_before_min)
            closes = due + timedelta(minutes=rules.checkout_closes_after_min)
        qa = linked.get(session.id)
        result.append(Window(session, opens, closes, due) if qa is None else _held(qa, kind, opens, closes, due, rules,
                                                                                   now.tzinfo, session))
    return result


def _held(qa: QaSession, kind: str, opens: datetime, closes: datetime, due: datetime, rules, tz,
          session: ClassSession) -> Window:
    """R06: the windows of a Q&A time whose Q&A session has opened: check-in closes the profile's minutes
    after 答疑开始 (late after it); check-out is early while the Q&A runs and open the profile's minutes
    after 答疑结束."""
    started = qa.started_at.astimezone(tz)
    if kind == IN:
        return Window(session, min(opens, started), started + timedelta(minutes=rules.checkin_closes_after_min),
                      started, qa)
    if qa.ended_at is None:
        return Window(session, opens, closes, due, qa, running=True)
    ended = qa.ended_at.astimezone(tz)
    return Window(session, min(opens, ended), ended + timedelta(minutes=rules.checkout_closes_after_min), ended, qa)


def punch(ctx: Ctx, kind: str) -> str:
    klass, now = ctx.klass, ctx.now
    day = now.date()
    table = timetable.timetable_of(ctx.session, klass)
    if not timetable.is_class_day(table, day):  # R01: rest days too
        raise Refusal(texts.NOT_A_CLASS_DAY.format(start=klass.start_date, end=klass.end_date))
    all_windows = windows(ctx.session, klass, kind, now, table)
    open_now = [w for w in all_windows if w.opens <= now <= w.closes]
    label = texts.PUNCH_NAMES[kind]
    if not open_now:
        spans = "，".join(f"{w.label} {w.opens:%H:%M}–{w.closes:%H:%M}" for w in all_windows)
        raise Refusal(texts.OUTSIDE_WINDOW.format(kind=label, spans=spans))
    candidates = open_now
    if len(open_now) > 1:  # windows of close sessions overlap: the first open one not yet punched
        done = set(ctx.session.scalars(select(Punch.session_id).where(
            Punch.enrollment_id == ctx.actor.enrollment.id, Punch.day == day, Punch.kind == kind,
            Punch.session_id.in_([w.session.id for w in open_now]))))
        candidates = [w for w in open_now if w.session.id not in done] or open_now[-1:]
    window = candidates[0]
    late = kind == IN and now > window.due
    early = kind == OUT and (now < window.due or window.running)
    enrollment = ctx.actor.enrollment
    row = insert_row(ctx.session, _PUNCHES, {  # Core, no ORM object: nothing here reads the punch back
        "enrollment_id": enrollment.id, "day": day, "session_id": window.session.id, "kind": kind, "at": now,
        "late": late, "early": early, "counts": counts_for_subsidy(klass), "source": ctx.message.source})
    if row is None:  # one punch per trainee, day, session and kind
        earlier = ctx.session.scalar(select(Punch.at).where(
            Punch.enrollment_id == enrollment.id, Punch.day == day, Punch.kind == kind,
            Punch.session_id == window.session.id))
        raise Refusal(texts.ALREADY_PUNCHED.format(session=window.session.name, kind=label,
                                                   at=earlier.astimezone(now.tzinfo)))
    ledger.append_inserted(ctx.session, f"punch.{kind}", actor=ctx.actor.label, source=ctx.message.source,
                           table=_PUNCHES, row=row, chain=enrollment.class_id, class_code=klass.code)
    hours.record_attendance(ctx.session, klass, enrollment.id, day, actor=ctx.actor.label,
                            source=ctx.message.source)  # R12, for classes counted by attendance
    reply = texts.PUNCHED.format(kind=label, at=now, session=window.label)
    if late:
        reply += texts.LATE.format(due=window.due)
    if early:
        reply += texts.EARLY_QA_RUNNING if window.running else texts.EARLY.format(due=window.due)
    if not row["counts"]:
        reply += texts.NOT_COUNTED_YET
    return reply


@command("签到", aliases=("打卡",), roles=TRAINEE, where=IN_GROUP)
def check_in(ctx: Ctx) -> str:
    """签到：每个时段开始前后在群里 @我 发送“签到”"""
    return punch(ctx, IN)


@command("签退", roles=TRAINEE, where=IN_GROUP)
def check_out(ctx: Ctx) -> str:
    """签退：每个时段结束前后在群里 @我 发送“签退”"""
    return punch(ctx, OUT)
