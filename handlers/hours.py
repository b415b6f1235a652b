"""Study minutes (R09, R12) and removal (R16).

Where a trainee-day's minutes come from — one ``study_minutes`` row per enrollment, day, source and lesson
(场次; empty when the source gives the whole day). Lessons add up; the same lesson from two sources counts
once, the larger (R09, see ``storage.reports``):

- ``file:<sha256>``: ``dingclass hours import CODE FILE [--replace]``, an export of the platform's viewing
  statistics (xlsx or csv: 姓名 or 钉钉用户ID or 身份证号, 日期, 直播时长, 回看时长, optional 场次), all or
  nothing, every bad row reported like the roster. Rows of one trainee, day and 场次 add up. A file without
  场次 for a trainee-day that already has minutes from another file is refused — it cannot be told whether
  it repeats or adds to them — unless ``--replace``, which removes those trainee-days' earlier file minutes
  (with their ledger events) first. The same file twice is refused.
- ``live:watchUsers``: the same numbers pulled from DingTalk (``/v1.0/live/lives/watchUsers``) for the
  class's ``live_ids``, one row per live (the live id is the lesson); a later pull updates the row (the
  ledger keeps every version).
- ``attendance``: R12, for classes whose profile says ``hours.basis = "attendance"``: each punch
  re-computes the day's 课时 (``handlers.qualification.attendance_hours``) × ``lesson_minutes``.

Make-up (R07): statistics are per lesson, so a date in an export or a live's day is the day of the
lesson watched, not of the watching. Replay a trainee watches later to make up a missed day shows up
in a later export (or pull) as more replay minutes on that lesson's day; importing it makes the larger
number the day's minutes. Minutes are whole and cut, never rounded up (R05: no invented hours).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import qualification, timetable
from handlers.texts import chat as texts
from handlers.classes import profile_of
from handlers.dates import day_text, parse_day
from handlers.errors import Refusal
from handlers.policy import format_percent
from storage import ledger, reports
from storage.models import DingTalkIdentity, Enrollment, ImportFile, Klass, Person, Punch, StudyMinutes
from storage.tables import Row, TableError, read_rows

FILE_KIND = "hours"
LIVE_SOURCE = "live:watchUsers"
ATTENDANCE_SOURCE = reports.ATTENDANCE_SOURCE
LESSON_MAX = 64
DAY_MINUTES = 24 * 60

# Column → the headers exports use for it (the first is the one the documentation names).
HEADERS = {
    "name": ("姓名", "学员姓名", "观看人", "用户姓名"),
    "user": ("钉钉用户ID", "用户ID", "userId", "userid", "UserId", "钉钉ID", "员工ID"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码"),
    "day": ("日期", "直播日期", "培训日期", "课程日期"),
    "live": ("直播时长", "直播观看时长", "观看直播时长", "直播分钟数", "直播"),
    "replay": ("回看时长", "回放时长", "观看回放时长", "回看分钟数", "回放观看时长", "回看", "回放"),
    "lesson": ("场次", "直播场次", "场次编号", "直播ID", "直播编号", "课次"),
}
WHO = ("name", "user", "id_number")
HEADER_SEARCH_ROWS = 5
_UNIT = re.compile(r"[（(]\s*(分钟|分|min|minutes|秒|s|sec|毫秒|ms|小时|h)\s*[)）]$", re.IGNORECASE)
_UNIT_FACTORS = {"分钟": Fraction(1), "分": Fraction(1), "min": Fraction(1), "minutes": Fraction(1),
                 "秒": Fraction(1, 60), "s": Fraction(1, 60), "sec": Fraction(1, 60), "毫秒": Fraction(1, 60000),
                 "ms": Fraction(1, 60000), "小时": Fraction(60), "h": Fraction(60)}
_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})")
_WORDS = re.compile(r"(?:(\d+)\s*(?:小时|时))?\s*(?:(\d+)\s*(?:分钟|分))?\s*(?:(\d+)\s*秒)?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d")


@dataclass(frozen=True)
class RowError:
    data_row: int
    sheet_row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return texts.HOURS_ROW_ERROR.format(data_row=self.data_row, sheet_row=self.sheet_row, column=self.column,
                                            reason=self.reason)


class HoursError(Refusal):
    """The file was refused; ``errors`` lists every bad row."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("\n".join([texts.HOURS_REJECTED.format(count=len(errors))] + [str(e) for e in errors]))


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    factor: Fraction  # to minutes


