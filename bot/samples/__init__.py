"""The sample class: plan, 30-person roster, commitment letter (see generate.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from handlers.plans import Plan, parse_plan

SAMPLES = Path(__file__).resolve().parent
PLAN = SAMPLES / "plan.toml"
ROSTER = SAMPLES / "roster.xlsx"
COMMITMENT = SAMPLES / "commitment.pdf"


def sample_plan(start: date | None = None) -> Plan:
    """The sample plan, moved to start on ``start`` if given: every date of it (the 12 days, the rest
    days of its timetable) moves by the same number of days."""
    return parse_plan(sample_plan_text(start))


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def sample_plan_text(start: date | None = None, end: date | None = None) -> str:
    """The sample plan file's text with every date moved so that it starts on ``start``.

    With ``end`` the class gets another length: rest dates falling outside are dropped, and since the
    sessions' online lessons would no longer add up to online_hours, ``online_lessons`` is dropped too
    (online hours then spread evenly over the class days, R09)."""
    text = PLAN.read_text(encoding="utf-8")
    if start is None:
        return text
    plan = parse_plan(text)
    shift = start - plan.start_date
    last = end or plan.end_date + shift
    lines = []
    for line in text.splitlines():
        key = line.split(" ", 1)[0]
        if key == "end_date":
            line = f"end_date = {last.isoformat()}"
        elif key in ("start_date", "rest_dates", "extra_dates"):
            moved = [date.fromisoformat(d) + shift for d in _DATE.findall(line)]
            moved = [d for d in moved if start <= d <= last]
            line = f"start_date = {start.isoformat()}" if key == "start_date" else \
                f"{key} = [{', '.join(d.isoformat() for d in moved)}]"
        elif key == "online_lessons" and end is not None and end != plan.end_date + shift:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"
