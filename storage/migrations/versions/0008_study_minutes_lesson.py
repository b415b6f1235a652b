"""study minutes per lesson (场次)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('study_minutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lesson', sa.String(length=64), server_default='', nullable=False))
        batch_op.drop_constraint('uq_study_minutes_enrollment_id_day_source', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_study_minutes_enrollment_id_day_source_lesson'),
                                          ['enrollment_id', 'day', 'source', 'lesson'])


def downgrade() -> None:
    with op.batch_alter_table('study_minutes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_study_minutes_enrollment_id_day_source_lesson'), type_='unique')
        batch_op.create_unique_constraint('uq_study_minutes_enrollment_id_day_source', ['enrollment_id', 'day', 'source'])
        batch_op.drop_column('lesson')
