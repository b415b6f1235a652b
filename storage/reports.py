"""Report queries: the aggregates the admin, the API and the exports show, computed in SQL.

Policy numbers arrive as plain integers. The caller (``handlers.qualification``) turns a profile's
ratio into the smallest whole number of minutes that meets it, so every comparison here is an exact
integer comparison (``minutes >= :threshold``) and never a float (R09, R16).

Definitions shared by every query (see ``handlers/qualification.py`` for the rules they serve):

* a trainee's study minutes on a day (R09): for each lesson (``study_minutes.lesson``, the 场次 or live
  id) the **largest** ``live_minutes + replay_minutes`` of its sources — the same lesson reported by two
  sources counts once — and the lessons **add up**; a row without a lesson (a file giving the whole day)
  counts instead when it is larger than that sum. In a class counted by attendance (R12, the caller
  passes its id in ``attendance_classes``) only the ``attendance`` rows count;
* punches count only where ``punches.counts`` is true (R02); a photo counts where ``photos.counted``
  is true (R08);
* a day's tallies are over the **active** roster (enrollments not removed, R16); the summary lists
  every enrollment with its ``removed`` mark.

``class_ids`` arguments take a list of ids or a ``SELECT`` of ids (the caller's scope), or ``None``
for every class.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Select, and_, bindparam, case, column, func, literal, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    ClassSession,
    Enrollment,
    Group,
    ImportFile,
    Klass,
    LeaveRequest,
    LedgerEvent,
    OutboxMessage,
    Person,
    Photo,
    Punch,
    StudyMinutes,
)

ClassIds = Sequence[int] | Select | None


def _flag(condition) -> Any:
    """1 where ``condition`` holds, else 0 (PostgreSQL cannot SUM booleans)."""
    return case((condition, 1), else_=0)


def of_class(stmt: Select, enrollment_id, class_id: int | ColumnElement[int]) -> Select:
    """``stmt`` restricted to one class's trainees *before* it groups: a join on the class's enrollments,
    so the database reads that class's rows through the indexes, never the whole city's (issue 13)."""
    return stmt.join(Enrollment, Enrollment.id == enrollment_id).where(Enrollment.class_id == class_id)


def _photo_takers(day: date | ColumnElement[date], class_id: int | ColumnElement[int]):
    """The class's enrollments with a counted photo on ``day`` (R08)."""
    return (of_class(select(Photo.enrollment_id.label("enrollment_id")), Photo.enrollment_id, class_id)
            .where(Photo.day == day, Photo.counted.is_(True))
            .group_by(Photo.enrollment_id)
            .subquery("ph"))


def _by_threshold(thresholds: Mapping[Any, int]) -> dict[int, list[Any]]:
    """Keys grouped by their threshold: a city has a handful of distinct R09 thresholds, not one per key."""
    groups: dict[int, list[Any]] = {}
    for key, threshold in thresholds.items():
        groups.setdefault(threshold, []).append(key)
    return groups


RULE_COLUMNS = ("class_id", "threshold", "counts", "attendance")


@cache
def class_rules(dialect: str):
    """The asked classes as a table ``(class_id, threshold, counts, attendance)`` to join: each class's R09 threshold
    in whole minutes, 1 if its minutes of the day count (R02), 1 if it is counted by attendance (R12). Joined, not
    a CASE with a branch per class evaluated on every row; and sent as one value per column however many classes
    there are (:func:`class_rules_parameters`: arrays on PostgreSQL, a JSON text on SQLite), so neither the
    statement's text nor the driver's work grows with the city — 500 expanded ``IN`` placeholders cost more
    to render and convert than the figures they carried (issue 13)."""
    if dialect == "postgresql":
        sql = ("SELECT * FROM unnest(CAST(:rule_class_id AS INTEGER[]), CAST(:rule_threshold AS INTEGER[]), "
               "CAST(:rule_counts AS INTEGER[]), CAST(:rule_attendance AS INTEGER[])) "
               "AS class_rules (class_id, threshold, counts, attendance)")
    else:
        sql = ("SELECT " + ", ".join(f"json_extract(value, '$[{n}]') AS {name}" for n, name in enumerate(RULE_COLUMNS))
               + " FROM json_each(:rule_rows)")
    return text(sql).columns(*[column(name, Integer) for name in RULE_COLUMNS]).cte("class_rules")


