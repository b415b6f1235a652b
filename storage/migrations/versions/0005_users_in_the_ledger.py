"""users in the ledger: an event for each user that existed before users were tracked

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first() is None:
        return  # a new database: nothing to record
    from sqlalchemy.orm import Session

    from storage import ledger
    from storage.models import User

    with Session(bind=bind) as s:
        for user in s.scalars(sa.select(User).order_by(User.id)):
            ledger.append(s, "user.registered", actor="migration:0005", source="migration:0005", subject=user)
        s.commit()


def downgrade() -> None:
    pass  # ledger events are never removed
