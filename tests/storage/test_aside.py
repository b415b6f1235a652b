"""``storage.db.aside``: the daily report's second statement (issue 13). A reader on PostgreSQL runs it on another
connection at the same time as its own; a writer runs it in its own transaction, so the report it builds counts
what that transaction wrote and has not committed yet."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.db import aside, make_engine, read_only_engine, read_only_factory

COUNT = text("SELECT count(*) FROM districts WHERE name = '区99'")


def test_a_writer_sees_what_its_transaction_wrote_in_the_statement_aside(factory):
    with factory.begin() as s:
        s.execute(text("INSERT INTO districts (name, city) VALUES ('区99', '')"))
        wait = aside(s, COUNT, {})
        assert s.execute(COUNT).scalar_one() == 1
        assert [row[0] for row in wait()] == [1]
        s.rollback()


@pytest.fixture
def reader(factory):
    if factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite serves one institution: a reader runs the statement aside in its own connection")
    with read_only_factory(factory)() as s:
        yield s


def test_a_postgresql_reader_runs_the_statement_aside_on_another_connection(reader):
    wait = aside(reader, text("SELECT pg_backend_pid()"), {})
    own = reader.execute(text("SELECT pg_backend_pid(), pg_sleep(0.2)")).first()[0]  # a worker takes it meanwhile
    (other,) = wait()
    assert other[0] != own


def test_the_statement_aside_reads_only_and_its_error_is_raised_where_its_rows_are_awaited(reader):
    wait = aside(reader, text("INSERT INTO districts (name, city) VALUES ('区99', '') RETURNING id"), {})
    assert reader.execute(COUNT).scalar_one() == 0  # the reader's own connection goes on
    with pytest.raises(DBAPIError, match="read-only transaction"):
        wait()


def test_a_reader_that_would_wait_for_a_second_connection_runs_the_statement_itself(reader):
    """The bot, its senders and the admin share one pool in one process: a thread holding a connection never
    waits for a second one. With the pool's connections in use, the statement runs on the reader's own."""
    engine = make_engine(str(reader.get_bind().url.render_as_string(hide_password=False)), pool_size=1,
                         max_overflow=5)
    try:
        with Session(read_only_engine(engine)) as s:
            own = s.execute(text("SELECT pg_backend_pid()")).scalar_one()  # the pool's one connection, held
            wait = aside(s, text("SELECT pg_backend_pid()"), {})
            s.execute(text("SELECT pg_sleep(0.2)"))  # time enough for a worker to take it, were it given one
            (other,) = wait()
            assert other[0] == own
    finally:
        engine.dispose()