def class_rules_parameters(dialect: str, rows: Sequence[tuple[int, int, int, int]]) -> dict[str, Any]:
    """The parameters of :func:`class_rules`: ``rows`` of (class_id, threshold, counts, attendance)."""
    if dialect == "postgresql":  # an array literal ('{1,2}'), cast in SQL: psycopg's dump of a 500-element list
        # cost ~1 ms a report (issue 13); int() keeps anything but whole numbers out of the text
        return {f"rule_{name}": "{" + ",".join(str(int(row[n])) for row in rows) + "}"
                for n, name in enumerate(RULE_COLUMNS)}
    return {"rule_rows": json.dumps([list(row) for row in rows])}


def _by_day(column, thresholds: Mapping[date, int]) -> Any:
    """The threshold of ``column``'s day (``thresholds`` maps class days to whole minutes, R09): a branch
    per distinct threshold (an expanding ``IN`` of its days), not one per day."""
    groups = _by_threshold(thresholds)
    if len(groups) <= 1:
        return literal(next(iter(groups), 0))
    return case(*[(column.in_(days), threshold) for threshold, days in sorted(groups.items())], else_=0)


ATTENDANCE_SOURCE = "attendance"  # study_minutes.source of the R12 rows


def _day_minutes(day: date | ColumnElement[date] | None = None, class_id: int | ColumnElement[int] | None = None,
                 days: Sequence[date] | None = None, enrollment_id: int | None = None,
                 attendance_only: bool = False, rules=None):
    """Subquery (enrollment_id, day, minutes): a trainee-day's study minutes (R09, see the module doc);
    ``days``: only these (the class days, R01); ``rules``: only the trainees of these classes (a
    :func:`class_rules` table), the attendance rows alone in those counted by attendance (R12)."""
    stmt = select(
        StudyMinutes.enrollment_id.label("enrollment_id"),
        StudyMinutes.day.label("day"),
        StudyMinutes.lesson.label("lesson"),
        func.max(StudyMinutes.live_minutes + StudyMinutes.replay_minutes).label("minutes"),
    )
    if class_id is not None or rules is not None:
        stmt = stmt.join(Enrollment, Enrollment.id == StudyMinutes.enrollment_id)
    if class_id is not None:
        stmt = stmt.where(Enrollment.class_id == class_id)
    if rules is not None:  # R12: imported or pulled minutes do not count in a class counted by attendance
        stmt = (stmt.join(rules, rules.c.class_id == Enrollment.class_id)
                .where(or_(rules.c.attendance == 0, StudyMinutes.source == ATTENDANCE_SOURCE)))
    if attendance_only:  # R12: a class counted by attendance
        stmt = stmt.where(StudyMinutes.source == ATTENDANCE_SOURCE)
    if enrollment_id is not None:
        stmt = stmt.where(StudyMinutes.enrollment_id == enrollment_id)
    if day is not None:
        stmt = stmt.where(StudyMinutes.day == day)
    if days is not None:
        stmt = stmt.where(StudyMinutes.day.in_(list(days)))
    lessons = stmt.group_by(StudyMinutes.enrollment_id, StudyMinutes.day, StudyMinutes.lesson).subquery("lessons")
    named = func.sum(case((lessons.c.lesson != "", lessons.c.minutes), else_=0))
    whole = func.max(case((lessons.c.lesson == "", lessons.c.minutes), else_=0))
    return (select(lessons.c.enrollment_id.label("enrollment_id"), lessons.c.day.label("day"),
                   case((whole > named, whole), else_=named).label("minutes"))
            .group_by(lessons.c.enrollment_id, lessons.c.day)
            .subquery("day_minutes"))


