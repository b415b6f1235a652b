"""R11: the day's tally per trainee and per class, in SQL, for many classes at once.

Every subquery is restricted to the asked classes *before* it groups (a join on ``enrollments`` with
``class_id IN (…)``), so a district's report over a city database of 500 classes and 25,000 trainees
reads only that district's rows. Definitions follow ``storage.reports``: counted punches and photos
(R02, R08), a trainee-day's minutes are the largest source (R09) and ``day_ok`` compares them with the
class's R09 threshold in whole minutes (``thresholds``: class id → minutes). Teaching (R10) counts what
happened *on the day*: homework handed in that day, submissions checked that day, questions asked and
answered that day, Q&A sessions started, spot checks recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date

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


def _trainee_select(day: date, thresholds: Mapping[int, int], attendance_classes: Sequence[int] = ()) -> Select:
    threshold = reports.class_thresholds(thresholds)  # joined, not a CASE per row
    ids = select(threshold.c.class_id)  # the asked classes: one list of ids in the statement, not one per subquery
    punches = (
        select(Punch.enrollment_id.label("eid"),
               func.sum(_flag(Punch.kind == "in")).label("checkins"),
               func.sum(_flag(Punch.kind == "out")).label("checkouts"),
               func.sum(_flag(Punch.late.is_(True))).label("late"),
               func.sum(_flag(Punch.early.is_(True))).label("early"))
        .join(Enrollment, Enrollment.id == Punch.enrollment_id)
        .where(_in(ids), Punch.day == day, Punch.counts.is_(True))
        .group_by(Punch.enrollment_id).subquery("p"))
    photos = (
        select(Photo.enrollment_id.label("eid"),
               func.max(_flag(Photo.counted.is_(True))).label("counted"),
               func.sum(_flag(Photo.status.in_(FLAGGED_PHOTO))).label("flagged"))
        .join(Enrollment, Enrollment.id == Photo.enrollment_id)
        .where(_in(ids), Photo.day == day)
        .group_by(Photo.enrollment_id).subquery("ph"))
    # R09: lessons add up, one lesson from two sources counts once; R12: attendance classes ignore imports
    day_minutes = reports._day_minutes(day=day, class_ids=ids, attendance_classes=attendance_classes)
    minutes = select(day_minutes.c.enrollment_id.label("eid"), day_minutes.c.minutes.label("minutes")).subquery("m")
    handed_in = (
        select(Submission.enrollment_id.label("eid"), func.count().label("submitted"),
               func.sum(_flag(Submission.late.is_(True))).label("late"))
        .join(Enrollment, Enrollment.id == Submission.enrollment_id)
        .where(_in(ids), Submission.day == day)
        .group_by(Submission.enrollment_id).subquery("hw"))
    checked = (
        select(Submission.enrollment_id.label("eid"),
               func.count(func.distinct(SubmissionCheck.submission_id)).label("checked"))
        .join(Submission, Submission.id == SubmissionCheck.submission_id)
        .join(Enrollment, Enrollment.id == Submission.enrollment_id)
        .where(_in(ids), SubmissionCheck.day == day)
        .group_by(Submission.enrollment_id).subquery("ck"))
    asked = (
        select(Question.enrollment_id.label("eid"), func.count().label("questions"))
        .where(Question.class_id.in_(ids), Question.day == day)
        .group_by(Question.enrollment_id).subquery("qs"))
    study = func.coalesce(minutes.c.minutes, 0)
    return (
        select(
            Enrollment.class_id.label("class_id"),
            Enrollment.id.label("enrollment_id"),
            Person.name.label("name"),
            func.coalesce(punches.c.checkins, 0).label("checkins"),
            func.coalesce(punches.c.checkouts, 0).label("checkouts"),
            func.coalesce(punches.c.late, 0).label("late"),
            func.coalesce(punches.c.early, 0).label("early"),
            func.coalesce(photos.c.counted, 0).label("photo"),
            func.coalesce(photos.c.flagged, 0).label("photos_flagged"),
            func.coalesce(LeaveRequest.status, "none").label("leave"),
            study.label("study_minutes"),
            _flag(study >= threshold.c.threshold).label("day_ok"),
            func.coalesce(handed_in.c.submitted, 0).label("homework_submitted"),
            func.coalesce(handed_in.c.late, 0).label("homework_late"),
            func.coalesce(checked.c.checked, 0).label("homework_checked"),
            func.coalesce(asked.c.questions, 0).label("questions"),
        )
        .join(threshold, threshold.c.class_id == Enrollment.class_id)
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(punches, punches.c.eid == Enrollment.id)
        .outerjoin(photos, photos.c.eid == Enrollment.id)
        .outerjoin(minutes, minutes.c.eid == Enrollment.id)
        .outerjoin(handed_in, handed_in.c.eid == Enrollment.id)
        .outerjoin(checked, checked.c.eid == Enrollment.id)
        .outerjoin(asked, asked.c.eid == Enrollment.id)
        .outerjoin(LeaveRequest, and_(LeaveRequest.enrollment_id == Enrollment.id, LeaveRequest.day == day))
        .where(Enrollment.removed.is_(False))
    )


def trainee_lines(s: Session, day: date, thresholds: Mapping[int, int],
                  attendance_classes: Sequence[int] = ()) -> list[TraineeLine]:
    """R11: every active trainee of the classes in ``thresholds`` on ``day``, by class then roster order;
    ``attendance_classes``: those counted by attendance (R12)."""
    if not thresholds:
        return []
    stmt = _trainee_select(day, thresholds, attendance_classes).order_by(Enrollment.class_id, Enrollment.id)
    return [TraineeLine(r.class_id, r.enrollment_id, r.name, int(r.checkins), int(r.checkouts), int(r.late),
                        int(r.early), bool(r.photo), int(r.photos_flagged), r.leave, int(r.study_minutes),
                        bool(r.day_ok), int(r.homework_submitted), int(r.homework_late), int(r.homework_checked),
                        int(r.questions))
            for r in s.execute(stmt)]


_SUMMED = ("late", "early", "photos_flagged", "day_ok", "homework_submitted", "homework_late",
           "homework_checked", "questions")


def class_lines(s: Session, day: date, thresholds: Mapping[int, int],
                attendance_classes: Sequence[int] = ()) -> dict[int, ClassLine]:
    """R10, R11: the day's tally of each class in ``thresholds`` (class id → its R09 threshold)."""
    if not thresholds:
        return {}
    ids = list(thresholds)
    t = _trainee_select(day, thresholds, attendance_classes).subquery("t")
    values: dict[int, dict[str, int]] = {cid: {} for cid in ids}
    per_trainee = s.execute(select(
        t.c.class_id,
        func.count().label("trainees"),
        func.sum(_flag(t.c.checkins > 0)).label("checked_in"),
        func.sum(_flag(t.c.checkouts > 0)).label("checked_out"),
        func.sum(t.c.photo).label("photos"),
        func.sum(_flag(t.c.leave != "none")).label("leave"),
        func.sum(t.c.study_minutes).label("minutes"),
        *[func.sum(t.c[name]).label(name) for name in _SUMMED],
    ).group_by(t.c.class_id))
    for row in per_trainee.mappings():
        values[row["class_id"]].update({k: int(v or 0) for k, v in row.items() if k != "class_id"})
    per_class = {
        "homework_posted": select(Assignment.class_id, func.count())
        .where(Assignment.class_id.in_(ids), Assignment.day == day).group_by(Assignment.class_id),
        "qa_sessions": select(QaSession.class_id, func.count())
        .where(QaSession.class_id.in_(ids), QaSession.day == day).group_by(QaSession.class_id),
        "spot_checks": select(SpotCheck.class_id, func.count())
        .where(SpotCheck.class_id.in_(ids), SpotCheck.day == day).group_by(SpotCheck.class_id),
        "answered": select(Question.class_id, func.count(func.distinct(Answer.question_id)))
        .join(Question, Question.id == Answer.question_id)
        .where(Question.class_id.in_(ids), Answer.day == day).group_by(Question.class_id),
    }
    for name, stmt in per_class.items():
        for cid, n in s.execute(stmt):
            values[cid][name] = int(n)
    known = {f.name for f in fields(ClassLine)}
    return {cid: ClassLine(cid, **{k: v for k, v in values[cid].items() if k in known}) for cid in ids}
