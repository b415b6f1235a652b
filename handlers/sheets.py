"""The printed registers (R06, R11, R09, R16): 考勤台账 and 合格名单 as :class:`storage.exports.Sheet`.

The numbers come from :mod:`handlers.qualification` (the rules); this module only lays them out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers import eligibility
from handlers.texts import chat as chat_texts
from handlers.texts import reports as texts
from handlers.texts import supervision as supervision_texts
from handlers.classes import profile_of
from handlers.idcard import mask_id_number
from handlers.qualification import SummaryLine, by_attendance, class_days, eligible, summary, truncate
from handlers.timetable import Timetable, sessions_on, timetable_of
from storage import reports
from storage.exports import CELL_PADDING_MM, Cell, Sheet, fitted_widths, text_mm
from storage.models import District, Institution, Klass


def _facts(s: Session, klass: Klass) -> list[tuple[str, str]]:
    institution = s.get(Institution, klass.institution_id)
    district = s.get(District, klass.district_id)
    labels = texts.SHEET_FACT_LABELS
    return [
        (labels["code"], klass.code),
        (labels["occupation"], klass.occupation),
        (labels["institution"], institution.name if institution else ""),
        (labels["district"], district.name if district else ""),
        (labels["dates"], texts.SHEET_DATES.format(start=klass.start_date, end=klass.end_date)),
        (labels["online_hours"], texts.SHEET_ONLINE_HOURS.format(hours=klass.online_hours, minutes=klass.lesson_minutes)),
        (labels["class_teacher"], klass.class_teacher),
        (labels["teachers"], texts.SHEET_LIST_SEPARATOR.join(json.loads(klass.teachers or "[]"))),
    ] + _ineligible(s, klass)


def class_facts(s: Session, klass: Klass) -> list[tuple[str, str]]:
    """The class facts every printed register of the class starts with (code, occupation, institution…)."""
    return _facts(s, klass)


def _ineligible(s: Session, klass: Klass) -> list[tuple[str, str]]:
    """R15: a class that lost its eligibility says so, with the reason, on every export."""
    change = eligibility.latest_change(s, klass)
    if change is None or change.eligible:
        return []
    return [(texts.SHEET_INELIGIBLE_LABEL, texts.SHEET_INELIGIBLE.format(reason=change.reason))]


REGISTER_POINTS = 8  # the printed registers' text size: legible on A4 (issue: nothing under 8 pt)
PUNCH_KINDS = ("in", "out")
WEEK_KEYS = ("in", "out", "late", "early", "minutes", "photos", "leave")


def weeks(days: Sequence[date]) -> list[list[date]]:
    """The class days (R01) grouped by calendar week, Monday to Sunday: at most 7 class days each."""
    grouped: dict[tuple[int, int], list[date]] = {}
    for day in days:
        grouped.setdefault(day.isocalendar()[:2], []).append(day)
    return list(grouped.values())


@dataclass(frozen=True)
class _Register:
    """What the weekly registers show, read once for the whole class."""

    tt: Timetable
    roster: list[SummaryLine]
    session_ids: dict[str, int]
    punches: dict[tuple[int, date, int, str], reports.GridPunch]
    leave: set[tuple[int, date]]
    photos: set[tuple[int, date]]
    minutes: dict[tuple[int, date], int]


def _read_register(s: Session, klass: Klass) -> _Register:
    tt = timetable_of(s, klass)
    days = class_days(tt)
    return _Register(
        tt=tt,
        roster=summary(s, klass).lines,
        session_ids={sess.name: sess.id for sess in reports.sessions_of(s, klass.id)},
        punches={(p.enrollment_id, p.day, p.session_id, p.kind): p for p in reports.counted_punches(s, klass.id)},
        leave=reports.approved_leave_days(s, klass.id),
        photos=reports.photo_days(s, klass.id),
        minutes=reports.trainee_day_minutes(s, klass.id, days, by_attendance(profile_of(klass))),
    )


def attendance_sheets(s: Session, klass: Klass, tz: ZoneInfo, printed_at: datetime, full_ids: bool = False) -> list[Sheet]:
    """考勤台账 (R06, R11), one sheet per calendar week of class days, to print on A4 landscape at 8 pt.

    A row per trainee; per class day the counted check-in and check-out of each session held that day
    (R02; stacked in one cell, in the order the header lists them; ``迟``/``早`` late/early, ``—`` none,
    ``请假`` approved leave, R07), the day's study minutes (R09) and whether a photo counted (R08); the
    week's totals per trainee and per day; lines for the class teacher's signature and the
    institution's stamp. ID numbers are masked unless ``full_ids`` (the copy in the subsidy package for the
    roles that submit it, R19).
    """
    data = _read_register(s, klass)
    facts = _facts(s, klass)
    all_days = class_days(data.tt)
    sheets, done = [], 0
    for number, days in enumerate(weeks(all_days), start=1):
        sheets.append(_week_sheet(data, klass, tz, printed_at, facts, number, days, done, len(all_days), full_ids))
        done += len(days)
    return sheets


def _punch_lines(data: _Register, eid: int, day: date, tz: ZoneInfo) -> tuple[str, dict[str, int]]:
    """The day's cell (a line per session and kind) and its counts (in, out, late, early)."""
    lines, counts = [], {"in": 0, "out": 0, "late": 0, "early": 0}
    for slot in sessions_on(data.tt, day):
        for kind in PUNCH_KINDS:
            p = data.punches.get((eid, day, data.session_ids.get(slot.name, -1), kind))
            if p is None:
                lines.append(texts.ATTENDANCE_MISSING)
                continue
            counts[kind] += 1
            counts["late"] += p.late
            counts["early"] += p.early
            mark = texts.ATTENDANCE_MARK_LATE if p.late else texts.ATTENDANCE_MARK_EARLY if p.early else ""
            lines.append(f"{p.at.astimezone(tz):%H:%M}{mark}")
    if (eid, day) in data.leave:
        lines = [texts.ATTENDANCE_LEAVE] if not counts["in"] + counts["out"] else [*lines, texts.ATTENDANCE_LEAVE]
    return "\n".join(lines), counts


