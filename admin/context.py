"""Per-request helpers: the database session, the clock, the signed-in viewer."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy.orm import Session

from handlers.scope import Viewer
from storage.types import utcnow


def db() -> Session:
    """This request's database session (opened on first use, closed at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["dingclass.factory"]()
    return g.db


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
