"""The roll calls of a class as the admin and the API list them (R13): newest first, with their counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.rollcall import caller
from storage.models import Klass, RollCall, RollCallSample


@dataclass(frozen=True)
class Line:
    rollcall: RollCall
    sampled: int
    answered: int

    @property
    def by(self) -> str:
        return caller(self.rollcall)


def listing(s: Session, klass: Klass) -> list[Line]:
    """The class's roll calls, newest first, with their sample and answer counts (one query)."""
    counts = (select(RollCallSample.rollcall_id, func.count().label("sampled"),
                     func.count(RollCallSample.answered_at).label("answered"))
              .group_by(RollCallSample.rollcall_id).subquery())
    rows = s.execute(select(RollCall, func.coalesce(counts.c.sampled, 0), func.coalesce(counts.c.answered, 0))
                     .outerjoin(counts, counts.c.rollcall_id == RollCall.id)
                     .where(RollCall.class_id == klass.id).order_by(RollCall.number.desc())).all()
    return [Line(rc, sampled, answered) for rc, sampled, answered in rows]