def _week_sheet(data: _Register, klass: Klass, tz: ZoneInfo, printed_at: datetime, facts: list[tuple[str, str]],
                number: int, days: list[date], done: int, total_days: int, full_ids: bool = False) -> Sheet:
    header = [
        [Cell(texts.ATTENDANCE_NUMBER_HEAD, rowspan=2), Cell(texts.ATTENDANCE_NAME_HEAD, rowspan=2)]
        + [Cell(texts.ATTENDANCE_DAY_HEAD.format(day=d, weekday=texts.WEEKDAY_NAMES[d.weekday()]), colspan=3)
           for d in days]
        + [Cell(texts.ATTENDANCE_WEEK_TOTALS, colspan=len(texts.ATTENDANCE_TOTALS_HEADS))],
        [cell for d in days for cell in (
            Cell("\n".join(texts.ATTENDANCE_PUNCH_HEAD.format(session=slot.name, kind=chat_texts.PUNCH_NAMES[kind])
                           for slot in sessions_on(data.tt, d) for kind in PUNCH_KINDS)),
            Cell(texts.ATTENDANCE_MINUTES_HEAD), Cell(texts.ATTENDANCE_PHOTO_HEAD))]
        + [Cell(h) for h in texts.ATTENDANCE_TOTALS_HEADS],
    ]
    rows: list[list[Any]] = []
    day_totals = {d: {"in": 0, "out": 0, "minutes": 0, "photos": 0} for d in days}
    class_week = dict.fromkeys(WEEK_KEYS, 0)
    for position, line in enumerate(data.roster, start=1):
        eid = line.total.enrollment_id
        name = line.name + (texts.SHEET_REMOVED_SUFFIX if line.removed else "")
        id_text = line.total.id_number if full_ids else mask_id_number(line.total.id_number)
        cells: list[Any] = [position, f"{name}\n{id_text}"]
        week = dict.fromkeys(WEEK_KEYS, 0)
        for d in days:
            punches, counts = _punch_lines(data, eid, d, tz)
            minutes = data.minutes.get((eid, d), 0)
            photo = (eid, d) in data.photos
            cells += [punches, minutes, texts.ATTENDANCE_PHOTO_MARK if photo else ""]
            for key in ("in", "out", "late", "early"):
                week[key] += counts[key]
            week["minutes"] += minutes
            week["photos"] += photo
            week["leave"] += (eid, d) in data.leave
            for key, value in (("in", counts["in"]), ("out", counts["out"]), ("minutes", minutes), ("photos", photo)):
                day_totals[d][key] += value
        cells += _week_cells(week)
        rows.append(cells)
        for key in WEEK_KEYS:
            class_week[key] += week[key]
    totals: list[Any] = ["", texts.SHEET_TOTAL_PEOPLE.format(count=len(data.roster))]
    for d in days:
        t = day_totals[d]
        totals += [texts.ATTENDANCE_DAY_TOTAL.format(ins=t["in"], outs=t["out"]), t["minutes"], t["photos"]]
    totals += _week_cells(class_week)
    sheet = Sheet(
        name=texts.ATTENDANCE_WEEK_SHEET.format(number=number),
        title=texts.ATTENDANCE_WEEK_TITLE.format(klass=klass.name, number=number, first=days[0], last=days[-1]),
        facts=facts + [(texts.ATTENDANCE_WEEK_LABEL, texts.ATTENDANCE_WEEK.format(
            first=days[0], last=days[-1], days=len(days), start=done + 1, end=done + len(days), total=total_days))],
        header=header, rows=rows, totals=totals,
        notes=[texts.ATTENDANCE_NOTE, texts.SHEET_PRINTED_AT.format(at=printed_at.astimezone(tz))],
        font_size=REGISTER_POINTS, signatures=list(texts.REGISTER_SIGNATURES),
    )
    # the name column holds the masked ID number on one line, a longer name wraps under it; a punch column
    # is as wide as a time with its mark or a two-character session's header line, a longer session
    # name wraps in the header (so that a week of 7 class days stays on the page)
    widest_head = texts.ATTENDANCE_PUNCH_HEAD.format(session=texts.ATTENDANCE_SESSION_WIDEST, kind=chat_texts.PUNCH_NAMES["in"])
    punch = max(text_mm(f"00:00{texts.ATTENDANCE_MARK_LATE}", REGISTER_POINTS),
                text_mm(widest_head, REGISTER_POINTS)) + CELL_PADDING_MM
    caps = {1: text_mm("0" * 18, REGISTER_POINTS) + CELL_PADDING_MM} | {2 + 3 * i: punch for i in range(len(days))}
    sheet.widths = fitted_widths(sheet, REGISTER_POINTS, caps)
    return sheet


