"""The ledger's own tables (R05, R17): events, chain heads, signed checkpoints, keys, verifications. See
``storage.ledger``."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, actor_str, created, flag, intpk, sha_str, source_str, utc


class LedgerEvent(Base):
    """One hash-chained event (R05, R17) on one chain: a class's, or the city's (chain 0).

    See ``storage.ledger``."""

    __tablename__ = "ledger_events"
    __table_args__ = (Index("ix_ledger_events_subject", "subject_table", "subject_id"),)
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    prev_hash: Mapped[sha_str]
    hash: Mapped[sha_str]
    type: Mapped[str] = mapped_column(String(48))
    actor: Mapped[actor_str]
    class_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_table: Mapped[str | None] = mapped_column(String(48))
    subject_id: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)
    source: Mapped[source_str]
    at: Mapped[utc]


class LedgerChain(Base):
    """The head of one chain (0: the city's; otherwise a class id); appends lock their chain's row."""

    __tablename__ = "ledger_chains"
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[sha_str]


class LedgerCheckpoint(Base):
    """A chain's head signed with the ledger key (Ed25519), which the database does not hold."""

    __tablename__ = "ledger_checkpoints"
    __table_args__ = (Index("ix_ledger_checkpoints_chain_seq", "chain", "seq"),)
    id: Mapped[intpk]
    chain: Mapped[int]
    seq: Mapped[int]
    hash: Mapped[sha_str]
    class_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[utc]
    verified: Mapped[flag]  # signed after a clean verification: an incremental one may start here
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))  # hex


class LedgerKey(Base):
    """A public key that signed checkpoints, stored for verifiers (who should hold their own copy)."""

    __tablename__ = "ledger_keys"
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # hex, 32 bytes
    created_at: Mapped[created]


class LedgerVerification(Base):
    """A completed verification: what ``/api/v1/ledger/verify`` and the admin show."""

    __tablename__ = "ledger_verifications"
    id: Mapped[intpk]
    started_at: Mapped[utc]
    finished_at: Mapped[utc]
    ok: Mapped[bool] = mapped_column(Boolean)
    events: Mapped[int]
    head: Mapped[sha_str]
    incremental: Mapped[flag]
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of problem lines