def enrollment_minutes(s: Session, enrollment_id: int, days: Sequence[date], attendance: bool) -> dict[date, int]:
    """One trainee's study minutes on each of ``days`` that has any (R09; ``attendance``: the class is counted
    by attendance, R12)."""
    minutes = _day_minutes(days=days, enrollment_id=enrollment_id, attendance_only=attendance)
    return {day: int(m) for day, m in s.execute(select(minutes.c.day, minutes.c.minutes))}


# --- one class, one day: a line per trainee ------------------------------------------------------


@dataclass(frozen=True)
class TraineeDay:
    enrollment_id: int
    name: str
    checkins: int
    checkouts: int
    late: int
    early: int
    photo: bool
    leave: str  # none | pending | approved | rejected
    study_minutes: int
    day_ok: bool


@cache
def _trainee_days_statement(attendance: bool, minutes_count: bool) -> Select:
    """The day view's one statement (:func:`trainee_days`), built once per shape: the class, the day and the R09
    threshold are bound parameters, so a request neither builds nor compiles it again."""
    class_id, day = bindparam("class_id", type_=Integer), bindparam("day", type_=Date)
    punches = (
        of_class(select(
            Punch.enrollment_id.label("enrollment_id"),
            func.sum(_flag(Punch.kind == "in")).label("checkins"),
            func.sum(_flag(Punch.kind == "out")).label("checkouts"),
            func.sum(_flag(Punch.late.is_(True))).label("late"),
            func.sum(_flag(Punch.early.is_(True))).label("early"),
        ), Punch.enrollment_id, class_id)
        .where(Punch.day == day, Punch.counts.is_(True))
        .group_by(Punch.enrollment_id)
        .subquery("p")
    )
    photos = _photo_takers(day, class_id)
    leave = (of_class(select(LeaveRequest.enrollment_id.label("enrollment_id"), LeaveRequest.status.label("status")),
                      LeaveRequest.enrollment_id, class_id)
             .where(LeaveRequest.day == day).subquery("lv"))
    minutes = _day_minutes(day=day, class_id=class_id, attendance_only=attendance)
    study = func.coalesce(minutes.c.minutes, 0) if minutes_count else literal(0, Integer)
    stmt = (
        select(
            Enrollment.id,
            Person.name,
            func.coalesce(punches.c.checkins, 0),
            func.coalesce(punches.c.checkouts, 0),
            func.coalesce(punches.c.late, 0),
            func.coalesce(punches.c.early, 0),
            photos.c.enrollment_id.is_not(None),
            func.coalesce(leave.c.status, "none"),
            study,
            (study >= bindparam("threshold", type_=Integer)) if minutes_count else literal(False),
        )
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(punches, punches.c.enrollment_id == Enrollment.id)
        .outerjoin(photos, photos.c.enrollment_id == Enrollment.id)
        .outerjoin(leave, leave.c.enrollment_id == Enrollment.id)
        .where(Enrollment.class_id == class_id, Enrollment.removed.is_(False))
        .order_by(Enrollment.id)
    )
    return stmt.outerjoin(minutes, minutes.c.enrollment_id == Enrollment.id) if minutes_count else stmt


def trainee_days(s: Session, class_id: int, day: date, day_min_minutes: int, attendance: bool = False,
                 minutes_count: bool = True) -> list[TraineeDay]:
    """Every active trainee of the class on ``day``: counted punches, photo, leave, minutes, day_ok;
    ``minutes_count`` false: the day's minutes do not count (R02: before the approval day), 0 and not ok."""
    rows = s.execute(_trainee_days_statement(attendance, minutes_count),
                     {"class_id": class_id, "day": day, "threshold": day_min_minutes}).all()
    return [
        TraineeDay(eid, name, int(ci), int(co), int(late), int(early), bool(photo), leave, int(m), bool(ok))
        for eid, name, ci, co, late, early, photo, leave, m, ok in rows
    ]


