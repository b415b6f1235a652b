"""inspection evidence, roll-call samples and trainee marks go on their class's chain

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

These three tables named no ``__ledger_via__``, so their events went on the city chain (issue 13: a
class's chain is exactly what its archive carries). From now on ``chain_of`` routes them to their
class. Events already written stay where they are: moving them would change the city chain's hashes
and void every signed checkpoint and every head a district holds. Instead each such row gets one
``ledger.carried`` event at the end of its class's chain that repeats **the snapshot the ledger
recorded** (never the row as the table holds it now: a row changed with plain SQL before the upgrade
is still reported) and names the city event it continues (``carried_from``: chain, seq, hash).
``storage.ledger_verify.verify`` takes a row's class-chain event over its city-chain ones. Rows that already
have a class-chain event are skipped, so running this twice adds nothing.

The hashing rules are imported from ``storage.ledger``: they cannot change without voiding every chain.
"""

import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from storage.ledger import GENESIS, body_of, canonical, event_hash


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ACTOR = SOURCE = "migration:0018"
MOVED = {  # table -> (the column naming the row it belongs to, that row's table, which has class_id)
    "inspection_evidence": ("inspection_id", "inspections"),
    "rollcall_samples": ("rollcall_id", "rollcalls"),
    "trainee_marks": ("enrollment_id", "enrollments"),
}
CHUNK = 1000

events = sa.table("ledger_events", *(sa.column(c) for c in (
    "chain", "seq", "prev_hash", "hash", "type", "actor", "class_code", "subject_table", "subject_id", "payload",
    "source", "at")))
chains = sa.table("ledger_chains", sa.column("chain"), sa.column("seq"), sa.column("hash"))


def upgrade() -> None:
    carry(op.get_bind())


def carry(conn, at: datetime | None = None) -> int:
    """Append a ``ledger.carried`` event for every row of ``MOVED`` whose events are on the city chain
    only; the number appended."""
    at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    codes = dict(conn.execute(sa.text("SELECT id, code FROM classes")).all())
    heads: dict[int, tuple[int, str, bool]] = {}  # chain -> (seq, hash, had a head row)
    made = 0
    for table, (via, parent) in MOVED.items():
        class_of = dict(conn.execute(sa.text(f"SELECT id, class_id FROM {parent}")).all())
        on_class = set(conn.execute(sa.select(events.c.subject_id).distinct().where(
            events.c.subject_table == table, events.c.chain != 0)).scalars())
        ids = [i for i in conn.execute(sa.select(events.c.subject_id).distinct().where(
            events.c.subject_table == table, events.c.chain == 0)).scalars() if i not in on_class]
        ids.sort()
        for start in range(0, len(ids), CHUNK):
            rows = conn.execute(sa.select(events.c.subject_id, events.c.seq, events.c.hash, events.c.payload).where(
                events.c.chain == 0, events.c.subject_table == table, events.c.subject_id.in_(ids[start:start + CHUNK])
            ).order_by(events.c.subject_id, events.c.seq)).all()
            last: dict[int, tuple[int, str, dict | None, int | None]] = {}
            for subject_id, seq, hash_, payload in rows:
                row = json.loads(payload).get("row")
                owner = row.get(via) if row else last.get(subject_id, (0, "", None, None))[3]
                last[subject_id] = (seq, hash_, row, owner)
            batch = []
            for subject_id, (seq, hash_, row, owner) in last.items():
                chain = class_of.get(owner)
                if not chain:
                    continue  # its class cannot be told: it stays on the city chain
                batch.append(_link(conn, heads, chain, {
                    "type": "ledger.carried", "actor": ACTOR, "class_code": codes.get(chain), "subject_table": table,
                    "subject_id": subject_id, "source": SOURCE, "at": at,
                    "payload": canonical({"row": row, "carried_from": {"chain": 0, "seq": seq, "hash": hash_}})}))
            if batch:
                conn.execute(events.insert(), batch)
                made += len(batch)
    for chain, (seq, hash_, existed) in sorted(heads.items()):
        if existed:
            conn.execute(chains.update().where(chains.c.chain == chain).values(seq=seq, hash=hash_))
        else:
            conn.execute(chains.insert().values(chain=chain, seq=seq, hash=hash_))
    return made


def _link(conn, heads: dict, chain: int, ev: dict) -> dict:
    if chain not in heads:
        head = conn.execute(sa.select(chains.c.seq, chains.c.hash).where(chains.c.chain == chain).with_for_update()).first()
        heads[chain] = (head.seq, head.hash, True) if head else (0, GENESIS, False)
    seq, prev, existed = heads[chain]
    ev = {**ev, "chain": chain, "seq": seq + 1, "prev_hash": prev}
    ev["hash"] = event_hash(prev, body_of(chain, ev["seq"], ev["type"], ev["actor"], ev["class_code"],
                                          ev["subject_table"], ev["subject_id"], ev["payload"], ev["source"], ev["at"]))
    heads[chain] = (ev["seq"], ev["hash"], existed)
    return ev


def downgrade() -> None:
    pass  # the carried events stay: removing them would break their chains; the old code reads the city ones