def _week_cells(week: dict[str, int]) -> list[Any]:
    """The week's totals columns (see ``texts.ATTENDANCE_TOTALS_HEADS``)."""
    return [texts.ATTENDANCE_PAIR.format(first=week["in"], second=week["out"]),
            texts.ATTENDANCE_PAIR.format(first=week["late"], second=week["early"]),
            week["minutes"], week["photos"], week["leave"]]


def qualification_sheet(s: Session, klass: Klass, tz: ZoneInfo, printed_at: datetime, full_ids: bool = False) -> Sheet:
    """合格名单 (R09, R16): each trainee's hours earned and required, ratio, qualified, removed with reason.

    ID numbers are masked unless ``full_ids`` (the roles of ``scope.sees_full_id_numbers``: the list is
    submitted and certificates are issued from it, R20)."""
    result = summary(s, klass)
    header = [[Cell(h) for h in texts.QUALIFICATION_HEAD]]
    rows = []
    for number, line in enumerate(result.lines, start=1):
        rows.append([
            number, line.name, line.total.id_number if full_ids else mask_id_number(line.total.id_number),
            line.total.identity_category,
            float(line.hours_earned), line.hours_required, f"{truncate(line.ratio * 100, 1)}%",
            texts.QUALIFIED_YES if line.qualified else texts.SHEET_MARKED.format(kind=supervision_texts.MARK_KINDS[line.mark])
            if line.mark else texts.QUALIFIED_NO,  # R15/R22: the mark says why
            texts.SHEET_YES if line.removed else texts.SHEET_NO,
            line.total.removed_reason or "",
        ])
    totals = ["", texts.SHEET_TOTAL, texts.SHEET_PEOPLE.format(count=len(rows)), "", "", "", "",
              texts.QUALIFICATION_TOTAL_QUALIFIED.format(count=result.qualified),
              texts.QUALIFICATION_TOTAL_REMOVED.format(count=result.removed), ""]
    facts = _facts(s, klass) + [
        (texts.QUALIFICATION_STANDARD_LABEL, texts.QUALIFICATION_STANDARD.format(percent=truncate(result.min_ratio * 100, 1))),
        (texts.QUALIFICATION_ELIGIBILITY_LABEL, texts.QUALIFICATION_NOT_APPROVED if not eligible(klass) else
         texts.QUALIFICATION_COUNTING if result.eligible else texts.SHEET_ELIGIBILITY_LOST),
    ]
    return Sheet(
        name=texts.QUALIFICATION_SHEET_NAME,
        title=texts.SHEET_TITLE.format(klass=klass.name, sheet=texts.QUALIFICATION_SHEET_NAME),
        facts=facts,
        header=header,
        rows=rows,
        totals=totals,
        widths=[6, 14, 21, 18, 10, 10, 10, 10, 10, 30],
        notes=[texts.QUALIFICATION_NOTE, texts.SHEET_PRINTED_AT.format(at=printed_at.astimezone(tz))],
    )
