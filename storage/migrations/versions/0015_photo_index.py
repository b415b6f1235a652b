"""photo index in the database

The duplicate index of study photos (R08) moves from each process's memory into ``photo_index``: one
row per distinct stored content (unique SHA-256), its first photo, its 64-bit pHash and three bands of
it (22, 21, 21 bits), indexed. Existing photos are indexed here, in pages of 5,000, the first photo of
each content only.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PAGE = 5000


def upgrade() -> None:
    op.create_table('photo_index',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('phash', sa.BigInteger(), nullable=True),
    sa.Column('band0', sa.Integer(), nullable=True),
    sa.Column('band1', sa.Integer(), nullable=True),
    sa.Column('band2', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_photo_index_photo_id_photos')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_index')),
    sa.UniqueConstraint('sha256', name=op.f('uq_photo_index_sha256'))
    )
    with op.batch_alter_table('photo_index', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_index_band0'), ['band0'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_index_band1'), ['band1'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_index_band2'), ['band2'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_index_photo_id'), ['photo_id'], unique=False)
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    index = sa.table('photo_index', sa.column('sha256'), sa.column('photo_id'), sa.column('phash'),
                     sa.column('band0'), sa.column('band1'), sa.column('band2'))
    first = sa.text("SELECT p.id, p.sha256, p.phash FROM photos p WHERE p.id > :last AND NOT EXISTS "
                    "(SELECT 1 FROM photos q WHERE q.sha256 = p.sha256 AND q.id < p.id) ORDER BY p.id LIMIT :page")
    last = 0
    while True:
        rows = conn.execute(first, {"last": last, "page": PAGE}).all()
        if not rows:
            return
        conn.execute(index.insert(), [_row(photo_id, sha256, phash) for photo_id, sha256, phash in rows])
        last = rows[-1][0]


def _row(photo_id: int, sha256: str, phash: str | None) -> dict:
    if not phash or len(phash) != 16:
        return {"sha256": sha256, "photo_id": photo_id, "phash": None, "band0": None, "band1": None, "band2": None}
    value = int(phash, 16)
    return {"sha256": sha256, "photo_id": photo_id, "phash": value - (1 << 64) if value >= 1 << 63 else value,
            "band0": value >> 42, "band1": (value >> 21) & 0x1FFFFF, "band2": value & 0x1FFFFF}


def downgrade() -> None:
    op.drop_table('photo_index')
