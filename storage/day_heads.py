"""The ledger heads a day's report carries (R11, R17): each class chain's head as it stood at the end
of the day, signed with the ledger key.

``storage.ledger_keys.checkpoint`` signs the *current* head of each chain; a report about a day wants the
head at that day's end, so the district holds, for every class, an anchor covering exactly that
day's records. :func:`heads_at` finds those positions, :func:`sign_positions` signs each once (a
``ledger_checkpoints`` row like any other: ``verify`` checks it is still on its chain, and
``verify --anchor`` checks the copy the district keeps), :func:`signatures_of` finds the signatures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import ids_in
from storage.ledger_keys import Signer, register_key, signed_checkpoint
from storage.models import Klass, LedgerChain, LedgerCheckpoint, LedgerEvent, LedgerKey
from storage.types import utcnow


def heads_at(session: Session, chains: Iterable[int], until: datetime) -> dict[int, tuple[int, str]]:
    """Each chain's head as it stood at ``until`` — its last event recorded before then — as (seq, hash);
    a chain with no event by then is left out. One statement: per chain a correlated backward scan of
    the primary key (chain, seq) that stops at the first event before ``until``."""
    chains = list(chains)
    if not chains:
        return {}
    seq = (select(LedgerEvent.seq).where(LedgerEvent.chain == LedgerChain.chain, LedgerEvent.at < until)
           .order_by(LedgerEvent.seq.desc()).limit(1).correlate(LedgerChain).scalar_subquery())
    heads = select(LedgerChain.chain, seq.label("seq")).where(ids_in(LedgerChain.chain, chains)).subquery()
    rows = session.execute(select(LedgerEvent.chain, LedgerEvent.seq, LedgerEvent.hash)
                           .join(heads, (heads.c.chain == LedgerEvent.chain) & (heads.c.seq == LedgerEvent.seq)))
    return {chain: (seq_, hash_) for chain, seq_, hash_ in rows}


def signatures_of(session: Session, heads: dict[int, tuple[int, str]]) -> dict[int, LedgerCheckpoint]:
    """For each chain position in ``heads``, the latest checkpoint that signs exactly it (if any)."""
    found: dict[int, LedgerCheckpoint] = {}
    if not heads:
        return found
    for row in session.scalars(select(LedgerCheckpoint).where(ids_in(LedgerCheckpoint.chain, heads))
                               .order_by(LedgerCheckpoint.id)):
        if heads.get(row.chain) == (row.seq, row.hash):
            found[row.chain] = row
    return found


def sign_positions(session: Session, signer: Signer, heads: dict[int, tuple[int, str]],
                   at: datetime | None = None) -> list[LedgerCheckpoint]:
    """Sign the given chain positions unless a checkpoint already signs that exact position."""
    at = (at or utcnow()).astimezone(timezone.utc)
    register_key(session, signer)
    done = signatures_of(session, heads)
    codes = dict(session.execute(select(Klass.id, Klass.code).where(Klass.id.in_(list(heads)))).all()) if heads else {}
    made = []
    for chain, (seq, hash_) in sorted(heads.items()):
        if chain in done:
            continue
        made.append(signed_checkpoint(signer, chain, codes.get(chain), seq, hash_, at, False))
    session.add_all(made)
    session.flush()
    return made


def public_keys(session: Session, key_ids: Iterable[str]) -> list[str]:
    """The public keys (hex) of these key ids, as the database holds them."""
    ids = sorted(set(key_ids))
    if not ids:
        return []
    return list(session.scalars(select(LedgerKey.public_key).where(LedgerKey.key_id.in_(ids)).order_by(LedgerKey.key_id)))
