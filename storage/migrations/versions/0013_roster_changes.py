"""roster changes after approval (R01, R02)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('roster_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('noted_by', sa.String(length=128), nullable=True),
    sa.Column('noted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_roster_changes_class_id_classes')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_roster_changes_enrollment_id_enrollments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_changes'))
    )
    with op.batch_alter_table('roster_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_changes_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_changes_enrollment_id'), ['enrollment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('roster_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_changes_enrollment_id'))
        batch_op.drop_index(batch_op.f('ix_roster_changes_class_id'))
    op.drop_table('roster_changes')
