"""R11: the day's tally per trainee and per class, in SQL, for many classes at once.

Every subquery is restricted to the asked classes *before* it groups (a join on ``enrollments`` with
``class_id IN (…)``), so a district's report over a city database of 500 classes and 25,000 trainees
reads only that district's rows; a city-wide report (``every_class``) wants all the day's rows and skips
that join. The class lines roll the per-trainee aggregates up per class, table by table, in one
statement. A class approved after the day counts none of that day's minutes (``uncounted``, R02). Definitions follow ``storage.reports``: counted punches and photos
(R02, R08), a trainee-day's minutes are the largest source (R09) and ``day_ok`` compares them with the
class's R09 threshold in whole minutes (``thresholds``: class id → minutes). Teaching (R10) counts what
happened *on the day*: homework handed in that day, submissions checked that day, questions asked and
answered that day, Q&A sessions started, spot checks recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from storage import reports
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


def _in(ids):
    return Enrollment.class_id.in_(ids)


@dataclass(frozen=True)
class _Facts:
    """The day's per-trainee aggregates (each keyed ``eid``), every one restricted to the asked classes before
    it groups; shared by the trainee lines and the class lines, so both count the same way."""

    threshold: Any  # (class_id, threshold) of the asked classes
    punches: Any
    photos: Any
    minutes: Any
    handed_in: Any
    checked: Any
    asked: Any
    uncounted: Sequence[int]

    def day_ok(self, study, threshold, class_id) -> Any:
        """1 where R09 is met and the class's minutes count that day (R02: not before its approval day), else 0."""
        met = study >= threshold
        return _flag(and_(met, class_id.not_in(list(self.uncounted))) if self.uncounted else met)


def _facts(day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int], uncounted: Sequence[int],
           every_class: bool) -> _Facts:
    """``every_class``: the asked classes are every class running on ``day`` (a city-wide report): then the day's
    rows are all wanted, and restricting them to the classes before grouping would only cost two joins per table
    (the roster join after grouping drops any other trainee's line either way)."""
    threshold = reports.class_thresholds(thresholds)  # joined, not a CASE per row
    ids = select(threshold.c.class_id)  # the asked classes: one list of ids in the statement, not one per subquery

    def of_asked(stmt: Select, enrollment_id) -> Select:
        return stmt if every_class else stmt.join(Enrollment, Enrollment.id == enrollment_id).where(_in(ids))

    punches = (
        of_asked(select(Punch.enrollment_id.label("eid"),
                        func.sum(_flag(Punch.kind == "in")).label("checkins"),
                        func.sum(_flag(Punch.kind == "out")).label("checkouts"),
                        func.sum(_flag(Punch.late.is_(True))).label("late"),
                        func.sum(_flag(Punch.early.is_(True))).label("early")), Punch.enrollment_id)
        .where(Punch.day == day, Punch.counts.is_(True))
        .group_by(Punch.enrollment_id).subquery("p"))
    photos = (
        of_asked(select(Photo.enrollment_id.label("eid"),
                        func.max(_flag(Photo.counted.is_(True))).label("counted"),
                        func.sum(_flag(Photo.status.in_(FLAGGED_PHOTO))).label("flagged")), Photo.enrollment_id)
        .where(Photo.day == day)
        .group_by(Photo.enrollment_id).subquery("ph"))
    # R09: lessons add up, one lesson from two sources counts once; R12: attendance classes ignore imports;
    # R02: a class approved after the day counts none of that day's minutes
    counted = ids.where(threshold.c.class_id.not_in(list(uncounted))) if uncounted else ids
    day_minutes = reports._day_minutes(day=day, class_ids=None if every_class and not uncounted else counted,
                                       attendance_classes=attendance_classes)
    minutes = select(day_minutes.c.enrollment_id.label("eid"), day_minutes.c.minutes.label("minutes")).subquery("m")
    handed_in = (
        of_asked(select(Submission.enrollment_id.label("eid"), func.count().label("submitted"),
                        func.sum(_flag(Submission.late.is_(True))).label("late")), Submission.enrollment_id)
        .where(Submission.day == day)
        .group_by(Submission.enrollment_id).subquery("hw"))
    checked = (
        of_asked(select(Submission.enrollment_id.label("eid"),
                        func.count(func.distinct(SubmissionCheck.submission_id)).label("checked"))
                 .join(Submission, Submission.id == SubmissionCheck.submission_id), Submission.enrollment_id)
        .where(SubmissionCheck.day == day)
        .group_by(Submission.enrollment_id).subquery("ck"))
    asked = (
        select(Question.enrollment_id.label("eid"), func.count().label("questions"))
        .where(Question.class_id.in_(ids), Question.day == day)
        .group_by(Question.enrollment_id).subquery("qs"))
    return _Facts(threshold, punches, photos, minutes, handed_in, checked, asked, uncounted)


