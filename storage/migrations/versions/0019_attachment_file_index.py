"""attachments indexed by their stored file

``storage.file_refs.referenced`` asks, after every 1:1 download, whether any row still names the raw
file's SHA-256 before removing it; ``attachments`` (homework and spot-check files) grows with every
class and had no index on ``sha256``.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_attachments_sha256', 'attachments', ['sha256'])


def downgrade() -> None:
    op.drop_index('ix_attachments_sha256', table_name='attachments')
