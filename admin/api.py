"""The JSON API of PRODUCT.md ("Public interface"): bearer tokens, the same scoping as the pages.

``Authorization: Bearer <token>`` (``dingclass user token NAME``) on every endpoint but
``/api/v1/openapi.json``; no cookies, no CSRF. Errors are ``{"error": "<Chinese message>"}``: 401
without a valid token, 404 for a class that does not exist or is outside the caller's scope (the two
are indistinguishable), 400 for a malformed date or a query parameter the endpoint does not take.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from flask import Blueprint, g, jsonify, request

from admin import texts
from admin.context import db, now, today, tz, writer
from admin.openapi import spec
from admin.reports import parse_day
from handlers import (approval, certificates, daily_report, homework, inspection, qa, qa_attendance, qualification,
                      rollcall, rollcall_listing, scope)
# token_user: the request's read-only check; user_for_token notes a use (a short write of its own)
from handlers.accounts import token_user, use_to_note, user_for_token
from handlers.classes import list_classes
from handlers.scope import Viewer
from handlers.timetable import timetable_of
from storage.ledger_verify import last_verification
from storage.models import Klass, RollCall

bp = Blueprint("api", __name__, url_prefix="/api/v1")
QUERY_PARAMETERS = {"api.daily": {"date"}}  # the only query parameters the API takes; others are refused
DAILY_EXTRAS = ("checked_out", "late", "early", "photos_flagged", "leave", "homework_posted", "homework_submitted",
                "homework_late", "homework_checked", "questions", "answered", "qa_sessions", "spot_checks")


def _fail(status: int, message: str, **headers: str):
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.before_request
def authenticate():
    if request.endpoint == "api.openapi":
        return None
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    token = token.strip()
    found = token_user(db(), token) if scheme.lower() == "bearer" and token else None
    if found is None:
        return _fail(401, texts.API_UNAUTHORIZED, **{"WWW-Authenticate": 'Bearer realm="dingclass"'})
    row, user = found
    when = now()
    if use_to_note(row, when):  # once a minute at most: a short write apart from the request's reads
        with writer().begin() as w:
            user_for_token(w, token, when)
    g.viewer = Viewer.of(user)
    unknown = sorted(set(request.args) - QUERY_PARAMETERS.get(request.endpoint, set()))
    if unknown:
        return _fail(400, texts.API_UNKNOWN_PARAMETERS.format(names="、".join(n[:20] for n in unknown[:5])))
    return None


def _day(text: str | None) -> date:
    day = parse_day(text)
    if day is None:
        raise BadDate(text or "")
    return day


class BadDate(ValueError):
    pass


@bp.errorhandler(BadDate)
def bad_date(exc: BadDate):
    return _fail(400, texts.API_BAD_DATE.format(value=str(exc)[:40]))


@bp.get("/classes")
def classes():
    s, v = db(), g.viewer
    visible = {k.code for k in scope.visible_classes(s, v)}
    return jsonify([
        {"code": line.code, "name": line.name, "status": line.status, "trainees": line.trainees,
         "group_bound": line.group_bound}
        for line in list_classes(s) if line.code in visible
    ])


@bp.get("/classes/<code>/days/<day>")
def class_day(code: str, day: str):
    s, v = db(), g.viewer
    when = _day(day)
    # the class, its R02 approval time and its timetable rows: one statement
    klass, approved = scope.class_row_for(s, v, code, approval.approved_at(), timetable=True)
    if not qualification.is_class_day(timetable_of(s, klass), when):
        return _fail(404, texts.API_NOT_CLASS_DAY.format(date=when, code=klass.code, start=klass.start_date,
                                                          end=klass.end_date))
    report = qualification.day_report(s, klass, when, approval.counting_from_at(klass, approved))
    return jsonify({
        "class": klass.code,
        "date": when.isoformat(),
        "trainees": [
            {"name": line.name, "checkins": line.checkins, "checkouts": line.checkouts, "late": line.late,
             "early": line.early, "photo": line.photo, "leave": line.leave, "study_minutes": line.study_minutes,
             "day_ok": line.day_ok}
            for line in report.lines
        ],
    })


@bp.get("/classes/<code>/summary")
def class_summary(code: str):
    s, v = db(), g.viewer
    klass = scope.class_for(s, v, code)
    result = qualification.summary(s, klass)
    return jsonify({
        "class": klass.code,
        "eligible": result.eligible,
        "trainees": [
            {"name": line.name, "hours_earned": float(line.hours_earned), "hours_required": line.hours_required,
             "ratio": float(qualification.truncate(line.ratio, 4)), "qualified": line.qualified,
             "removed": line.removed}
            for line in result.lines
        ],
    })


def _time(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _rate(rc) -> float | None:
    rate = rollcall.pass_rate(rc)
    return None if rate is None else float(qualification.truncate(rate, 4))


@bp.get("/classes/<code>/rollcalls")
def class_rollcalls(code: str):
    """R13: the class's roll calls, newest first; ``pass_rate`` is a fraction, null while one is open."""
    s = db()
    klass = scope.class_for(s, g.viewer, code)
    return jsonify([
        {"id": line.rollcall.id, "started_at": _time(line.rollcall.started_at), "by": line.by,
         "sampled": line.sampled, "answered": line.answered, "pass_rate": _rate(line.rollcall),
         "seed_commitment": line.rollcall.seed_commitment}
        for line in rollcall_listing.listing(s, klass)
    ])


