"""Policy profiles: every number of RULES.md as data, plus exact ratio arithmetic.

A profile is a TOML file in ``handlers/profiles`` (one per region and policy year); it is loaded into
a frozen, typed :class:`Profile`. A class may override any setting with a nested dict that mirrors
the TOML (``{"roll_call": {"min_sample": 0.6}}``). Ratios are held as :class:`~fractions.Fraction`
so that comparisons at a boundary (79.9% fails, 80.0% passes) are exact; use :func:`meets_ratio`,
:func:`min_count` and :func:`max_count` rather than float arithmetic.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from typing import Any, Literal, Mapping, get_args, get_origin, get_type_hints

from handlers.texts import classes as texts
from handlers.errors import Refusal

DEFAULT_PROFILE = "baotou-2020"

Number = int | Fraction | float | Decimal


class PolicyError(Refusal):
    """A profile name, file or override is wrong; ``str()`` is a Chinese message naming it."""


# --- Exact ratio arithmetic ---------------------------------------------------------------------


def as_fraction(value: Number | str) -> Fraction:
    """Exact value of a number or a ratio text ("0.8", "1/3").

    Floats go through their shortest decimal form, so ``0.8`` becomes exactly 4/5 rather than the
    binary approximation slightly above it.
    """
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(repr(value))
    if isinstance(value, (int, Fraction, Decimal, str)):
        return Fraction(value)
    raise TypeError(f"not a number: {value!r}")


def meets_ratio(part: Number, whole: Number, ratio: Number | str) -> bool:
    """True when ``part / whole >= ratio``, computed exactly (R09, R12, R13, R14, R15, R16).

    ``whole == 0`` means nothing was required, which is met.
    """
    part_f, whole_f, ratio_f = as_fraction(part), as_fraction(whole), as_fraction(ratio)
    if part_f < 0 or whole_f < 0:
        raise ValueError(f"negative amount: {part!r} of {whole!r}")
    return part_f >= ratio_f * whole_f


def min_count(whole: Number, ratio: Number | str) -> int:
    """Smallest whole number that reaches ``ratio`` of ``whole`` (R13 sample size, R03 minimum)."""
    return math.ceil(as_fraction(ratio) * as_fraction(whole))


def max_count(whole: Number, ratio: Number | str) -> int:
    """Largest whole number that stays within ``ratio`` of ``whole`` (R03 maximum)."""
    return math.floor(as_fraction(ratio) * as_fraction(whole))


def format_percent(ratio: Number | str) -> str:
    """``Fraction(2, 5)`` → ``"40%"``; ``Fraction(1, 3)`` → ``"33.3%"``."""
    percent = as_fraction(ratio) * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{float(percent):.1f}%"


# --- The profile --------------------------------------------------------------------------------
# One frozen dataclass per TOML table; field names are the TOML keys. Each table carries `source`,
# the seed sections the numbers come from (shown to reviewers and in the admin).


@dataclass(frozen=True)
class Meta:
    title: str
    seeds: tuple[str, ...]


@dataclass(frozen=True)
class PlanSettings:
    """R01: plan defaults; a change of an approved plan is asked for ``change_notice_days`` ahead (003 第九条)."""

    source: str
    lesson_minutes: int
    change_notice_days: int


@dataclass(frozen=True)
class OnlineShare:
    """R03: how many of the hours may be online.

    ``kind = "max"``: at most ``ratio`` of the total hours. ``kind = "theory"``: at most the plan's theory
    hours (all theory lessons may go online, practicals may not; ``ratio`` is the theory share the seeds
    name, for the record); a class whose occupation or name contains one of ``beyond_theory_keywords``
    (IT, 创业) may go further when the plan notes the district's approval (``online_approval``).
    ``kind = "min"``: at least ``ratio`` of the total (kept for overrides)."""

    source: str
    kind: Literal["max", "min", "theory"]
    ratio: Fraction
    beyond_theory_keywords: tuple[str, ...]


@dataclass(frozen=True)
class Attendance:
    """R06: check-in/check-out windows, in minutes around each session's start and end."""

    source: str
    checkin_opens_before_min: int
    checkin_closes_after_min: int
    checkout_opens_before_min: int
    checkout_closes_after_min: int


@dataclass(frozen=True)
class Leave:
    """R07: leave must be asked this many minutes before the day's first session (0: any time before)."""

    source: str
    deadline_before_first_session_min: int


