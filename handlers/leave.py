"""请假 (R07): asked before the day's first session starts, decided by the class teacher.

``请假 [日期] <原因>`` is accepted for a class day from today on, and only until
``leave.deadline_before_first_session_min`` minutes before that day's first session starts. The
request's id is its number: the class teacher sees the pending ones numbered (``请假列表``, and in
``统计``) and answers ``准假 <编号>`` or ``驳回 <编号> [理由]``. A decision is final (a second one is
refused); one made outside the class group is also posted to the group, so the trainee learns it.

Missed time is made up by replay (R07, 000 §二(一)1(6)). Viewing statistics are per lesson: the replay
minutes a trainee watches later appear in a later export (or live pull) against the lesson's own day,
so importing that export makes them count toward the day they make up — see ``handlers.hours``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import outbox, timetable
from handlers.texts import chat as texts
from handlers.classes import profile_of
from handlers.dates import day_text, parse_day
from handlers.errors import Refusal
from handlers.registry import CLASS_TEACHER, TRAINEE, Ctx, command
from storage import ledger
from storage.models import ClassSession, Enrollment, Group, Klass, LeaveRequest, Person, Punch

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
MAX_REASON = 200
_NUMBER = re.compile(r"(?:编号|#|No\.?)?\s*(\d{1,9})\s*号?", re.IGNORECASE)


def first_session_start(s: Session, klass: Klass, day_start: datetime) -> datetime | None:
    start = s.scalar(select(func.min(ClassSession.start_time)).where(ClassSession.class_id == klass.id))
    if start is None:
        return None
    return day_start.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)


@command("请假", roles=TRAINEE)
def ask(ctx: Ctx) -> str:
    """请假：当天开课前发送“请假 [日期] 原因”，如“请假 12月3日 孩子生病”"""
    s, klass, now = ctx.session, ctx.klass, ctx.now
    today = now.date()
    tokens = ctx.args.split(maxsplit=1)
    day = parse_day(tokens[0], today, strict=True) if tokens else None
    reason = (tokens[1] if len(tokens) > 1 else "") if day is not None else ctx.args
    reason = reason.strip()[:MAX_REASON]
    day = day or today
    if not reason:
        raise Refusal(texts.LEAVE_USAGE)
    if day < today:
        raise Refusal(texts.LEAVE_PAST.format(day=day_text(day)))
    if not timetable.is_class_day(timetable.timetable_of(s, klass), day):  # R01: rest days need no leave
        raise Refusal(texts.LEAVE_NOT_A_CLASS_DAY.format(day=day_text(day), start=day_text(klass.start_date),
                                                         end=day_text(klass.end_date)))
    day_start = now.replace(year=day.year, month=day.month, day=day.day)
    first = first_session_start(s, klass, day_start)
    if first is not None:
        deadline = first - timedelta(minutes=profile_of(klass).leave.deadline_before_first_session_min)
        if now >= deadline:
            raise Refusal(texts.LEAVE_TOO_LATE.format(day=day_text(day), deadline=deadline))
    enrollment = ctx.actor.enrollment
    earlier = s.scalar(select(LeaveRequest).where(LeaveRequest.enrollment_id == enrollment.id,
                                                  LeaveRequest.day == day))
    if earlier is not None:
        raise Refusal(texts.LEAVE_EXISTS.format(day=day_text(day), number=earlier.id,
                                                status=texts.LEAVE_STATUS[earlier.status]))
    if s.scalar(select(Punch.id).where(Punch.enrollment_id == enrollment.id, Punch.day == day).limit(1)):
        raise Refusal(texts.LEAVE_ALREADY_PUNCHED.format(day=day_text(day)))
    row = LeaveRequest(enrollment_id=enrollment.id, day=day, reason=reason, status=PENDING, requested_at=now,
                       source=ctx.message.source)
    s.add(row)
    ledger.append(s, "leave.requested", actor=ctx.actor.label, source=ctx.message.source, subject=row,
                  class_code=klass.code)
    return texts.LEAVE_REQUESTED.format(day=day_text(day), reason=reason, number=row.id)


# --- the class teacher ----------------------------------------------------------------------------


def _number(args: str) -> int | None:
    match = _NUMBER.match(args.strip())
    return int(match.group(1)) if match else None


def _class_of_request(s: Session, args: str, here: Klass | None) -> Klass | None:
    number = _number(args)
    row = s.get(LeaveRequest, number) if number is not None else None
    if row is None:
        return None
    return s.scalar(select(Klass).join(Enrollment, Enrollment.class_id == Klass.id)
                    .where(Enrollment.id == row.enrollment_id))


def class_here_or_named(s: Session, args: str, here: Klass | None) -> Klass | None:
    tokens = args.split()
    if here is not None or not tokens:
        return here
    return s.scalar(select(Klass).where(Klass.code == tokens[0]))


@command("准假", roles=CLASS_TEACHER, acts_on=_class_of_request)
def approve(ctx: Ctx) -> str:
    """准假：班主任发送“准假 编号”批准请假"""
    return _decide(ctx, APPROVED)


@command("驳回", roles=CLASS_TEACHER, acts_on=_class_of_request)
def reject(ctx: Ctx) -> str:
    """驳回：班主任发送“驳回 编号 [理由]”驳回请假"""
    return _decide(ctx, REJECTED)


def _decide(ctx: Ctx, status: str) -> str:
    s = ctx.session
    match = _NUMBER.match(ctx.args.strip())
    if match is None:
        raise Refusal(texts.LEAVE_DECIDE_USAGE.format(word=texts.LEAVE_DECISION_WORDS[status]))
    number, note = int(match.group(1)), ctx.args.strip()[match.end():].strip()[:MAX_REASON]
    row = s.get(LeaveRequest, number)
    enrollment = s.get(Enrollment, row.enrollment_id) if row is not None else None
    if row is None or ctx.klass is None or enrollment.class_id != ctx.klass.id:
        raise Refusal(texts.LEAVE_NO_SUCH.format(number=number))
    person = s.get(Person, enrollment.person_id)
    if row.status != PENDING:
        raise Refusal(texts.LEAVE_ALREADY_DECIDED.format(
            number=number, name=person.name, day=day_text(row.day), status=texts.LEAVE_STATUS[row.status],
            at=row.decided_at.astimezone(ctx.now.tzinfo)))
    row.status, row.decided_by, row.decided_at = status, ctx.actor.label, ctx.now
    ledger.append(s, f"leave.{status}", actor=ctx.actor.label, source=ctx.message.source, subject=row,
                  class_code=ctx.klass.code, data={"note": note} if note else None)
    text = texts.LEAVE_DECIDED.format(number=number, name=person.name, day=day_text(row.day),
                                      status=texts.LEAVE_STATUS[status], reason=row.reason)
    if note:
        text += texts.LEAVE_DECISION_NOTE.format(note=note)
    group = s.scalar(select(Group).where(Group.class_id == ctx.klass.id))
    if group is not None and group.open_conversation_id != ctx.message.conversation_id:
        outbox.queue_group_message(s, group.open_conversation_id, text, f"leave:{row.id}:{status}",
                                   ctx.message.robot_code, due=ctx.message.created_at)
    return text


def pending_lines(s: Session, klass: Klass) -> list[str]:
    """The class's pending requests, oldest first, each with its number."""
    rows = s.execute(
        select(LeaveRequest, Person.name)
        .join(Enrollment, Enrollment.id == LeaveRequest.enrollment_id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.class_id == klass.id, LeaveRequest.status == PENDING)
        .order_by(LeaveRequest.id)
    ).all()
    return [texts.LEAVE_LINE.format(number=r.id, name=name, day=day_text(r.day), reason=r.reason) for r, name in rows]


@command("请假列表", roles=CLASS_TEACHER, acts_on=class_here_or_named)
def pending(ctx: Ctx) -> str:
    """请假列表：班主任查看待批准的请假（在单聊中发送“请假列表 班级编号”）"""
    if ctx.klass is None:
        raise Refusal(texts.WHICH_CLASS.format(word="请假列表"))
    lines = pending_lines(ctx.session, ctx.klass)
    if not lines:
        return texts.LEAVE_NONE_PENDING.format(code=ctx.klass.code)
    return "\n".join([texts.LEAVE_PENDING_HEADER.format(code=ctx.klass.code, count=len(lines)), *lines,
                      texts.LEAVE_PENDING_FOOTER])
