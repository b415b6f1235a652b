"""R01 training plans (培训计划) read from TOML, checked against the class's policy profile.

``parse_plan`` checks the file's shape and collects every problem before raising one PlanError;
``check_plan`` applies the class's policy profile (the R03 online share: ``handlers.online_share``); the
signed commitment letter a plan names is read by ``handlers.commitment``. A plan file looks like::

    code = "BT-2024-001"
    name = "电工 2024 第1期"
    occupation = "电工"
    institution = "包头市某职业培训学校"
    district = "昆都仑区"
    mode = "live"                      # live | recorded | platform
    start_date = 2024-03-04
    end_date = 2024-03-15
    total_hours = 100
    online_hours = 40
    policy = "baotou-2020"             # optional: the deployment's default profile otherwise
    platform = { name = "钉钉直播", url = "https://www.dingtalk.com" }
    teachers = ["张老师"]
    class_teacher = "李老师"
    # optional: lesson_minutes, materials, commitment_file, overrides = {…}, live_ids = […]
    # optional timetable (R01, see handlers.timetable): rest_weekdays = [6, 7], rest_dates = […],
    # extra_dates = […], theory_hours, subsidy_standard, [[days]] date = …, sessions = ["上午"]

    [[sessions]]
    name = "上午"
    start = "08:30"
    end = "11:30"
    online_lessons = 2                 # optional: lessons of this session held online
    # practical = true                 # optional: an offline practical session (never online)
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Mapping

from handlers import hygiene
from handlers.texts import classes as texts
from handlers.errors import Refusal
from handlers.online_share import online_share_problem
from handlers.policy import DEFAULT_PROFILE, PolicyError, Profile, load_profile, profile_names

Mode = Literal["live", "recorded", "platform"]
MODES: tuple[Mode, ...] = ("live", "recorded", "platform")

_TEXT_FIELDS = ("code", "name", "occupation", "institution", "district", "class_teacher")
_KNOWN_FIELDS = frozenset(texts.PLAN_FIELD_LABELS) - {"platform.name", "platform.url"}
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
COMMITMENT_MAX_BYTES = 10 * 1024 * 1024  # the signed commitment letter a plan names (handlers.commitment)
# The longest each text may be: the database column's size, checked before the database sees it.
MAX_LENGTH = {"code": 32, "name": 200, "occupation": 100, "institution": 100, "district": 100,
              "class_teacher": 100, "platform.name": 200, "platform.url": 500, "teachers": 100,
              "materials": 200, "commitment_file": 200, "live_ids": 64, "sessions.name": 32, "policy": 32}
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # a plan's dates lie in this range


class PlanError(Refusal):
    """A plan is wrong; ``errors`` holds every problem, ``str()`` lists them all in Chinese."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return self.errors[0]
        lines = [texts.PLAN_ERRORS_HEADER.format(count=len(self.errors))]
        lines += [f"{number}. {error}" for number, error in enumerate(self.errors, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Platform:
    name: str
    url: str


@dataclass(frozen=True)
class Session:
    """One daily session (上午/下午), or the daily Q&A time in recorded/platform mode (R06)."""

    name: str
    start: time
    end: time
    online_lessons: int | None = None  # R01/R09: lessons of this session held online (None: not stated)
    practical: bool = False  # R01: an offline practical session (001 §四(二))

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


@dataclass(frozen=True)
class DayPlan:
    """A ``[[days]]`` entry: on ``date`` only the named sessions are held (R01)."""

    date: date
    sessions: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """R01: what a class records at set-up."""

    code: str
    name: str
    occupation: str
    institution: str
    district: str
    mode: Mode
    start_date: date
    end_date: date
    total_hours: int
    online_hours: int
    platform: Platform
    teachers: tuple[str, ...]
    class_teacher: str
    sessions: tuple[Session, ...]
    lesson_minutes: int | None = None  # None: the profile's plan.lesson_minutes
    policy: str | None = None  # None: the deployment's default profile
    materials: tuple[str, ...] = ()
    commitment_file: str | None = None
    live_ids: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # The timetable (R01), all optional; see handlers.timetable.
    rest_weekdays: tuple[int, ...] = ()
    rest_dates: tuple[date, ...] = ()
    extra_dates: tuple[date, ...] = ()
    days: tuple[DayPlan, ...] = ()
    theory_hours: int | None = None
    subsidy_standard: Decimal | None = None
    online_approval: str | None = None  # R03: the district's approval of more online hours (Shapingba IT/创业)


# --- Parsing ------------------------------------------------------------------------------------


def parse_plan(text: str) -> Plan:
    """Read a TOML plan (R01). Raises PlanError listing every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanError([texts.PLAN_NOT_TOML.format(detail=error)]) from None
    reader = _Reader(data)
    values: dict[str, Any] = {name: reader.text(name) for name in _TEXT_FIELDS}
    values["mode"] = reader.mode()
    values["start_date"] = reader.date("start_date")
    values["end_date"] = reader.date("end_date")
    values["total_hours"] = reader.positive_int("total_hours")
    values["online_hours"] = reader.positive_int("online_hours")
    values["platform"] = reader.platform()
    values["teachers"] = reader.text_list("teachers")
    values["sessions"] = reader.sessions()
    values["lesson_minutes"] = reader.positive_int("lesson_minutes", required=False)
    values["policy"] = reader.policy()
    values["materials"] = reader.text_list("materials", required=False) or ()
    values["commitment_file"] = reader.text("commitment_file", required=False)
    values["live_ids"] = reader.text_list("live_ids", required=False) or ()
    values["overrides"] = reader.overrides(values["policy"], values["lesson_minutes"])
    values["rest_weekdays"] = reader.weekdays("rest_weekdays")
    values["rest_dates"] = reader.date_list("rest_dates")
    values["extra_dates"] = reader.date_list("extra_dates")
    values["days"] = reader.days()
    values["theory_hours"] = reader.positive_int("theory_hours", required=False)
    values["subsidy_standard"] = reader.amount("subsidy_standard")
    values["online_approval"] = reader.text("online_approval", required=False)
    reader.unknown_fields()
    reader.cross_checks(values)
    reader.timetable_checks(values)
    if reader.errors:
        raise PlanError(reader.errors)
    return Plan(**values)


class _Reader:
    """Reads plan fields one by one, recording a Chinese error for each bad one (returns None)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: list[str] = []

    def _get(self, name: str, required: bool, table: Mapping[str, Any] | None = None) -> Any:
        """The value of ``name`` (dotted for a sub-field of ``table``); records it if missing."""
        value = (self.data if table is None else table).get(name.rsplit(".", 1)[-1])
        if value is None and required:
            label = texts.PLAN_FIELD_LABELS[name]
            self.errors.append(texts.PLAN_MISSING.format(field=name, label=label))
        return value

    def _bad(self, template: str, name: str, value: Any) -> None:
        label = texts.PLAN_FIELD_LABELS[name]
        self.errors.append(template.format(field=name, label=label, value=value))

    def text(
        self, name: str, required: bool = True, table: Mapping[str, Any] | None = None
    ) -> str | None:
        value = self._get(name, required, table)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self._bad(texts.PLAN_EXPECT_TEXT, name, value)
            return None
        return self._clean(name, value.strip())

    def _clean(self, name: str, value: str) -> str | None:
        """``value`` if it has no invisible characters and fits its column; else records why (None)."""
        label = f"{name}（{texts.PLAN_FIELD_LABELS.get(name, name)}）"
        if name == "code":
            error = hygiene.code_problem(value, label)
        else:
            error = hygiene.problem(value, label, MAX_LENGTH.get(name, 200))
        if error is not None:
            self.errors.append(error)
            return None
        return value

    def text_list(self, name: str, required: bool = True) -> tuple[str, ...] | None:
        value = self._get(name, required)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or (required and not value)
            or not all(isinstance(item, str) and item.strip() for item in value)
        ):
            self._bad(texts.PLAN_EXPECT_TEXT_LIST, name, value)
            return None
        items = [self._clean(name, item.strip()) for item in value]
        return None if None in items else tuple(items)

    def positive_int(self, name: str, required: bool = True) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self._bad(texts.PLAN_EXPECT_POSITIVE_INT, name, value)
            return None
        return value

    def date(self, name: str) -> date | None:
        value = self._get(name, required=True)
        if value is None:
            return None
        day = _as_date(value)
        if day is None:
            self._bad(texts.PLAN_BAD_DATE, name, value)
        elif not EARLIEST <= day <= LATEST:
            self._bad(texts.PLAN_DATE_OUT_OF_RANGE.format(earliest=EARLIEST.year, latest=LATEST.year), name, day)
            day = None
        return day

    def date_list(self, name: str) -> tuple[date, ...]:
        """An optional list of dates (R01 rest_dates, extra_dates); each bad entry is reported."""
        value = self._get(name, required=False)
        if value is None:
            return ()
        if not isinstance(value, list):
            self._bad(texts.PLAN_EXPECT_DATE_LIST, name, value)
            return ()
        days = []
        for item in value:
            day = _as_date(item)
            if day is None:
                self._bad(texts.PLAN_BAD_DATE, name, item)
            elif day in days:
                self._bad(texts.PLAN_DATE_REPEATED, name, day)
            else:
                days.append(day)
        return tuple(sorted(days))

    def weekdays(self, name: str) -> tuple[int, ...]:
        """R01 rest_weekdays: ISO weekday numbers, Monday 1 … Sunday 7."""
        value = self._get(name, required=False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 7 for v in value
        ):
            self._bad(texts.PLAN_BAD_WEEKDAYS, name, value)
            return ()
        return tuple(sorted(set(value)))

    def amount(self, name: str) -> Decimal | None:
        """A positive amount of yuan (R19 subsidy_standard), read exactly."""
        value = self._get(name, required=False)
        if value is None:
            return None
        try:
            amount = Decimal(str(value)) if not isinstance(value, bool) and isinstance(value, (int, float, str)) \
                else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
            self._bad(texts.PLAN_BAD_AMOUNT, name, value)
            return None
        return amount

    def days(self) -> tuple[DayPlan, ...]:
        """R01 ``[[days]]``: dates on which only some sessions are held."""
        value = self._get("days", required=False)
        if value is None:
            return ()
        if not isinstance(value, list):
            self._bad(texts.PLAN_EXPECT_TABLE, "days", value)
            return ()
        result: list[DayPlan] = []
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict) or set(item) != {"date", "sessions"}:
                self.errors.append(texts.PLAN_DAY_NOT_TABLE.format(index=index, value=item))
                continue
            day = _as_date(item["date"])
            names = item["sessions"]
            if day is None:
                self.errors.append(texts.PLAN_DAY_BAD_DATE.format(index=index, value=item["date"]))
            elif not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip()
                                                                      for n in names):
                self.errors.append(texts.PLAN_DAY_BAD_SESSIONS.format(day=day, value=names))
            elif any(d.date == day for d in result):
                self.errors.append(texts.PLAN_DAY_REPEATED.format(day=day))
            else:
                result.append(DayPlan(day, tuple(n.strip() for n in names)))
        return tuple(sorted(result, key=lambda d: d.date))

    def mode(self) -> Mode | None:
        value = self._get("mode", required=True)
        if value is None:
            return None
        if value not in MODES:
            allowed = "、".join(f"{mode}（{texts.PLAN_MODE_LABELS[mode]}）" for mode in MODES)
            self.errors.append(texts.PLAN_BAD_MODE.format(allowed=allowed, value=value))
            return None
        return value

    def platform(self) -> Platform | None:
        value = self._get("platform", required=True)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._bad(texts.PLAN_EXPECT_TABLE, "platform", value)
            return None
        name = self.text("platform.name", table=value)
        url = self.text("platform.url", table=value)
        if url is not None and not url.startswith(("http://", "https://")):
            self.errors.append(texts.PLAN_BAD_URL.format(value=url))
            return None
        return Platform(name, url) if name is not None and url is not None else None

    def sessions(self) -> tuple[Session, ...] | None:
        value = self.data.get("sessions")
        if not value:
            self.errors.append(texts.PLAN_NO_SESSIONS)
            return None
        if not isinstance(value, list):
            self._bad(texts.PLAN_EXPECT_TABLE, "sessions", value)
            return None
        before = len(self.errors)
        sessions = [self._session(index, item) for index, item in enumerate(value, start=1)]
        valid = sorted((s for s in sessions if s is not None), key=lambda s: s.start)
        for first, second in zip(valid, valid[1:]):
            if second.start < first.end:
                self.errors.append(
                    texts.PLAN_SESSIONS_OVERLAP.format(
                        first=first.name, first_start=first.start, first_end=first.end,
                        second=second.name, second_start=second.start, second_end=second.end,
                    )
                )
        names = [s.name for s in valid]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.errors.append(texts.PLAN_SESSION_DUPLICATE_NAME.format(name=name))
        return tuple(valid) if len(self.errors) == before else None

    def _session(self, index: int, item: Any) -> Session | None:
        if not isinstance(item, dict):
            self.errors.append(texts.PLAN_SESSION_NOT_TABLE.format(index=index, value=item))
            return None
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.errors.append(texts.PLAN_SESSION_BAD_NAME.format(index=index))
            name = f"第{index}个"
        name = name.strip()
        if self._clean("sessions.name", name) is None:
            return None
        for key in sorted(set(item) - {"name", "start", "end", "online_lessons", "practical"}):
            self.errors.append(texts.PLAN_SESSION_UNKNOWN_FIELD.format(name=name, field=key))
        start = self._time(name, "start", item.get("start"))
        end = self._time(name, "end", item.get("end"))
        lessons = item.get("online_lessons")
        if lessons is not None and (isinstance(lessons, bool) or not isinstance(lessons, int) or lessons < 0):
            self.errors.append(texts.PLAN_SESSION_BAD_LESSONS.format(name=name, value=lessons))
            return None
        practical = item.get("practical", False)
        if not isinstance(practical, bool):
            self.errors.append(texts.PLAN_SESSION_BAD_PRACTICAL.format(name=name, value=practical))
            return None
        if practical and lessons:
            self.errors.append(texts.PLAN_SESSION_PRACTICAL_ONLINE.format(name=name, lessons=lessons))
            return None
        if start is None or end is None:
            return None
        if end <= start:
            self.errors.append(
                texts.PLAN_SESSION_END_NOT_AFTER_START.format(name=name, start=start, end=end)
            )
            return None
        return Session(name, start, end, lessons, practical)

    def _time(self, session: str, key: str, value: Any) -> time | None:
        if isinstance(value, time) and value.second == 0 and value.microsecond == 0:
            return value
        match = _HHMM.fullmatch(value.strip()) if isinstance(value, str) else None
        if match:
            hour, minute = int(match[1]), int(match[2])
            if hour < 24 and minute < 60:
                return time(hour, minute)
        self.errors.append(
            texts.PLAN_SESSION_BAD_TIME.format(name=session, field=key, value=value)
        )
        return None

    def policy(self) -> str | None:
        name = self.text("policy", required=False)
        if name is not None and name not in profile_names():
            available = "、".join(profile_names())
            self.errors.append(texts.PLAN_UNKNOWN_POLICY.format(name=name, available=available))
            return None
        return name

    def overrides(self, policy: str | None, lesson_minutes: int | None) -> dict[str, Any]:
        value = self._get("overrides", required=False)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self._bad(texts.PLAN_EXPECT_TABLE, "overrides", value)
            return {}
        if "limits" in value:
            self.errors.append(texts.PLAN_LIMITS_NOT_OVERRIDABLE)
            return {}
        planned = value.get("plan")
        if isinstance(planned, dict) and lesson_minutes is not None:
            override = planned.get("lesson_minutes", lesson_minutes)
            if override != lesson_minutes:
                self.errors.append(
                    texts.PLAN_LESSON_MINUTES_CONFLICT.format(plan=lesson_minutes, override=override)
                )
        try:
            load_profile(policy or DEFAULT_PROFILE, _with_lesson_minutes(value, lesson_minutes))
        except PolicyError as error:
            self.errors.append(texts.PLAN_BAD_OVERRIDES.format(detail=error))
        return value

    def unknown_fields(self) -> None:
        for name in sorted(set(self.data) - _KNOWN_FIELDS):
            self.errors.append(texts.PLAN_UNKNOWN_FIELD.format(field=name))

    def cross_checks(self, values: dict[str, Any]) -> None:
        start, end = values["start_date"], values["end_date"]
        if start is not None and end is not None and end < start:
            self.errors.append(texts.PLAN_END_BEFORE_START.format(start=start, end=end))
        total, online = values["total_hours"], values["online_hours"]
        if total is not None and online is not None and online > total:
            self.errors.append(texts.PLAN_ONLINE_OVER_TOTAL.format(online=online, total=total))
        theory = values["theory_hours"]
        if total is not None and theory is not None and theory > total:
            self.errors.append(texts.PLAN_THEORY_OVER_TOTAL.format(theory=theory, total=total))

    def timetable_checks(self, values: dict[str, Any]) -> None:
        """R01: rest/extra dates and ``[[days]]`` fall in the class, name real sessions, leave a class day;
        sessions' online lessons fit their sessions and add up to online_hours."""
        start, end, sessions = values["start_date"], values["end_date"], values["sessions"]
        if start is None or end is None or end < start or sessions is None:
            return
        profile = _plan_profile(values)
        if (end - start).days + 1 > profile.limits.max_course_days:
            return  # refused by check_plan with the numbers, before any day is looked at
        before = len(self.errors)
        for name in ("rest_dates", "extra_dates"):
            for day in values[name]:
                if not start <= day <= end:
                    self.errors.append(texts.PLAN_DATE_OUTSIDE.format(
                        field=name, label=texts.PLAN_FIELD_LABELS[name], start=start, end=end, day=day))
        for day in sorted(set(values["rest_dates"]) & set(values["extra_dates"])):
            self.errors.append(texts.PLAN_DATE_REST_AND_EXTRA.format(day=day))
        lesson_minutes = values["lesson_minutes"] or profile.plan.lesson_minutes
        for session in sessions:
            if session.online_lessons and session.online_lessons * lesson_minutes > session.minutes:
                self.errors.append(texts.PLAN_SESSION_LESSONS_TOO_MANY.format(
                    name=session.name, lessons=session.online_lessons, lesson_minutes=lesson_minutes,
                    minutes=session.minutes))
        from handlers import timetable  # the timetable module builds on this one

        draft = Plan(**values)
        tt = timetable.from_plan(draft, lesson_minutes)
        known = {s.name for s in sessions}
        for entry in draft.days:
            if not timetable.is_class_day(tt, entry.date):
                self.errors.append(texts.PLAN_DAY_NOT_CLASS_DAY.format(day=entry.date))
            for name in entry.sessions:
                if name not in known:
                    self.errors.append(texts.PLAN_DAY_UNKNOWN_SESSION.format(day=entry.date, name=name,
                                                                          known="、".join(sorted(known))))
        if not timetable.class_days(tt):
            self.errors.append(texts.PLAN_NO_CLASS_DAYS)
        elif tt.by_lessons and values["online_hours"] is not None and len(self.errors) == before:
            lessons = timetable.timetable_online_lessons(tt)
            if lessons != values["online_hours"]:
                self.errors.append(texts.PLAN_TIMETABLE_LESSONS_MISMATCH.format(
                    lessons=lessons, online=values["online_hours"], days=len(timetable.class_days(tt))))


