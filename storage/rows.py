"""Writing one row in one statement where a unique key may already hold it (issue 13: intake statements).

``insert_new(s, obj)`` sends ``INSERT … ON CONFLICT DO NOTHING RETURNING …`` (PostgreSQL and SQLite
both have it) instead of a savepoint, a flush and a release around an ``IntegrityError``: True when the
row went in — ``obj`` is then a persistent object of the session with every column as stored (its id,
the defaults) — False when a row with the same unique key was already there (committed, or committed
meanwhile by a concurrent unit of work: PostgreSQL waits for it and then does nothing).

The row is written at once, not at the next flush: the caller records its ledger event as for any row.
``insert_row(s, table, values)`` is the same statement without an ORM object: the stored row (column name
→ value), or None (the intake path records its event with ``ledger.append_inserted``). It returns only
the columns the database fills in (the id, the defaults): the others are the values given.

``insert_at_commit(s, table, values)`` inserts a row when the transaction commits, in one statement with the
other rows queued for that table: for rows nothing in the transaction reads back (a message's replies in the
outbox). A row queued inside a savepoint that rolls back is dropped with it, and queuing one counts as a write.

``mark(s)`` / ``wrote_since(s, mark)`` tell whether a session wrote anything (or met a database error)
in between: every statement that is not a SELECT counts, an ``insert_row`` only when its row went in,
and so do unflushed ORM changes and recorded ledger events. ``handlers.dispatch`` runs a message's
handler without a savepoint and needs one only when a refusal comes after a write.

``mark_tables(s, names)`` / ``wrote_to_since(s, names, mark)`` do the same for the statements sent that
may have written to some tables: an INSERT, UPDATE or DELETE of one of them, or any other statement that
is not a SELECT and whose table cannot be told (a ``text()`` one); not unflushed changes: flush first.
``handlers.identity`` keeps what it read of a batch's senders only while their tables are unwritten.
"""

from __future__ import annotations

import functools

from sqlalchemy import Engine, Table, event, insert, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from storage import ledger

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_WRITES = "dingclass_writes"  # on the DBAPI connection's info: statements that wrote or failed
_COUNTED = "dingclass_counted"  # an execution option: the caller counts this statement's write itself
_WRITES_TO = "dingclass_writes_to"  # on the DBAPI connection's info: statements that may have written, by table
_ANY_TABLE = "*"  # a statement whose table cannot be told: it may have written to any
_NO_WRITE = ("SAVEPOINT", "RELEASE SAVEPOINT")  # statements that are no SELECT and write nothing
_AT_COMMIT = "dingclass_at_commit"  # Session.info: (table, values, transaction or savepoint) to insert at commit


@functools.cache
def _statement(dialect: str, table: Table):
    """One statement per table, run with each row's values (built per row, it cost more than running it)."""
    return _INSERTS[dialect](table).on_conflict_do_nothing().returning(*table.columns)


@functools.cache
def _row_statement(dialect: str, table: Table, given: frozenset[str]):
    """``insert_row``'s: RETURNING the columns not ``given`` only (issue 13: psycopg describes every result
    column of every statement; the ten columns of a message and of a punch were a tenth of a 签到's CPU)."""
    filled = [column for column in table.columns if column.name not in given]
    return (_INSERTS[dialect](table).on_conflict_do_nothing().returning(*filled)
            .execution_options(**{_COUNTED: True}))


@event.listens_for(Engine, "after_cursor_execute")
def _count_write(conn, _cursor, statement: str, _parameters, context, _many) -> None:
    if statement.startswith("SELECT"):
        return
    _count_table(conn, statement, context)
    if context is not None and context.execution_options.get(_COUNTED):
        return
    conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


def _count_table(conn, statement: str, context) -> None:
    """Count a statement against the table it may have written to (every one of them, ``insert_row``'s
    too, whether or not its row went in: a reader that kept rows only needs to know it may be stale)."""
    if statement.startswith(_NO_WRITE):
        return
    table = _ANY_TABLE
    compiled = context.compiled if context is not None else None
    if compiled is not None and (context.isinsert or context.isupdate or context.isdelete):
        target = getattr(compiled.statement, "table", None)
        if isinstance(target, Table):
            table = target.name
    counts = conn.info.setdefault(_WRITES_TO, {})
    counts[table] = counts.get(table, 0) + 1


