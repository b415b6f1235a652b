"""Supervision in the admin (R13–R15): start a roll call, record an inspection with its screenshots,
mark the city's findings sent, disqualify a trainee. Only supervisors act (``scope.check_supervise``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin import texts
from admin.context import db, now, today, viewer
from handlers import eligibility, inspection, rollcall, rollcall_listing, scope
from handlers.texts import supervision as supervision_texts
from handlers.errors import Refusal
from handlers.scope import Viewer
from storage import file_refs
from storage.files import FileStore
from storage.models import EligibilityChange, Inspection, Klass, TraineeMark

bp = Blueprint("supervision", __name__)
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Supervision:
    """What the class page shows about supervision."""

    rollcalls: list[rollcall_listing.Line]
    inspections: list[Inspection]
    owed: inspection.Owed
    findings_due: object
    overdue: list[Inspection]
    ineligible: EligibilityChange | None
    disqualified: set[int]
    may_act: bool


def context(s: Session, v: Viewer, klass: Klass) -> Supervision:
    change = eligibility.latest_change(s, klass)
    return Supervision(
        rollcalls=rollcall_listing.listing(s, klass), inspections=inspection.listing(s, klass),
        owed=inspection.owed(s, klass), findings_due=inspection.findings_due(klass),
        overdue=inspection.overdue_findings(s, klass, today()),
        ineligible=change if change is not None and not change.eligible else None,
        disqualified=eligibility.disqualified_ids(s, klass), may_act=scope.may_supervise(v, klass))


def marks_of(s: Session, enrollment) -> list[TraineeMark]:
    return list(s.scalars(select(TraineeMark).where(TraineeMark.enrollment_id == enrollment.id).order_by(TraineeMark.id)))


def _back(code: str):
    return redirect(url_for("classes.class_page", code=code) + "#supervision", 303)


@bp.route("/classes/<code>/rollcall", methods=["POST"])
def start_rollcall(code: str):
    """R13: a roll call now, from the admin (the class's group gets the announcement)."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_supervise(v, klass)
    moment = now()
    origin = rollcall.Origin(trigger=rollcall.ADMIN, actor=v.actor, nonce=f"admin:{moment.isoformat()}",
                             source="admin")
    try:
        rc = rollcall.start(s, klass, origin, moment).rollcall
        size = len(rollcall.samples(s, rc))
        s.commit()
        flash(texts.ROLLCALL_STARTED.format(code=code, number=rc.number, size=size, roster=rc.roster_size,
                                            deadline=f"{rc.deadline.astimezone(moment.tzinfo):%H:%M}"))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return _back(code)


@bp.route("/classes/<code>/inspections", methods=["POST"])
def record_inspection(code: str):
    """R14: a check with its screenshots; a failed one counts toward R15."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_supervise(v, klass)
    try:
        expected, found = int(request.form.get("expected", "")), int(request.form.get("found", ""))
    except ValueError:
        flash(texts.INSPECTION_BAD_NUMBER, "error")
        return _back(code)
    shots = [(Path(f.filename or "screenshot").name, f.read(MAX_EVIDENCE_BYTES + 1))
             for f in request.files.getlist("evidence") if f and f.filename]
    if any(len(data) > MAX_EVIDENCE_BYTES or not data for _, data in shots):
        abort(400)
    moment = now()
    try:
        row = inspection.record(s, klass, level=scope.inspection_level(v), kind=request.form.get("kind", ""),
                                expected=expected, found=found, by=v.actor, at=moment, source="admin",
                                note=(request.form.get("note") or "").strip()[:2000])
        files = FileStore(current_app.config["DATA_DIR"] / "files")
        for name, data in shots:
            inspection.add_evidence(s, row, file_refs.put_kept(s, files, data), name, at=moment, actor=v.actor, source="admin")
        line = inspection.summary_line(klass, row, moment.tzinfo)
        s.commit()
        flash(texts.INSPECTION_SAVED.format(line=line))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return _back(code)


@bp.route("/inspections/<int:inspection_id>/findings", methods=["POST"])
def findings_sent(inspection_id: int):
    """R14: the city's findings reached the district."""
    s, v = db(), viewer()
    row = s.get(Inspection, inspection_id)
    if row is None:
        abort(404)
    klass = scope.class_for(s, v, s.get(Klass, row.class_id).code)
    scope.check_supervise(v, klass)
    inspection.mark_findings_sent(s, row, actor=v.actor, source="admin", at=now())
    s.commit()
    flash(texts.FINDINGS_SENT.format(id=row.id))
    return _back(klass.code)


@bp.route("/classes/<code>/trainees/<int:enrollment_id>/disqualify", methods=["POST"])
def disqualify(code: str, enrollment_id: int):
    """R15: a supervisor disqualifies a trainee whose data is abnormal, with a reason."""
    return _mark(code, enrollment_id, eligibility.DISQUALIFIED)


@bp.route("/classes/<code>/trainees/<int:enrollment_id>/ineligible", methods=["POST"])
def ineligible(code: str, enrollment_id: int):
    """R22: the district, re-checking the roster, marks a trainee not eligible for this training, with a reason."""
    return _mark(code, enrollment_id, eligibility.INELIGIBLE)


def _mark(code: str, enrollment_id: int, kind: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_supervise(v, klass)
    enrollment = scope.enrollment_for(s, v, klass, enrollment_id)
    try:
        eligibility.mark_enrollment(s, klass, enrollment, kind, request.form.get("reason") or "",
                                    actor=v.actor, source="admin", now=now())
        s.commit()
        flash(texts.TRAINEE_MARKED.format(name=eligibility.person_name(s, enrollment), kind=supervision_texts.MARK_KINDS[kind]))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("classes.trainee_page", code=code, enrollment_id=enrollment_id), 303)