def _as_date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _plan_profile(values: dict[str, Any]) -> Profile:
    """The profile a plan being read names (its overrides applied when they are valid)."""
    try:
        return load_profile(values["policy"] or DEFAULT_PROFILE, _with_lesson_minutes(values["overrides"] or {}, None))
    except PolicyError:
        return load_profile(values["policy"] or DEFAULT_PROFILE)


def _with_lesson_minutes(overrides: Mapping[str, Any], lesson_minutes: int | None) -> dict[str, Any]:
    """The plan's own lesson_minutes is an override of the profile's plan.lesson_minutes."""
    merged = copy.deepcopy(dict(overrides))
    if lesson_minutes is not None and isinstance(merged.setdefault("plan", {}), dict):
        merged["plan"]["lesson_minutes"] = lesson_minutes
    return merged


# --- Using a plan -------------------------------------------------------------------------------


def class_profile(plan: Plan, default: str = DEFAULT_PROFILE) -> Profile:
    """The class's effective profile: its policy (or ``default``) with its overrides applied."""
    return load_profile(plan.policy or default, _with_lesson_minutes(plan.overrides, plan.lesson_minutes))


def check_plan(plan: Plan, profile: Profile) -> None:
    """R03: the online share must keep within the profile's limit; PlanError shows the numbers.
    The course may last at most the profile's ``limits.max_course_days``."""
    days = (plan.end_date - plan.start_date).days + 1
    if days > profile.limits.max_course_days:
        raise PlanError([texts.PLAN_TOO_LONG.format(days=days, start=plan.start_date, end=plan.end_date,
                                                    max=profile.limits.max_course_days)])
    problem = online_share_problem(profile, total=plan.total_hours, online=plan.online_hours,
                                   theory=plan.theory_hours, occupation=plan.occupation, name=plan.name,
                                   online_approval=plan.online_approval)
    if problem is not None:
        raise PlanError([problem])


def plan_days(plan: Plan) -> list[date]:
    """Every calendar day from start_date to end_date, inclusive."""
    count = (plan.end_date - plan.start_date).days + 1
    return [plan.start_date + timedelta(days=offset) for offset in range(count)]
