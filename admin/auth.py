"""Signing in and out of the admin.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure when DINGCLASS_COOKIE_SECURE is
set) holding only the user id. Every attempt is stored in ``login_attempts``; a name with
``LOGIN_MAX_FAILURES`` failures within ``LOGIN_WINDOW_MINUTES`` (since its last success) is refused
without checking the password until the window passes — the count lives in the database, so it holds
across processes and restarts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin import texts
from admin.context import db, now
from handlers.accounts import check_password
from storage.models import LoginAttempt

bp = Blueprint("auth", __name__)


def recent_failures(s: Session, name: str) -> int:
    """Failed attempts for ``name`` in the window, not counting those before its last success."""
    since = now() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    recent = (LoginAttempt.name == name, LoginAttempt.at >= since)
    last_ok = s.scalar(select(func.max(LoginAttempt.id)).where(*recent, LoginAttempt.ok.is_(True))) or 0
    return s.scalar(select(func.count(LoginAttempt.id)).where(*recent, LoginAttempt.ok.is_(False),
                                                              LoginAttempt.id > last_ok)) or 0


def safe_next(target: str | None) -> str:
    """Only a plain path on this site: never another host (no open redirect). Browsers drop tabs and
    line breaks and read a backslash as a slash, so a target with any of those is refused too."""
    home = url_for("reports.overview")
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    if not target.isprintable() or any(c.isspace() or c == "\\" for c in target):
        return home
    parts = urlsplit(target)
    return home if parts.scheme or parts.netloc else target


@bp.route("/login", methods=["GET", "POST"])
def login():
    name, error, status = "", None, 200
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()[:100]
        password = request.form.get("password") or ""
        s = db()
        limit, minutes = current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_WINDOW_MINUTES"]
        if recent_failures(s, name) >= limit:
            error, status = texts.LOGIN_LOCKED.format(minutes=minutes, count=limit), 429
            s.rollback()
        else:
            user = check_password(s, name, password)
            s.add(LoginAttempt(name=name, remote_addr=(request.remote_addr or "")[:64], ok=user is not None,
                               at=now()))
            s.commit()
            if user is not None:
                session.clear()
                session["uid"] = user.id
                session.permanent = True
                return redirect(safe_next(request.args.get("next")))
            error, status = texts.LOGIN_FAILED, 401
    return render_template("login.html", name=name, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash(texts.LOGGED_OUT)
    return redirect(url_for("auth.login"))
