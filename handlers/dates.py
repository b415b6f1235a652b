"""Days as people write them in the chat and in spreadsheets, and as the bot writes them back."""

from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.texts import chat as texts
from handlers.errors import Refusal

_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_SHORT = re.compile(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_day(text: str, today: date, *, strict: bool = False) -> date | None:
    """``2026-12-03``, ``2026/12/3``, ``2026年12月3日``, ``20261203``, ``12-03``, ``12月3日``, ``今天``,
    ``明天``, ``后天``; None when ``text`` is not a day. A day without a year is the next such day from
    ``today`` on (``1月2日`` written in December is next January). Written like a day but not one
    (``2026-02-30``): None, or with ``strict`` a Refusal saying the day does not exist — so a chat
    command never takes it for free text and acts on another day."""
    text = text.strip()
    relative = texts.RELATIVE_DAYS.get(text)
    if relative is not None:
        return today + timedelta(days=relative)
    for pattern, with_year in ((_FULL, True), (_COMPACT, True), (_SHORT, False)):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        numbers = [int(g) for g in match.groups()]
        try:
            if with_year:
                return date(*numbers)
            day = date(today.year, *numbers)
            return day if day >= today - timedelta(days=31) else date(today.year + 1, *numbers)
        except ValueError:
            if strict:
                raise Refusal(texts.DAY_DOES_NOT_EXIST.format(text=text)) from None
            return None
    return None


def day_text(day: date) -> str:
    """``12月3日（周四）``."""
    return texts.DAY.format(month=day.month, day=day.day, weekday=texts.WEEKDAYS[day.weekday()])