def _trainee_select(day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int],
                    uncounted: Sequence[int], every_class: bool) -> Select:
    f = _facts(day, thresholds, attendance_classes, uncounted, every_class)
    study = func.coalesce(f.minutes.c.minutes, 0)
    return (
        select(
            Enrollment.class_id.label("class_id"),
            Enrollment.id.label("enrollment_id"),
            Person.name.label("name"),
            func.coalesce(f.punches.c.checkins, 0).label("checkins"),
            func.coalesce(f.punches.c.checkouts, 0).label("checkouts"),
            func.coalesce(f.punches.c.late, 0).label("late"),
            func.coalesce(f.punches.c.early, 0).label("early"),
            func.coalesce(f.photos.c.counted, 0).label("photo"),
            func.coalesce(f.photos.c.flagged, 0).label("photos_flagged"),
            func.coalesce(LeaveRequest.status, "none").label("leave"),
            study.label("study_minutes"),
            f.day_ok(study, f.threshold.c.threshold, Enrollment.class_id).label("day_ok"),
            func.coalesce(f.handed_in.c.submitted, 0).label("homework_submitted"),
            func.coalesce(f.handed_in.c.late, 0).label("homework_late"),
            func.coalesce(f.checked.c.checked, 0).label("homework_checked"),
            func.coalesce(f.asked.c.questions, 0).label("questions"),
        )
        .join(f.threshold, f.threshold.c.class_id == Enrollment.class_id)
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(f.punches, f.punches.c.eid == Enrollment.id)
        .outerjoin(f.photos, f.photos.c.eid == Enrollment.id)
        .outerjoin(f.minutes, f.minutes.c.eid == Enrollment.id)
        .outerjoin(f.handed_in, f.handed_in.c.eid == Enrollment.id)
        .outerjoin(f.checked, f.checked.c.eid == Enrollment.id)
        .outerjoin(f.asked, f.asked.c.eid == Enrollment.id)
        .outerjoin(LeaveRequest, and_(LeaveRequest.enrollment_id == Enrollment.id, LeaveRequest.day == day))
        .where(Enrollment.removed.is_(False))
    )


def trainee_lines(s: Session, day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int] = (),
                  uncounted: Sequence[int] = (), every_class: bool = False) -> list[TraineeLine]:
    """R11: every active trainee of the classes in ``thresholds`` on ``day``, by class then roster order;
    ``attendance_classes``: those counted by attendance (R12); ``uncounted``: those approved after ``day``, whose
    minutes of the day do not count (R02); ``every_class``: see :func:`_facts`."""
    if not thresholds:
        return []
    stmt = _trainee_select(day, thresholds, attendance_classes, uncounted, every_class).order_by(Enrollment.class_id, Enrollment.id)
    return [TraineeLine(r.class_id, r.enrollment_id, r.name, int(r.checkins), int(r.checkouts), int(r.late),
                        int(r.early), bool(r.photo), int(r.photos_flagged), r.leave, int(r.study_minutes),
                        bool(r.day_ok), int(r.homework_submitted), int(r.homework_late), int(r.homework_checked),
                        int(r.questions))
            for r in s.execute(stmt)]