@dataclass(frozen=True)
class Photos:
    """R08: counted photos per day, and the perceptual-hash distance that makes a near duplicate."""

    source: str
    per_day: int
    phash_bits: int
    near_duplicate_max_distance: int


@dataclass(frozen=True)
class Study:
    """R09: daily online study time as a share of the day's planned online time."""

    source: str
    min_ratio: Fraction


@dataclass(frozen=True)
class Duties:
    """R10: the institution's spot checks per class per day."""

    source: str
    spot_checks_per_day: int


@dataclass(frozen=True)
class Hours:
    """R09/R12: what a trainee's study time is counted from, and attendance-based 课时 per full and half day.

    ``basis = "minutes"``: the platform's viewing statistics (R09). ``basis = "attendance"``: each class
    day earns ``full_day`` 课时 when every session's check-in and check-out are present, ``half_day``
    when one of two sessions is (R12).
    """

    source: str
    basis: Literal["minutes", "attendance"]
    full_day: int
    half_day: int
    qualify_ratio: Fraction


@dataclass(frozen=True)
class RollCall:
    """R13: random roll call frequency, sample share and answer window."""

    source: str
    every_days: int
    min_sample: Fraction
    answer_minutes: int


@dataclass(frozen=True)
class Inspection:
    """R14: city/district inspections; ``enabled`` is false where the seeds do not require them."""

    source: str
    enabled: bool
    video_pass: Fraction
    live_stats_pass: Fraction
    phone_check_share: Fraction
    attendance_pass: Fraction
    small_class_max_hours: int
    small_class_city_checks: int
    small_class_district_checks: int
    large_class_city_checks: int
    large_class_district_checks: int
    findings_working_days: int


@dataclass(frozen=True)
class Eligibility:
    """R15: a class loses subsidy eligibility after this many checks passing below ``check_pass``."""

    source: str
    enabled: bool
    failed_checks_limit: int
    check_pass: Fraction


@dataclass(frozen=True)
class Removal:
    """R16: a trainee below this share of required online time is removed from the subsidy roster."""

    source: str
    min_ratio: Fraction


@dataclass(frozen=True)
class Subsidy:
    """R19: the pre-payment — ``prepay_share`` of the subsidy standard × the ``basis`` count (registered or
    qualified trainees), never above ``prepay_ceiling`` × the standard × the registered trainees, paid
    ``prepay_when`` — and the publicity period (公示) in working days before payment."""

    source: str
    prepay_share: Fraction
    prepay_when: Literal["after_online_hours", "after_filing", "none"]
    basis: Literal["registered", "qualified"]
    prepay_ceiling: Fraction
    publicity_working_days: int


@dataclass(frozen=True)
class Reminders:
    """R21: a group reminder when each session's check-in window opens (``checkin``); at ``evening``
    (HH:MM) a 1:1 reminder to trainees whose day is short, and a make-up reminder for leave days;
    ``spot_checks_before_end_min`` before the day's class time ends, a reminder to the class teacher
    when the day's spot checks (R10) are still missing."""

    source: str
    checkin: bool
    evening: str
    spot_checks_before_end_min: int


@dataclass(frozen=True)
class Report:
    """R11: the time (HH:MM) each morning the districts are sent the previous day's report."""

    source: str
    morning: str


@dataclass(frozen=True)
class Binding:
    """Binding a DingTalk identity: lock after too many failed tries (product setting, not policy)."""

    source: str
    max_failures: int  # per sender
    window_minutes: int
    lock_minutes: int
    max_failures_per_trainee: int  # per trainee name, across all senders


@dataclass(frozen=True)
class Trainees:
    """R22: who the policy may train (身份类别 the district re-checks before training). Empty: the seed names no
    groups, so the admin flags nobody; a trainee is never refused automatically, the district marks them."""

    source: str
    target_groups: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    """What one class may ask of the system (product setting, not policy): a course of at most
    ``max_course_days`` calendar days and a roster of at most ``max_trainees``. A plan's
    ``overrides`` cannot change them (``handlers.plans``): the plan is the institution's own file."""

    source: str
    max_course_days: int
    max_trainees: int


