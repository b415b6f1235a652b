"""Engine and session factories.

Functions elsewhere take a ``Session`` and never commit: the caller frames the unit of work with
SQLAlchemy's own idiom, ``with factory.begin() as s: ...`` (commit on success, roll back on any
exception, close). Two kinds of session share one engine:

- **writers** (``make_session_factory``): on SQLite their transactions start with ``BEGIN IMMEDIATE``,
  so two writers never read the same ledger head; PostgreSQL serialises ledger appends with a row lock;
- **readers** (``read_only_factory``): admin pages, exports, reports. On SQLite they start with a plain
  ``BEGIN`` and ``PRAGMA query_only``, so they never take the write lock (WAL: writers commit while a
  reader is open); on PostgreSQL they run ``READ ONLY`` transactions. A write through a reader fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, Executable, Row, bindparam, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

READ_ONLY = "dingclass_read_only"  # the execution option that marks a reader's connections


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'dingclass.sqlite3').resolve()}"


def normalise_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling; we drive PostgreSQL with psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _serialise_sqlite_writers(engine)
        return engine
    connect_args = dict(kwargs.pop("connect_args", {}))
    given = [make_url(url).query.get("options"), connect_args.get("options")]  # the URL's and the caller's too
    connect_args["options"] = " ".join(filter(None, [SESSION_OPTIONS, *given]))
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    _ping_when_idle(engine)
    return engine


# PostgreSQL settings of every connection, sent with the connection request (no statement of its own).
# jit=off: the product's queries are short OLTP ones over a class or a day; JIT compilation of their
# plans cost more than it saved (issue 13: 161 of 710 ms of the day view at 500 classes).
SESSION_OPTIONS = "-c jit=off"


IDLE_PING_SECONDS = 30


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection only when it sat idle for a while (the database may have restarted),
    not on every checkout as ``pool_pre_ping`` does: a busy bot saves a round trip per unit of work.
    A dead connection raises ``DisconnectionError``, and the pool replaces it."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError("idle connection is gone") from exc


def _serialise_sqlite_writers(engine: Engine) -> None:
    """Writers take SQLite's write lock at BEGIN (a transaction never has to upgrade a read lock);
    readers begin deferred and may not write."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("PRAGMA query_only=ON")
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("PRAGMA query_only=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that write: ``with factory.begin() as s: ...`` is one unit of work."""
    return sessionmaker(engine, expire_on_commit=False)


def read_only_engine(engine: Engine) -> Engine:
    """The same engine (same pool), for transactions that only read."""
    options = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def read_only_factory(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Readers beside ``factory``'s writers, on the same engine: they never take SQLite's write lock."""
    engine = factory.kw["bind"]
    if engine.get_execution_options().get(READ_ONLY):
        return factory
    return sessionmaker(read_only_engine(engine), expire_on_commit=False)


# A reader's second connection (``aside``): at most this many at once per process.
_ASIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dingclass-aside")


def aside(s: Session, statement: Executable, parameters: dict) -> Callable[[], list[Row]]:
    """Start a SELECT on another pooled connection while this thread goes on; call the result to wait for its
    rows (an error raises there). Only for a PostgreSQL reader whose statements each see what was committed
    when they start (READ COMMITTED: issue 13, the daily report's two statements run at once, each on a core),
    and only while the pool has connections to spare: a writer's own rows are not visible to another
    connection, a REPEATABLE READ snapshot (``storage.archive``) is its connection's, SQLite serves one
    institution, and a thread that holds a connection must never wait for a second one the pool may not have
    (the bot, the senders and the admin share it in one process). Otherwise the statement runs here, now;
    so does one no worker has taken yet when its rows are asked for."""
    bind = s.get_bind()
    options = bind.get_execution_options()
    pool = bind.pool
    if (bind.dialect.name != "postgresql" or not options.get(READ_ONLY)
            or options.get("isolation_level", "READ COMMITTED") != "READ COMMITTED"
            or pool.checkedout() >= pool.size()):
        rows = s.execute(statement, parameters).all()
        return lambda: rows

    def run() -> list[Row]:
        with bind.connect() as conn:
            return conn.execute(statement, parameters).all()

    future = _ASIDE.submit(run)

    def rows_of() -> list[Row]:
        return s.execute(statement, parameters).all() if future.cancel() else future.result()

    return rows_of


def ids_in(column, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN (…)`` over a list of row ids that may be long (a city's 500 classes): the ids are written into
    the statement as numbers when it runs, not sent as a parameter each — rendering, casting and converting 500
    placeholders cost SQLAlchemy and the driver more than the database spent on them (issue 13). Whole numbers
    only (``int`` refuses anything else), so nothing needs quoting; the statement stays cached as one shape."""
    return column.in_(bindparam(None, [int(i) for i in ids], expanding=True, literal_execute=True))
