"""The timetable (课程表) of a class: which dates are class days and what each day plans (R01, R09).

Everything that counts in class days — R09 study time, R11 daily tallies, R12 attendance hours, R13 roll
calls every N class days, R19/R21 — asks this module, through a :class:`Timetable`:

* :func:`is_class_day` — ``start_date..end_date``, minus rest weekdays and dated rest days, plus dated
  extra days (``extra_dates``, e.g. a Saturday worked in exchange for a holiday);
* :func:`class_days` — every class day in order;
* :func:`sessions_on` — that day's sessions (all of them, or those a ``[[days]]`` entry names);
  ``()`` on a day that is not a class day;
* :func:`planned_online_minutes` — R09's 每日计划课时 in minutes (exact :class:`~fractions.Fraction`):
  when sessions state ``online_lessons``, the sum over that day's sessions × ``lesson_minutes``; when
  none does, ``online_hours × lesson_minutes`` spread evenly over the class days. A rest day plans 0.

A timetable is built from a parsed plan (:func:`from_plan`) or from a stored class
(:func:`timetable_of`, :func:`timetables_of`). These functions are pure and cheap; a class with no stored
timetable (created before timetables existed) gets the old meaning: every calendar day from start to end
is a class day, every session every day, no rest days.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, bindparam, event, select
from sqlalchemy.orm import Session as DbSession

from storage.ledger import canonical
from storage.models import ClassSession, ClassTimetable, Klass

if TYPE_CHECKING:  # pragma: no cover - typing only
    from handlers.plans import Plan


@dataclass(frozen=True)
class Slot:
    """One daily session as the timetable sees it: its times, online lessons, practical or theory."""

    name: str
    start: time
    end: time
    online_lessons: int | None = None  # None: the plan does not say (even spread, see module doc)
    practical: bool = False  # an offline practical session (001 §四(二)): never online

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


@dataclass(frozen=True)
class Timetable:
    """R01: a class's calendar and each day's sessions; see the module docstring."""

    start_date: date
    end_date: date
    lesson_minutes: int
    online_hours: int
    sessions: tuple[Slot, ...]
    rest_weekdays: frozenset[int] = frozenset()  # ISO: Monday 1 … Sunday 7
    rest_dates: frozenset[date] = frozenset()
    extra_dates: frozenset[date] = frozenset()
    days: Mapping[date, tuple[str, ...]] = field(default_factory=dict, hash=False)  # [[days]]: only these
    theory_hours: int | None = None  # None: the plan does not say (R03 reads it as online_hours)
    subsidy_standard: Decimal | None = None  # yuan per trainee (R19)
    online_approval: str | None = None  # R03: the district's approval of more online hours (Shapingba IT/创业)

    @property
    def by_lessons(self) -> bool:
        """True when the sessions state their online lessons (R09 plans each day from them)."""
        return any(slot.online_lessons is not None for slot in self.sessions)


# --- the pure API --------------------------------------------------------------------------------


def is_class_day(tt: Timetable, day: date) -> bool:
    """R01: ``day`` is within the class and neither a rest weekday nor a rest date — or an extra date."""
    if not tt.start_date <= day <= tt.end_date:
        return False
    if day in tt.extra_dates:
        return True
    return day.isoweekday() not in tt.rest_weekdays and day not in tt.rest_dates


def class_days(tt: Timetable) -> list[date]:
    """Every class day, in order."""
    count = (tt.end_date - tt.start_date).days + 1
    every = (tt.start_date + timedelta(days=offset) for offset in range(max(count, 0)))
    return [day for day in every if is_class_day(tt, day)]


def sessions_on(tt: Timetable, day: date) -> tuple[Slot, ...]:
    """The sessions held on ``day`` (those its ``[[days]]`` entry names, else all); none on a rest day."""
    if not is_class_day(tt, day):
        return ()
    only = tt.days.get(day)
    if only is None:
        return tt.sessions
    return tuple(slot for slot in tt.sessions if slot.name in only)


def planned_online_minutes(tt: Timetable, day: date) -> Fraction:
    """R09: the day's planned online class time in minutes (每日计划课时); 0 on a day that is not a class day."""
    if not is_class_day(tt, day):
        return Fraction(0)
    if tt.by_lessons:
        return Fraction(sum(slot.online_lessons or 0 for slot in sessions_on(tt, day)) * tt.lesson_minutes)
    count = _class_day_count(tt)
    return Fraction(tt.online_hours * tt.lesson_minutes, count) if count else Fraction(0)


