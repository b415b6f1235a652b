"""Study time, daily tallies and qualification: the rules behind the admin's numbers (R02, R09, R11, R12, R16).

Definitions (every page, export and API endpoint uses these, through this module):

* **Class days (R01)**: the timetable's (:mod:`handlers.timetable`): start..end minus rest weekdays and
  rest dates, plus extra dates. Only class days are listed, tallied and summed.
* **Planned online minutes of a class day (R09)**: :func:`handlers.timetable.planned_online_minutes` —
  the day's own online lessons × lesson_minutes, or (a plan that does not state its lessons)
  ``online_hours × lesson_minutes ÷ number of class days``; an exact fraction; a rest day plans 0.
* **A trainee's study minutes for a day (R09)**: per lesson (场次 / live id) the largest
  ``live_minutes + replay_minutes`` of its sources (the same lesson from two sources counts once), and
  the lessons add up; a whole-day row (a file without 场次) counts instead when larger. A class counted
  by attendance (R12, ``hours.basis = "attendance"``) counts only its ``attendance`` rows: imported
  minutes never count there. See ``storage.reports``.
* **day_ok (R09)**: study minutes ≥ ``study.min_ratio`` (80%) of that day's planned minutes, compared
  exactly with :func:`handlers.policy.meets_ratio`. The SQL aggregates get the same rule as whole
  numbers, :func:`day_threshold` per day — the fewest whole minutes that meet it — which is equivalent
  because minutes are whole (a test checks every minute value on both sides of the boundary).
* **Punches (R02)** count only where ``punches.counts`` is true; a photo counts where ``counted``.
* **Counted days (R02)**: once approved, only class days from the day of the approval on count (minutes of
  earlier days are kept and shown on the trainee's page, never summed); a trainee added after approval counts
  only once the district has noted the roster change (``handlers.approval``).
* **Summary (R09, R16, R12)**: ``hours_earned = total study minutes over the counted class days ÷ lesson_minutes``;
  ``hours_required = online_hours`` (a class counted by attendance: ``total_hours``, the course's 规定课时);
  ``ratio = earned ÷ required``; ``qualified`` = ratio ≥ ``removal.min_ratio`` (attendance:
  ``hours.qualify_ratio``), 80%, and not removed; a removed trainee is never qualified. Every class is
  counted in minutes here. A class whose profile says ``hours.basis = "attendance"`` (R12) gets each
  day's :func:`attendance_hours` × lesson_minutes stored as a ``study_minutes`` row (source
  ``attendance``, written by ``handlers.hours`` on every punch), and this summary counts it like any
  other source.
* **eligible (R02, R15)**: the class is approved or filed and has not lost its eligibility to two
  failed supervision checks (``handlers.eligibility``); a disqualified (R15) or ineligible (R22) trainee is
  not qualified, whatever their hours.

Numbers shown to people are truncated, never rounded up: 79.96% shows as 79.9%, so a figure that
looks like it meets 80% always does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from types import EllipsisType
from typing import Any

from sqlalchemy.orm import Session

from handlers import approval, eligibility, timetable
from handlers.classes import profile_of
from handlers.policy import Profile, meets_ratio, min_count
from handlers.timetable import Timetable, timetable_of, timetables_of
from storage import daily as daily_tally
from storage import reports
from storage.models import ClassStatus, Klass

# --- the plan's numbers -------------------------------------------------------------------------


def class_days(tt: Timetable) -> list[date]:
    """R01: every class day of the timetable, in order."""
    return timetable.class_days(tt)


def planned_day_minutes(tt: Timetable, day: date) -> Fraction:
    """R09: the day's planned online minutes from the timetable (exact; 0 on a rest day)."""
    return timetable.planned_online_minutes(tt, day)


@dataclass(frozen=True)
class PlanNumbers:
    """What the admin shows of a class's timetable (R01) and its R09 daily plan."""

    class_days: int
    rest_days: tuple[date, ...]  # days within start..end that are not class days
    planned_low: Fraction  # the smallest and largest planned online minutes of a class day
    planned_high: Fraction
    threshold_low: int
    threshold_high: int


def plan_numbers(tt: Timetable, profile: Profile) -> PlanNumbers:
    """R01/R09: class days, rest days and the range of each class day's planned minutes and threshold."""
    planned = timetable.planned_minutes_by_day(tt)
    count = (tt.end_date - tt.start_date).days + 1
    rest = tuple(d for d in (tt.start_date + timedelta(days=i) for i in range(max(count, 0))) if d not in planned)
    values = list(planned.values()) or [Fraction(0)]
    thresholds = [min_count(v, profile.study.min_ratio) for v in values]
    return PlanNumbers(len(planned), rest, min(values), max(values), min(thresholds), max(thresholds))


