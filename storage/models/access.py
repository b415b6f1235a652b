"""Who may use the admin and bind in the chat: web users (tracked), their classes, tokens, codes, sessions, attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Tracked, actor_str, created, fk, flag, intpk, name_str, sha_str, utc
from storage.types import UTCDateTime


class User(Tracked, Base):
    """A web/API user of the admin. Tracked: who may see and change what is a fact, so creating a
    user or changing a role or a password is a ledger event (the hash is kept as its digest)."""

    __tablename__ = "users"
    id: Mapped[intpk]
    name: Mapped[name_str] = mapped_column(unique=True)
    password_hash: Mapped[str] = mapped_column(String(200), info={"digest": True})
    role: Mapped[str] = mapped_column(String(16))  # admin | city | district | institution | teacher
    institution_id: Mapped[int | None] = fk("institutions.id", nullable=True)
    district_id: Mapped[int | None] = fk("districts.id", nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created]


class TeacherClass(Tracked, Base):
    """A teacher login's class: the stable link that scopes what a ``teacher`` user sees (never names)."""

    __tablename__ = "teacher_classes"
    __table_args__ = (UniqueConstraint("user_id", "class_id"),)
    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id")
    class_id: Mapped[int] = fk("classes.id")
    granted_by: Mapped[actor_str]
    granted_at: Mapped[created]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id")
    token_hash: Mapped[sha_str] = mapped_column(unique=True)
    created_at: Mapped[created]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[flag]


class BindCode(Base):
    """A one-time code a staff member sends to the bot; only its SHA-256 is stored."""

    __tablename__ = "bind_codes"
    id: Mapped[intpk]
    code_hash: Mapped[sha_str] = mapped_column(unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    class_id: Mapped[int | None] = fk("classes.id", nullable=True)
    district_id: Mapped[int | None] = fk("districts.id", nullable=True)
    created_by: Mapped[actor_str]
    created_at: Mapped[created]
    expires_at: Mapped[utc]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_identity_id: Mapped[int | None] = fk("dingtalk_identities.id", nullable=True)


class AdminSession(Base):
    """A signed-in admin session. The cookie holds a random token and only its SHA-256 is kept here,
    so logging out or a password change ends the session on the server, not only in one browser."""

    __tablename__ = "admin_sessions"
    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id")
    token_hash: Mapped[sha_str] = mapped_column(unique=True)
    created_at: Mapped[created]
    expires_at: Mapped[utc]


class LoginAttempt(Base):
    """An admin login attempt, for rate limiting across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_at", "name", "at"),
                      Index("ix_login_attempts_addr_at", "remote_addr", "at"))
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    ok: Mapped[flag]
    at: Mapped[created]


class BindAttempt(Base):
    """A binding attempt in the chat, for the locks after repeated failures: per sender, and per
    trainee name (``name``) across all senders."""

    __tablename__ = "bind_attempts"
    __table_args__ = (Index("ix_bind_attempts_sender_at", "sender_id", "at"),
                      Index("ix_bind_attempts_name_at", "name", "at"))
    id: Mapped[intpk]
    sender_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(100))  # the trainee name tried; None for a staff code
    ok: Mapped[flag]
    at: Mapped[created]
