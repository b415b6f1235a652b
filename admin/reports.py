"""Overview (today across the visible classes, R11) and the ledger check page (R17)."""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from admin import texts
from admin.context import db, now, today, viewer
from handlers import qualification, review, scope
from handlers.classes import profile_of
from storage import ledger, ledger_verify, reports

bp = Blueprint("reports", __name__)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date, or None when the text is not one."""
    if text is None or not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


PAGE_ROWS = 100  # running classes per page of the overview's table (a city runs 500 at once)
TODO_SHOWN = 20  # classes awaiting the viewer listed on the overview; the rest are counted (the class list has all)


@bp.route("/")
def overview():
    s, v = db(), viewer()
    asked = request.args.get("date")
    day = parse_day(asked) if asked else today()
    page = request.args.get("page", "1")
    if day is None or not page.isdigit() or int(page) < 1:
        abort(400)
    classes = scope.visible_classes(s, v)
    lines = qualification.daily(s, classes, day, every_class=v.sees_everything)
    totals = {key: sum(getattr(line.tally, key) for line in lines)
              for key in ("trainees", "checked_in", "checked_out", "photos", "leave", "day_ok")}
    pages = max(1, -(-len(lines) // PAGE_ROWS))
    page = min(int(page), pages)
    shown = lines[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]
    ids = scope.class_ids(s, v)
    todo = [(k, moves) for k in classes if (moves := scope.allowed_transitions(v, k))]
    return render_template(
        "overview.html",
        day=day,
        is_today=day == today(),
        lines=shown,
        lines_per_page=PAGE_ROWS,
        running=len(lines),
        page=page,
        pages=pages,
        totals=totals,
        spot_required={line.klass.id: profile_of(line.klass).duties.spot_checks_per_day for line in shown},
        classes=classes,
        flags=reports.photo_count(s, ids, review.FLAGGED),
        stuck=reports.stuck_outbox_count(s, ids, now()),
        todo=todo[:TODO_SHOWN],
        todo_more=len(todo) - TODO_SHOWN if len(todo) > TODO_SHOWN else 0,
    )


@bp.route("/ledger")
def ledger_check():
    """The last completed verification (R17); the check itself runs in the background."""
    v = viewer()
    last = ledger_verify.last_verification(db())
    stored = json.loads(last.problems) if last is not None else []  # verifications stored before codes: text
    problems = [p if isinstance(p, str) else texts.ledger_problem(ledger_verify.Problem.from_stored(p)) for p in stored]
    return render_template("ledger.html", last=last, problems=problems, details=scope.sees_ledger_details(v),
                           head=scope.sees_ledger_head(v),
                           may_run=scope.runs_ledger_verification(v),
                           running=current_app.extensions["dingclass.verifier"].running)


@bp.post("/ledger/run")
def ledger_run():
    if not scope.runs_ledger_verification(viewer()):
        abort(403)
    incremental = request.form.get("mode") == "incremental"
    started = current_app.extensions["dingclass.verifier"].start(incremental)
    flash(texts.VERIFY_STARTED if started else texts.VERIFY_ALREADY_RUNNING)
    return redirect(url_for("reports.ledger_check"))