@dataclass(frozen=True)
class Imported:
    rows: int  # study_minutes rows written (trainee-days)
    trainees: int
    days: int
    below: int  # of them, days under R09's threshold on this file's numbers alone
    threshold: str  # the day's threshold in minutes ("144"), or their range when the file's days differ


# --- reading the file ---------------------------------------------------------------------------


def _normal(header: str) -> tuple[str, Fraction]:
    """A header without spaces and its unit: ``直播时长（秒）`` → (``直播时长``, 1/60)."""
    header = "".join(header.split())
    match = _UNIT.search(header)
    if match is None:
        return header, Fraction(1)
    unit = match.group(1)
    return header[:match.start()], _UNIT_FACTORS[unit.lower() if unit.isascii() else unit]


def _header(rows: list[Row]) -> tuple[int, dict[str, Column]]:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, Column] = {}
        for i, cell in enumerate(row.cells):
            name, factor = _normal(cell)
            for key, names in HEADERS.items():
                if key not in found and name in names:
                    found[key] = Column(i, cell, factor)
        if "day" in found and ("live" in found or "replay" in found):
            missing = [HEADERS[k][0] for k in ("live", "replay") if k not in found]
            if not any(k in found for k in WHO):
                missing.insert(0, "、".join(HEADERS[k][0] for k in WHO))
            if missing:
                raise Refusal(texts.HOURS_MISSING_COLUMNS.format(columns="；".join(missing)))
            return index, found
    raise Refusal(texts.HOURS_NO_HEADER)


