"""R11: the day's tally per trainee and per class, in SQL, for many classes at once.

The asked classes are one table of the statement (``reports.class_rules``: each class's threshold, whether its
minutes count, whether it is counted by attendance), sent as a single parameter however many classes there are.
Every subquery is restricted to those classes *before* it groups (a join on ``enrollments``), so a district's
report over a city database of 500 classes and 25,000 trainees reads only that district's rows; a city-wide
report (``every_class``) wants all the day's rows and skips that join. The class lines add up the trainee lines
per class from the same subqueries, in two statements that a reader on PostgreSQL runs at once: the roster's
minutes, and the rest (leave, homework and questions, a few rows a day, are grouped per class apart from the
roster). A class approved after the day counts none of that day's minutes
(``uncounted``, R02). Definitions follow ``storage.reports``: counted punches and photos
(R02, R08), a trainee-day's minutes are the largest source (R09) and ``day_ok`` compares them with the
class's R09 threshold in whole minutes (``thresholds``: class id → minutes). Teaching (R10) counts what
happened *on the day*: homework handed in that day, submissions checked that day, questions asked and
answered that day, Q&A sessions started, spot checks recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Date, Select, and_, bindparam, case, cast, func, select
from sqlalchemy.orm import Session

from storage import reports
from storage.db import aside
from storage.models import (
    Answer,
    Assignment,
    Enrollment,
    LeaveRequest,
    Person,
    Photo,
    Punch,
    QaSession,
    Question,
    SpotCheck,
    Submission,
    SubmissionCheck,
)

FLAGGED_PHOTO = ("duplicate", "pending")  # R08: awaiting a reviewer


def _flag(condition):
    return case((condition, 1), else_=0)


@dataclass(frozen=True)
class TraineeLine:
    """One active trainee on one day (R11)."""

    class_id: int
    enrollment_id: int
    name: str
    checkins: int
    checkouts: int
    late: int
    early: int
    photo: bool
    photos_flagged: int
    leave: str  # none | pending | approved | rejected
    study_minutes: int
    day_ok: bool
    homework_submitted: int
    homework_late: int
    homework_checked: int
    questions: int


@dataclass(frozen=True)
class ClassLine:
    """One class on one day (R10, R11); trainee counts are over the active roster."""

    class_id: int
    trainees: int = 0
    checked_in: int = 0  # trainees with at least one counted check-in
    checked_out: int = 0
    late: int = 0  # counted punches flagged late
    early: int = 0
    photos: int = 0  # trainees with a counted photo
    photos_flagged: int = 0
    leave: int = 0
    day_ok: int = 0
    minutes: int = 0
    homework_posted: int = 0
    homework_submitted: int = 0
    homework_late: int = 0
    homework_checked: int = 0
    questions: int = 0
    answered: int = 0
    qa_sessions: int = 0
    spot_checks: int = 0

    @property
    def short(self) -> int:
        """Trainees whose day did not reach the R09 threshold."""
        return self.trainees - self.day_ok


DAY = bindparam("day", type_=Date)


@dataclass(frozen=True)
class _Facts:
    """The day's per-trainee aggregates (each keyed ``eid``), every one restricted to the asked classes before
    it groups; shared by the trainee lines and the class lines, so both count the same way."""

    rules: Any  # reports.class_rules: (class_id, threshold, counts, attendance) of the asked classes
    punches: Any
    photos: Any
    minutes: Any
    handed_in: Any
    checked: Any
    asked: Any


def _facts(dialect: str, every_class: bool, attendance: bool) -> _Facts:
    """``every_class``: the asked classes are every class running on the day (a city-wide report): then the day's
    rows are all wanted, and restricting them to the classes before grouping would only cost two joins per table
    (the roster join after grouping drops any other trainee's line either way). ``attendance``: some asked class
    is counted by attendance (R12), so the minutes are read with their class."""
    rules = reports.class_rules(dialect)  # joined, not a CASE per row
    ids = select(rules.c.class_id)

    def of_asked(stmt: Select, enrollment_id) -> Select:
        return stmt if every_class else stmt.join(Enrollment, Enrollment.id == enrollment_id).where(
            Enrollment.class_id.in_(ids))

    punches = (
        of_asked(select(Punch.enrollment_id.label("eid"),
                        func.sum(_flag(Punch.kind == "in")).label("checkins"),
                        func.sum(_flag(Punch.kind == "out")).label("checkouts"),
                        func.sum(_flag(Punch.late.is_(True))).label("late"),
                        func.sum(_flag(Punch.early.is_(True))).label("early")), Punch.enrollment_id)
        .where(Punch.day == DAY, Punch.counts.is_(True))
        .group_by(Punch.enrollment_id).subquery("p"))
    photos = (
        of_asked(select(Photo.enrollment_id.label("eid"),
                        func.max(_flag(Photo.counted.is_(True))).label("counted"),
                        func.sum(_flag(Photo.status.in_(FLAGGED_PHOTO))).label("flagged")), Photo.enrollment_id)
        .where(Photo.day == DAY)
        .group_by(Photo.enrollment_id).subquery("ph"))
    # R09: lessons add up, one lesson from two sources counts once; R12: attendance classes ignore imports
    day_minutes = reports._day_minutes(day=DAY, rules=None if every_class and not attendance else rules)
    minutes = select(day_minutes.c.enrollment_id.label("eid"), day_minutes.c.minutes.label("minutes")).subquery("m")
    handed_in = (
        of_asked(select(Submission.enrollment_id.label("eid"), func.count().label("submitted"),
                        func.sum(_flag(Submission.late.is_(True))).label("late")), Submission.enrollment_id)
        .where(Submission.day == DAY)
        .group_by(Submission.enrollment_id).subquery("hw"))
    checked = (
        of_asked(select(Submission.enrollment_id.label("eid"),
                        func.count(func.distinct(SubmissionCheck.submission_id)).label("checked"))
                 .join(Submission, Submission.id == SubmissionCheck.submission_id), Submission.enrollment_id)
        .where(SubmissionCheck.day == DAY)
        .group_by(Submission.enrollment_id).subquery("ck"))
    asked = (
        select(Question.enrollment_id.label("eid"), func.count().label("questions"))
        .where(Question.class_id.in_(ids), Question.day == DAY)
        .group_by(Question.enrollment_id).subquery("qs"))
    return _Facts(rules, punches, photos, minutes, handed_in, checked, asked)


def _per_trainee(f: _Facts, only: str | None = None) -> Select:
    """A row per active trainee of the asked classes: the day's figures of :class:`TraineeLine` (without the name).
    R02: a class approved after the day counts none of that day's minutes, and no trainee of it meets R09 that day.
    ``only``: ``"minutes"`` (the study minutes and R09) or ``"attendance"`` (punches and photos), for the class
    lines' two statements, which count the leave, homework and questions (R07, R10) per class apart
    (:func:`_per_class`)."""
    stmt = (select(Enrollment.class_id.label("class_id"), Enrollment.id.label("enrollment_id"))
            .join(f.rules, f.rules.c.class_id == Enrollment.class_id)
            .where(Enrollment.removed.is_(False)))
    if only != "minutes":
        stmt = (stmt.add_columns(func.coalesce(f.punches.c.checkins, 0).label("checkins"),
                                 func.coalesce(f.punches.c.checkouts, 0).label("checkouts"),
                                 func.coalesce(f.punches.c.late, 0).label("late"),
                                 func.coalesce(f.punches.c.early, 0).label("early"),
                                 func.coalesce(f.photos.c.counted, 0).label("photo"),
                                 func.coalesce(f.photos.c.flagged, 0).label("photos_flagged"))
                .outerjoin(f.punches, f.punches.c.eid == Enrollment.id)
                .outerjoin(f.photos, f.photos.c.eid == Enrollment.id))
    if only != "attendance":
        counts = f.rules.c.counts == 1
        study = case((counts, func.coalesce(f.minutes.c.minutes, 0)), else_=0)
        stmt = (stmt.add_columns(study.label("study_minutes"),
                                 _flag(and_(counts, study >= f.rules.c.threshold)).label("day_ok"))
                .outerjoin(f.minutes, f.minutes.c.eid == Enrollment.id))
    if only is not None:
        return stmt
    return (stmt.add_columns(func.coalesce(LeaveRequest.status, "none").label("leave"),
                             func.coalesce(f.handed_in.c.submitted, 0).label("homework_submitted"),
                             func.coalesce(f.handed_in.c.late, 0).label("homework_late"),
                             func.coalesce(f.checked.c.checked, 0).label("homework_checked"),
                             func.coalesce(f.asked.c.questions, 0).label("questions"))
            .outerjoin(LeaveRequest, and_(LeaveRequest.enrollment_id == Enrollment.id, LeaveRequest.day == DAY))
            .outerjoin(f.handed_in, f.handed_in.c.eid == Enrollment.id)
            .outerjoin(f.checked, f.checked.c.eid == Enrollment.id)
            .outerjoin(f.asked, f.asked.c.eid == Enrollment.id))


def _per_class(f: _Facts, every_class: bool) -> list:
    """R07, R10: each class's leave requests, homework handed in, late and checked and questions asked on the day,
    by its active trainees: what :func:`trainee_lines` shows per trainee (a trainee has one leave request a day at
    most), added up per class. A few rows a day, grouped per class apart from the roster: joined to every trainee's
    line, each would cost the class lines a pass over the city's roster (issue 13)."""
    active = Enrollment.removed.is_(False)
    leave = (select(Enrollment.class_id.label("class_id"), func.count().label("leave"))
             .join(LeaveRequest, LeaveRequest.enrollment_id == Enrollment.id).where(LeaveRequest.day == DAY, active))
    if not every_class:
        leave = leave.where(Enrollment.class_id.in_(select(f.rules.c.class_id)))
    return [
        leave.group_by(Enrollment.class_id).subquery("tlv"),
        select(Enrollment.class_id.label("class_id"), func.sum(f.handed_in.c.submitted).label("homework_submitted"),
               func.sum(f.handed_in.c.late).label("homework_late"))
        .join(f.handed_in, f.handed_in.c.eid == Enrollment.id).where(active)
        .group_by(Enrollment.class_id).subquery("thw"),
        select(Enrollment.class_id.label("class_id"), func.sum(f.checked.c.checked).label("homework_checked"))
        .join(f.checked, f.checked.c.eid == Enrollment.id).where(active)
        .group_by(Enrollment.class_id).subquery("tck"),
        select(Enrollment.class_id.label("class_id"), func.sum(f.asked.c.questions).label("questions"))
        .join(f.asked, f.asked.c.eid == Enrollment.id).where(active)
        .group_by(Enrollment.class_id).subquery("tqs"),
    ]


def _parameters(s: Session, day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int],
                uncounted: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """The dialect and the parameters of a statement over the classes of ``thresholds`` on ``day``."""
    dialect = s.get_bind().dialect.name
    attendance, skipped = set(attendance_classes), set(uncounted)
    rows = [(cid, threshold, int(cid not in skipped), int(cid in attendance)) for cid, threshold in thresholds.items()]
    return dialect, {"day": day, **reports.class_rules_parameters(dialect, rows)}


@cache
def _trainee_statement(dialect: str, every_class: bool, attendance: bool) -> Select:
    """:func:`trainee_lines`' statement, built once per shape (the day and the classes are parameters)."""
    return (_per_trainee(_facts(dialect, every_class, attendance)).add_columns(Person.name.label("name"))
            .join(Person, Person.id == Enrollment.person_id).order_by(Enrollment.class_id, Enrollment.id))


def trainee_lines(s: Session, day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int] = (),
                  uncounted: Sequence[int] = (), every_class: bool = False) -> list[TraineeLine]:
    """R11: every active trainee of the classes in ``thresholds`` on ``day``, by class then roster order;
    ``attendance_classes``: those counted by attendance (R12); ``uncounted``: those approved after ``day``, whose
    minutes of the day do not count (R02); ``every_class``: see :func:`_facts`."""
    if not thresholds:
        return []
    dialect, parameters = _parameters(s, day, thresholds, attendance_classes, uncounted)
    stmt = _trainee_statement(dialect, every_class, bool(attendance_classes))
    return [TraineeLine(r.class_id, r.enrollment_id, r.name, int(r.checkins), int(r.checkouts), int(r.late),
                        int(r.early), bool(r.photo), int(r.photos_flagged), r.leave, int(r.study_minutes),
                        bool(r.day_ok), int(r.homework_submitted), int(r.homework_late), int(r.homework_checked),
                        int(r.questions))
            for r in s.execute(stmt, parameters)]


