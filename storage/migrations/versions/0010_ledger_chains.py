"""ledger v2: one chain per class and one for the city, signed checkpoints, stored verifications

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Existing events are moved onto their chains in their original order, renumbered and re-hashed with
the chain in the hash (the rules below are a frozen copy of ``storage.ledger.chain_of`` and
``event_hash``); a last city-chain event ``ledger.rechained`` records the old single chain's length
and head hash, so a head copied out of the building before the upgrade can still be matched.
"""

import hashlib
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
VIA_ENROLLMENT = ("punches", "photos", "leave_requests", "study_minutes")


def _canonical(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _hash(prev: str, ev: dict) -> str:
    body = {"chain": ev["chain"], "seq": ev["seq"], "type": ev["type"], "actor": ev["actor"],
            "class": ev["class_code"], "subject": [ev["subject_table"], ev["subject_id"]],
            "payload": ev["payload"], "source": ev["source"], "at": ev["at"].isoformat()}
    return hashlib.sha256((prev + _canonical(body)).encode("utf-8")).hexdigest()


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _ledger_events_table(name: str, pk: str) -> None:
    op.create_table(name,
    sa.Column('chain', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('class_code', sa.String(length=32), nullable=True),
    sa.Column('subject_table', sa.String(length=48), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chain', 'seq', name=op.f(pk))
    )


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_inbound_messages_class_id_classes'), 'classes', ['class_id'], ['id'])

    op.create_table('ledger_chains',
    sa.Column('chain', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_ledger_chains'))
    )
    op.create_table('ledger_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('class_code', sa.String(length=32), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_checkpoints'))
    )
    with op.batch_alter_table('ledger_checkpoints', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_checkpoints_chain_seq', ['chain', 'seq'], unique=False)
    op.create_table('ledger_keys',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_ledger_keys'))
    )
    op.create_table('ledger_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.Column('incremental', sa.Boolean(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_verifications'))
    )

    _ledger_events_table('ledger_events_v2', 'pk_ledger_events_v2')
    _rechain(conn)
    with op.batch_alter_table('ledger_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_events_subject')
        batch_op.drop_index(batch_op.f('ix_ledger_events_class_code'))
    op.drop_table('ledger_events')
    op.drop_table('ledger_head')
    op.rename_table('ledger_events_v2', 'ledger_events')
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_events RENAME CONSTRAINT pk_ledger_events_v2 TO pk_ledger_events")
    with op.batch_alter_table('ledger_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_events_class_code'), ['class_code'], unique=False)
        batch_op.create_index('ix_ledger_events_subject', ['subject_table', 'subject_id'], unique=False)


def _rechain(conn) -> None:
    classes = dict(conn.execute(sa.text("SELECT code, id FROM classes")).all())
    enrollments = dict(conn.execute(sa.text("SELECT id, class_id FROM enrollments")).all())
    old = sa.table("ledger_events", *(sa.column(c) for c in (
        "seq", "type", "actor", "class_code", "subject_table", "subject_id", "payload", "source", "at", "hash")))
    new = sa.table("ledger_events_v2", *(sa.column(c) for c in (
        "chain", "seq", "prev_hash", "hash", "type", "actor", "class_code", "subject_table", "subject_id",
        "payload", "source", "at")))
    heads: dict[int, tuple[int, str]] = {0: (0, GENESIS)}
    legacy = (0, GENESIS)
    batch = []
    for ev in conn.execute(sa.select(old).order_by(old.c.seq)).mappings():
        ev = dict(ev)
        legacy = (ev["seq"], ev.pop("hash"))
        payload = json.loads(ev["payload"])
        row = payload.get("row")
        if ev["subject_table"] == "inbound_messages" and row is not None:
            row["class_id"] = None  # the new column: messages stored before it stay on the city chain
            ev["payload"] = _canonical(payload)
        if ev["subject_table"] == "classes":
            chain = ev["subject_id"]
        elif row and row.get("class_id"):
            chain = row["class_id"]
        elif row and ev["subject_table"] in VIA_ENROLLMENT:
            chain = enrollments.get(row["enrollment_id"]) or 0
        elif ev["subject_table"] is None:
            chain = classes.get(ev["class_code"]) or 0
        else:
            chain = 0
        batch.append(_link(heads, chain, ev))
        if len(batch) >= 5000:
            conn.execute(new.insert(), batch)
            batch = []
    if legacy[0]:
        batch.append(_link(heads, 0, {
            "type": "ledger.rechained", "actor": "migration:0010", "class_code": None, "subject_table": None,
            "subject_id": None, "source": "migration:0010", "at": datetime.now(timezone.utc),
            "payload": _canonical({"legacy_events": legacy[0], "legacy_head": legacy[1]})}))
    if batch:
        conn.execute(new.insert(), batch)
    chains = sa.table("ledger_chains", sa.column("chain"), sa.column("seq"), sa.column("hash"))
    conn.execute(chains.insert(), [{"chain": c, "seq": s, "hash": h} for c, (s, h) in sorted(heads.items())])


def _link(heads: dict, chain: int, ev: dict) -> dict:
    seq, prev = heads.get(chain, (0, GENESIS))
    ev = {**ev, "chain": chain, "seq": seq + 1, "prev_hash": prev, "at": _utc(ev["at"])}
    ev["hash"] = _hash(prev, ev)
    heads[chain] = (ev["seq"], ev["hash"])
    return ev


def downgrade() -> None:
    raise NotImplementedError("ledger v2 cannot be turned back into one chain without re-hashing it")
