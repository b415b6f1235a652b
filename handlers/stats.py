"""统计: a class's day so far, for its teachers and supervisors (R06, R07, R08, R11).

Per session: how many checked in (late) and out (early); photos counted and awaiting review; leave;
the names of who is missing — for each session whose check-in (check-out) window has opened, the
trainees without that punch, leaving out those on approved leave — and the pending leave requests,
numbered, for the class teacher to answer. Punches of a class not yet approved are counted here too
(the reply says they do not count for subsidy yet, R02).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from handlers import timetable
from handlers.texts import chat as texts
from handlers.attendance import IN, OUT, windows
from handlers.classes import counts_for_subsidy
from handlers.dates import day_text
from handlers.errors import Refusal
from handlers.leave import APPROVED, PENDING, class_here_or_named, pending_lines
from handlers.registry import STAFF, Ctx, command
from storage.models import Enrollment, LeaveRequest, Person, Photo, Punch

MAX_NAMES = 40  # a longer list is cut with "等 N 人"


def _names(names: list[str]) -> str:
    shown = "、".join(names[:MAX_NAMES])
    return shown + (texts.STATS_MORE.format(count=len(names)) if len(names) > MAX_NAMES else "")


@command("统计", roles=STAFF, acts_on=class_here_or_named)
def stats(ctx: Ctx) -> str:
    """统计：教师、班主任、督查人员查看本班今天的签到签退、照片、请假和缺勤名单"""
    s, klass, now = ctx.session, ctx.klass, ctx.now
    if klass is None:
        raise Refusal(texts.WHICH_CLASS.format(word="统计"))
    day = now.date()
    if not timetable.is_class_day(timetable.timetable_of(s, klass), day):
        raise Refusal(texts.NOT_A_CLASS_DAY.format(start=klass.start_date, end=klass.end_date))
    roster = s.execute(select(Enrollment.id, Person.name).join(Person, Person.id == Enrollment.person_id)
                       .where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False))
                       .order_by(Enrollment.id)).all()
    ids = [eid for eid, _ in roster]
    punched: dict[tuple[int, str], set[int]] = defaultdict(set)
    for eid, session_id, kind in s.execute(select(Punch.enrollment_id, Punch.session_id, Punch.kind)
                                           .where(Punch.day == day, Punch.enrollment_id.in_(ids))):
        punched[(session_id, kind)].add(eid)
    late_by = dict(s.execute(select(Punch.session_id, func.count()).where(
        Punch.day == day, Punch.enrollment_id.in_(ids), Punch.kind == IN, Punch.late.is_(True))
        .group_by(Punch.session_id)).all())
    early_by = dict(s.execute(select(Punch.session_id, func.count()).where(
        Punch.day == day, Punch.enrollment_id.in_(ids), Punch.kind == OUT, Punch.early.is_(True))
        .group_by(Punch.session_id)).all())
    photo_rows = s.execute(select(Photo.enrollment_id, Photo.status).where(Photo.day == day,
                                                                            Photo.enrollment_id.in_(ids))).all()
    with_photo = {eid for eid, status in photo_rows if status in ("ok", "accepted")}
    flagged = sum(1 for _, status in photo_rows if status in ("duplicate", "pending"))
    leave = dict(s.execute(select(LeaveRequest.enrollment_id, LeaveRequest.status)
                           .where(LeaveRequest.day == day, LeaveRequest.enrollment_id.in_(ids))).all())
    on_leave = {eid for eid, status in leave.items() if status == APPROVED}

    lines = [texts.STATS_HEADER.format(code=klass.code, name=klass.name, day=day_text(day), at=now, count=len(ids))]
    missing: list[str] = []
    in_windows, out_windows = windows(s, klass, IN, now), windows(s, klass, OUT, now)
    for w_in, w_out in zip(in_windows, out_windows):
        sid = w_in.session.id
        lines.append(texts.STATS_SESSION.format(
            session=w_in.session.name, checked_in=len(punched[(sid, IN)]), late=late_by.get(sid, 0),
            checked_out=len(punched[(sid, OUT)]), early=early_by.get(sid, 0)))
        for window, kind in ((w_in, IN), (w_out, OUT)):
            if now < window.opens:
                continue
            absent = [name for eid, name in roster if eid not in punched[(sid, kind)] and eid not in on_leave]
            if absent:
                missing.append(texts.STATS_MISSING.format(session=w_in.session.name, kind=texts.PUNCH_NAMES[kind],
                                                          count=len(absent), names=_names(absent)))
    lines.append(texts.STATS_PHOTOS.format(count=len(with_photo), flagged=flagged))
    lines.append(texts.STATS_LEAVE.format(count=len(leave), approved=len(on_leave),
                                          pending=sum(1 for v in leave.values() if v == PENDING)))
    no_photo = [name for eid, name in roster if eid not in with_photo and eid not in on_leave]
    if no_photo:
        missing.append(texts.STATS_NO_PHOTO.format(count=len(no_photo), names=_names(no_photo)))
    if on_leave:
        missing.append(texts.STATS_ON_LEAVE.format(names=_names([n for eid, n in roster if eid in on_leave])))
    lines += missing
    pending = pending_lines(s, klass)
    if pending:
        lines += [texts.STATS_PENDING_HEADER.format(count=len(pending)), *pending, texts.LEAVE_PENDING_FOOTER]
    if not counts_for_subsidy(klass):
        lines.append(texts.STATS_NOT_APPROVED)
    return "\n".join(lines)
