"""Overview (today across the visible classes, R11) and the ledger check page (R17)."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, render_template, request

from admin.context import db, today, viewer
from handlers import qualification, review, scope
from storage import ledger, reports

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


@bp.route("/")
def overview():
    s, v = db(), viewer()
    asked = request.args.get("date")
    day = parse_day(asked) if asked else today()
    if day is None:
        abort(400)
    classes = scope.visible_classes(s, v)
    lines = qualification.daily(s, classes, day)
    totals = {key: sum(getattr(line.tally, key) for line in lines)
              for key in ("trainees", "checked_in", "checked_out", "photos", "leave", "day_ok")}
    ids = scope.class_ids(s, v)
    todo = [(k, scope.allowed_transitions(v, k)) for k in classes]
    return render_template(
        "overview.html",
        day=day,
        is_today=day == today(),
        lines=lines,
        totals=totals,
        classes=classes,
        flags=reports.photo_count(s, ids, review.FLAGGED),
        dead=reports.dead_outbox_count(s, ids),
        todo=[(k, moves) for k, moves in todo if moves],
    )


@bp.route("/ledger")
def ledger_check():
    s, v = db(), viewer()
    report = ledger.verify(s)
    return render_template("ledger.html", report=report, details=scope.sees_ledger_details(v),
                           head=scope.sees_ledger_head(v))
