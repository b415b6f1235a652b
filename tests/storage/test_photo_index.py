"""R08: the photo index in the database — exact duplicates by SHA-256, near duplicates by pHash bands.

The band lookup must find every earlier hash within the configured distance, however the differing
bits are spread over the bands (the worst case spreads them evenly), and nothing one bit further.
"""

from __future__ import annotations

import random
import sqlite3

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select

from handlers.policy import load_profile
from storage import photo_index
from storage.db import make_engine, make_session_factory
from storage.migrate import alembic_config, upgrade
from storage.models import Enrollment, Photo, PhotoIndex
from storage.types import utcnow
from tests.handlers.chat import create_class

CONFIGURED = load_profile("baotou-2020").photos.near_duplicate_max_distance
BASE = 0x0123_4567_89AB_CDEF


def hexed(value: int) -> str:
    return f"{value:016x}"


def flipped(value: int, per_band: tuple[int, ...]) -> int:
    """``value`` with the lowest ``per_band[i]`` bits of band i flipped."""
    for count, (shift, _width) in zip(per_band, photo_index.BANDS):
        for bit in range(count):
            value ^= 1 << (shift + bit)
    return value


def spread_evenly(distance: int) -> tuple[int, ...]:
    """The worst case for the bands: ``distance`` differing bits as evenly over the three as can be."""
    n = len(photo_index.BANDS)
    return tuple(distance // n + (1 if i < distance % n else 0) for i in range(n))


@pytest.fixture
def index(session):
    """``add(value, sha256=None)`` indexes a photo with that hash; returns its id."""
    klass = create_class(session, size=1)
    enrollment_id = session.scalar(select(Enrollment.id).where(Enrollment.class_id == klass.id))
    counter = iter(range(1, 10_000))

    def add(value: int, sha256: str | None = None) -> int:
        sha256 = sha256 or f"{next(counter):064x}"
        photo = Photo(enrollment_id=enrollment_id, day=klass.start_date, sha256=sha256, phash=hexed(value),
                      status="ok", received_at=utcnow(), source="test")
        session.add(photo)
        session.flush()
        photo_index.add(session, photo.id, sha256, hexed(value))
        session.flush()
        return photo.id

    return add


def find(session, value: int, distance: int, sha256: str = "f" * 64):
    return photo_index.find(session, sha256, hexed(value), distance)


@pytest.mark.parametrize("threshold", [CONFIGURED, 5, 12], ids=["configured", "5", "12-full-scan"])
def test_R08_band_lookup_flags_a_hash_at_exactly_the_threshold_however_its_bits_are_spread(session, index,
                                                                                           threshold):
    half = threshold // 2
    spreads = {spread_evenly(threshold), (threshold, 0, 0), (0, 0, threshold), (0, half, threshold - half)}
    for per_band in spreads:
        other = flipped(BASE, per_band)
        photo_id = index(other)
        match = find(session, BASE, threshold)
        assert match is not None and match.photo_id == photo_id, per_band
        assert match.distance == threshold and not match.exact
        session.execute(delete(PhotoIndex))


@pytest.mark.parametrize("threshold", [CONFIGURED, 5, 12], ids=["configured", "5", "12-full-scan"])
def test_R08_band_lookup_does_not_flag_a_hash_one_bit_beyond_the_threshold(session, index, threshold):
    beyond = threshold + 1
    ids = {per_band: index(flipped(BASE, per_band))
           for per_band in {spread_evenly(beyond), (beyond, 0, 0), (0, beyond, 0)}}
    assert find(session, BASE, threshold) is None
    # the concentrated ones share two whole bands with BASE: fetched as candidates, rejected on the full hash
    fetched = {photo_id for photo_id, _ in photo_index.candidates(session, BASE, threshold)}
    assert ids[(beyond, 0, 0)] in fetched and ids[(0, beyond, 0)] in fetched


def test_R08_exact_bytes_match_first_then_the_closest_hash_then_the_oldest(session, index):
    index(flipped(BASE, (2, 2, 2)))
    first_close = index(flipped(BASE, (1, 0, 0)))
    index(flipped(BASE, (0, 1, 0)))  # as close, but later
    assert find(session, BASE, CONFIGURED) == photo_index.Match(first_close, 1, False)
    same_bytes = index(flipped(BASE, (5, 0, 0)), sha256="e" * 64)
    assert find(session, BASE, CONFIGURED, sha256="e" * 64) == photo_index.Match(same_bytes, 0, True)


def test_R08_the_highest_bit_survives_the_signed_bigint(session, index):
    top = 0xFFFF_FFFF_FFFF_FFFF
    photo_id = index(top)
    assert find(session, top ^ 0b1011, CONFIGURED) == photo_index.Match(photo_id, 3, False)


def test_R08_any_two_hashes_within_the_threshold_share_a_lock_slice():
    """The advisory locks that make near duplicates in two processes wait for each other (PostgreSQL)."""
    assert CONFIGURED <= photo_index.MAX_SLICED_DISTANCE
    rng = random.Random(8)
    for _ in range(3000):
        value = rng.getrandbits(64)
        other = value
        for bit in rng.sample(range(64), rng.randint(0, CONFIGURED)):
            other ^= 1 << bit
        assert set(photo_index.lock_keys(value)) & set(photo_index.lock_keys(other))
    unrelated = sum(bool(set(photo_index.lock_keys(rng.getrandbits(64)))
                         & set(photo_index.lock_keys(rng.getrandbits(64)))) for _ in range(3000))
    assert unrelated < 3000 * 0.15  # most unrelated photos do not wait for each other


def test_R08_the_migration_indexes_the_photos_already_stored_once_per_content(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'before.sqlite3'}")
    script = ScriptDirectory.from_config(alembic_config(engine))
    index_revision = next(r for r in script.walk_revisions() if r.path.endswith("_photo_index.py"))
    upgrade(engine, index_revision.down_revision)
    rows = [("a" * 64, "ffffffffffffffff"), ("b" * 64, "0123456789abcdef"), ("a" * 64, "ffffffffffffffff"),
            ("c" * 64, None)]
    with sqlite3.connect(tmp_path / "before.sqlite3") as raw:  # foreign keys off: photos of no enrollment
        raw.executemany("INSERT INTO photos (id, enrollment_id, day, sha256, phash, status, counted, received_at, "
                        "source) VALUES (?, 1, '2026-12-01', ?, ?, 'ok', 1, '2026-12-01 01:00:00.000000', 'test')",
                        [(n, sha, phash) for n, (sha, phash) in enumerate(rows, start=1)])
    upgrade(engine)
    with engine.connect() as conn:
        indexed = conn.execute(select(PhotoIndex.sha256, PhotoIndex.photo_id, PhotoIndex.phash, PhotoIndex.band0,
                                      PhotoIndex.band1, PhotoIndex.band2).order_by(PhotoIndex.photo_id)).all()
    assert indexed == [("a" * 64, 1, -1, 0x3FFFFF, 0x1FFFFF, 0x1FFFFF),
                       ("b" * 64, 2, 0x0123456789ABCDEF, *photo_index.bands(0x0123456789ABCDEF)),
                       ("c" * 64, 4, None, None, None, None)]
    with make_session_factory(engine)() as s:
        assert find(s, 0xFFFF_FFFF_FFFF_FFFE, CONFIGURED) == photo_index.Match(1, 1, False)
        assert photo_index.find(s, "c" * 64, "0" * 16, CONFIGURED) == photo_index.Match(4, 0, True)
    engine.dispose()
