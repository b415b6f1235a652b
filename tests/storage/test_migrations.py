"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.migrate import current
from storage.models import Base


def test_migrations_and_models_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_the_newest_revision(engine):
    assert current(engine) is not None
    names = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= names
