"""The Flask admin: pages in Chinese for institutions, teachers and district/city supervisors, and the JSON API.

``create_app(config=None)`` builds it: configuration from the bot's settings or the environment (the
secret key is required and has no default), one database session per request closed at teardown, read-only
for GET requests (no Flask-SQLAlchemy: the models are shared with the bot), CSRF protection on every form, and the
blueprints ``auth``, ``classes``, ``users``, ``teaching``, ``reports``, ``exports`` and ``api``. Every page requires a signed-in
user and the API a bearer token; what each user may see is decided by ``handlers.scope`` alone.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from admin import texts
from admin.config import DEFAULTS, SECRET_KEY_MIN_BYTES, from_environment, from_settings
from admin.context import close_db, db, now
from handlers.accounts import session_user
from admin.verifier import Verifier
from handlers.scope import Forbidden, OutOfScope, Viewer
from storage.db import make_engine, make_session_factory, read_only_factory

log = logging.getLogger(__name__)
csrf = CSRFProtect()
PUBLIC_ENDPOINTS = {"auth.login", "static", "favicon"}


class AdminConfigError(RuntimeError):
    """The admin cannot start; ``str()`` is a Chinese message saying which setting is missing."""


class RowId(IntegerConverter):
    """``<int:…>`` in every route: a row id fits the databases' INTEGER, so a larger number is simply not
    found (404) instead of an overflow error from PostgreSQL."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the admin. ``config`` may carry ``SETTINGS`` (the bot's settings), ``SESSION_FACTORY``
    (a sessionmaker, for tests and for sharing the bot's engine), ``NOW`` (a clock) and any Flask key."""
    config = dict(config or {})
    settings = config.pop("SETTINGS", None)
    app = Flask(__name__)
    app.url_map.converters["int"] = RowId
    app.config.update(DEFAULTS)
    app.config.update(from_settings(settings) if settings is not None else from_environment())
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise AdminConfigError(texts.NO_SECRET_KEY)
    if len(str(app.config["SECRET_KEY"]).encode("utf-8")) < SECRET_KEY_MIN_BYTES:
        raise AdminConfigError(texts.SECRET_KEY_TOO_SHORT.format(min=SECRET_KEY_MIN_BYTES))
    factory = app.config.get("SESSION_FACTORY")
    if factory is None:
        factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))
    app.extensions["dingclass.factory"] = factory
    app.extensions["dingclass.readers"] = read_only_factory(factory)
    app.extensions["dingclass.verifier"] = Verifier(factory, app.config.get("LEDGER_KEY"))
    app.json.sort_keys = False  # keys in the order PRODUCT.md lists them
    app.json.ensure_ascii = False  # Chinese as text, not \u escapes

    csrf.init_app(app)
    app.teardown_appcontext(close_db)

    from admin import api, auth, bindings, classes, exports, filters, outbox, records, reports, supervision, teaching, users

    filters.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(classes.bp)
    app.register_blueprint(bindings.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(teaching.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(outbox.bp)
    csrf.exempt(api.bp)  # the API takes bearer tokens, not cookies

    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    app.before_request(_require_login)
    app.after_request(_secure_headers)
    _register_errors(app)
    return app


def _require_login():
    """Deny by default: every page but the login form needs a signed-in, active user."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint == "api" or request.endpoint is None:
        return None
    user_id, token = session.get("uid"), session.get("sid")
    user = None
    if isinstance(user_id, int) and isinstance(token, str):
        user = session_user(db(), user_id, token, now())  # ended by logout or a new password: None
    if user is None:
        if "uid" in session:
            session.clear()  # a deleted or deactivated user's session, or one ended on the server
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target.rstrip("?") if target else None))
    g.viewer = Viewer.of(user)
    return None


def _secure_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    if request.blueprint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, message: str):
    if _wants_json():
        return jsonify({"error": message}), status
    return render_template("error.html", status=status, message=message), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(OutOfScope)
    def out_of_scope(_exc):
        return _error(404, texts.API_NOT_FOUND if _wants_json() else texts.NOT_FOUND)

    @app.errorhandler(Forbidden)
    def forbidden(_exc):
        return _error(403, texts.FORBIDDEN)

    @app.errorhandler(CSRFError)
    def csrf_failed(_exc):
        return _error(400, texts.CSRF_FAILED)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {404: texts.API_NOT_FOUND if _wants_json() else texts.NOT_FOUND, 403: texts.FORBIDDEN,
                    405: texts.API_METHOD, 401: texts.API_UNAUTHORIZED}
        if exc.code == 404 and request.url_rule is None and _wants_json():  # no such path, not a missing class
            messages[404] = texts.API_NO_SUCH_PATH.format(method=request.method, path=request.path)
        response = _error(exc.code or 500, messages.get(exc.code, texts.BAD_REQUEST))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("admin request failed: %s %s", request.method, request.path)
        return _error(500, texts.SERVER_ERROR)