def class_lines(s: Session, day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int] = (),
                uncounted: Sequence[int] = (), every_class: bool = False) -> dict[int, ClassLine]:
    """R10, R11: the day's tally of each class in ``thresholds`` (class id → its R09 threshold), in one statement.

    The per-trainee aggregates of :func:`trainee_lines` are rolled up per class one table at a time (each joined
    to the active roster and grouped by class), so the city's 25,000 trainees are never joined to each other's
    tables row by row and no name is read (issue 13)."""
    if not thresholds:
        return {}
    f = _facts(day, thresholds, attendance_classes, uncounted, every_class)
    roster = (select(Enrollment.id.label("eid"), Enrollment.class_id.label("class_id"),
                     f.threshold.c.threshold.label("threshold"))
              .join(f.threshold, f.threshold.c.class_id == Enrollment.class_id)
              .where(Enrollment.removed.is_(False)).cte("roster"))

    def rollup(name: str, facts, *columns):
        stmt = select(roster.c.class_id.label("class_id"), *columns)
        if facts is not None:
            stmt = stmt.join(facts, facts.c.eid == roster.c.eid)
        return stmt.group_by(roster.c.class_id).subquery(name)

    study = func.coalesce(f.minutes.c.minutes, 0)
    parts = [
        select(roster.c.class_id.label("class_id"), func.count().label("trainees"),
               func.sum(study).label("minutes"), func.sum(f.day_ok(study, roster.c.threshold, roster.c.class_id)).label("day_ok"))
        .outerjoin(f.minutes, f.minutes.c.eid == roster.c.eid).group_by(roster.c.class_id).subquery("r"),
        rollup("rp", f.punches, func.sum(_flag(f.punches.c.checkins > 0)).label("checked_in"),
               func.sum(_flag(f.punches.c.checkouts > 0)).label("checked_out"),
               func.sum(f.punches.c.late).label("late"), func.sum(f.punches.c.early).label("early")),
        rollup("rph", f.photos, func.sum(f.photos.c.counted).label("photos"),
               func.sum(f.photos.c.flagged).label("photos_flagged")),
        select(roster.c.class_id.label("class_id"), func.count().label("leave"))
        .join(LeaveRequest, LeaveRequest.enrollment_id == roster.c.eid).where(LeaveRequest.day == day)
        .group_by(roster.c.class_id).subquery("rlv"),
        rollup("rhw", f.handed_in, func.sum(f.handed_in.c.submitted).label("homework_submitted"),
               func.sum(f.handed_in.c.late).label("homework_late")),
        rollup("rck", f.checked, func.sum(f.checked.c.checked).label("homework_checked")),
        rollup("rqs", f.asked, func.sum(f.asked.c.questions).label("questions")),
    ]
    ids = select(f.threshold.c.class_id)
    parts += [
        select(Assignment.class_id.label("class_id"), func.count().label("homework_posted"))
        .where(Assignment.class_id.in_(ids), Assignment.day == day).group_by(Assignment.class_id).subquery("pa"),
        select(QaSession.class_id.label("class_id"), func.count().label("qa_sessions"))
        .where(QaSession.class_id.in_(ids), QaSession.day == day).group_by(QaSession.class_id).subquery("pq"),
        select(SpotCheck.class_id.label("class_id"), func.count().label("spot_checks"))
        .where(SpotCheck.class_id.in_(ids), SpotCheck.day == day).group_by(SpotCheck.class_id).subquery("ps"),
        select(Question.class_id.label("class_id"), func.count(func.distinct(Answer.question_id)).label("answered"))
        .join(Question, Question.id == Answer.question_id)
        .where(Question.class_id.in_(ids), Answer.day == day).group_by(Question.class_id).subquery("pn"),
    ]
    counted = {c.name: c for part in parts for c in part.c if c.name != "class_id"}
    stmt = select(f.threshold.c.class_id, *[func.coalesce(counted[name], 0) for name in _COUNTED])
    for part in parts:
        stmt = stmt.outerjoin(part, part.c.class_id == f.threshold.c.class_id)
    return {row[0]: ClassLine(row[0], *map(int, row[1:])) for row in s.execute(stmt)}


_COUNTED = tuple(f.name for f in fields(ClassLine))[1:]  # the class lines' columns, in ClassLine's order
