"""What went wrong outside the product's own rules, told in one Chinese line: the database, ports.

The CLI (and `run`) show these instead of a driver's English text; the details go to the log.
"""

from __future__ import annotations

import errno

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot import texts
from storage.db import normalise_url

SUPPORTED_DATABASES = ("sqlite", "postgresql")


def check_database_url(url: str) -> str | None:
    """Why `url` cannot be used (a Chinese sentence), or None when it names a supported database."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return texts.DATABASE_URL_MALFORMED
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        return texts.DATABASE_UNSUPPORTED.format(backend=backend)
    return None


def database_failure(exc: DBAPIError, url: str) -> str:
    """One line for a database error: not initialised, unreachable, busy, or anything else."""
    detail = str(exc.orig).lower()
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if "no such table" in detail or sqlstate == "42P01":  # SQLite; PostgreSQL undefined_table
        return texts.DATABASE_NOT_INITIALISED
    if "database is locked" in detail or sqlstate in ("55P03", "40P01"):
        return texts.DATABASE_BUSY
    if "unable to open database file" in detail or (exc.connection_invalidated or (
            url.startswith(("postgresql", "postgres")) and sqlstate is None)):
        parsed = make_url(normalise_url(url))
        where = (parsed.database if parsed.get_backend_name() == "sqlite"
                 else f"{parsed.host}:{parsed.port or 5432}/{parsed.database}")
        return texts.DATABASE_UNREACHABLE.format(where=where)
    return texts.DATABASE_FAILED


def os_failure(exc: OSError, admin_port: int | None) -> str | None:
    """One line for the operating-system failures a person can fix (a port in use), or None."""
    if exc.errno == errno.EADDRINUSE:
        return texts.PORT_IN_USE.format(admin_port=admin_port if admin_port is not None else "")
    if exc.errno in (errno.EACCES, errno.EPERM) and exc.filename:
        return texts.NO_PERMISSION.format(path=exc.filename)
    if exc.errno == errno.ENOSPC:
        return texts.DISK_FULL
    return None