@event.listens_for(Engine, "handle_error")
def _count_error(context) -> None:
    conn = context.connection
    if conn is not None and not conn.closed:
        conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


def mark(s: Session) -> tuple[int, int]:
    """Where the session's writes stand now (see ``wrote_since``)."""
    return s.connection().info.get(_WRITES, 0), ledger.recorded(s)


def wrote_since(s: Session, since: tuple[int, int]) -> bool:
    """Whether the session wrote a row, recorded a ledger event, holds an unflushed change or met a
    database error since ``mark(s)`` returned ``since``."""
    return (mark(s) != since or bool(s.new) or bool(s.deleted)
            or any(s.is_modified(obj, include_collections=False) for obj in s.dirty))


def mark_tables(s: Session, names: frozenset[str]) -> int:
    """Where the writes that may have touched the tables ``names`` stand now (see ``wrote_to_since``)."""
    counts = s.connection().info.get(_WRITES_TO)
    if not counts:
        return 0
    return counts.get(_ANY_TABLE, 0) + sum(counts.get(name, 0) for name in names)


def wrote_to_since(s: Session, names: frozenset[str], since: int) -> bool:
    """Whether the session sent a statement that may have written to one of the tables ``names`` since
    ``mark_tables(s, names)`` returned ``since`` (unflushed ORM changes are not counted)."""
    return mark_tables(s, names) != since


def insert_row(s: Session, table: Table, values: dict) -> dict | None:
    """Insert one row unless its unique key is taken: the stored row (every column by name: ``values``
    and what the database filled in), or None."""
    conn = s.connection()
    filled = conn.execute(_row_statement(conn.dialect.name, table, frozenset(values)), values).first()
    if filled is None:
        return None
    conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1
    return {**values, **filled._mapping}


def insert_rows(s: Session, table: Table, values: list[dict], key: str) -> dict:
    """``insert_row`` for several rows in one statement (issue 13: a batch's raw messages): the stored row
    of each that went in, by its (unique) ``key`` column's value; a row whose unique key was taken is not
    there. Every row gives the same columns, and no two the same ``key``."""
    conn = s.connection()
    returned = frozenset(values[0]) - {key}  # the key comes back too: it tells which rows went in
    stored = conn.execute(_row_statement(conn.dialect.name, table, returned), values)
    by_key = {row[key]: row for row in values}
    found = {filled._mapping[key]: {**by_key[filled._mapping[key]], **filled._mapping} for filled in stored}
    conn.info[_WRITES] = conn.info.get(_WRITES, 0) + len(found)
    return found


def insert_at_commit(s: Session, table: Table, values: dict) -> None:
    """Insert a row of ``table`` when the transaction commits (issue 13: each message's reply was a statement
    of its own; at commit the replies of a group commit are one). Nothing in the transaction sees it before;
    a savepoint rolled back drops the rows queued inside it."""
    s.info.setdefault(_AT_COMMIT, []).append((table, values, ledger.current_transaction(s)))
    info = s.connection().info
    info[_WRITES] = info.get(_WRITES, 0) + 1  # a write for wrote_since: a refusal after it runs with a savepoint


@functools.cache
def _plain_insert(table: Table):
    return insert(table).inline()  # no RETURNING of the id, for one row alone either: nobody reads it


@event.listens_for(Session, "before_commit")
def _insert_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit does this
    queued = session.info.pop(_AT_COMMIT, None)
    if not queued:
        return
    statements: dict[tuple[Table, tuple[str, ...]], list[dict]] = {}  # one per table and set of columns given
    for table, values, _ in queued:
        statements.setdefault((table, tuple(values)), []).append(values)
    conn = session.connection()
    for (table, _), values in statements.items():
        conn.execute(_plain_insert(table), values)


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction) -> None:
    queued = session.info.get(_AT_COMMIT)
    if queued:
        queued[:] = [q for q in queued if not ledger.inside(q[2], previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _drop_queued_at_the_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session closed without a commit or rollback: nothing was inserted
        session.info.pop(_AT_COMMIT, None)


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
