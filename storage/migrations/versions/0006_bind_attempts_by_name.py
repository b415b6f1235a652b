"""binding attempts counted per trainee name across senders

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bind_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_bind_attempts_name_at', ['name', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bind_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_bind_attempts_name_at')
        batch_op.drop_column('name')
