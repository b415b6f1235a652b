"""Operational tables (not facts): the outbox, send gates, job claims, reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, created, fk, intpk
from storage.types import UTCDateTime


class OutboxMessage(Base):
    """A message to send (or a file to fetch), delivered at least once; ``dedupe_key`` is unique."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_conversation", "conversation_id", "status", "sent_at"))
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(16))  # reply | group | oto | download
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sending | sent | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[created]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_with: Mapped[int | None] = mapped_column(Integer)  # a digest's first row: sent in its message


class SendGate(Base):
    """When sending may go on, shared by every bot process: ``api:<path>`` holds the next free call slot
    of a DingTalk API (≤ 20 calls a second per app and API, DINGTALK.md §5), ``pause:<conversationId>``
    the end of DingTalk's throttle of a group (410100, DINGTALK.md §7). ``open_at`` is epoch seconds."""

    __tablename__ = "send_gates"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    open_at: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")


class JobClaim(Base):
    """A job's claim on (scope, period), so two schedulers or a re-run never act twice."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "scope", "period"),)
    id: Mapped[intpk]
    job: Mapped[str] = mapped_column(String(48))
    scope: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[created]
    outcome: Mapped[str] = mapped_column(String(16), default="done")  # done | missed | nothing
    detail: Mapped[str] = mapped_column(Text, default="")


class Reminder(Base):
    """A reminder the bot sent (R21): to whom, when, why; one per (kind, recipient, slot)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("kind", "recipient", "slot"),)
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(16))  # checkin | short_day | makeup
    class_id: Mapped[int] = fk("classes.id")
    recipient: Mapped[str] = mapped_column(String(64))  # "group" or "enrollment:<id>"
    slot: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[created]
