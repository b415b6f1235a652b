"""Template filters and globals: local times, masking, percentages, Chinese names."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from flask import Flask

from admin import texts
from admin.context import tz
from handlers.idcard import mask_id_number, mask_phone
from handlers.qualification import percent_text, truncate
from handlers.scope import may_manage_users
from handlers.texts.classes import STATUS_NAMES


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(tz()).strftime(fmt)


def pct(part, whole) -> str:
    return percent_text(part, whole)


def ratio_pct(value: Fraction) -> str:
    return f"{truncate(Fraction(value) * 100, 1)}%"


def event_name(event_type: str) -> str:
    return texts.EVENT_NAMES.get(event_type, event_type)


def actor_name(actor: str) -> str:
    """``staff:12:王芳`` → ``工作人员 王芳``; ``user:admin`` → ``后台用户 admin``; unknown forms as they are."""
    kind, _, rest = actor.partition(":")
    if kind not in texts.ACTOR_KINDS:
        return actor
    name = rest.split(":", 1)[1] if kind in ("person", "staff") and ":" in rest else rest
    return f"{texts.ACTOR_KINDS[kind]} {name}".strip()


def minutes(value: Fraction) -> str:
    """Planned minutes (R09): whole numbers as they are, fractions cut to one decimal (150, 113.6)."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else str(truncate(value, 1))


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        local=local,
        mask_id=mask_id_number,
        mask_phone=mask_phone,
        ratio_pct=ratio_pct,
        minutes=minutes,
        mmdd=lambda d: d.strftime("%m-%d"),
        status_name=lambda s: STATUS_NAMES.get(s, s),
        role_name=lambda r: texts.ROLE_NAMES.get(r, r),
        mode_name=lambda m: texts.MODE_NAMES.get(m, m),
        leave_name=lambda v: texts.LEAVE_NAMES.get(v, v),
        photo_status=lambda v: texts.PHOTO_STATUS_NAMES.get(v, v),
        punch_name=lambda v: texts.PUNCH_NAMES.get(v, v),
        event_name=event_name,
        actor_name=actor_name,
    )
    app.jinja_env.globals.update(pct=pct, texts=texts, may_manage_users=may_manage_users)
