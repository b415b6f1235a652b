"""Alembic environment: the engine comes from ``storage.migrate`` via ``config.attributes``."""

from alembic import context
from sqlalchemy.types import TypeDecorator

from storage.models import Base


def render_item(type_, obj, autogen_context):
    """Render our TypeDecorators as their plain SQLAlchemy implementation."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
