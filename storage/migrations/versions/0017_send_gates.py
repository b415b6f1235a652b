"""send gates (shared API pacing, group pauses) the outbox's per-conversation index, and sent_with (a digest's rows)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('send_gates',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('open_at', sa.Float(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_send_gates'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_with', sa.Integer(), nullable=True))
        batch_op.create_index('ix_outbox_conversation', ['conversation_id', 'status', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_conversation')
        batch_op.drop_column('sent_with')
    op.drop_table('send_gates')
