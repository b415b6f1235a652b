"""Web/API users, bearer tokens and staff binding codes.

Passwords are hashed with Argon2 (argon2-cffi); tokens and binding codes are random and only their
SHA-256 is stored, so a stolen database yields no usable secret.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from handlers import hygiene
from handlers.texts import classes as texts
from handlers.errors import Refusal
from storage import ledger
from storage.models import (AdminSession, ApiToken, BindCode, District, Institution, Klass, LoginAttempt, TeacherClass,
                            User)
from storage.types import utcnow

ROLES = ("admin", "city", "district", "institution", "teacher")
STAFF_ROLES = ("teacher", "class_teacher", "inspector")
BIND_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_hasher = PasswordHasher()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _by_name(s: Session, model, name: str, message: str):
    """The row of ``model`` named ``name``, or a refusal listing the names there are."""
    found = s.scalar(select(model).where(model.name == name))
    if found is None:
        known = "、".join(s.scalars(select(model.name).order_by(model.name))) or "（无）"
        raise Refusal(message.format(name=name, known=known))
    return found


def _user(s: Session, name: str) -> User:
    user = s.scalar(select(User).where(User.name == name))
    if user is None:
        raise Refusal(texts.NO_SUCH_USER.format(name=name))
    return user


def add_user(s: Session, name: str, role: str, *, institution: str | None = None,
             district: str | None = None, actor: str = "cli", source: str = "cli") -> str:
    """Create a user (a ledger event: roles are facts); return the generated password (shown once)."""
    hygiene.require(name, texts.USER_NAME_LABEL, 100)
    if role not in ROLES:
        raise Refusal(texts.UNKNOWN_ROLE.format(role=role, roles="、".join(ROLES)))
    if s.scalar(select(User).where(User.name == name)):
        raise Refusal(texts.USER_EXISTS.format(name=name))
    user = User(name=name, role=role, password_hash="")
    if role in ("institution", "teacher"):
        if not institution:
            raise Refusal(texts.ROLE_NEEDS_INSTITUTION.format(role=role))
        inst = _by_name(s, Institution, institution, texts.NO_SUCH_INSTITUTION)
        user.institution_id, user.district_id = inst.id, inst.district_id
    elif role == "district":
        if not district:
            raise Refusal(texts.ROLE_NEEDS_DISTRICT)
        user.district_id = _by_name(s, District, district, texts.NO_SUCH_DISTRICT).id
    password = secrets.token_urlsafe(12)
    user.password_hash = _hasher.hash(password)
    s.add(user)
    ledger.append(s, "user.created", actor=actor, source=source, subject=user)
    return password


def check_password(s: Session, name: str, password: str) -> User | None:
    user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
    if user is None:
        _hasher.hash(password)  # same cost whether or not the name exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


# --- admin sessions (server side: a cookie is worth only what this table says) -------------------


def start_session(s: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """A new session for ``user``; returns the token for the cookie (only its SHA-256 is stored)."""
    s.execute(delete(AdminSession).where(AdminSession.user_id == user.id, AdminSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    s.add(AdminSession(user_id=user.id, token_hash=sha256(token), created_at=now, expires_at=now + lifetime))
    s.flush()
    return token


def session_user(s: Session, user_id: int, token: str, now: datetime) -> User | None:
    """The active user whose unexpired, not ended session ``token`` is; None otherwise."""
    user = s.scalar(select(User).join(AdminSession, AdminSession.user_id == User.id)
                    .where(AdminSession.token_hash == sha256(token), AdminSession.user_id == user_id,
                           AdminSession.expires_at > now))
    return user if user is not None and user.active else None


def end_session(s: Session, token: str) -> None:
    """Log out: the session's cookie is worthless from now on, wherever a copy of it is."""
    s.execute(delete(AdminSession).where(AdminSession.token_hash == sha256(token)))


def end_sessions(s: Session, user_id: int) -> int:
    """End every session of a user (password changed, account disabled); returns how many."""
    return s.execute(delete(AdminSession).where(AdminSession.user_id == user_id)).rowcount or 0