# --- one class: a line per day -------------------------------------------------------------------


@dataclass(frozen=True)
class ClassDay:
    day: date
    checked_in: int  # active trainees with at least one counted check-in
    checked_out: int
    late: int  # counted punches flagged late
    early: int
    photos: int  # active trainees with a counted photo
    leave: int  # leave requests (any status)
    leave_approved: int
    minutes: int  # study minutes of the active roster that day
    day_ok: int  # active trainees whose day met R09
    cumulative_minutes: int  # running total up to and including the day


def class_days(s: Session, class_id: int, thresholds: Mapping[date, int],
               attendance: bool = False) -> dict[date, ClassDay]:
    """Per-day tallies of a class over its class days, ``thresholds`` (class day → R09 whole minutes);
    only days that have any record appear."""
    if not thresholds:
        return {}
    first, last = min(thresholds), max(thresholds)
    active = and_(Enrollment.class_id == class_id, Enrollment.removed.is_(False))
    punches = dict(
        (row[0], row[1:])
        for row in s.execute(
            select(
                Punch.day,
                func.count(func.distinct(case((Punch.kind == "in", Punch.enrollment_id)))),
                func.count(func.distinct(case((Punch.kind == "out", Punch.enrollment_id)))),
                func.sum(_flag(Punch.late.is_(True))),
                func.sum(_flag(Punch.early.is_(True))),
            )
            .join(Enrollment, Enrollment.id == Punch.enrollment_id)
            .where(active, Punch.counts.is_(True), Punch.day.between(first, last))
            .group_by(Punch.day)
        )
    )
    photos = dict(
        s.execute(
            select(Photo.day, func.count(func.distinct(Photo.enrollment_id)))
            .join(Enrollment, Enrollment.id == Photo.enrollment_id)
            .where(active, Photo.counted.is_(True), Photo.day.between(first, last))
            .group_by(Photo.day)
        ).all()
    )
    leave = dict(
        (row[0], row[1:])
        for row in s.execute(
            select(LeaveRequest.day, func.count(), func.sum(_flag(LeaveRequest.status == "approved")))
            .join(Enrollment, Enrollment.id == LeaveRequest.enrollment_id)
            .where(active, LeaveRequest.day.between(first, last))
            .group_by(LeaveRequest.day)
        )
    )
    minutes = _day_minutes(class_id=class_id, days=list(thresholds), attendance_only=attendance)
    per_day = (
        select(
            minutes.c.day.label("day"),
            func.sum(minutes.c.minutes).label("minutes"),
            func.sum(_flag(minutes.c.minutes >= _by_day(minutes.c.day, thresholds))).label("day_ok"),
        )
        .join(Enrollment, Enrollment.id == minutes.c.enrollment_id)
        .where(Enrollment.removed.is_(False))
        .group_by(minutes.c.day)
        .subquery("per_day")
    )
    study = dict(
        (row[0], row[1:])
        for row in s.execute(
            select(
                per_day.c.day,
                per_day.c.minutes,
                per_day.c.day_ok,
                func.sum(per_day.c.minutes).over(order_by=per_day.c.day),
            )
        )
    )
    result: dict[date, ClassDay] = {}
    running = 0
    for day in sorted((set(punches) | set(photos) | set(leave) | set(study)) & set(thresholds)):
        ci, co, late, early = punches.get(day, (0, 0, 0, 0))
        n_leave, n_approved = leave.get(day, (0, 0))
        m, ok, cumulative = study.get(day, (0, 0, None))
        running = int(cumulative) if cumulative is not None else running
        result[day] = ClassDay(day, int(ci), int(co), int(late or 0), int(early or 0), int(photos.get(day, 0)),
                               int(n_leave), int(n_approved or 0), int(m or 0), int(ok or 0), running)
    return result


# --- one class: a line per trainee over the whole class -----------------------------------------


