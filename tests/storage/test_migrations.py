"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.migrate import MIGRATIONS, alembic_config, current
from storage.models import Base


def test_migrations_and_models_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrations_have_one_head_and_the_database_is_at_it(engine):
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, f"more than one Alembic head: {heads}"
    newest = max(p.name for p in MIGRATIONS.glob("versions/[0-9][0-9][0-9][0-9]_*.py"))
    assert heads == [newest[:4]], "the head is the highest-numbered migration file (000K_…, revision '000K')"
    assert current(engine) == heads[0]
    names = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= names
