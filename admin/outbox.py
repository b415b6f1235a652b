"""Messages the bot could not deliver (the outbox's dead letters and rows stuck for long): what each
was, where it was going, the error DingTalk gave; an admin puts one back in the queue (CSRF form)."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, url_for

from admin import texts
from admin.context import db, now, viewer
from handlers import outbox, scope
from storage import reports

bp = Blueprint("outbox", __name__)
PREVIEW = 60  # characters of a message's text shown in the list


def _preview(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    text = data.get("text") or (data.get("markdown") or {}).get("title") or (data.get("file") or {}).get("name") or ""
    text = str(text)
    return text if len(text) <= PREVIEW else text[:PREVIEW] + "…"


@bp.route("/outbox")
def stuck_list():
    s, v = db(), viewer()
    rows = reports.stuck_outbox(s, scope.class_ids(s, v), now())
    return render_template("outbox.html", rows=[(row, title, _preview(row.body)) for row, title in rows],
                           may_retry=scope.may_retry_outbox(v), kinds=texts.OUTBOX_KINDS)


@bp.post("/outbox/<int:row_id>/retry")
def retry(row_id: int):
    s, v = db(), viewer()
    scope.check_retry_outbox(v)
    if outbox.requeue(s, row_id, now(), actor=v.actor):
        s.commit()
        flash(texts.OUTBOX_REQUEUED.format(id=row_id))
    else:
        s.rollback()
        flash(texts.OUTBOX_NOT_STUCK.format(id=row_id), "error")
    return redirect(url_for("outbox.stuck_list"), 303)