@dataclass(frozen=True)
class TraineeTotal:
    enrollment_id: int
    person_id: int
    name: str
    gender: str
    id_number: str
    phone: str
    identity_category: str
    removed: bool
    removed_reason: str | None
    total_minutes: int  # sum over the class days of each day's study minutes (R09 definition)
    days_ok: int
    qualified: bool  # total_minutes >= qualify_min_minutes and not removed (R16)


def trainee_totals(s: Session, class_id: int, thresholds: Mapping[date, int],
                   qualify_min_minutes: int, attendance: bool = False) -> list[TraineeTotal]:
    """Every enrollment of the class (removed ones too) with its total study minutes over its class days
    (``thresholds``: class day → R09 whole minutes)."""
    minutes = _day_minutes(class_id=class_id, days=list(thresholds), attendance_only=attendance)
    per_trainee = (
        select(
            minutes.c.enrollment_id.label("enrollment_id"),
            func.sum(minutes.c.minutes).label("total"),
            func.sum(_flag(minutes.c.minutes >= _by_day(minutes.c.day, thresholds))).label("days_ok"),
        )
        .group_by(minutes.c.enrollment_id)
        .subquery("per_trainee")
    )
    total = func.coalesce(per_trainee.c.total, 0)
    rows = s.execute(
        select(
            Enrollment.id, Person.id, Person.name, Person.gender, Person.id_number, Person.phone,
            Enrollment.identity_category, Enrollment.removed, Enrollment.removed_reason, total,
            func.coalesce(per_trainee.c.days_ok, 0),
            and_(total >= qualify_min_minutes, Enrollment.removed.is_(False)),
        )
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(per_trainee, per_trainee.c.enrollment_id == Enrollment.id)
        .where(Enrollment.class_id == class_id)
        .order_by(Enrollment.id)
    ).all()
    return [
        TraineeTotal(eid, pid, name, gender, number, phone, category, bool(removed), reason, int(t), int(ok),
                     bool(qualified))
        for eid, pid, name, gender, number, phone, category, removed, reason, t, ok, qualified in rows
    ]


# --- flags ----------------------------------------------------------------------------------------


def photo_count(s: Session, class_ids: ClassIds, statuses: Sequence[str]) -> int:
    """Photos in ``statuses`` (e.g. the flags awaiting review, R08) of the given classes."""
    stmt = select(func.count()).select_from(Photo).where(Photo.status.in_(statuses))  # (status, enrollment) index
    if class_ids is not None:  # every class: no need to look at the enrollments
        stmt = stmt.join(Enrollment, Enrollment.id == Photo.enrollment_id).where(Enrollment.class_id.in_(class_ids))
    return s.scalar(stmt) or 0


STUCK_AFTER = timedelta(minutes=10)
FAILING = 3


def _stuck(class_ids: ClassIds, now: datetime) -> ColumnElement[bool]:
    """Outbox rows that are really stuck: given up on (dead); failing again and again (``FAILING``
    attempts, still queued); or due for more than 10 minutes and still not delivered (no sender is
    running, or none gets to it). Rows waiting for a group's budget or DingTalk's pause are not: they
    are not due yet. With ``class_ids``, only those addressed to those classes' groups."""
    waiting = OutboxMessage.status.in_(("queued", "sending"))
    condition = or_(OutboxMessage.status == "dead",
                    and_(waiting, or_(OutboxMessage.attempts >= FAILING,
                                      OutboxMessage.next_attempt_at < now - STUCK_AFTER)))
    if class_ids is not None:
        groups = select(Group.open_conversation_id).where(Group.class_id.in_(class_ids))
        condition = and_(condition, OutboxMessage.conversation_id.in_(groups))
    return condition


def stuck_outbox_count(s: Session, class_ids: ClassIds, now: datetime) -> int:
    """How many outbox rows are stuck (see ``_stuck``): the admin overview's “发送失败的消息”."""
    return s.scalar(select(func.count(OutboxMessage.id)).where(_stuck(class_ids, now))) or 0


