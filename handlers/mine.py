"""我的: a trainee's own day — punches, photo, leave, study minutes (R09) and the running ratio (R16).

The numbers follow ``handlers.qualification``: a day's minutes are the largest of its sources, the
running ratio is all class days' minutes over ``online_hours × lesson_minutes``, shown cut (79.96% shows
as 79.9%), so a figure that looks like it meets the threshold does.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import homework, qualification
from handlers.texts import chat as texts
from handlers.classes import counts_for_subsidy, profile_of
from handlers.dates import day_text
from handlers.policy import format_percent
from handlers.registry import TRAINEE, Ctx, command
from handlers.timetable import class_days, is_class_day, timetable_of
from storage import reports
from storage.models import ClassSession, LeaveRequest, Photo, Punch


def day_minutes(s: Session, enrollment_id: int, day: date, attendance: bool) -> int | None:
    """R09: the day's study minutes (lessons add up, see storage.reports), None when no source has the day yet."""
    return reports.enrollment_minutes(s, enrollment_id, [day], attendance).get(day)


def total_minutes(s: Session, enrollment_id: int, days: list[date], attendance: bool) -> int:
    """R16: the sum over the class days (R01) of each day's minutes."""
    return sum(reports.enrollment_minutes(s, enrollment_id, days, attendance).values())


@command("我的", roles=TRAINEE)
def mine(ctx: Ctx) -> str:
    """我的：查看自己今天的签到签退、照片、请假、学习时长、待交作业和累计完成比例"""
    s, klass, enrollment, now = ctx.session, ctx.klass, ctx.actor.enrollment, ctx.now
    today = now.date()
    profile = profile_of(klass)
    lines = [texts.MINE_HEADER.format(name=ctx.actor.person.name, code=klass.code, day=day_text(today))]
    tt = timetable_of(s, klass)
    if is_class_day(tt, today):
        lines += _punch_lines(s, klass, enrollment.id, today, now.tzinfo)
        lines.append(_photo_line(s, enrollment.id, today, now.tzinfo))
        minutes = day_minutes(s, enrollment.id, today, qualification.by_attendance(profile))
        planned = qualification.planned_day_minutes(tt, today)
        threshold = qualification.day_threshold(tt, today, profile)
        if minutes is None:
            lines.append(texts.MINE_MINUTES_NONE.format(threshold=threshold))
        else:
            ok = qualification.day_ok(minutes, planned, profile.study.min_ratio)
            lines.append(texts.MINE_MINUTES.format(minutes=minutes, threshold=threshold,
                                                   verdict=texts.MINE_DAY_OK if ok else texts.MINE_DAY_SHORT))
    else:
        lines.append(texts.MINE_NOT_A_CLASS_DAY.format(start=day_text(klass.start_date), end=day_text(klass.end_date)))
    for leave in s.scalars(select(LeaveRequest).where(LeaveRequest.enrollment_id == enrollment.id,
                                                      LeaveRequest.day >= today).order_by(LeaveRequest.day)):
        lines.append(texts.MINE_LEAVE.format(day=day_text(leave.day), number=leave.id,
                                             status=texts.LEAVE_STATUS[leave.status]))
    lines += homework.owed_lines(s, klass, enrollment.id, now)  # R10: homework still owed
    total = total_minutes(s, enrollment.id, class_days(tt), qualification.by_attendance(profile))
    required = qualification.required_minutes(klass, profile)
    lines.append(texts.MINE_TOTAL.format(
        earned=qualification.truncate(Fraction(total, klass.lesson_minutes), 1),
        required=qualification.required_hours(klass, profile), percent=qualification.percent_text(total, required),
        minimum=format_percent(qualification.qualify_ratio(profile))))
    if not counts_for_subsidy(klass):
        lines.append(texts.MINE_NOT_APPROVED)
    return "\n".join(lines)


def _punch_lines(s: Session, klass, enrollment_id: int, day: date, tz) -> list[str]:
    punches = {(p.session_id, p.kind): p for p in s.scalars(
        select(Punch).where(Punch.enrollment_id == enrollment_id, Punch.day == day))}
    lines = []
    for session in s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id)
                             .order_by(ClassSession.position)):
        parts = []
        for kind in ("in", "out"):
            p = punches.get((session.id, kind))
            if p is None:
                parts.append(texts.MINE_NOT_PUNCHED.format(kind=texts.PUNCH_NAMES[kind]))
            else:
                mark = texts.MINE_LATE if p.late else texts.MINE_EARLY if p.early else ""
                parts.append(texts.MINE_PUNCHED.format(kind=texts.PUNCH_NAMES[kind], at=p.at.astimezone(tz), mark=mark))
        lines.append(texts.MINE_SESSION.format(session=session.name, parts="，".join(parts)))
    return lines


def _photo_line(s: Session, enrollment_id: int, day: date, tz) -> str:
    photos = list(s.scalars(select(Photo).where(Photo.enrollment_id == enrollment_id, Photo.day == day)
                            .order_by(Photo.id)))
    valid = [p for p in photos if p.status in ("ok", "accepted")]
    if valid:
        return texts.MINE_PHOTO_OK.format(at=valid[0].received_at.astimezone(tz))
    if any(p.status in ("duplicate", "pending") for p in photos):
        return texts.MINE_PHOTO_FLAGGED
    if any(p.status == "rejected" for p in photos):
        return texts.MINE_PHOTO_REJECTED
    return texts.MINE_PHOTO_NONE
