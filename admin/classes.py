"""Classes: the list, a class's page, a trainee's page, status changes (R02), photo review (R08), leave (R07)."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from admin import charts, records, supervision, texts
from admin.context import db, now, today, viewer
from handlers import approval, eligibility, plan_changes, qualification, review, scope
from handlers.classes import change_status, list_classes, profile_of
from handlers.errors import Refusal
from handlers.commitment import commitment_type
from handlers.texts.classes import STATUS_NAMES
from handlers.timetable import timetable_of
from storage import reports
from storage.files import FileStore
from storage.models import (
    Answer,
    Assignment,
    ClassStatus,
    ClassTransition,
    DingTalkIdentity,
    District,
    Enrollment,
    Group,
    InboundMessage,
    Institution,
    Klass,
    LeaveRequest,
    Person,
    Photo,
    Punch,
    Question,
    StudyMinutes,
    Submission,
    SubmissionCheck,
)

bp = Blueprint("classes", __name__)
log = logging.getLogger(__name__)
_IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF8", "image/gif"),
                (b"RIFF", "image/webp"), (b"BM", "image/bmp"))


def _files() -> FileStore:
    return FileStore(current_app.config["DATA_DIR"] / "files")


@bp.route("/classes")
def class_list():
    s, v = db(), viewer()
    classes = scope.visible_classes(s, v)
    visible = {k.code for k in classes}
    lines = [line for line in list_classes(s) if line.code in visible]
    return render_template("classes.html", lines=lines)


@bp.route("/classes/<code>")
def class_page(code: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    profile = profile_of(klass)
    summary = qualification.summary(s, klass)
    active = sum(1 for line in summary.lines if not line.removed)
    days = qualification.day_table(s, klass, active)
    day = today()
    tally = qualification.daily(s, [klass], day)
    transitions = list(s.scalars(select(ClassTransition).where(ClassTransition.class_id == klass.id)
                                 .order_by(ClassTransition.at, ClassTransition.id)))
    commitment_stored = bool(klass.commitment_sha256) and _files().path(klass.commitment_sha256).exists()
    return render_template(
        "class.html",
        klass=klass,
        institution=s.get(Institution, klass.institution_id),
        district=s.get(District, klass.district_id),
        sessions=reports.sessions_of(s, klass.id),
        teachers=json.loads(klass.teachers or "[]"),
        materials=[m for m in (klass.materials or "").splitlines() if m.strip()],
        profile=profile,
        plan=qualification.plan_numbers(timetable_of(s, klass), profile),
        summary=summary,
        active=active,
        days=days,
        today=day,
        today_tally=tally[0] if tally else None,
        transitions=transitions,
        moves=scope.allowed_transitions(v, klass),
        approval_problems=approval.problems(s, klass, profile) if klass.status == ClassStatus.SUBMITTED else [],
        roster_changes=approval.roster_changes(s, klass),
        recheck={line.total.identity_category for line in summary.lines
                 if eligibility.outside_target_groups(line.total.identity_category, profile)},
        plan_changes=[(row, json.loads(row.summary)) for row in plan_changes.changes_of(s, klass)],
        may_decide_changes=scope.may_decide_changes(v, klass),
        commitment_stored=commitment_stored,
        group=s.scalar(select(Group).where(Group.class_id == klass.id)),
        may_unbind=scope.may_unbind(v),
        attendance_chart=charts.attendance_chart(days, active, until=day),
        histogram_chart=charts.histogram_chart(qualification.ratio_histogram(summary), summary.min_ratio),
        flags=reports.photo_count(s, [klass.id], review.FLAGGED),
        supervision=supervision.context(s, v, klass),
        records=records.context(s, v, klass),
    )


@bp.route("/classes/<code>/status", methods=["POST"])
def change_class_status(code: str):
    """R02: approve or return (district, admin), submit again (institution, admin) or file (city, admin), through
    handlers.classes.change_status."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    to = request.form.get("to", "")
    if to not in (ClassStatus.APPROVED, ClassStatus.RETURNED, ClassStatus.SUBMITTED, ClassStatus.FILED):
        abort(400)
    scope.check_status_change(v, klass, to)
    try:
        change_status(s, klass, to, actor=v.actor, source="admin", reason=(request.form.get("reason") or "").strip(),
                      now=now())
        s.commit()
        flash(texts.STATUS_CHANGED.format(code=klass.code, status=STATUS_NAMES[to], actor=v.actor))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("classes.class_page", code=code), 303)


