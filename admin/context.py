"""Per-request helpers: the database session, the clock, the signed-in viewer."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from handlers.scope import Viewer
from storage.types import utcnow


READ_METHODS = ("GET", "HEAD", "OPTIONS")


def db() -> Session:
    """This request's database session (opened on first use, closed at teardown). GET and HEAD
    requests — pages, exports, the API — get a read-only session, which never takes SQLite's write
    lock, so a slow export never holds up the bot's 签到; a POST gets a session that writes."""
    if "db" not in g:
        kind = "dingclass.readers" if request.method in READ_METHODS else "dingclass.factory"
        g.db = current_app.extensions[kind]()
    return g.db


def writer() -> sessionmaker[Session]:
    """The factory of sessions that write, for a short unit of work inside a GET (``with writer().begin()``)."""
    return current_app.extensions["dingclass.factory"]


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def now() -> datetime:
    clock = current_app.config.get("NOW")
    return clock() if clock else utcnow()


def tz() -> ZoneInfo:
    return current_app.config["TIMEZONE"]


def today() -> date:
    return now().astimezone(tz()).date()


def viewer() -> Viewer:
    """The signed-in user; the app's before_request guarantees there is one on protected routes."""
    return g.viewer
