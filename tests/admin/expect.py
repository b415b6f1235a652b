"""What the admin should show for the test world, worked out here from the world's own schedule with
plain arithmetic — independently of storage/reports.py and handlers/qualification.py."""

from __future__ import annotations

import math
from datetime import date, time

from tests.admin.world import A_TRAINEES, APPROVED_AT, LEAVE, MINUTES, PHOTOS, REMOVED, SCHEDULE
from tests.handlers.chat import at

# The sample plan's timetable (R01): 2 + 2 online lessons of 45 min each class day = 180 min; 80% of it = 144.
# 12-05 and 12-06 are rest days: not class days, nothing planned.
PLANNED_PER_DAY = (2 + 2) * 45
REST_DAYS = (date(2026, 12, 5), date(2026, 12, 6))
DAY_THRESHOLD = math.ceil(0.8 * PLANNED_PER_DAY)
REQUIRED_MINUTES = 40 * 45
STARTS = (time(8, 30), time(14, 0))
ENDS = (time(11, 30), time(17, 0))
ACTIVE = [name for name, *_ in A_TRAINEES if name != REMOVED]


def counted_punches():
    """R02: a punch counts when the class was approved when it was made."""
    return [(name, day, hhmm, cmd) for name, day, hhmm, cmd in SCHEDULE if at(hhmm, day) > APPROVED_AT]


def _session(hhmm: str) -> int:
    return 0 if hhmm < "12:30" else 1


def trainee_day(name: str, day: date) -> dict:
    punches = [(h, c) for n, d, h, c in counted_punches() if n == name and d == day]
    ins = [h for h, c in punches if c == "签到"]
    outs = [h for h, c in punches if c == "签退"]
    late = sum(1 for h in ins if time.fromisoformat(h) > STARTS[_session(h)])
    early = sum(1 for h in outs if time.fromisoformat(h) < ENDS[_session(h)])
    minutes = max([live + replay for n, d, live, replay, _ in MINUTES if n == name and d == day], default=0)
    photo = any(n == name and d == day and counted for n, d, _, counted, _ in PHOTOS)
    leave = next((status for n, d, status, _ in LEAVE if n == name and d == day), "none")
    return {"name": name, "checkins": len(ins), "checkouts": len(outs), "late": late, "early": early,
            "photo": photo, "leave": leave, "study_minutes": minutes, "day_ok": minutes >= 0.8 * PLANNED_PER_DAY}


def class_day(day: date) -> dict:
    lines = [trainee_day(name, day) for name in ACTIVE]
    return {
        "trainees": len(lines),
        "checked_in": sum(1 for line in lines if line["checkins"]),
        "checked_out": sum(1 for line in lines if line["checkouts"]),
        "photos": sum(1 for line in lines if line["photo"]),
        "day_ok": sum(1 for line in lines if line["day_ok"]),
        "late": sum(line["late"] for line in lines),
        "early": sum(line["early"] for line in lines),
        "minutes": sum(line["study_minutes"] for line in lines),
        "leave": sum(1 for line in lines if line["leave"] != "none"),
    }


def total_minutes(name: str) -> int:
    days = {d for n, d, *_ in MINUTES if n == name}
    return sum(max(live + replay for n, d2, live, replay, _ in MINUTES if n == name and d2 == d) for d in days)


def summary_line(name: str) -> dict:
    total = total_minutes(name)
    return {
        "name": name,
        "hours_earned": math.floor(total / 45 * 10) / 10,
        "hours_required": 40,
        "ratio": math.floor(total / REQUIRED_MINUTES * 10000) / 10000,
        "qualified": name != REMOVED and total >= 0.8 * REQUIRED_MINUTES,
        "removed": name == REMOVED,
    }
