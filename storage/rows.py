"""Writing one row in one statement where a unique key may already hold it (issue 13: intake statements).

``insert_new(s, obj)`` sends ``INSERT … ON CONFLICT DO NOTHING RETURNING …`` (PostgreSQL and SQLite
both have it) instead of a savepoint, a flush and a release around an ``IntegrityError``: True when the
row went in — ``obj`` is then a persistent object of the session with every column as stored (its id,
the defaults) — False when a row with the same unique key was already there (committed, or committed
meanwhile by a concurrent unit of work: PostgreSQL waits for it and then does nothing).

The row is written at once, not at the next flush: the caller records its ledger event as for any row.
``insert_row(s, table, values)`` is the same statement without an ORM object: the stored row, or None
(the intake path records its event with ``ledger.append_inserted``).
"""

from __future__ import annotations

import functools

from sqlalchemy import Table, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


@functools.cache
def _statement(dialect: str, table: Table):
    """One statement per table, run with each row's values (built per row, it cost more than running it)."""
    return _INSERTS[dialect](table).on_conflict_do_nothing().returning(*table.columns)


def insert_row(s: Session, table: Table, values: dict):
    """Insert one row unless its unique key is taken: the stored row (every column, in table order), or None."""
    conn = s.connection()
    return conn.execute(_statement(conn.dialect.name, table), values).first()


def insert_new(s: Session, obj) -> bool:
    """Insert ``obj``'s row unless its unique key is taken; True (and ``obj`` persistent) if it was inserted."""
    mapper = inspect(obj).mapper
    table = mapper.local_table
    keys = {column: mapper.get_property_by_column(column).key for column in table.columns}
    values = {column.name: getattr(obj, key) for column, key in keys.items()
              if getattr(obj, key) is not None or not (column.primary_key or column.default is not None)}
    stored = s.execute(_statement(s.get_bind().dialect.name, table), values).first()
    if stored is None:
        return False
    for column, key in keys.items():
        setattr(obj, key, stored._mapping[column])
    make_transient_to_detached(obj)
    s.add(obj)
    return True
