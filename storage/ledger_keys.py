"""The ledger's signing key and signed checkpoints (R05, R17); see ``storage.ledger`` for the chains.

``checkpoint`` signs each chain's head with an Ed25519 key kept in a file outside the database
(``DINGCLASS_LEDGER_KEY``). Someone with write access to the database but not the key can rewrite
events and recompute every later hash, but cannot sign the new heads. Signed heads leave the building
(``signed_heads``: the daily report, archive manifests, ``dingclass ledger heads``), and verification
checks that they are still on the chains (``storage.ledger_verify``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import canonical, plain_value
from storage.models import Klass, LedgerChain, LedgerCheckpoint, LedgerKey
from storage.types import utcnow


class LedgerKeyError(RuntimeError):
    """The ledger key file is missing, unreadable or not an Ed25519 key."""


@dataclass(frozen=True)
class Signer:
    """The ledger's Ed25519 private key, loaded from its file."""

    private: Ed25519PrivateKey

    @property
    def public_hex(self) -> str:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

    @property
    def key_id(self) -> str:
        return key_id(self.public_hex)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()


def key_id(public_hex: str) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def create_key(path: Path) -> Signer:
    """Write a new Ed25519 private key (PEM, readable by its owner only); never overwrites a key."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return Signer(private)


def load_key(path: Path) -> Signer:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise LedgerKeyError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise LedgerKeyError(f"{path} is not a PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise LedgerKeyError(f"{path} is not an Ed25519 key")
    return Signer(private)


def register_key(session: Session, signer: Signer) -> None:
    """Store the public key for verifiers (who should compare it with the one ``init`` printed)."""
    if session.get(LedgerKey, signer.key_id) is None:
        session.add(LedgerKey(key_id=signer.key_id, public_key=signer.public_hex))
        session.flush()


def signed_message(chain: int, class_code: str | None, seq: int, hash_: str, at: datetime, verified: bool) -> bytes:
    """What a checkpoint's signature covers."""
    return canonical({"chain": chain, "class": class_code, "seq": seq, "hash": hash_, "at": plain_value(at),
                      "verified": bool(verified)}).encode()


def signature_ok(public_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def class_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Klass.id, Klass.code)).all())


def checkpoint(session: Session, signer: Signer, at: datetime | None = None,
               chains: Iterable[int] | None = None, *, verified: bool = False,
               heads: dict[int, tuple[int, str]] | None = None) -> list[LedgerCheckpoint]:
    """Sign the head of every chain (or of ``chains``) that moved since its last checkpoint.

    Called at each day's end and at archiving, by ``dingclass ledger checkpoint|heads``, and after a
    clean verification with ``verified=True`` and the ``heads`` it verified (an incremental
    verification starts from the last verified checkpoint). Otherwise reads the committed heads
    without locking them: appends go on meanwhile.
    """
    at = (at or utcnow()).astimezone(timezone.utc)
    register_key(session, signer)
    done = select(LedgerCheckpoint.chain, func.max(LedgerCheckpoint.seq).label("seq"))
    if verified:
        done = done.where(LedgerCheckpoint.verified.is_(True))
    last = done.group_by(LedgerCheckpoint.chain).subquery()
    stmt = (select(LedgerChain.chain, LedgerChain.seq, LedgerChain.hash)
            .outerjoin(last, last.c.chain == LedgerChain.chain)
            .where(LedgerChain.seq > func.coalesce(last.c.seq, 0)))
    if chains is not None:
        stmt = stmt.where(LedgerChain.chain.in_(list(chains)))
    codes = class_codes(session)
    made = []
    for chain, seq, hash_ in session.execute(stmt.order_by(LedgerChain.chain)).all():
        if heads is not None:  # what was verified, not what was appended since
            if chain not in heads:
                continue
            seq, hash_ = heads[chain]
        made.append(signed_checkpoint(signer, chain, codes.get(chain), seq, hash_, at, verified))
    session.add_all(made)
    session.flush()
    return made


def signed_checkpoint(signer: Signer, chain: int, class_code: str | None, seq: int, hash_: str, at: datetime,
                      verified: bool) -> LedgerCheckpoint:
    """A checkpoint row for the head ``seq``/``hash_`` of ``chain``, signed with ``signer``."""
    return LedgerCheckpoint(chain=chain, seq=seq, hash=hash_, class_code=class_code, at=at, verified=verified,
                            key_id=signer.key_id, signature=signer.sign(signed_message(chain, class_code, seq, hash_,
                                                                                       at, verified)))


def latest_checkpoints(verified_only: bool = False):
    """A select of each chain's newest checkpoint (highest seq, then latest made)."""
    ranked = select(LedgerCheckpoint.id, func.row_number().over(
        partition_by=LedgerCheckpoint.chain,
        order_by=(LedgerCheckpoint.seq.desc(), LedgerCheckpoint.id.desc())).label("rn"))
    if verified_only:
        ranked = ranked.where(LedgerCheckpoint.verified.is_(True))
    ranked = ranked.subquery()
    return select(LedgerCheckpoint).join(ranked, ranked.c.id == LedgerCheckpoint.id).where(ranked.c.rn == 1)


def signed_heads(session: Session, chains: Iterable[int] | None = None) -> dict[str, Any]:
    """The latest signed head of each chain, as an anchor file carries them (JSON-ready)."""
    stmt = latest_checkpoints()
    if chains is not None:
        stmt = stmt.where(LedgerCheckpoint.chain.in_(list(chains)))
    rows = session.execute(stmt.order_by(LedgerCheckpoint.chain)).scalars().all()
    keys = {k.key_id: k.public_key for k in session.execute(select(LedgerKey)).scalars()}
    return {
        "format": "dingclass-ledger-heads/1",
        "public_keys": sorted({keys[r.key_id] for r in rows if r.key_id in keys}),
        "heads": [{"chain": r.chain, "class": r.class_code, "seq": r.seq, "hash": r.hash, "at": plain_value(r.at),
                   "verified": r.verified, "key_id": r.key_id, "signature": r.signature} for r in rows],
    }
