"""The PostgreSQL connection pool: no ping per unit of work, yet a connection that died while idle
(the database restarted) is replaced instead of failing the next message."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from storage import db

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                reason="the SQLite engine has no pool of server connections")


def test_an_idle_connection_that_died_is_replaced(monkeypatch):
    engine = db.make_engine(os.environ["DATABASE_URL"], pool_size=1)
    try:
        with engine.connect() as conn:
            old_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        killer = db.make_engine(os.environ["DATABASE_URL"])
        with killer.connect() as conn:  # the database restarts, as far as this connection knows
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": old_pid})
        killer.dispose()
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0)
        with engine.connect() as conn:
            new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert new_pid != old_pid
    finally:
        engine.dispose()
