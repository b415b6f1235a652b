"""R13: the roll call's draw, pure: a committed seed and a reproducible sample.

The draw (documented in the README so anyone can redo it by hand):

1. ``seed = SHA-256("dingclass-rollcall-v1|<ledger head>|<class code>|<roll call number>|<nonce>")`` as
   64 lower-case hex digits. Every input is fixed before the draw: the hash of the last ledger event
   committed, the class, the roll call's number in the class, and the nonce — ``msg:<msgId>`` of the
   command, ``job:<slot>`` of a scheduled one, ``cli:<time>`` / ``admin:<time>`` otherwise.
2. ``seed_commitment = SHA-256(seed)`` is announced with the roll call; the seed itself is shown only
   once the window has closed, so nobody can learn it in time to change the outcome.
3. The roster snapshot is the class's active trainees (enrolled, not removed) ordered by enrollment id;
   for each one ``key = SHA-256("<seed>|<enrollment id>")``; sorted by key, the first
   ``ceil(ratio × n)`` are sampled, in that order. A ratio below the profile's ``min_sample`` is raised.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

from handlers.policy import min_count

ALGORITHM = "dingclass-rollcall-v1"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def derive_seed(ledger_head: str, class_code: str, number: int, nonce: str) -> str:
    """R13: the seed, from values fixed before the draw."""
    return sha256_hex(f"{ALGORITHM}|{ledger_head}|{class_code}|{number}|{nonce}")


def commitment(seed: str) -> str:
    return sha256_hex(seed)


def draw(seed: str, enrollment_ids: list[int], ratio: Fraction) -> list[int]:
    """The sample, in order: the ``ceil(ratio × n)`` trainees with the smallest SHA-256(seed|id)."""
    ordered = sorted(enrollment_ids, key=lambda eid: sha256_hex(f"{seed}|{eid}"))
    return ordered[:min_count(len(enrollment_ids), ratio)]