@lru_cache(maxsize=4096)
def _class_day_count(tt: Timetable) -> int:
    """``len(class_days(tt))``, remembered: a city's daily report asks it of every class (issue 13)."""
    return len(class_days(tt))


def planned_minutes_by_day(tt: Timetable) -> dict[date, Fraction]:
    """R09: :func:`planned_online_minutes` of every class day."""
    return {day: planned_online_minutes(tt, day) for day in class_days(tt)}


def timetable_online_lessons(tt: Timetable) -> int:
    """The online lessons the sessions add up to over the class days (must equal online_hours, R01)."""
    return sum(slot.online_lessons or 0 for day in class_days(tt) for slot in sessions_on(tt, day))


def class_days_until(tt: Timetable, day: date) -> int:
    """How many class days there are from the start up to and including ``day`` (R13 counts in these)."""
    return sum(1 for d in class_days(tt) if d <= day)


# --- from a plan, to and from storage ------------------------------------------------------------


def from_plan(plan: Plan, lesson_minutes: int) -> Timetable:
    """The timetable a parsed plan declares (``lesson_minutes``: the plan's or its profile's)."""
    return Timetable(
        start_date=plan.start_date, end_date=plan.end_date, lesson_minutes=lesson_minutes,
        online_hours=plan.online_hours,
        sessions=tuple(Slot(s.name, s.start, s.end, s.online_lessons, s.practical) for s in plan.sessions),
        rest_weekdays=frozenset(plan.rest_weekdays), rest_dates=frozenset(plan.rest_dates),
        extra_dates=frozenset(plan.extra_dates), days={d.date: d.sessions for d in plan.days},
        theory_hours=plan.theory_hours, subsidy_standard=plan.subsidy_standard,
        online_approval=plan.online_approval,
    )


def spec(tt: Timetable) -> str:
    """The stored form (canonical JSON) of what the timetable adds to the class and session rows."""
    data: dict[str, Any] = {} if tt.online_approval is None else {"online_approval": tt.online_approval}
    return canonical({
        **data,
        "rest_weekdays": sorted(tt.rest_weekdays),
        "rest_dates": sorted(d.isoformat() for d in tt.rest_dates),
        "extra_dates": sorted(d.isoformat() for d in tt.extra_dates),
        "days": {d.isoformat(): list(names) for d, names in sorted(tt.days.items())},
        "sessions": {s.name: {"online_lessons": s.online_lessons, "practical": s.practical} for s in tt.sessions},
    })


def new_row(klass: Klass, tt: Timetable) -> ClassTimetable:
    """The ``class_timetables`` row that stores ``tt`` for ``klass``."""
    return ClassTimetable(
        class_id=klass.id, spec=spec(tt), theory_hours=tt.theory_hours,
        subsidy_standard=None if tt.subsidy_standard is None else str(tt.subsidy_standard),
    )


SessionValues = tuple[str, time, time]  # a session row's name, start and end
TimetableValues = tuple[str, int | None, str | None]  # a timetable row's spec, theory hours and subsidy standard


def _build(klass: Klass, sessions: Sequence[SessionValues], row: TimetableValues | None) -> Timetable:
    """The class's timetable from its stored rows' values (``sessions`` in their order)."""
    return _timetable(klass.start_date, klass.end_date, klass.lesson_minutes, klass.online_hours, tuple(sessions), row)