def required_minutes(klass: Klass, profile: Profile | None = None) -> int:
    """R16/R12: :func:`required_hours` in minutes (× lesson_minutes)."""
    return required_hours(klass, profile or profile_of(klass)) * klass.lesson_minutes


def day_ok(minutes: int, planned: Fraction, min_ratio: Fraction) -> bool:
    """R09: a trainee's day is complete when study minutes ≥ min_ratio of the planned minutes (exact)."""
    return meets_ratio(minutes, planned, min_ratio)


def day_threshold(tt: Timetable, day: date, profile: Profile) -> int:
    """R09 as a whole number: the fewest study minutes that make ``day`` ok (what the SQL compares)."""
    return _day_threshold(tt, day, profile.study.min_ratio)


@lru_cache(maxsize=4096)
def _day_threshold(tt: Timetable, day: date, min_ratio: Fraction) -> int:
    """:func:`day_threshold`, a pure function of its arguments, remembered: a city's report asks it of 500 classes
    a request, most with a timetable it has seen (issue 13)."""
    return min_count(planned_day_minutes(tt, day), min_ratio)


def counted_thresholds(s: Session, klass: Klass, thresholds: dict[date, int]) -> dict[date, int]:
    """R02: the class days whose minutes count (:func:`counts_on`)."""
    start = approval.counting_from(s, klass)
    return thresholds if start is None else {day: t for day, t in thresholds.items() if day >= start}


def day_thresholds(tt: Timetable, profile: Profile) -> dict[date, int]:
    """R09: :func:`day_threshold` of every class day."""
    return {day: min_count(planned, profile.study.min_ratio)
            for day, planned in timetable.planned_minutes_by_day(tt).items()}


def required_hours(klass: Klass, profile: Profile) -> int:
    """R16: the class's online hours; R12: a class counted by attendance needs the course's 规定课时 (001
    §三(二): 累计达到规定课时的80%), its total hours."""
    return klass.total_hours if by_attendance(profile) else klass.online_hours


def qualify_ratio(profile: Profile) -> Fraction:
    """The share of the required hours that qualifies: ``removal.min_ratio`` (R16), or ``hours.qualify_ratio``
    in a class counted by attendance (R12)."""
    return profile.hours.qualify_ratio if by_attendance(profile) else profile.removal.min_ratio


def qualify_threshold(klass: Klass, profile: Profile | None = None) -> int:
    """R16/R12 as a whole number: the fewest total study minutes that qualify (what the SQL compares)."""
    profile = profile or profile_of(klass)
    return min_count(required_minutes(klass, profile), qualify_ratio(profile))


def by_attendance(profile: Profile) -> bool:
    """R12: the class's hours come from attendance; imported and pulled minutes do not count (R09)."""
    return profile.hours.basis == "attendance"


def eligible(klass: Klass) -> bool:
    """R02: only an approved or filed class counts for subsidy."""
    return klass.status in ClassStatus.COUNTING