@dataclass(frozen=True)
class Profile:
    name: str
    meta: Meta
    plan: PlanSettings
    online_share: OnlineShare
    attendance: Attendance
    leave: Leave
    photos: Photos
    study: Study
    duties: Duties
    hours: Hours
    roll_call: RollCall
    inspection: Inspection
    eligibility: Eligibility
    trainees: Trainees
    removal: Removal
    subsidy: Subsidy
    binding: Binding
    limits: Limits
    reminders: Reminders
    report: Report


# --- Loading ------------------------------------------------------------------------------------


def profile_names() -> list[str]:
    """Names of the packaged profiles, sorted."""
    folder = resources.files("handlers").joinpath("profiles")
    return sorted(
        entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")
    )


def load_profile(name: str, overrides: Mapping[str, Any] | None = None) -> Profile:
    """The profile ``name`` with ``overrides`` (a nested dict mirroring the TOML) applied.

    Raises PolicyError for an unknown name, or an override key that does not exist or has the wrong
    type; the message names the key.
    """
    if not overrides:
        return _load_cached(name)
    data = _raw_profile(name)
    _merge(data, overrides, prefix="")
    return _build(Profile, {"name": name, **data}, prefix="", profile=name)


@functools.cache
def _load_cached(name: str) -> Profile:
    return _build(Profile, {"name": name, **_raw_profile(name)}, prefix="", profile=name)


def _raw_profile(name: str) -> dict[str, Any]:
    names = profile_names()
    if name not in names:
        raise PolicyError(texts.PROFILE_UNKNOWN.format(name=name, available="、".join(names)))
    return copy.deepcopy(_read_toml(name))


@functools.cache
def _read_toml(name: str) -> dict[str, Any]:
    text = resources.files("handlers").joinpath("profiles", f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(data: dict[str, Any], overrides: Mapping[str, Any], prefix: str) -> None:
    """Apply ``overrides`` onto ``data`` in place; only keys that exist may be overridden."""
    if not isinstance(overrides, Mapping):
        key = prefix.rstrip(".") or "overrides"
        raise PolicyError(texts.PROFILE_KEY_NOT_TABLE.format(key=key, value=overrides))
    for key, value in overrides.items():
        dotted = f"{prefix}{key}"
        if key not in data:
            raise PolicyError(texts.PROFILE_KEY_UNKNOWN.format(key=dotted))
        if isinstance(data[key], dict):
            _merge(data[key], value, prefix=f"{dotted}.")
        else:
            data[key] = value


def _build(cls: type, data: Any, prefix: str, profile: str) -> Any:
    """Build dataclass ``cls`` from a TOML table, checking every key and value type."""
    if not isinstance(data, Mapping):
        raise PolicyError(texts.PROFILE_KEY_NOT_TABLE.format(key=prefix.rstrip("."), value=data))
    hints = get_type_hints(cls)
    for key in data:
        if key not in hints:
            raise PolicyError(texts.PROFILE_KEY_UNKNOWN.format(key=f"{prefix}{key}"))
    values = {}
    for field in dataclasses.fields(cls):
        dotted = f"{prefix}{field.name}"
        if field.name not in data:
            raise PolicyError(texts.PROFILE_KEY_MISSING.format(profile=profile, key=dotted))
        values[field.name] = _convert(data[field.name], hints[field.name], dotted, profile)
    return cls(**values)


def _convert(value: Any, hint: Any, key: str, profile: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, prefix=f"{key}.", profile=profile)

    def bad(expected: str) -> PolicyError:
        return PolicyError(texts.PROFILE_KEY_BAD_TYPE.format(key=key, value=value, expected=expected))

    if hint is bool:
        if not isinstance(value, bool):
            raise bad(texts.PROFILE_EXPECT_BOOL)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(texts.PROFILE_EXPECT_INT)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise bad(texts.PROFILE_EXPECT_STR)
        return value
    if hint is Fraction:
        try:
            ratio = as_fraction(value)
        except (TypeError, ValueError, ZeroDivisionError):
            raise bad(texts.PROFILE_EXPECT_RATIO) from None
        if not 0 <= ratio <= 1:
            raise bad(texts.PROFILE_EXPECT_RATIO)
        return ratio
    if get_origin(hint) is Literal:
        choices = get_args(hint)
        if value not in choices:
            raise bad(texts.PROFILE_EXPECT_CHOICE.format(choices="、".join(choices)))
        return value
    if get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise bad(texts.PROFILE_EXPECT_STR_LIST)
        return tuple(value)
    raise TypeError(f"unsupported profile field type {hint!r} for {key}")