@bp.route("/classes/<code>/roster/note", methods=["POST"])
def note_roster(code: str):
    """R02: the district notes the roster changes made after approval; added trainees count from then on."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_decide_changes(v, klass)
    try:
        noted = approval.note_roster_changes(s, klass, note=(request.form.get("note") or "")[:500], actor=v.actor,
                                             source="admin", now=now())
        s.commit()
        flash(texts.ROSTER_NOTED.format(count=len(noted)))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("classes.class_page", code=code) + "#roster-changes", 303)


@bp.route("/classes/<code>/changes/decide", methods=["POST"])
def decide_change(code: str):
    """R01: the district approves (effective at once) or refuses (with a reason) the class's pending plan change."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_decide_changes(v, klass)
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        abort(400)
    try:
        row = plan_changes.decide(s, klass, approve=decision == "approve", note=(request.form.get("note") or "")[:500],
                                  actor=v.actor, source="admin", now=now())
        s.commit()
        flash(texts.CHANGE_DECIDED.format(number=row.number, status=texts.CHANGE_STATUS[row.status]))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("classes.class_page", code=code) + "#plan-changes", 303)


@bp.route("/classes/<code>/commitment")
def commitment(code: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    if not klass.commitment_sha256:
        abort(404)
    path = _files().path(klass.commitment_sha256)
    if not path.exists():
        abort(404)
    data = path.read_bytes()
    kind = commitment_type(data)
    if kind is None:  # stored before plan files were checked: never serve what is not a PDF or image
        log.warning("class %s: stored commitment %s is not an allowed type; not served", klass.code,
                    klass.commitment_sha256[:12])
        abort(404)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=klass.commitment_name or "commitment",
                     mimetype=kind[1])


# --- a trainee ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of a trainee's timeline: a record with its source and time (R17)."""

    at: datetime
    kind: str
    text: str
    source: str
    source_text: str
    muted: bool = False  # recorded but not counted


def _source_text(source: str, files: dict[str, str], messages: dict[str, datetime]) -> str:
    kind, _, ref = source.partition(":")
    if kind == "msg":
        sent = messages.get(ref)
        return texts.SOURCE_MESSAGE.format(ref=ref) + (
            texts.SOURCE_MESSAGE_SENT.format(at=sent.astimezone(current_app.config['TIMEZONE'])) if sent else "")
    if kind == "file":
        return texts.SOURCE_FILE.format(name=files.get(ref, ref[:12]), digest=ref[:12])
    if kind == "cli":
        return texts.SOURCE_CLI.format(ref=ref) if ref else texts.SOURCE_CLI_BARE
    return source


