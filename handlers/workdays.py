"""China's working-day calendar (R19 publicity period): weekends off, statutory holidays off, and the
make-up workdays (调休上班的周六、周日) on — from the PyPI package ``chinese-calendar``, which carries the
State Council's yearly arrangement. A year it does not know yet is refused, naming the year: a period
is never guessed from weekends alone.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from handlers.texts import records as texts
from handlers.errors import Refusal


def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day; a Refusal naming the year the calendar does not cover."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise Refusal(texts.WORKDAYS_UNKNOWN_YEAR.format(year=day.year, day=day)) from None


def working_days_from(start: date, count: int) -> list[date]:
    """The first ``count`` working days on or after ``start`` (``start`` counts when it is one)."""
    days, day = [], start
    while len(days) < count:
        if is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    return days