@lru_cache(maxsize=4096)
def _timetable(start_date: date, end_date: date, lesson_minutes: int, online_hours: int,
               sessions: tuple[SessionValues, ...], row: TimetableValues | None) -> Timetable:
    """A pure function of the stored values, remembered: a city's report builds 500 timetables a request, most of
    them the same as last time (issue 13). A :class:`Timetable` is frozen and its ``days`` read-only, so one may
    be shared."""
    spec_text, theory_hours, subsidy_standard = row if row is not None else ("{}", None, None)
    data: dict[str, Any] = json.loads(spec_text)
    extras = data.get("sessions", {})
    slots = tuple(
        Slot(name, start, end, extras.get(name, {}).get("online_lessons"),
             bool(extras.get(name, {}).get("practical", False)))
        for name, start, end in sessions
    )
    return Timetable(
        start_date=start_date, end_date=end_date, lesson_minutes=lesson_minutes,
        online_hours=online_hours, sessions=slots,
        rest_weekdays=frozenset(data.get("rest_weekdays", ())),
        rest_dates=frozenset(date.fromisoformat(d) for d in data.get("rest_dates", ())),
        extra_dates=frozenset(date.fromisoformat(d) for d in data.get("extra_dates", ())),
        days=MappingProxyType({date.fromisoformat(d): tuple(names) for d, names in data.get("days", {}).items()}),
        theory_hours=theory_hours,
        subsidy_standard=Decimal(subsidy_standard) if subsidy_standard else None,
        online_approval=data.get("online_approval"),
    )


def _values(sessions: Sequence[ClassSession], row: ClassTimetable | None) -> tuple[list[SessionValues],
                                                                                     TimetableValues | None]:
    """What :func:`_build` takes, from the session's own row objects."""
    return ([(x.name, x.start_time, x.end_time) for x in sorted(sessions, key=lambda x: x.position)],
            None if row is None else (row.spec, row.theory_hours, row.subsidy_standard))


def timetable_of(s: DbSession, klass: Klass) -> Timetable:
    """The stored class's timetable (one small query, once per unit of work)."""
    return _build(klass, *_values(*stored_rows(s, [klass.id])[klass.id]))


# Built once, run with the classes' ids (whole numbers, written into the statement as storage.db.ids_in does)
_IDS = bindparam("ids", expanding=True, literal_execute=True)
_TIMETABLE_COLUMNS = (ClassTimetable.spec, ClassTimetable.theory_hours, ClassTimetable.subsidy_standard)
_VALUES = (select(ClassSession.class_id, ClassSession.name, ClassSession.start_time, ClassSession.end_time,
                  *_TIMETABLE_COLUMNS)
           .outerjoin(ClassTimetable, ClassTimetable.class_id == ClassSession.class_id)
           .where(ClassSession.class_id.in_(_IDS)).order_by(ClassSession.class_id, ClassSession.position))
_LONELY_VALUES = select(ClassTimetable.class_id, *_TIMETABLE_COLUMNS).where(ClassTimetable.class_id.in_(_IDS))
# the same as the session's row objects (stored_rows: the bot's, once per transaction)
_SESSIONS_WITH_TIMETABLE = (select(ClassSession, ClassTimetable)
                            .outerjoin(ClassTimetable, ClassTimetable.class_id == ClassSession.class_id)
                            .where(ClassSession.class_id.in_(_IDS)))
_LONELY_ROWS = select(ClassTimetable).where(ClassTimetable.class_id.in_(_IDS))


def timetables_of(s: DbSession, classes: Iterable[Klass]) -> dict[int, Timetable]:
    """Timetables of many classes (class id → timetable): the rows this transaction holds already
    (:func:`stored_rows`), the others' values read as plain rows in one statement (as :func:`stored_rows`
    reads them), not as row objects: a city's 500 classes build no object per row (issue 13). A query
    through the session flushes first, so a change not flushed yet shows, as it does in :func:`stored_rows`."""
    classes = list(classes)
    held = _held(s)
    values = {k.id: _values(*held[k.id]) for k in classes if k.id in held}
    missing = list(dict.fromkeys(int(k.id) for k in classes if k.id not in values))
    if missing:
        values.update(_by_class(
            missing,
            ((class_id, (name, start, end), None if row[0] is None else tuple(row))
             for class_id, name, start, end, *row in s.execute(_VALUES, {"ids": missing})),
            lambda lonely: ((class_id, tuple(row)) for class_id, *row in s.execute(_LONELY_VALUES, {"ids": lonely}))))
    return {k.id: _build(k, *values[k.id]) for k in classes}


def class_sessions(s: DbSession, klass: Klass) -> list[ClassSession]:
    """The class's sessions in their order (from the same per-unit-of-work read as its timetable)."""
    return sorted(stored_rows(s, [klass.id])[klass.id][0], key=lambda x: x.position)


