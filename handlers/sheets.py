"""The printed registers (R06, R11, R09, R16): 考勤台账 and 合格名单 as :class:`storage.exports.Sheet`.

The numbers come from :mod:`handlers.qualification` (the rules); this module only lays them out.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers import eligibility, texts
from handlers.idcard import mask_id_number
from handlers.qualification import class_days, eligible, summary, truncate
from handlers.timetable import timetable_of
from storage import reports
from storage.exports import Cell, Sheet
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


def _ineligible(s: Session, klass: Klass) -> list[tuple[str, str]]:
    """R15: a class that lost its eligibility says so, with the reason, on every export."""
    change = eligibility.latest_change(s, klass)
    if change is None or change.eligible:
        return []
    return [(texts.SHEET_INELIGIBLE_LABEL, texts.SHEET_INELIGIBLE.format(reason=change.reason))]


def attendance_sheet(s: Session, klass: Klass, tz: ZoneInfo, printed_at: datetime) -> Sheet:
    """考勤台账 (R06, R11): one row per trainee, a column per day × session × check-in/check-out.

    Only counted punches appear (R02). A cell holds the time; ``迟``/``早`` mark late/early; ``假``
    marks a day of approved leave without a punch.
    """
    days = class_days(timetable_of(s, klass))
    sessions = reports.sessions_of(s, klass.id)
    roster = summary(s, klass).lines
    grid = {(p.enrollment_id, p.day, p.session_id, p.kind): p for p in reports.counted_punches(s, klass.id)}
    leave = reports.approved_leave_days(s, klass.id)
    per_trainee = reports.punch_totals_by_trainee(s, klass.id)
    per_column = reports.punch_totals_by_column(s, klass.id)
    header = [
        [Cell(h, rowspan=3) for h in texts.SHEET_ROSTER_HEAD]
        + [Cell(f"{d:%m-%d}", colspan=2 * len(sessions)) for d in days]
        + [Cell(h, rowspan=3) for h in texts.ATTENDANCE_TOTALS_HEAD],
        [Cell(sess.name, colspan=2) for _ in days for sess in sessions],
        [Cell(texts.PUNCH_NAMES[kind]) for _ in days for _ in sessions for kind in ("in", "out")],
    ]
    rows = []
    for number, line in enumerate(roster, start=1):
        eid = line.total.enrollment_id
        cells: list[Any] = [number, line.name + (texts.SHEET_REMOVED_SUFFIX if line.removed else ""),
                            mask_id_number(line.total.id_number)]
        for d in days:
            for sess in sessions:
                for kind in ("in", "out"):
                    p = grid.get((eid, d, sess.id, kind))
                    if p is None:
                        cells.append(texts.ATTENDANCE_MARK_LEAVE if (eid, d) in leave else "")
                    else:
                        mark = texts.ATTENDANCE_MARK_LATE if p.late else texts.ATTENDANCE_MARK_EARLY if p.early else ""
                        cells.append(f"{p.at.astimezone(tz):%H:%M}{mark}")
        t = per_trainee.get(eid, reports.PunchTotals(0, 0, 0, 0))
        cells += [t.checkins, t.checkouts, t.late, t.early]
        rows.append(cells)
    totals: list[Any] = ["", texts.SHEET_TOTAL, texts.SHEET_PEOPLE.format(count=len(roster))]
    for d in days:
        for sess in sessions:
            totals += [per_column.get((d, sess.id, "in"), 0), per_column.get((d, sess.id, "out"), 0)]
    totals += [sum(t.checkins for t in per_trainee.values()), sum(t.checkouts for t in per_trainee.values()),
               sum(t.late for t in per_trainee.values()), sum(t.early for t in per_trainee.values())]
    widths = [6, 12, 21] + [7] * (2 * len(sessions) * len(days)) + [9, 9, 7, 7]
    return Sheet(
        name=texts.ATTENDANCE_SHEET_NAME,
        title=texts.SHEET_TITLE.format(klass=klass.name, sheet=texts.ATTENDANCE_SHEET_NAME),
        facts=_facts(s, klass),
        header=header,
        rows=rows,
        totals=totals,
        widths=widths,
        notes=[texts.ATTENDANCE_NOTE, texts.SHEET_PRINTED_AT.format(at=printed_at.astimezone(tz))],
    )


def qualification_sheet(s: Session, klass: Klass, tz: ZoneInfo, printed_at: datetime) -> Sheet:
    """合格名单 (R09, R16): each trainee's hours earned and required, ratio, qualified, removed with reason."""
    result = summary(s, klass)
    header = [[Cell(h) for h in texts.QUALIFICATION_HEAD]]
    rows = []
    for number, line in enumerate(result.lines, start=1):
        rows.append([
            number, line.name, mask_id_number(line.total.id_number), line.total.identity_category,
            float(line.hours_earned), line.hours_required, f"{truncate(line.ratio * 100, 1)}%",
            texts.QUALIFIED_YES if line.qualified else texts.QUALIFIED_NO,
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