def set_password(s: Session, name: str, password: str | None = None, *, actor: str = "cli",
                 source: str = "cli") -> str:
    """Give the user a new password (generated when None) and end all their sessions; returns it."""
    user = _user(s, name)
    password = password or secrets.token_urlsafe(12)
    user.password_hash = _hasher.hash(password)
    end_sessions(s, user.id)
    ledger.append(s, "user.password_changed", actor=actor, source=source, subject=user)
    return password


def teacher_classes(s: Session, name: str, *, add: Sequence[str] = (), remove: Sequence[str] = (),
                    actor: str) -> list[str]:
    """Assign classes to (or take them from) a ``teacher`` login; return its class codes.

    This link alone scopes what a teacher sees (handlers/scope.py). A class must belong to the
    teacher's institution; every change is in the ledger under the class."""
    user = _user(s, name)
    if user.role != "teacher":
        raise Refusal(texts.NOT_A_TEACHER.format(name=name))
    for code in [*add, *remove]:
        klass = s.scalar(select(Klass).where(Klass.code == code))
        if klass is None:
            raise Refusal(texts.NO_SUCH_CLASS.format(code=code))
        if klass.institution_id != user.institution_id:
            raise Refusal(texts.CLASS_OF_ANOTHER_INSTITUTION.format(code=code, name=name))
        link = s.scalar(select(TeacherClass).where(TeacherClass.user_id == user.id,
                                                   TeacherClass.class_id == klass.id))
        if code in add and link is None:
            link = TeacherClass(user_id=user.id, class_id=klass.id, granted_by=actor)
            s.add(link)
            s.flush()
            ledger.append(s, "teacher.assigned", actor=actor, source="cli", subject=link, class_code=code)
        elif code in remove and link is not None:
            s.delete(link)
            ledger.append(s, "teacher.unassigned", actor=actor, source="cli", subject=link, class_code=code,
                          deleted=True)
    return list(s.scalars(select(Klass.code).join(TeacherClass, TeacherClass.class_id == Klass.id)
                          .where(TeacherClass.user_id == user.id).order_by(Klass.code)))


def set_active(s: Session, name: str, active: bool, *, actor: str = "cli", source: str = "cli") -> User:
    """Enable or disable a user (a ledger event); disabling ends all their sessions at once."""
    user = _user(s, name)
    if user.active != active:
        user.active = active
        if not active:
            end_sessions(s, user.id)
        ledger.append(s, "user.enabled" if active else "user.disabled", actor=actor, source=source, subject=user)
    return user


@dataclass(frozen=True)
class UserLine:
    name: str
    role: str
    scope: str
    active: bool
    tokens: int
    last_login: datetime | None
    id: int
    failures: int  # failed logins not yet cleared by ``unlock``: what a login lock counts


def list_users(s: Session) -> list[UserLine]:
    """Every web/API user with their scope, state, live tokens and last successful login."""
    institutions = dict(s.execute(select(Institution.id, Institution.name)).all())
    districts = dict(s.execute(select(District.id, District.name)).all())
    tokens = dict(s.execute(select(ApiToken.user_id, func.count()).where(ApiToken.revoked.is_(False))
                            .group_by(ApiToken.user_id)).all())
    logins = dict(s.execute(select(LoginAttempt.name, func.max(LoginAttempt.at)).where(LoginAttempt.ok.is_(True))
                            .group_by(LoginAttempt.name)).all())
    failures = dict(s.execute(select(LoginAttempt.name, func.count()).where(LoginAttempt.ok.is_(False))
                              .group_by(LoginAttempt.name)).all())
    return [UserLine(u.name, u.role, institutions.get(u.institution_id) or districts.get(u.district_id) or "",
                     u.active, tokens.get(u.id, 0), logins.get(u.name), u.id,
                     failures.get(u.name, 0))
            for u in s.scalars(select(User).order_by(User.role, User.name))]



