"""teacher classes: the stable link between a teacher login and its classes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teacher_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('granted_by', sa.String(length=128), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_teacher_classes_class_id_classes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_teacher_classes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teacher_classes')),
    sa.UniqueConstraint('user_id', 'class_id', name=op.f('uq_teacher_classes_user_id_class_id'))
    )
    with op.batch_alter_table('teacher_classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teacher_classes_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teacher_classes_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teacher_classes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teacher_classes_user_id'))
        batch_op.drop_index(batch_op.f('ix_teacher_classes_class_id'))
    op.drop_table('teacher_classes')