@bp.route("/classes/<code>/trainees/<int:enrollment_id>")
def trainee_page(code: str, enrollment_id: int):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    enrollment = scope.enrollment_for(s, v, klass, enrollment_id)
    person = s.get(Person, enrollment.person_id)
    sessions = {sess.id: sess.name for sess in reports.sessions_of(s, klass.id)}
    punches = list(s.scalars(select(Punch).where(Punch.enrollment_id == enrollment.id)))
    photos = list(s.scalars(select(Photo).where(Photo.enrollment_id == enrollment.id)))
    leaves = list(s.scalars(select(LeaveRequest).where(LeaveRequest.enrollment_id == enrollment.id)))
    minutes = list(s.scalars(select(StudyMinutes).where(StudyMinutes.enrollment_id == enrollment.id)))
    submissions = list(s.scalars(select(Submission).where(Submission.enrollment_id == enrollment.id)))
    numbers = dict(s.execute(select(Assignment.id, Assignment.number)
                             .where(Assignment.id.in_([x.assignment_id for x in submissions]))).all())
    checks = list(s.scalars(select(SubmissionCheck).where(SubmissionCheck.submission_id.in_([x.id for x in submissions]))))
    questions = list(s.scalars(select(Question).where(Question.enrollment_id == enrollment.id)))
    answers = list(s.scalars(select(Answer).where(Answer.question_id.in_([q.id for q in questions]))))
    teaching = [*submissions, *checks, *questions, *answers]
    sources = [r.source for r in [*punches, *photos, *leaves, *minutes, *teaching]]
    files = reports.import_file_names(s, [src[5:] for src in sources if src.startswith("file:")])
    msg_ids = [src[4:] for src in sources if src.startswith("msg:")]
    messages = dict(s.execute(select(InboundMessage.msg_id, InboundMessage.sent_at)
                              .where(InboundMessage.msg_id.in_(msg_ids))).all()) if msg_ids else {}

    def src(source: str) -> str:
        return _source_text(source, files, messages)

    entries: list[Entry] = []
    for p in punches:
        marks = texts.TIMELINE_LATE if p.late else texts.TIMELINE_EARLY if p.early else ""
        counted = "" if p.counts else texts.TIMELINE_NOT_COUNTED
        entries.append(Entry(p.at, texts.PUNCH_NAMES.get(p.kind, p.kind),
                             f"{p.day:%m-%d} {sessions.get(p.session_id, '')}{marks}{counted}", p.source,
                             src(p.source), muted=not p.counts))
    for ph in photos:
        state = texts.PHOTO_STATUS_NAMES.get(ph.status, ph.status)
        note = texts.TIMELINE_PHOTO_COUNTED if ph.counted else texts.TIMELINE_PHOTO_NOT_COUNTED
        dup = texts.TIMELINE_PHOTO_DUPLICATE.format(id=ph.duplicate_of_id) if ph.duplicate_of_id else ""
        review_note = texts.TIMELINE_PHOTO_REVIEW.format(by=ph.reviewed_by, reason=ph.review_reason) if ph.reviewed_by else ""
        entries.append(Entry(ph.received_at, texts.TIMELINE_KINDS["photo"],
                             texts.TIMELINE_PHOTO.format(id=ph.id, day=ph.day, state=state, note=note, dup=dup,
                                                         review=review_note),
                             ph.source, src(ph.source), muted=not ph.counted))
    for lv in leaves:
        decided = (texts.TIMELINE_LEAVE_DECIDED.format(by=lv.decided_by,
                                                       at=lv.decided_at.astimezone(current_app.config['TIMEZONE']))
                   if lv.decided_by and lv.decided_at else "")
        entries.append(Entry(lv.requested_at, texts.TIMELINE_KINDS["leave"],
                             texts.TIMELINE_LEAVE.format(id=lv.id, day=lv.day, reason=lv.reason,
                                                         status=texts.LEAVE_NAMES.get(lv.status, lv.status), decided=decided),
                             lv.source, src(lv.source)))
    for m in minutes:
        entries.append(Entry(m.recorded_at, texts.TIMELINE_KINDS["minutes"],
                             texts.TIMELINE_MINUTES.format(day=m.day, live=m.live_minutes, replay=m.replay_minutes), m.source,
                             src(m.source)))
    number_of = {x.id: numbers.get(x.assignment_id) for x in submissions}
    for x in submissions:  # R10
        entries.append(Entry(x.submitted_at, texts.TIMELINE_KINDS["submission"],
                             texts.TIMELINE_SUBMISSION.format(number=number_of[x.id], content=x.content)
                             + (texts.TIMELINE_SUBMISSION_LATE if x.late else ""), x.source, src(x.source)))
    for c in checks:
        score = texts.TIMELINE_SCORE.format(score=c.score) if c.score is not None else ""
        entries.append(Entry(c.checked_at, texts.TIMELINE_KINDS["check"],
                             texts.TIMELINE_CHECK.format(number=number_of[c.submission_id], comment=c.comment,
                                                         score=score, by=c.checked_by),
                             c.source, src(c.source)))
    question_number = {q.id: q.number for q in questions}
    for q in questions:
        entries.append(Entry(q.asked_at, texts.TIMELINE_KINDS["question"], texts.TIMELINE_NUMBERED.format(
            number=q.number, content=q.content), q.source, src(q.source)))
    for a in answers:
        entries.append(Entry(a.answered_at, texts.TIMELINE_KINDS["answer"], texts.TIMELINE_ANSWER.format(
                             number=question_number[a.question_id], content=a.content, by=a.answered_by),
                             a.source, src(a.source)))
    entries.sort(key=lambda e: e.at)
    events = reports.events_about(s, {
        "persons": [person.id],
        "enrollments": [enrollment.id],
        "punches": [p.id for p in punches],
        "photos": [p.id for p in photos],
        "leave_requests": [lv.id for lv in leaves],
        "study_minutes": [m.id for m in minutes],
        "submissions": [x.id for x in submissions],
        "submission_checks": [c.id for c in checks],
        "questions": [q.id for q in questions],
        "answers": [a.id for a in answers],
    })
    # A person may be on other institutions' rosters: only what concerns this class (or no class) shows.
    events = [e for e in events if e.subject_table != "persons" or e.class_code in (None, klass.code)]
    line = next((ln for ln in qualification.summary(s, klass).lines if ln.total.enrollment_id == enrollment.id), None)
    bindings = list(s.scalars(select(DingTalkIdentity).where(DingTalkIdentity.person_id == person.id)
                              .order_by(DingTalkIdentity.bound_at)))
    return render_template(
        "trainee.html",
        bindings=bindings,
        may_unbind=scope.may_unbind(v),
        klass=klass,
        enrollment=enrollment,
        person=person,
        full_identity=scope.sees_full_identity(v),
        entries=entries,
        events=[(ev, json.loads(ev.payload or "{}").get("reason")) for ev in events],
        line=line,
        marks=supervision.marks_of(s, enrollment),
        recheck=eligibility.outside_target_groups(enrollment.identity_category, profile_of(klass)),
        may_supervise=scope.may_supervise(v, klass),
    )