def unlock(s: Session, name: str, *, actor: str, source: str = "cli") -> int:
    """Lift the login lock of ``name`` (every address): its failed attempts leave the attempt log and the
    ledger keeps how many and from where. Returns how many failures were cleared."""
    user = _user(s, name)
    failures = s.execute(select(LoginAttempt.remote_addr, func.count()).where(
        LoginAttempt.name == user.name, LoginAttempt.ok.is_(False)).group_by(LoginAttempt.remote_addr)).all()
    s.execute(delete(LoginAttempt).where(LoginAttempt.name == user.name, LoginAttempt.ok.is_(False)))
    cleared = sum(n for _, n in failures)
    ledger.append(s, "user.unlocked", actor=actor, source=source, subject=user,
                  data={"cleared_failures": {addr: n for addr, n in failures}})
    return cleared


def revoke_tokens(s: Session, name: str, *, actor: str, source: str = "cli") -> int:
    """Revoke every live API token of ``name``; returns how many."""
    user = _user(s, name)
    rows = list(s.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))))
    for row in rows:
        row.revoked = True
    ledger.append(s, "user.token_revoked", actor=actor, source=source, subject=user, data={"tokens": len(rows)})
    return len(rows)


def issue_token(s: Session, name: str) -> str:
    """A new bearer token for the user (shown once)."""
    user = _user(s, name)
    token = secrets.token_urlsafe(32)
    s.add(ApiToken(user_id=user.id, token_hash=sha256(token)))
    s.flush()
    return token


LAST_USE_RESOLUTION = timedelta(minutes=1)  # a token's last use is kept to the minute: a burst of calls writes once


def user_for_token(s: Session, token: str, now: datetime | None = None) -> User | None:
    """The active user of a live API token, its last use noted (to the minute) in ``s``."""
    found = token_user(s, token)
    if found is None:
        return None
    row, user = found
    when = now or utcnow()
    if use_to_note(row, when):
        row.last_used_at = when
    return user


_TOKEN_USER = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
               .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked.is_(False),
                      User.active.is_(True)))  # built once: every API request runs it (issue 13)


def token_user(s: Session, token: str) -> tuple[ApiToken, User] | None:
    """A live token and its user if active, in one query that writes nothing (a reader's session will do)."""
    found = s.execute(_TOKEN_USER, {"token_hash": sha256(token)}).first()
    return (found[0], found[1]) if found is not None else None


def use_to_note(row: ApiToken, now: datetime) -> bool:
    """The token's last use is older than ``LAST_USE_RESOLUTION``: ``now`` is worth writing."""
    return row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION


@dataclass(frozen=True)
class IssuedBindCode:
    code: str
    expires_at: datetime


def normalise_bind_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def issue_bind_code(s: Session, scope: str, role: str, *, name: str | None, actor: str,
                    days: int = 7, now: datetime | None = None) -> IssuedBindCode:
    """A one-time code for a staff member of class ``scope`` (an inspector may have a district)."""
    if role not in STAFF_ROLES:
        raise Refusal(texts.UNKNOWN_STAFF_ROLE.format(role=role, roles="、".join(STAFF_ROLES)))
    if name is not None:
        hygiene.require(name, texts.STAFF_NAME_LABEL, 100)  # it becomes the staff member's name
    klass = s.scalar(select(Klass).where(Klass.code == scope))
    district = None
    if klass is None:
        if role != "inspector":
            raise Refusal(texts.NO_SUCH_CLASS.format(code=scope))
        district = s.scalar(select(District).where(District.name == scope))
        if district is None:
            raise Refusal(texts.NO_SUCH_CLASS_OR_DISTRICT.format(scope=scope))
    raw = "".join(secrets.choice(BIND_CODE_ALPHABET) for _ in range(8))
    expires = (now or utcnow()) + timedelta(days=days)
    s.add(BindCode(code_hash=sha256(raw), role=role, name=name, class_id=klass.id if klass else None,
                   district_id=district.id if district else klass.district_id, created_by=actor,
                   expires_at=expires))
    s.flush()
    return IssuedBindCode(f"{raw[:4]}-{raw[4:]}", expires)
