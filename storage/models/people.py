"""Trainees, staff, their DingTalk identities and the class groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Tracked, actor_str, created, fk, flag, intpk, name_str, utc
from storage.types import UTCDateTime


class Person(Tracked, Base):
    """A real-name trainee (R04); the ID number is unique across the system."""

    __tablename__ = "persons"
    id: Mapped[intpk]
    name: Mapped[name_str]
    gender: Mapped[str] = mapped_column(String(2))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[created]


class Enrollment(Tracked, Base):
    """A person in a class's roster; removal is a mark with its reason (R16), never a delete."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("class_id", "person_id"),)
    id: Mapped[intpk]
    class_id: Mapped[int] = fk("classes.id")
    person_id: Mapped[int] = fk("persons.id")
    identity_category: Mapped[name_str]
    removed: Mapped[flag]
    removed_reason: Mapped[str | None] = mapped_column(Text)
    removed_by: Mapped[str | None] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Staff(Tracked, Base):
    """A teacher, class teacher or supervisor known to the bot."""

    __tablename__ = "staff"
    id: Mapped[intpk]
    name: Mapped[name_str]
    created_at: Mapped[created]


class StaffRole(Tracked, Base):
    """A staff member's role in one class, one district, or (neither) the whole city."""

    __tablename__ = "staff_roles"
    id: Mapped[intpk]
    staff_id: Mapped[int] = fk("staff.id")
    role: Mapped[str] = mapped_column(String(16))  # teacher | class_teacher | inspector
    class_id: Mapped[int | None] = fk("classes.id", nullable=True)
    district_id: Mapped[int | None] = fk("districts.id", nullable=True)


class DingTalkIdentity(Tracked, Base):
    """A DingTalk sender (``senderId`` always present, ``staffId`` only inside the organisation)."""

    __tablename__ = "dingtalk_identities"
    id: Mapped[intpk]
    sender_id: Mapped[str] = mapped_column(String(128), unique=True)
    staff_user_id: Mapped[str | None] = mapped_column(String(64))
    nick: Mapped[str] = mapped_column(String(100), default="")
    person_id: Mapped[int | None] = fk("persons.id", nullable=True)
    staff_id: Mapped[int | None] = fk("staff.id", nullable=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Group(Tracked, Base):
    """A DingTalk group (``openConversationId``) linked to its class."""

    __tablename__ = "groups"
    id: Mapped[intpk]
    open_conversation_id: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    class_id: Mapped[int] = fk("classes.id")
    bound_by: Mapped[actor_str]
    bound_at: Mapped[utc]
