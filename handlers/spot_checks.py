"""抽查 (R10): the institution's class teacher records each spot check of the class during class time.

``抽查 <情况>`` (with the screenshot in the same message) in the group, or a form in the admin. The
profile's ``duties.spot_checks_per_day`` says how many a class day needs; :func:`missing` lists the
classes short of it, for the end-of-day reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.texts import chat as chat_texts
from handlers.texts import supervision as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.homework import PICTURE, attach, attachment_downloaded
from handlers.registry import CLASS_TEACHER, IN_GROUP, Ctx, command
from handlers.timetable import is_class_day, timetables_of
from storage import ledger
from storage.models import Klass, SpotCheck

MAX_NOTE = 1000


def record(s: Session, klass: Klass, note: str, *, actor: str, now: datetime, source: str,
           pictures: tuple[str, ...] = ()) -> str:
    """Record one spot check (chat or admin); the text says what was recorded and how many are due."""
    note = note.strip()
    if not note:
        raise Refusal(texts.SPOT_CHECK_USAGE)
    day = now.date()
    if not klass.start_date <= day <= klass.end_date:
        raise Refusal(chat_texts.NOT_A_CLASS_DAY.format(start=klass.start_date, end=klass.end_date))
    row = SpotCheck(class_id=klass.id, day=day, note=note[:MAX_NOTE], checked_by=actor, checked_at=now, source=source)
    s.add(row)
    ledger.append(s, "spot_check.recorded", actor=actor, source=source, subject=row, class_code=klass.code)
    shots = attach(s, klass, row, pictures, PICTURE, now, source, actor)
    done = s.scalar(select(func.count(SpotCheck.id)).where(SpotCheck.class_id == klass.id, SpotCheck.day == day))
    return texts.SPOT_CHECK_RECORDED.format(count=done, required=profile_of(klass).duties.spot_checks_per_day, at=now,
                                            note=row.note,
                                            pictures=texts.WITH_PICTURES.format(count=shots) if shots else "")


@command("抽查", roles=CLASS_TEACHER, where=IN_GROUP, on_download=attachment_downloaded)
def spot_check(ctx: Ctx) -> str:
    """抽查：班主任发送“抽查 情况”并附截图，记录当天的培训情况抽查"""
    return record(ctx.session, ctx.klass, ctx.args, actor=ctx.actor.label, now=ctx.now,
                  source=ctx.message.source, pictures=ctx.message.image_codes)


def of_class(s: Session, klass: Klass) -> list[SpotCheck]:
    return list(s.scalars(select(SpotCheck).where(SpotCheck.class_id == klass.id).order_by(SpotCheck.checked_at)))


@dataclass(frozen=True)
class Shortfall:
    klass: Klass
    done: int
    required: int


def missing(s: Session, classes: list[Klass], day: date) -> list[Shortfall]:
    """R10: the classes holding class on ``day`` (R01 timetable) with fewer spot checks than their
    profile asks for."""
    tables = timetables_of(s, classes)
    running = [k for k in classes if is_class_day(tables[k.id], day)]
    if not running:
        return []
    done = dict(s.execute(select(SpotCheck.class_id, func.count(SpotCheck.id))
                          .where(SpotCheck.class_id.in_([k.id for k in running]), SpotCheck.day == day)
                          .group_by(SpotCheck.class_id)).all())
    result = []
    for k in running:
        required = profile_of(k).duties.spot_checks_per_day
        if done.get(k.id, 0) < required:
            result.append(Shortfall(k, done.get(k.id, 0), required))
    return result