@cache
def _class_statements(dialect: str, every_class: bool, attendance: bool) -> tuple[Select, Select]:
    """:func:`class_lines`' two statements, built once per shape (the day and the classes are parameters): the
    roster's minutes (trainees, R09), and the rest (punches, photos, leave, homework, Q&A, spot checks). Apart,
    they run at once on two connections (``storage.db.aside``): a city's report took the minutes' time plus the
    rest's in one statement (issue 13)."""
    f = _facts(dialect, every_class, attendance)
    m = _per_trainee(f, "minutes").subquery("t")
    minutes = select(m.c.class_id.label("class_id"), func.count().label("trainees"),
                     func.sum(m.c.day_ok).label("day_ok"), func.sum(m.c.study_minutes).label("minutes"),
                     ).group_by(m.c.class_id).subquery("r")
    a = _per_trainee(f, "attendance").subquery("a")
    attended = select(
        a.c.class_id.label("class_id"),
        func.sum(_flag(a.c.checkins > 0)).label("checked_in"),
        func.sum(_flag(a.c.checkouts > 0)).label("checked_out"),
        func.sum(a.c.late).label("late"),
        func.sum(a.c.early).label("early"),
        func.sum(a.c.photo).label("photos"),
        func.sum(a.c.photos_flagged).label("photos_flagged"),
    ).group_by(a.c.class_id).subquery("at")
    ids = select(f.rules.c.class_id)
    rest = [
        attended,
        *_per_class(f, every_class),
        select(Assignment.class_id.label("class_id"), func.count().label("homework_posted"))
        .where(Assignment.class_id.in_(ids), Assignment.day == DAY).group_by(Assignment.class_id).subquery("pa"),
        select(QaSession.class_id.label("class_id"), func.count().label("qa_sessions"))
        .where(QaSession.class_id.in_(ids), QaSession.day == DAY).group_by(QaSession.class_id).subquery("pq"),
        select(SpotCheck.class_id.label("class_id"), func.count().label("spot_checks"))
        .where(SpotCheck.class_id.in_(ids), SpotCheck.day == DAY).group_by(SpotCheck.class_id).subquery("ps"),
        select(Question.class_id.label("class_id"), func.count(func.distinct(Answer.question_id)).label("answered"))
        .join(Question, Question.id == Answer.question_id)
        .where(Question.class_id.in_(ids), Answer.day == DAY).group_by(Question.class_id).subquery("pn"),
    ]
    return _per_asked_class(f, [minutes]), _per_asked_class(f, rest)