def stuck_outbox(s: Session, class_ids: ClassIds, now: datetime, limit: int = 500) -> list[tuple[OutboxMessage, str | None]]:
    """The stuck rows, oldest first, each with the title of the group it is addressed to (if any)."""
    return list(s.execute(
        select(OutboxMessage, Group.title)
        .outerjoin(Group, Group.open_conversation_id == OutboxMessage.conversation_id)
        .where(_stuck(class_ids, now)).order_by(OutboxMessage.id).limit(limit)).all())


# --- listings (rows shown as they are, not aggregated) ------------------------------------------


@dataclass(frozen=True)
class GridPunch:
    enrollment_id: int
    day: date
    session_id: int
    kind: str
    at: datetime
    late: bool
    early: bool


def counted_punches(s: Session, class_id: int) -> list[GridPunch]:
    """Every counted punch of the class (R02), for the attendance register's grid."""
    rows = s.execute(
        select(Punch.enrollment_id, Punch.day, Punch.session_id, Punch.kind, Punch.at, Punch.late, Punch.early)
        .join(Enrollment, Enrollment.id == Punch.enrollment_id)
        .where(Enrollment.class_id == class_id, Punch.counts.is_(True))
        .order_by(Punch.enrollment_id, Punch.day, Punch.session_id, Punch.kind)
    ).all()
    return [GridPunch(*row) for row in rows]


def approved_leave_days(s: Session, class_id: int) -> set[tuple[int, date]]:
    rows = s.execute(
        select(LeaveRequest.enrollment_id, LeaveRequest.day)
        .join(Enrollment, Enrollment.id == LeaveRequest.enrollment_id)
        .where(Enrollment.class_id == class_id, LeaveRequest.status == "approved")
    ).all()
    return {(eid, day) for eid, day in rows}


def trainee_day_minutes(s: Session, class_id: int, days: Sequence[date], attendance: bool) -> dict[tuple[int, date], int]:
    """Each trainee's study minutes on each of ``days`` that has any, keyed (enrollment id, day) (R09;
    ``attendance``: the class is counted by attendance, R12)."""
    minutes = _day_minutes(class_id=class_id, days=days, attendance_only=attendance)
    rows = s.execute(select(minutes.c.enrollment_id, minutes.c.day, minutes.c.minutes))
    return {(eid, day): int(m) for eid, day, m in rows}


def photo_days(s: Session, class_id: int) -> set[tuple[int, date]]:
    """(enrollment id, day) of every counted daily photo of the class (R08)."""
    rows = s.execute(
        select(Photo.enrollment_id, Photo.day).distinct()
        .join(Enrollment, Enrollment.id == Photo.enrollment_id)
        .where(Enrollment.class_id == class_id, Photo.counted.is_(True))
    ).all()
    return {(eid, day) for eid, day in rows}


def sessions_of(s: Session, class_id: int) -> list[ClassSession]:
    return list(s.scalars(select(ClassSession).where(ClassSession.class_id == class_id)
                          .order_by(ClassSession.position)))


def import_file_names(s: Session, shas: Sequence[str]) -> dict[str, str]:
    """Import file SHA-256 → file name, for showing ``file:<sha256>`` sources."""
    if not shas:
        return {}
    return dict(s.execute(select(ImportFile.sha256, ImportFile.filename).where(ImportFile.sha256.in_(list(shas)))).all())


def events_about(s: Session, subjects: Mapping[str, Sequence[int]]) -> list[LedgerEvent]:
    """Every ledger event whose subject is one of the given rows (table → row ids), oldest first (a
    row's events are on one chain, in seq order; rows of different chains interleave by time)."""
    clauses = [and_(LedgerEvent.subject_table == table, LedgerEvent.subject_id.in_(list(ids)))
               for table, ids in subjects.items() if ids]
    if not clauses:
        return []
    return list(s.scalars(select(LedgerEvent).where(or_(*clauses))
                          .order_by(LedgerEvent.at, LedgerEvent.chain, LedgerEvent.seq)))