# --- photos (R08) ---------------------------------------------------------------------------------


@bp.route("/photos")
def photo_list():
    s, v = db(), viewer()
    ids = scope.class_ids(s, v)
    flagged = review.flagged_photos(s, ids)
    persons = {p.id: p for p in s.scalars(select(Person).where(Person.id.in_([e.person_id for _, e, _ in flagged])))}
    visible_originals = set()
    originals = [p.duplicate_of_id for p, _, _ in flagged if p.duplicate_of_id]
    if originals:
        for photo_id in originals:
            try:
                scope.photo_for(s, v, photo_id)
                visible_originals.add(photo_id)
            except scope.OutOfScope:
                pass
    return render_template("photos.html", flagged=flagged, persons=persons, may_review=scope.may_review_photos(v),
                           visible_originals=visible_originals)


@bp.route("/photos/<int:photo_id>/image")
def photo_image(photo_id: int):
    s, v = db(), viewer()
    photo, _ = scope.photo_for(s, v, photo_id)
    path = _files().path(photo.sha256)
    if not path.exists():
        abort(404)
    data = path.read_bytes()  # stored photos are small (size-limited when received)
    mimetype = next((t for magic, t in _IMAGE_TYPES if data.startswith(magic)), "application/octet-stream")
    return Response(data, mimetype=mimetype)


@bp.route("/photos/<int:photo_id>/review", methods=["POST"])
def photo_review(photo_id: int):
    """R08: a supervisor accepts or rejects a flagged photo with a reason; a ledger event records it."""
    s, v = db(), viewer()
    photo, klass = scope.photo_for(s, v, photo_id)
    scope.check_photo_review(v)
    decision = request.form.get("decision")
    if decision not in ("accept", "reject"):
        abort(400)
    accept = decision == "accept"
    try:
        review.review_photo(s, photo, klass, accept=accept, reason=request.form.get("reason") or "", actor=v.actor,
                            now=now())
        s.commit()
        flash(texts.REVIEW_DONE.format(id=photo.id, decision=texts.REVIEW_DECISIONS[accept]))
    except review.ReviewError as exc:
        s.rollback()
        flash(texts.REVIEW_PROBLEMS[exc.problem], "error")
    return redirect(url_for("classes.photo_list"), 303)


# --- leave (R07) ----------------------------------------------------------------------------------


@bp.route("/leave")
def leave_list():
    s, v = db(), viewer()
    status = request.args.get("status") or ""
    stmt = (select(LeaveRequest, Person, Klass)
            .join(Enrollment, Enrollment.id == LeaveRequest.enrollment_id)
            .join(Person, Person.id == Enrollment.person_id)
            .join(Klass, Klass.id == Enrollment.class_id)
            .where(scope.class_condition(s, v))
            .order_by(LeaveRequest.day.desc(), LeaveRequest.id.desc()))
    if status in texts.LEAVE_NAMES and status != "none":
        stmt = stmt.where(LeaveRequest.status == status)
    else:
        status = ""
    return render_template("leave.html", rows=s.execute(stmt).all(), status=status)
