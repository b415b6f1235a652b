"""Undoing a wrong binding from the admin: a class's group, a trainee's DingTalk account (district,
institution, admin; handlers/scope.py decides). The work and the notices are handlers.unbinding's."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from admin import texts
from admin.context import db, now, viewer
from handlers import scope, unbinding
from handlers.errors import Refusal
from storage.models import Person

bp = Blueprint("bindings", __name__)


@bp.route("/classes/<code>/unbind-group", methods=["POST"])
def unbind_group(code: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_unbind(v)
    try:
        done = unbinding.unbind_group(s, klass, reason=request.form.get("reason", ""), actor=v.actor,
                                      source="admin", robot_code=None, now=now())
        s.commit()
        flash(texts.GROUP_UNBOUND.format(title=done.what))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("classes.class_page", code=code), 303)


@bp.route("/classes/<code>/trainees/<int:enrollment_id>/unbind", methods=["POST"])
def unbind_person(code: str, enrollment_id: int):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    enrollment = scope.enrollment_for(s, v, klass, enrollment_id)
    scope.check_unbind(v)
    name = s.get(Person, enrollment.person_id).name
    try:
        done = unbinding.unbind_person(s, klass, name, reason=request.form.get("reason", ""), actor=v.actor,
                                       source="admin", robot_code=None, now=now())
        s.commit()
        flash(texts.PERSON_UNBOUND.format(name=name, told=done.told)
              + (texts.PERSON_NOT_REACHABLE if done.not_reachable else ""))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return redirect(url_for("classes.trainee_page", code=code, enrollment_id=enrollment_id), 303)
