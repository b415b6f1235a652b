"""users in the ledger: an event for each user that existed before users were tracked

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Written against the single chain of that time (``ledger_head``), not the live ledger code, which
    later moved to per-class chains (0010 re-chains these events with the rest)."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first() is None:
        return  # a new database: nothing to record
    import hashlib
    import json
    from datetime import datetime, timezone

    from storage.ledger import snapshot_row
    from storage.models import User

    def canonical(obj) -> str:
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    seq, prev = bind.execute(sa.text("SELECT seq, hash FROM ledger_head WHERE id = 1")).one()
    events = sa.table("ledger_events", *(sa.column(c) for c in (
        "seq", "prev_hash", "hash", "type", "actor", "class_code", "subject_table", "subject_id", "payload",
        "source", "at")))
    at = datetime.now(timezone.utc)
    for row in bind.execute(sa.select(User.__table__).order_by(User.__table__.c.id)).mappings():
        seq += 1
        payload = canonical({"row": snapshot_row(User.__table__, dict(row))})
        body = {"seq": seq, "type": "user.registered", "actor": "migration:0005", "class": None,
                "subject": ["users", row["id"]], "payload": payload, "source": "migration:0005", "at": at.isoformat()}
        digest = hashlib.sha256((prev + canonical(body)).encode("utf-8")).hexdigest()
        bind.execute(events.insert().values(seq=seq, prev_hash=prev, hash=digest, type="user.registered",
                                            actor="migration:0005", class_code=None, subject_table="users",
                                            subject_id=row["id"], payload=payload, source="migration:0005", at=at))
        prev = digest
    bind.execute(sa.text("UPDATE ledger_head SET seq = :s, hash = :h WHERE id = 1"), {"s": seq, "h": prev})


def downgrade() -> None:
    pass  # ledger events are never removed