def truncate(value: Fraction, places: int) -> Decimal:
    """``value`` cut (not rounded) to ``places`` decimals: 0.79995 → 0.7999."""
    # exact: the floored count of the last place, in whole numbers (no Fraction product to normalise: the city's
    # report truncates 500 ratios a request, issue 13)
    return Decimal(value.numerator * 10 ** places // value.denominator).scaleb(-places)


def percent_text(part: int | Fraction, whole: int | Fraction) -> str:
    """``"79.9%"``, truncated to one decimal; ``"—"`` when there is no whole."""
    if not whole:
        return "—"
    tenths = part * 1000 // whole  # exact (whole numbers or fractions), floored as :func:`truncate` does
    return f"{'-' if tenths < 0 else ''}{abs(tenths) // 10}.{abs(tenths) % 10}%"


# --- R12: attendance-based hours (pure; used where the profile's hours.basis is "attendance") ------


def attendance_hours(day_punches: Iterable[Any], sessions: Sequence[Any], profile: Profile,
                     per_day: int | None = None) -> Fraction:
    """R12: 课时 earned on one day from attendance (001 §三(二): 每天按8课时计算，上下午各考勤2次).

    ``day_punches`` are one trainee's punches of one day (objects with ``session_id``, ``kind`` and
    ``counts``, or ``(session_id, kind)`` pairs which count); ``sessions`` the sessions held that day
    (objects with ``id``, or ids); ``per_day`` how many sessions a normal class day has (default: as many).
    A day is two halves: with one or two sessions a day, each complete session (counted check-in and
    check-out) earns ``hours.half_day`` — morning and afternoon together ``hours.full_day``, a morning-only
    day half of it; with three or more, each complete session earns its share of ``hours.full_day``.
    """
    session_ids = [getattr(sess, "id", sess) for sess in sessions]
    per_day = max(per_day or len(session_ids), 2)
    share = Fraction(profile.hours.half_day) if per_day == 2 else Fraction(profile.hours.full_day, per_day)
    present: set[tuple[int, str]] = set()
    for punch in day_punches:
        if isinstance(punch, tuple):
            present.add((punch[0], punch[1]))
        elif getattr(punch, "counts", True):
            present.add((punch.session_id, punch.kind))
    complete = [sid for sid in session_ids if (sid, "in") in present and (sid, "out") in present]
    return min(share * len(complete), Fraction(profile.hours.full_day))


# --- one class, one day --------------------------------------------------------------------------


@dataclass(frozen=True)
class DayReport:
    klass: Klass
    day: date
    planned_minutes: Fraction
    threshold: int
    lines: list[reports.TraineeDay]


def is_class_day(tt: Timetable, day: date) -> bool:
    """R01: see :func:`handlers.timetable.is_class_day`."""
    return timetable.is_class_day(tt, day)


def day_report(s: Session, klass: Klass, day: date, counting_from: date | None | EllipsisType = ...) -> DayReport:
    """Every active trainee's day (R02 counted punches, R08 photo, R07 leave, R09 minutes and day_ok; R02: a day
    before the approval day counts no minutes, as in the summary and the day table). ``counting_from``: the
    class's ``approval.counting_from`` if the caller read it already (else it is read here)."""
    profile = profile_of(klass)
    tt = timetable_of(s, klass)
    threshold = day_threshold(tt, day, profile)
    start = approval.counting_from(s, klass) if counting_from is ... else counting_from
    return DayReport(klass, day, planned_day_minutes(tt, day), threshold,
                     reports.trainee_days(s, klass.id, day, threshold, by_attendance(profile),
                                          minutes_count=counts_on(start, day)))


def counts_on(start: date | None, day: date) -> bool:
    """R02: ``day``'s study minutes count for a class whose ``approval.counting_from`` is ``start`` (not before the
    day of its approval; a class not approved yet counts every day, and counts for nothing: see :func:`eligible`)."""
    return start is None or day >= start


# --- one class, every day ------------------------------------------------------------------------


@dataclass(frozen=True)
class DayLine:
    day: date
    tally: reports.ClassDay
    planned_to_date: Fraction  # planned minutes of the active roster up to this day

    @property
    def cumulative_ratio(self) -> Fraction:
        return Fraction(self.tally.cumulative_minutes) / self.planned_to_date if self.planned_to_date else Fraction(0)


def day_table(s: Session, klass: Klass, active_trainees: int) -> list[DayLine]:
    """A line for every class day (R01; zeros where nothing was recorded) with the class's cumulative ratio
    against the minutes the timetable planned up to that day (R09)."""
    tt = timetable_of(s, klass)
    profile = profile_of(klass)
    thresholds = day_thresholds(tt, profile)
    days = list(thresholds)
    if not days:
        return []
    tallies = reports.class_days(s, klass.id, counted_thresholds(s, klass, thresholds), by_attendance(profile))
    lines, last = [], reports.ClassDay(days[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    planned = Fraction(0)
    for day in days:
        tally = tallies.get(day) or reports.ClassDay(day, 0, 0, 0, 0, 0, 0, 0, 0, 0, last.cumulative_minutes)
        last = tally
        planned += planned_day_minutes(tt, day)
        lines.append(DayLine(day, tally, planned * active_trainees))
    return lines


# --- one class, whole: the summary ---------------------------------------------------------------


@dataclass(frozen=True)
class SummaryLine:
    total: reports.TraineeTotal
    hours_earned: Decimal  # truncated to one decimal
    hours_required: int
    ratio: Fraction  # exact
    qualified: bool
    mark: str | None = None  # R15 "disqualified" / R22 "ineligible": never qualified, never subsidised
    pending: bool = False  # R02: added after approval, the district has not noted it yet: not qualified

    @property
    def name(self) -> str:
        return self.total.name

    @property
    def removed(self) -> bool:
        return self.total.removed


@dataclass(frozen=True)
class Summary:
    klass: Klass
    eligible: bool
    required_minutes: int
    threshold: int
    min_ratio: Fraction
    lines: list[SummaryLine]
    ineligible_reason: str | None = None  # R15: why the class lost its eligibility

    @property
    def qualified(self) -> int:
        return sum(1 for line in self.lines if line.qualified)

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.removed)


def summary(s: Session, klass: Klass) -> Summary:
    """R09/R16 per trainee: hours earned and required, the exact ratio, qualified, removed; R02 eligible."""
    profile = profile_of(klass)
    thresholds = counted_thresholds(s, klass, day_thresholds(timetable_of(s, klass), profile))
    required = required_minutes(klass, profile)
    totals = reports.trainee_totals(s, klass.id, thresholds, qualify_threshold(klass, profile), by_attendance(profile))
    lines = []
    marks = eligibility.marks_by_enrollment(s, klass)  # R15 abnormal data, R22 not eligible
    pending = approval.pending_additions(s, klass)  # R02: added after approval, not yet noted by the district
    for total in totals:
        ratio = Fraction(total.total_minutes, required) if required else Fraction(0)
        lines.append(SummaryLine(
            total=total,
            hours_earned=truncate(Fraction(total.total_minutes, klass.lesson_minutes), 1),
            hours_required=required_hours(klass, profile),
            ratio=ratio,
            qualified=total.qualified and total.enrollment_id not in marks and total.enrollment_id not in pending,
            mark=marks.get(total.enrollment_id),
            pending=total.enrollment_id in pending,
        ))
    change = eligibility.latest_change(s, klass)
    lost = change if change is not None and not change.eligible else None
    return Summary(klass, eligible(klass) and lost is None, required, qualify_threshold(klass, profile),
                   qualify_ratio(profile), lines, lost.reason if lost else None)


def subsidy_list(s: Session, klass: Klass) -> list[SummaryLine]:
    """The qualified list that counts for subsidy (R19) and certificates (R20): qualified (R09/R16), not
    removed, and not marked — disqualified (R15) or ineligible (R22)."""
    marked = eligibility.excluded_ids(s, klass)
    return [line for line in summary(s, klass).lines
            if line.qualified and not line.removed and line.total.enrollment_id not in marked]


@dataclass(frozen=True)
class Bucket:
    label: str
    low: Fraction
    count: int
    meets: bool  # the bucket lies at or above the qualifying ratio


def ratio_histogram(summary_: Summary, buckets: int = 10) -> list[Bucket]:
    """Active trainees by cumulative ratio: 0–10%, …, 90–100%, and ≥100% (R16 threshold marked)."""
    counts = [0] * (buckets + 1)
    for line in summary_.lines:
        if line.removed:
            continue
        index = min(math.floor(line.ratio * buckets), buckets)
        counts[index] += 1
    result = []
    for i, n in enumerate(counts):
        low = Fraction(i, buckets)
        label = f"≥{i * 100 // buckets}%" if i == buckets else f"{i * 100 // buckets}–{(i + 1) * 100 // buckets}%"
        result.append(Bucket(label, low, n, low >= summary_.min_ratio))
    return result


# --- many classes, one day (R11) -------------------------------------------------------------------


@dataclass(frozen=True)
class DailyLine:
    klass: Klass
    tally: daily_tally.ClassLine

    @property
    def ratio(self) -> Fraction:
        """The share of the active roster whose day met R09."""
        return Fraction(self.tally.day_ok, self.tally.trainees) if self.tally.trainees else Fraction(0)


@dataclass(frozen=True)
class DayRules:
    """What the R11 tallies of one day need to know of each running class."""

    thresholds: dict[int, int]  # R09: class id → the whole minutes that make the day ok
    attendance: list[int]  # R12: classes counted by attendance
    uncounted: list[int]  # R02: classes approved after the day, whose minutes of the day do not count

    def class_lines(self, s: Session, day: date, every_class: bool = False) -> dict[int, daily_tally.ClassLine]:
        return daily_tally.class_lines(s, day, self.thresholds, self.attendance, self.uncounted, every_class)

    def trainee_lines(self, s: Session, day: date, every_class: bool = False) -> list[daily_tally.TraineeLine]:
        return daily_tally.trainee_lines(s, day, self.thresholds, self.attendance, self.uncounted, every_class)


def day_rules(s: Session, classes: Sequence[Klass], tables: Mapping[int, Timetable], profiles: Mapping[int, Profile],
              day: date, starts: Mapping[int, date] | None = None) -> DayRules:
    """R09, R12, R02 for ``day`` of each of ``classes`` (their timetables and profiles by class id); ``starts``: each
    approved class's ``approval.counting_from`` if the caller read them with the classes (else they are read here)."""
    starts = approval.counting_from_each(s, classes) if starts is None else starts
    return DayRules({k.id: day_threshold(tables[k.id], day, profiles[k.id]) for k in classes},
                    [k.id for k in classes if by_attendance(profiles[k.id])],
                    [k.id for k in classes if k.id in starts and day < starts[k.id]])


def daily(s: Session, classes: Sequence[Klass], day: date, every_class: bool = False) -> list[DailyLine]:
    """R11: the day's tally of each class running on ``day``; ``every_class``: ``classes`` are the whole city."""
    tables = timetables_of(s, classes)
    running = [k for k in classes if timetable.is_class_day(tables[k.id], day)]
    rules = day_rules(s, running, tables, {k.id: profile_of(k) for k in running}, day)
    tallies = rules.class_lines(s, day, every_class)
    return [DailyLine(k, tallies[k.id]) for k in running]