_ROWS = "timetable_rows"  # Session.info: class id → (sessions, timetable row), for the current transaction


def _held(s: DbSession) -> dict[int, tuple[list[ClassSession], ClassTimetable | None]]:
    """The rows :func:`stored_rows` read in this transaction, none while a session or timetable row is added or
    deleted and not flushed yet (the next query flushes it: read again)."""
    known = s.info.setdefault(_ROWS, {})
    if any(isinstance(obj, (ClassSession, ClassTimetable)) for obj in (*s.new, *s.deleted)):
        known.clear()
    return known


def stored_rows(s: DbSession, ids: Sequence[int]) -> dict[int, tuple[list[ClassSession], ClassTimetable | None]]:
    """Each class's session rows and timetable row: one query (sessions with their class's timetable row)
    for the classes not read yet in this transaction; a second only for a class without sessions. The
    rows are the session's own objects, so a change made to them in the transaction shows; rows added or
    deleted drop what was read (see ``_forget_rows``)."""
    known = _held(s)
    missing = [int(i) for i in dict.fromkeys(ids) if i not in known]
    if missing:
        known.update(_by_class(
            missing,
            ((x.class_id, x, row) for x, row in s.execute(_SESSIONS_WITH_TIMETABLE, {"ids": missing})),
            lambda lonely: ((row.class_id, row) for row in s.scalars(_LONELY_ROWS, {"ids": lonely}))))
    return {i: known[i] for i in ids}


def _by_class(missing: list[int], pairs: Iterable[tuple[int, Any, Any]],
              lonely_rows) -> dict[int, tuple[list[Any], Any]]:
    """Each of the ``missing`` classes' (sessions, timetable row) from ``pairs`` (class id, session, its class's
    timetable row or None), in the sessions' order; a class without sessions gets its timetable row, if it has
    one, from ``lonely_rows(ids)`` ((class id, row) pairs): a second query, only for such classes."""
    found: dict[int, tuple[list[Any], Any]] = {i: ([], None) for i in missing}
    for class_id, session, row in pairs:
        found[class_id][0].append(session)
        found[class_id] = (found[class_id][0], row)
    lonely = [i for i in missing if not found[i][0]]
    if lonely:
        for class_id, row in lonely_rows(lonely):
            found[class_id] = ([], row)
    return found


def first_with_rows(s: DbSession, stmt: Select) -> Row | None:
    """The first row of ``stmt`` (a SELECT of one class first, then columns of that class) with the class's
    session and timetable rows read in the same statement and kept for :func:`stored_rows` in this
    transaction: a request that needs a class and its timetable saves a round trip."""
    rows = s.execute(stmt.outerjoin(ClassSession, ClassSession.class_id == Klass.id)
                     .outerjoin(ClassTimetable, ClassTimetable.class_id == Klass.id)
                     .add_columns(ClassSession, ClassTimetable)).all()
    if not rows:
        return None
    klass = rows[0][0]
    sessions = [row[-2] for row in rows if row[-2] is not None]
    s.info.setdefault(_ROWS, {}).setdefault(klass.id, (sessions, rows[0][-1]))
    return tuple(rows[0])[:-2]


@event.listens_for(DbSession, "after_flush")
def _forget_rows(session: DbSession, _ctx) -> None:
    """Session or timetable rows inserted or deleted: the rows read in this transaction are out of date."""
    if _ROWS in session.info and any(isinstance(obj, (ClassSession, ClassTimetable))
                                     for obj in (*session.new, *session.deleted)):
        session.info.pop(_ROWS, None)


@event.listens_for(DbSession, "after_commit")
def _forget_rows_at_the_end(session: DbSession) -> None:
    """The transaction committed. A savepoint released (SQLAlchemy tells ``after_commit`` for it too)
    keeps them: the units of one group commit read a class's rows once (``bot.intake``)."""
    if not session.in_nested_transaction():
        session.info.pop(_ROWS, None)


@event.listens_for(DbSession, "after_soft_rollback")
def _forget_rows_rolled_back(session: DbSession, _previous) -> None:
    """A transaction or savepoint rolled back: what was read inside it may be gone."""
    session.info.pop(_ROWS, None)
