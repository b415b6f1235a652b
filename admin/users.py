"""Account maintenance in the admin (the system administrator only; handlers/scope.py decides): disable,
enable, a new password, unlock after failed logins, revoke API tokens. The work is handlers.accounts', the
same functions the CLI's ``dingclass user …`` calls, so every change is in the ledger the same way."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from admin import texts
from admin.context import db, viewer
from handlers import accounts, scope
from storage.models import User

bp = Blueprint("users", __name__)


@bp.route("/users")
def user_list(new_password: tuple[str, str] | None = None):
    s, v = db(), viewer()
    scope.check_manage_users(v)
    return render_template("users.html", users=accounts.list_users(s), new_password=new_password)


def _target(user_id: int) -> User:
    scope.check_manage_users(viewer())
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _done(message: str):
    flash(message)
    return redirect(url_for("users.user_list"), 303)


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def disable(user_id: int):
    s, v, user = db(), viewer(), _target(user_id)
    if user.id == v.user_id:
        flash(texts.USER_SELF, "error")
        return redirect(url_for("users.user_list"), 303)
    accounts.set_active(s, user.name, False, actor=v.actor, source="admin")
    s.commit()
    return _done(texts.USER_DISABLED.format(name=user.name))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def enable(user_id: int):
    s, v, user = db(), viewer(), _target(user_id)
    accounts.set_active(s, user.name, True, actor=v.actor, source="admin")
    s.commit()
    return _done(texts.USER_ENABLED.format(name=user.name))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def unlock(user_id: int):
    s, v, user = db(), viewer(), _target(user_id)
    cleared = accounts.unlock(s, user.name, actor=v.actor, source="admin")
    s.commit()
    return _done(texts.USER_UNLOCKED.format(name=user.name, cleared=cleared))


@bp.route("/users/<int:user_id>/revoke-tokens", methods=["POST"])
def revoke_tokens(user_id: int):
    s, v, user = db(), viewer(), _target(user_id)
    count = accounts.revoke_tokens(s, user.name, actor=v.actor, source="admin")
    s.commit()
    return _done(texts.USER_TOKENS_REVOKED.format(name=user.name, count=count))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
def reset_password(user_id: int):
    """The new password is shown in this response only: never in a redirect, a flash cookie or a log."""
    s, v, user = db(), viewer(), _target(user_id)
    password = accounts.set_password(s, user.name, actor=v.actor, source="admin")
    s.commit()
    response = user_list(new_password=(user.name, password))
    return response, 200, {"Cache-Control": "no-store"}
