"""Teaching (R10): a class's homework with submissions and checks, Q&A with answers, spot checks.

Teachers, the institution and admins check homework many at once and record spot checks here; the
same functions as the chat commands write the records (``handlers.homework``, ``handlers.spot_checks``).
Who may do so is decided in ``handlers.scope``.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from admin import texts
from admin.context import db, now, tz, viewer
from handlers import homework, qa, qa_attendance, scope, spot_checks
from handlers.classes import profile_of
from handlers.errors import Refusal
from storage.models import Assignment, Attachment

bp = Blueprint("teaching", __name__)


@bp.route("/classes/<code>/teaching")
def teaching_page(code: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    assignments = homework.assignment_lines(s, klass)
    submissions = {a.id: homework.submissions_of(s, a.id) for a in assignments}
    attachments: dict[tuple[str, int], int] = {}
    for row in s.scalars(select(Attachment).where(Attachment.class_id == klass.id)):
        key = (row.subject_table, row.subject_id)
        attachments[key] = attachments.get(key, 0) + 1
    day = now().date()
    checks = spot_checks.of_class(s, klass)
    return render_template(
        "teaching.html",
        klass=klass,
        assignments=assignments,
        submissions=submissions,
        attachments=attachments,
        roster=homework.active_trainees(s, klass),
        sessions=qa.session_lines(s, klass),
        held=qa_attendance.attendance(s, klass, tz()),  # R06: recorded and platform classes
        questions=qa.questions_with_answers(s, klass),
        spot_checks=checks,
        today_checks=sum(1 for c in checks if c.day == day),
        required=profile_of(klass).duties.spot_checks_per_day,
        may_teach=scope.may_teach(v),
    )


@bp.route("/classes/<code>/homework/<int:number>/checks", methods=["POST"])
def batch_check(code: str, number: int):
    """R10: check many submissions of one assignment at once; all or nothing."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_teaching(v)
    assignment = s.scalar(select(Assignment).where(Assignment.class_id == klass.id, Assignment.number == number))
    if assignment is None:
        flash(texts.HOMEWORK_NO_SUCH.format(number=number), "error")
        return redirect(url_for("teaching.teaching_page", code=code), 303)
    at = now()
    done = 0
    try:
        for submission, name, _ in homework.submissions_of(s, assignment.id):
            comment = (request.form.get(f"comment_{submission.id}") or "").strip()
            score_text = (request.form.get(f"score_{submission.id}") or "").strip()
            if not comment and not score_text:
                continue
            if score_text and not (score_text.isdigit() and int(score_text) <= homework.MAX_SCORE):
                raise Refusal(texts.HOMEWORK_BAD_SCORE.format(name=name, score=score_text[:10],
                                                              top=homework.MAX_SCORE))
            parsed = homework.CheckArgs(number, name, comment[:homework.MAX_COMMENT],
                                        int(score_text) if score_text else None)
            homework.check(s, klass, parsed, actor=v.actor, now=at, source="admin")
            done += 1
        if not done:
            raise Refusal(texts.HOMEWORK_NOTHING_TO_CHECK)
        s.commit()
        flash(texts.HOMEWORK_CHECKED.format(count=done, number=number))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("teaching.teaching_page", code=code), 303)


@bp.route("/classes/<code>/spot-checks", methods=["POST"])
def record_spot_check(code: str):
    """R10: a spot check recorded from the admin."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_teaching(v)
    try:
        text = spot_checks.record(s, klass, request.form.get("note") or "", actor=v.actor, now=now(), source="admin")
        s.commit()
        flash(text)
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("teaching.teaching_page", code=code), 303)
