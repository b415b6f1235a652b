"""Database fixtures: SQLite by default, PostgreSQL when ``DATABASE_URL`` says so.

The schema is built once per run through the real Alembic migrations; after each test every table
is emptied and the ledger head reset, so tests may commit like the product does.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from storage.db import make_engine, make_session_factory
from storage.ledger import GENESIS
from storage.migrate import upgrade
from storage.models import Base


def database_url(tmp_dir) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    engine = make_engine(database_url(tmp_path_factory.mktemp("db")))
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE")
        else:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
            conn.exec_driver_sql("DELETE FROM sqlite_sequence") if _has_sqlite_sequence(conn) else None
        conn.execute(text("INSERT INTO ledger_chains (chain, seq, hash) VALUES (0, 0, :h)"), {"h": GENESIS})


def _has_sqlite_sequence(conn) -> bool:
    return bool(conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first())


@pytest.fixture
def factory(engine):
    """A session factory on a database emptied after the test."""
    yield make_session_factory(engine)
    _empty(engine)


@pytest.fixture
def session(factory):
    with factory() as s:
        yield s
        s.rollback()


@pytest.fixture
def clock():
    """A fixed 'now': 2026-03-02 08:40 in Asia/Shanghai (00:40 UTC), a Monday."""
    return datetime(2026, 3, 2, 0, 40, tzinfo=timezone.utc)