def _per_asked_class(f: _Facts, parts: list) -> Select:
    """A row per asked class: its id, then every column of ``parts`` (each keyed ``class_id``), 0 where a part
    has no row for it."""
    # whole numbers, as the database counted them (PostgreSQL's sum of sums is numeric: 9,000 Decimals a city's
    # report would convert, issue 13)
    stmt = select(f.rules.c.class_id, *[cast(func.coalesce(c, 0), BigInteger).label(c.name)
                                        for part in parts for c in part.c if c.name != "class_id"])
    for part in parts:
        stmt = stmt.outerjoin(part, part.c.class_id == f.rules.c.class_id)
    return stmt


def class_lines(s: Session, day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int] = (),
                uncounted: Sequence[int] = (), every_class: bool = False) -> dict[int, ClassLine]:
    """R10, R11: the day's tally of each class in ``thresholds`` (class id → its R09 threshold): the figures of
    :func:`trainee_lines` (without names) added up per class from the same subqueries, so both count alike,
    plus what belongs to the class itself (homework posted, Q&A sessions, answers, spot checks). Two
    statements, at once in a reader on PostgreSQL (:func:`_class_statements`)."""
    if not thresholds:
        return {}
    dialect, parameters = _parameters(s, day, thresholds, attendance_classes, uncounted)
    minutes, rest = _class_statements(dialect, every_class, bool(attendance_classes))
    rest_rows = aside(s, rest, parameters)
    lines = {row[0]: row._asdict() for row in s.execute(minutes, parameters)}
    for row in rest_rows():
        lines[row[0]].update(row._asdict())
    return {cid: ClassLine(**figures) for cid, figures in lines.items()}


