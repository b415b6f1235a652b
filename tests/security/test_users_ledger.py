"""Issue 9 item 6: users and their roles are facts the ledger covers (``verify`` used to ignore them)."""

from __future__ import annotations

from sqlalchemy import text

from handlers import accounts
from storage import ledger, ledger_verify
from storage.db import make_engine
from storage.migrate import upgrade


def verify(factory):
    with factory() as s:
        return ledger_verify.verify(s)


def test_a_role_raised_in_sql_is_detected(factory):
    with factory.begin() as s:
        accounts.add_user(s, "市局", "city")
    assert verify(factory).ok
    with factory.begin() as s:
        s.execute(text("UPDATE users SET role = 'admin' WHERE name = '市局'"))
    report = verify(factory)
    assert not report.ok and any(p.table == "users" for p in report.problems)


def test_a_user_slipped_in_by_sql_is_detected(factory):
    with factory.begin() as s:
        s.execute(text("INSERT INTO users (name, password_hash, role, active, created_at) "
                       "VALUES ('后门', 'x', 'admin', :t, CURRENT_TIMESTAMP)"), {"t": True})
    report = verify(factory)
    assert not report.ok and any(p.table == "users" and p.kind == "inserted" for p in report.problems)


def test_a_password_change_is_recorded_without_the_hash(factory):
    with factory.begin() as s:
        accounts.add_user(s, "区局", "city")
        accounts.set_password(s, "区局", actor="admin:张三")
    with factory() as s:
        events = s.execute(text("SELECT type, actor, payload FROM ledger_events WHERE subject_table = 'users' "
                                "ORDER BY seq")).all()
    assert [(t, a) for t, a, _ in events] == [("user.created", "cli"), ("user.password_changed", "admin:张三")]
    assert all("argon2" not in payload for _, _, payload in events)
    assert verify(factory).ok


def test_users_made_before_the_upgrade_are_recorded_by_it(tmp_path):
    """A database of its own (SQLite, on either run): users from before 0005 get their ledger events."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": ledger.GENESIS}) \
            if conn.execute(text("SELECT 1 FROM ledger_head")).first() is None else None
        conn.execute(text("INSERT INTO users (name, password_hash, role, active, created_at) "
                          "VALUES ('老用户', 'x', 'admin', 1, CURRENT_TIMESTAMP)"))
    upgrade(engine)
    from storage.db import make_session_factory

    assert verify(make_session_factory(engine)).ok
    engine.dispose()