def parse_minutes(text: str, factor: Fraction = Fraction(1)) -> int | None:
    """Whole minutes (cut, never rounded up) from ``90``, ``90.5``, ``1:30:00``, ``01:30``
    (minutes:seconds) or ``1小时30分``; None when it is none of these."""
    text = text.strip()
    if not text:
        return 0
    if _NUMBER.fullmatch(text):
        return int(Fraction(text) * factor)
    clock = _CLOCK.fullmatch(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        if hours is None:  # mm:ss
            return int(minutes) + int(seconds) // 60
        return int(hours) * 60 + int(minutes) + int(seconds) // 60
    words = _WORDS.fullmatch(text)
    if words and any(words.groups()):
        hours, minutes, seconds = (int(g or 0) for g in words.groups())
        return hours * 60 + minutes + seconds // 60
    return None


@dataclass
class _Entry:
    enrollment_id: int
    day: date
    lesson: str  # 场次; "" when the file has no such column (the whole day)
    live: int
    replay: int
    first_row: int


def _roster(s: Session, klass: Klass):
    rows = s.execute(select(Enrollment, Person).join(Person, Person.id == Enrollment.person_id)
                     .where(Enrollment.class_id == klass.id)).all()
    by_id_number = {p.id_number: e for e, p in rows}
    by_name: dict[str, list[Enrollment]] = defaultdict(list)
    for e, p in rows:
        by_name[p.name].append(e)
    by_person = {p.id: e for e, p in rows}
    users = dict(s.execute(select(DingTalkIdentity.staff_user_id, DingTalkIdentity.person_id)
                           .where(DingTalkIdentity.staff_user_id.is_not(None),
                                  DingTalkIdentity.person_id.in_(list(by_person)))).all())
    by_user = {user: by_person[pid] for user, pid in users.items()}
    return by_id_number, by_name, by_user


def parse_hours(s: Session, klass: Klass, rows: list[Row]) -> tuple[list[_Entry], list[RowError], bool]:
    """Every row checked against the class's days and roster; one entry per trainee, day and 场次; and whether
    the file has a 场次 column."""
    header_index, columns = _header(rows)
    by_id_number, by_name, by_user = _roster(s, klass)
    tt = timetable.timetable_of(s, klass)
    entries: dict[tuple[int, date, str], _Entry] = {}
    day_totals: dict[tuple[int, date], int] = defaultdict(int)
    errors: list[RowError] = []
    body = rows[header_index + 1:]
    if not body:
        raise Refusal(texts.HOURS_EMPTY)
    for data_row, row in enumerate(body, start=1):
        def cell(key: str) -> str:
            column = columns.get(key)
            return row.cells[column.index].strip() if column and column.index < len(row.cells) else ""

        def bad(key: str, reason: str) -> None:
            errors.append(RowError(data_row, row.number, columns[key].header if key in columns else HEADERS[key][0],
                                   reason))

        before = len(errors)
        enrollment = _match(cell, bad, by_id_number, by_name, by_user)
        day = None
        day_cell = cell("day")
        if _DATE_TIME.match(day_cell):  # a date-time cell: the date is what counts
            day_cell = day_cell[:10]
        if not day_cell:
            bad("day", texts.HOURS_MISSING)
        else:
            day = parse_day(day_cell, klass.start_date)
            if day is None:
                bad("day", texts.HOURS_BAD_DAY.format(value=cell("day")))
            elif not klass.start_date <= day <= klass.end_date:
                bad("day", texts.HOURS_DAY_OUTSIDE.format(day=day_text(day), start=day_text(klass.start_date),
                                                           end=day_text(klass.end_date)))
            elif not timetable.is_class_day(tt, day):
                bad("day", texts.HOURS_REST_DAY.format(day=day_text(day)))
        amounts = {}
        for key in ("live", "replay"):
            if key not in columns:
                amounts[key] = 0
                continue
            value = parse_minutes(cell(key), columns[key].factor)
            if value is None:
                bad(key, texts.HOURS_BAD_MINUTES.format(value=cell(key)))
            elif value > DAY_MINUTES:
                bad(key, texts.HOURS_TOO_MANY.format(value=value, limit=DAY_MINUTES))
            else:
                amounts[key] = value
        lesson = cell("lesson")
        if "lesson" in columns and not lesson:
            bad("lesson", texts.HOURS_MISSING)
        elif len(lesson) > LESSON_MAX:
            bad("lesson", texts.HOURS_LESSON_TOO_LONG.format(limit=LESSON_MAX))
        if len(errors) > before:
            continue
        key = (enrollment.id, day, lesson)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Entry(enrollment.id, day, lesson, amounts["live"], amounts["replay"], data_row)
        else:  # several rows of one lesson (viewing in parts) add up
            entry.live += amounts["live"]
            entry.replay += amounts["replay"]
        day_totals[(enrollment.id, day)] += amounts["live"] + amounts["replay"]
        total = day_totals[(enrollment.id, day)]
        if total > DAY_MINUTES:
            errors.append(RowError(data_row, row.number, texts.HOURS_DAY_TOTAL_COLUMN,
                                   texts.HOURS_DAY_TOO_MANY.format(total=total, limit=DAY_MINUTES,
                                                                   first=entry.first_row)))
    return list(entries.values()), errors, "lesson" in columns


def _match(cell, bad, by_id_number, by_name, by_user) -> Enrollment | None:
    number, user, name = cell("id_number").upper(), cell("user"), cell("name")
    if number:
        found = by_id_number.get(number)
        if found is None:
            bad("id_number", texts.HOURS_NOT_IN_ROSTER)
        return found
    if user:
        found = by_user.get(user)
        if found is not None:
            return found
        if not name:
            bad("user", texts.HOURS_UNKNOWN_USER.format(value=user))
            return None
    if not name:
        bad("name", texts.HOURS_MISSING)
        return None
    candidates = by_name.get(name, [])
    if not candidates:
        bad("name", texts.HOURS_NOT_IN_ROSTER)
        return None
    if len(candidates) > 1:
        bad("name", texts.HOURS_SAME_NAME.format(count=len(candidates)))
        return None
    return candidates[0]


def import_hours(s: Session, klass: Klass, data: bytes, filename: str, *, actor: str, replace: bool = False) -> Imported:
    """R09: viewing statistics → study minutes, all or nothing. Raises ``HoursError`` naming every bad row.

    A file without 场次 for a trainee-day that already has minutes from another file is refused unless
    ``replace``, which first removes those trainee-days' earlier file minutes (each removal a ledger event
    with the reason); the file's other trainee-days are simply added."""
    sha = hashlib.sha256(data).hexdigest()
    if s.scalar(select(ImportFile.id).where(ImportFile.kind == FILE_KIND, ImportFile.class_id == klass.id,
                                            ImportFile.sha256 == sha)):
        raise Refusal(texts.HOURS_ALREADY_IMPORTED.format(code=klass.code))
    try:
        rows = read_rows(data, filename)
    except TableError as exc:
        raise Refusal(str(exc)) from None
    entries, errors, by_lesson = parse_hours(s, klass, rows)
    if errors:
        raise HoursError(sorted(errors, key=lambda e: (e.data_row, e.column)))
    source = f"file:{sha}"
    if not by_lesson:
        covered = {(e.enrollment_id, e.day) for e in entries}
        earlier = [row for row in s.scalars(
            select(StudyMinutes).join(Enrollment, Enrollment.id == StudyMinutes.enrollment_id)
            .where(Enrollment.class_id == klass.id, StudyMinutes.source.like("file:%"),
                   StudyMinutes.day.in_(sorted({day for _, day in covered})))
            .order_by(StudyMinutes.day, StudyMinutes.id)) if (row.enrollment_id, row.day) in covered]
        if earlier and not replace:
            days = "、".join(day_text(d) for d in sorted({row.day for row in earlier}))
            raise Refusal(texts.HOURS_DAY_ALREADY_IMPORTED.format(days=days, code=klass.code))
        for row in earlier:  # --replace: the new file stands for these days
            s.delete(row)
            ledger.append(s, "study_minutes.replaced", actor=actor, source=source, subject=row, deleted=True,
                          class_code=klass.code, reason=texts.MINUTES_REPLACED.format(filename=filename))
    record = ImportFile(kind=FILE_KIND, class_id=klass.id, filename=filename, sha256=sha, rows=len(entries),
                        imported_by=actor)
    s.add(record)
    ledger.append(s, "import.hours", actor=actor, source=source, subject=record, class_code=klass.code)
    thresholds = qualification.day_thresholds(timetable.timetable_of(s, klass), profile_of(klass))
    for entry in sorted(entries, key=lambda e: (e.day, e.enrollment_id)):
        row = StudyMinutes(enrollment_id=entry.enrollment_id, day=entry.day, lesson=entry.lesson,
                           live_minutes=entry.live, replay_minutes=entry.replay, source=source)
        s.add(row)
        ledger.append(s, "study_minutes.imported", actor=actor, source=source, subject=row, class_code=klass.code)
    used = sorted({thresholds[e.day] for e in entries})
    return Imported(len(entries), len({e.enrollment_id for e in entries}), len({e.day for e in entries}),
                    sum(1 for e in entries if e.live + e.replay < thresholds[e.day]),
                    str(used[0]) if len(used) == 1 else f"{used[0]}–{used[-1]}")


# --- the live statistics pull ---------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """One row of ``watchUsers``: ``user_id`` (staffId) for members of the organisation, else None."""

    user_id: str | None
    name: str
    live_ms: int
    replay_ms: int
    first_watch_ms: int | None = None


@dataclass(frozen=True)
class Pulled:
    written: int  # rows inserted or changed
    unchanged: int
    unmatched: tuple[str, ...]  # viewers not on the roster (names)
    undated: tuple[str, ...]  # live ids whose day could not be told


def live_days(klass: Klass) -> list[tuple[str, date | None]]:
    """The class's live ids with the day each belongs to when the plan says so (``"2026-12-01/<id>"``)."""
    result = []
    for entry in json.loads(klass.live_ids or "[]"):
        day_part, _, live_id = str(entry).partition("/")
        if live_id:
            try:
                result.append((live_id, date.fromisoformat(day_part)))
                continue
            except ValueError:
                pass
        result.append((str(entry), None))
    return result


def record_live(s: Session, klass: Klass, lives: dict[str, tuple[date | None, list[Viewer]]], *, actor: str,
                tz: ZoneInfo) -> Pulled:
    """R09: per-lesson viewing from the live API → one ``live:watchUsers`` row per trainee, day and live (the
    live id is the lesson, so the same lesson in an imported file with that 场次 counts once, the larger).

    A live's day is the plan's (``"YYYY-MM-DD/<id>"``) or, failing that, the day of its earliest
    ``firstWatchTime`` (someone watched it live). Milliseconds are cut to whole minutes per trainee and live.
    """
    _, by_name, by_user = _roster(s, klass)
    tt = timetable.timetable_of(s, klass)
    totals: dict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0])
    unmatched: set[str] = set()
    undated: list[str] = []
    for live_id, (day, viewers) in lives.items():
        if day is None:
            firsts = [v.first_watch_ms for v in viewers if v.first_watch_ms]
            if not firsts:
                undated.append(live_id)
                continue
            day = datetime.fromtimestamp(min(firsts) / 1000, tz=timezone.utc).astimezone(tz).date()
        if not timetable.is_class_day(tt, day):  # R01: outside the class or a rest day
            undated.append(live_id)
            continue
        for viewer in viewers:
            enrollment = by_user.get(viewer.user_id) if viewer.user_id else None
            if enrollment is None:
                same = by_name.get(viewer.name, [])
                enrollment = same[0] if len(same) == 1 else None
            if enrollment is None:
                unmatched.add(viewer.name)
                continue
            total = totals[(enrollment.id, day, live_id)]
            total[0] += viewer.live_ms
            total[1] += viewer.replay_ms
    written = unchanged = 0
    for (enrollment_id, day, live_id), (live_ms, replay_ms) in sorted(totals.items(),
                                                                      key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        live, replay = live_ms // 60000, replay_ms // 60000
        row = s.scalar(select(StudyMinutes).where(StudyMinutes.enrollment_id == enrollment_id,
                                                  StudyMinutes.day == day, StudyMinutes.source == LIVE_SOURCE,
                                                  StudyMinutes.lesson == live_id))
        if row is not None and (row.live_minutes, row.replay_minutes) == (live, replay):
            unchanged += 1
            continue
        kind = "study_minutes.pulled" if row is None else "study_minutes.updated"
        if row is None:
            row = StudyMinutes(enrollment_id=enrollment_id, day=day, source=LIVE_SOURCE, lesson=live_id)
            s.add(row)
        row.live_minutes, row.replay_minutes = live, replay
        ledger.append(s, kind, actor=actor, source="api:/v1.0/live/lives/watchUsers", subject=row,
                      class_code=klass.code, data={"lives": sorted(lives)},
                      reason=None if kind == "study_minutes.pulled" else texts.MINUTES_REPULLED)
        written += 1
    return Pulled(written, unchanged, tuple(sorted(unmatched)), tuple(undated))


# --- R12: attendance-based hours --------------------------------------------------------------------


def record_attendance(s: Session, klass: Klass, enrollment_id: int, day: date, *, actor: str, source: str) -> None:
    """R12: for a class counted by attendance, the day's 课时 from its counted punches, as minutes.

    Each complete session held that day (R01 timetable) earns its part of the day
    (``qualification.attendance_hours``: morning and afternoon ``hours.full_day``, one of them
    ``hours.half_day``); stored as ``课时 × lesson_minutes`` live minutes (cut to whole minutes), source
    ``attendance``.
    """
    profile = profile_of(klass)
    if profile.hours.basis != "attendance":
        return
    punches = s.scalars(select(Punch).where(Punch.enrollment_id == enrollment_id, Punch.day == day)).all()
    sessions = timetable.class_sessions(s, klass)
    held = {slot.name for slot in timetable.sessions_on(timetable.timetable_of(s, klass), day)}
    earned = qualification.attendance_hours(punches, [x for x in sessions if x.name in held], profile,
                                            per_day=len(sessions))
    minutes = int(earned * klass.lesson_minutes)
    row = s.scalar(select(StudyMinutes).where(StudyMinutes.enrollment_id == enrollment_id, StudyMinutes.day == day,
                                              StudyMinutes.source == ATTENDANCE_SOURCE))
    if row is None and minutes == 0 or row is not None and row.live_minutes == minutes:
        return
    if row is None:
        row = StudyMinutes(enrollment_id=enrollment_id, day=day, replay_minutes=0, source=ATTENDANCE_SOURCE)
        s.add(row)
    row.live_minutes = minutes
    ledger.append(s, "study_minutes.attendance", actor=actor, source=source, subject=row, class_code=klass.code,
                  data={"hours": str(earned)}, reason=texts.MINUTES_FROM_PUNCHES)


# --- R16: removal -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemovedTrainee:
    enrollment_id: int
    name: str
    reason: str


def remove_unqualified(s: Session, klass: Klass, *, actor: str, source: str, now: datetime) -> list[RemovedTrainee]:
    """R16: once the class has ended, mark every trainee below ``removal.min_ratio`` of the required
    online time as removed from the subsidy roster, with the reason; never deleted. Idempotent: the
    removed are skipped on a second run."""
    if now.date() <= klass.end_date:
        raise Refusal(texts.REMOVAL_TOO_EARLY.format(code=klass.code, end=day_text(klass.end_date)))
    result = qualification.summary(s, klass)
    removed = []
    for line in result.lines:
        if line.removed or line.total.qualified:  # hours only: a mark (R15, R22) is its own reason, not R16's
            continue
        reason = texts.REMOVAL_REASON.format(
            earned=line.hours_earned, required=line.hours_required,
            percent=qualification.percent_text(line.total.total_minutes, result.required_minutes),
            minimum=format_percent(result.min_ratio))
        enrollment = s.get(Enrollment, line.total.enrollment_id)
        enrollment.removed, enrollment.removed_reason = True, reason
        enrollment.removed_by, enrollment.removed_at = actor, now
        ledger.append(s, "enrollment.removed", actor=actor, source=source, subject=enrollment, class_code=klass.code,
                      reason=reason)
        removed.append(RemovedTrainee(enrollment.id, line.name, reason))
    return removed