@bp.get("/rollcalls/<int:rollcall_id>")
def rollcall_detail(rollcall_id: int):
    """R13: one roll call; the seed only once its window has closed."""
    s = db()
    rc = s.get(RollCall, rollcall_id)
    if rc is None:
        raise scope.OutOfScope(rollcall_id)
    klass = scope.class_for(s, g.viewer, s.get(Klass, rc.class_id).code)
    closed = rc.closed_at is not None
    return jsonify({
        "id": rc.id, "class": klass.code, "started_at": _time(rc.started_at), "by": rollcall.caller(rc),
        "ratio": float(Fraction(rc.ratio)), "window_minutes": rc.window_minutes,
        "seed": rc.seed if closed else None, "seed_commitment": rc.seed_commitment, "roster_size": rc.roster_size,
        "sampled": [{"name": name, "answered_at": _time(row.answered_at), "excused": row.excused}
                    for row, name in rollcall.samples(s, rc)],
        "pass_rate": _rate(rc), "passed": rc.passed,
    })


@bp.get("/classes/<code>/inspections")
def class_inspections(code: str):
    """R14: the class's inspections, newest first; ``ratio`` is found/expected as a fraction."""
    s = db()
    klass = scope.class_for(s, g.viewer, code)
    return jsonify([
        {"id": row.id, "at": _time(row.at), "by": row.by, "level": row.level, "kind": row.kind,
         "expected": row.expected, "found": row.found,
         "ratio": float(qualification.truncate(Fraction(row.found, row.expected), 4)), "passed": row.passed}
        for row in inspection.listing(s, klass)
    ])


@bp.get("/classes/<code>/certificates")
def class_certificates(code: str):
    """R20: the class's certificate numbers (revoked ones too), in number order."""
    s = db()
    klass = scope.class_for(s, g.viewer, code)
    return jsonify([
        {"number": line.certificate.number, "name": line.name, "issued_at": _time(line.certificate.issued_at),
         "revoked": line.certificate.revoked}
        for line in certificates.listing(s, klass)
    ])


@bp.get("/reports/daily")
def daily():
    s, v = db(), g.viewer
    asked = request.args.get("date")
    day = _day(asked) if asked is not None else today()
    visible = None if v.sees_everything else [k.id for k in scope.visible_classes(s, v)]  # None: the whole city
    report = daily_report.build(s, day, class_ids=visible, tz=tz(), detail=False)
    heads = report.heads if scope.sees_ledger_head(v) else {}  # R17: what supervisors copy out
    return jsonify([_daily_line(c, c.line, d.district.name, heads.get(c.klass.id))
                    for d in report.districts for c in d.classes])


def _daily_line(c: daily_report.ClassReport, line, district: str, head) -> dict:
    """One class of ``/reports/daily`` (500 of them for a city: each field read once)."""
    return {"class": c.klass.code, "trainees": line.trainees, "checked_in": line.checked_in,
            "photos": line.photos, "day_ok": line.day_ok,
            "ratio": float(qualification.truncate(Fraction(line.day_ok, line.trainees or 1), 4)),
            "district": district, "spot_checks_required": c.spot_checks_required,
            "ledger_head": head.anchor() if head is not None else None,
            **{name: getattr(line, name) for name in DAILY_EXTRAS}}


def _name(actor: str) -> str:
    """``staff:3:张丽华`` → ``张丽华``."""
    return actor.rsplit(":", 1)[-1]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@bp.get("/classes/<code>/homework")
def class_homework(code: str):
    klass = scope.class_for(db(), g.viewer, code)
    return jsonify([
        {"id": a.number, "posted_at": a.posted_at.isoformat(), "by": _name(a.posted_by), "title": a.content,
         "due": _iso(a.due_at), "submitted": a.submitted, "late": a.late, "checked": a.checked}
        for a in homework.assignment_lines(db(), klass)
    ])


@bp.get("/classes/<code>/qa")
def class_qa(code: str):
    klass = scope.class_for(db(), g.viewer, code)
    held = qa_attendance.attendance(db(), klass, tz())  # R06: recorded and platform classes
    return jsonify([
        {"id": q.number, "started_at": q.started_at.isoformat(), "ended_at": _iso(q.ended_at),
         "questions": q.questions, "answered": q.answered,
         "session": held[q.id].session if q.id in held else None,
         "checked_in": held[q.id].checked_in if q.id in held else None,
         "checked_out": held[q.id].checked_out if q.id in held else None}
        for q in qa.session_lines(db(), klass)
    ])


@bp.get("/ledger/verify")
def ledger_verify():
    """The last completed verification (R17): never a verification inside the request."""
    last = last_verification(db())
    if last is None:
        return jsonify({"ok": None, "events": 0, "head": None, "at": None})
    return jsonify({"ok": last.ok, "events": last.events, "head": last.head if scope.sees_ledger_head(g.viewer) else None, "at": last.finished_at.isoformat()})


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
