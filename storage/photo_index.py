"""The duplicate index of study photos (R08), in the database so that every bot process sees one index.

``photo_index`` holds one row per distinct stored content: its SHA-256 (a unique index: the exact
lookup), the first photo with those bytes, and its 64-bit perceptual hash, whole (a signed bigint) and
cut into three bands of 22, 21 and 21 bits, each an indexed column (the near-duplicate lookup).

**Near duplicates by bands (pigeonhole).** Two hashes at Hamming distance ≤ d differ in at most d bits
spread over the three bands, so at least one band differs in at most r = d // 3 bits (were all three
to differ in r + 1 or more, the distance would be at least 3r + 3 > d). A lookup asks for the rows
whose band i is one of the values within r bits of the new hash's band i, for each i, and compares the
candidates' whole hashes in Python. The profiles' d = 8 gives r = 2: 254 + 232 + 232 = 718 probed values;
with 1.5 million spread hashes a 21-bit band value holds 0.7 rows, so a lookup reads a few hundred
candidates instead of 1.5 million rows (``tests/benchmarks/bench_photo_index.py``). Three bands suit
d = 8 at a city's size: four 16-bit bands would probe 548 values of 23 rows each (12,600 candidates).
A profile whose distance would need more than ``MAX_PROBES`` values is answered by a full scan:
correct, slower.

**Two processes at the same moment (PostgreSQL).** Before its lookup, a check takes transaction-level
advisory locks that any two near-duplicate photos share: the hash is cut into nine slices (eight of 7
bits, one of 8), and two hashes within distance 8 agree on at least one whole slice (nine slices, at
most eight differing bits), so the check locks (slice, value) for its nine slices, in one order. The
second of two near duplicates waits until the first has committed, then finds it; unrelated photos
rarely share a lock (about 7 % of pairs). A distance above 8 locks the whole index instead. Every
check also holds a shared lock on the whole index, which the exclusive one waits for. SQLite runs one
write transaction at a time, so it needs no lock.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from storage.models import PhotoIndex

BITS = 64
BANDS = ((42, 22), (21, 21), (0, 21))  # (shift, width) of band0, band1, band2
SLICES = tuple((i * 7, 7) for i in range(8)) + ((56, 8),)  # the lock slices: nine, so d ≤ 8 shares one
MAX_SLICED_DISTANCE = len(SLICES) - 1
MAX_PROBES = 20_000
_LOCK_SPACE = zlib.crc32(b"dingclass:photo_index") & 0x7FFFFFFF  # first key of pg_advisory_xact_lock(int, int)
_WHOLE_INDEX = 1 << 12  # second key of the lock on the whole index (slice keys are below 9 << 8)
_MASK = (1 << BITS) - 1
_BY_BANDS = text("SELECT photo_id, phash FROM photo_index WHERE band0 = ANY(:b0) OR band1 = ANY(:b1) OR band2 = ANY(:b2)")


@dataclass(frozen=True)
class Match:
    """The earlier photo a new one repeats: ``exact`` (same stored bytes) or at ``distance`` bits."""

    photo_id: int
    distance: int
    exact: bool


def to_int(phash: str) -> int:
    """A 64-bit pHash in hexadecimal as an unsigned integer."""
    if len(phash) != BITS // 4:
        raise ValueError("the photo index holds 64-bit perceptual hashes")
    return int(phash, 16)


def to_signed(value: int) -> int:
    """An unsigned 64-bit value as the signed bigint PostgreSQL stores."""
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def bands(value: int) -> tuple[int, ...]:
    return tuple((value >> shift) & ((1 << width) - 1) for shift, width in BANDS)


def lock(s: Session, phash: str, max_distance: int) -> None:
    """Wait for any check of a photo within ``max_distance`` of ``phash`` in another transaction
    (PostgreSQL; held until this transaction ends). Take it before :func:`find`."""
    if s.get_bind().dialect.name != "postgresql":
        return
    if max_distance > MAX_SLICED_DISTANCE:
        s.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_SPACE, "key": _WHOLE_INDEX})
        return
    s.execute(text("SELECT pg_advisory_xact_lock_shared(:space, :key)"), {"space": _LOCK_SPACE, "key": _WHOLE_INDEX})
    for key in lock_keys(to_int(phash)):
        s.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_SPACE, "key": key})


def lock_keys(value: int) -> list[int]:
    """The nine (slice, value) lock keys of a hash, in the order they are taken."""
    return sorted(n << 8 | (value >> shift) & ((1 << width) - 1) for n, (shift, width) in enumerate(SLICES))


def find(s: Session, sha256: str, phash: str, max_distance: int) -> Match | None:
    """The earlier photo ``sha256``/``phash`` repeats: the same stored bytes, else the closest hash
    within ``max_distance`` bits (the oldest of equally close ones); None if there is none."""
    exact = s.scalar(select(PhotoIndex.photo_id).where(PhotoIndex.sha256 == sha256))
    if exact is not None:
        return Match(exact, 0, True)
    value = to_int(phash)
    best: tuple[int, int] | None = None
    for photo_id, other in candidates(s, value, max_distance):
        distance = (value ^ (other & _MASK)).bit_count()
        if distance <= max_distance and (best is None or (distance, photo_id) < best):
            best = (distance, photo_id)
    return Match(best[1], best[0], False) if best is not None else None


def candidates(s: Session, value: int, max_distance: int) -> Iterable[tuple[int, int]]:
    """(photo id, signed hash) of every row that may lie within ``max_distance`` bits of ``value``: the
    rows sharing a band within ``max_distance // 3`` bits, or every row when that is too many probes."""
    radius = max_distance // len(BANDS)
    if sum(comb(width, k) for _, width in BANDS for k in range(radius + 1)) > MAX_PROBES:
        return s.execute(select(PhotoIndex.photo_id, PhotoIndex.phash).where(PhotoIndex.phash.is_not(None))
                         .execution_options(yield_per=10_000))
    probes = [[band ^ mask for mask in _masks(width, radius)] for band, (_, width) in zip(bands(value), BANDS)]
    if s.get_bind().dialect.name == "postgresql":  # an array a band: binds in 2 ms where 718 IN-list values take 30
        return s.execute(_BY_BANDS, {"b0": probes[0], "b1": probes[1], "b2": probes[2]}).all()
    columns = (PhotoIndex.band0, PhotoIndex.band1, PhotoIndex.band2)
    return s.execute(select(PhotoIndex.photo_id, PhotoIndex.phash)
                     .where(or_(*(column.in_(values) for column, values in zip(columns, probes))))).all()


def add(s: Session, photo_id: int, sha256: str, phash: str | None) -> None:
    """Index a photo whose stored bytes are new (a flush may raise IntegrityError if they are not)."""
    value = to_int(phash) if phash else None
    b0, b1, b2 = bands(value) if value is not None else (None, None, None)
    s.add(PhotoIndex(sha256=sha256, photo_id=photo_id, phash=to_signed(value) if value is not None else None,
                     band0=b0, band1=b1, band2=b2))


@lru_cache(maxsize=16)
def _masks(width: int, radius: int) -> tuple[int, ...]:
    """Every ``width``-bit mask with at most ``radius`` bits set (0 first)."""
    return tuple(sum(1 << bit for bit in bits) for k in range(radius + 1) for bits in combinations(range(width), k))
