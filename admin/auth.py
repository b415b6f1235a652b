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
from handlers.accounts import check_password, end_session, start_session
from storage.models import LoginAttempt

bp = Blueprint("auth", __name__)


def recent_failures(s: Session, name: str, address: str) -> int:
    """Failed attempts for ``name`` from ``address`` in the window, not counting those before the
    pair's last success."""
    since = now() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    recent = (LoginAttempt.name == name, LoginAttempt.remote_addr == address, LoginAttempt.at >= since)
    last_ok = s.scalar(select(func.max(LoginAttempt.id)).where(*recent, LoginAttempt.ok.is_(True))) or 0
    return s.scalar(select(func.count(LoginAttempt.id)).where(*recent, LoginAttempt.ok.is_(False),
                                                              LoginAttempt.id > last_ok)) or 0


def address_failures(s: Session, address: str) -> int:
    """Failed attempts from ``address`` in the window, whatever the names (a success does not reset it)."""
    since = now() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    return s.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.remote_addr == address, LoginAttempt.at >= since, LoginAttempt.ok.is_(False))) or 0


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
        s, address = db(), (request.remote_addr or "")[:64]
        config = current_app.config
        limit, minutes = config["LOGIN_MAX_FAILURES"], config["LOGIN_WINDOW_MINUTES"]
        per_address = config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
        if address_failures(s, address) >= per_address:
            error, status = texts.LOGIN_ADDRESS_LOCKED.format(minutes=minutes, count=per_address), 429
            s.rollback()
        elif recent_failures(s, name, address) >= limit:
            error, status = texts.LOGIN_LOCKED.format(minutes=minutes, count=limit), 429
            s.rollback()
        else:
            user = check_password(s, name, password)
            s.add(LoginAttempt(name=name, remote_addr=address, ok=user is not None, at=now()))
            token = None
            if user is not None:
                token = start_session(s, user, now(), timedelta(seconds=_lifetime_seconds()))
            s.commit()
            if user is not None:
                session.clear()
                session["uid"], session["sid"] = user.id, token
                session.permanent = True
                return redirect(safe_next(request.args.get("next")))
            error, status = texts.LOGIN_FAILED, 401
    return render_template("login.html", name=name, error=error), status


def _lifetime_seconds() -> float:
    lifetime = current_app.permanent_session_lifetime
    return lifetime.total_seconds() if isinstance(lifetime, timedelta) else float(lifetime)


@bp.route("/logout", methods=["POST"])
def logout():
    token = session.get("sid")
    if isinstance(token, str):
        s = db()
        end_session(s, token)
        s.commit()
    session.clear()
    flash(texts.LOGGED_OUT)
    return redirect(url_for("auth.login"))
