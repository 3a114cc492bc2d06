"""Engine and sessions, built once per database URL, and what database errors
mean in words.

SQLite files get WAL mode, a busy timeout and foreign keys; PostgreSQL gets
``pool_pre_ping``. :func:`session_scope` is one transaction per unit of work:
it commits on success and rolls back on any error, so a failing job leaves
nothing half-written.

PostgreSQL works with both drivers bubblewatch installs: ``postgresql://``
(SQLAlchemy's default driver, psycopg 3) and ``postgresql+psycopg2://``.

:func:`explain` turns the errors people can fix (server down, password
refused, database missing, disk full, read-only file) into a
:class:`~bubblewatch.core.errors.DatabaseError` whose one-line message names
the masked URL and what to change; the password never appears in it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bubblewatch.core import dburl
from bubblewatch.core.errors import DatabaseError

#: Seconds a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_S = 30


def sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    """Per-connection SQLite set-up: WAL, normal sync, foreign keys, busy timeout."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cur.close()


def sqlite_connect_args() -> dict[str, Any]:
    return {"timeout": SQLITE_BUSY_TIMEOUT_S}


_ENGINES: dict[str, Engine] = {}
_MAKERS: dict[str, sessionmaker[Session]] = {}


def masked_url(url: str) -> str:
    """``url`` with any password hidden, for messages and the dashboard; an
    unparseable URL gives ``<invalid database URL>`` (see :mod:`bubblewatch.core.dburl`)."""
    return dburl.masked_url(url)


def get_engine(url: str) -> Engine:
    """The engine for ``url`` (built once). SQLite folders are created if missing.

    Raises
    ------
    DatabaseError
        The URL cannot be parsed, names an unknown database, or a driver that
        is not installed.
    """
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    real = dburl.normalize_url(url)
    try:
        u = make_url(real)
        if u.get_backend_name() == "sqlite":
            if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(u, connect_args=sqlite_connect_args())
            event.listen(engine, "connect", sqlite_pragmas)
        else:
            engine = create_engine(u, pool_pre_ping=True)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as exc:
        raise _url_error(url, exc) from None
    _ENGINES[url] = engine
    return engine


def _url_error(url: str, exc: BaseException) -> DatabaseError:
    shown = masked_url(url)
    if isinstance(exc, ImportError):
        driver = exc.name or str(exc)
        return DatabaseError(
            f"the database driver {driver!r} for {shown} is not installed; use postgresql:// "
            "(psycopg 3) or postgresql+psycopg2:// for PostgreSQL, sqlite:///FILE for SQLite, "
            "or install that driver"
        )
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return DatabaseError(
            f"{shown} names a database kind or driver SQLAlchemy does not know; use "
            "sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DB in BUBBLEWATCH_DATABASE_URL"
        )
    return DatabaseError(
        f"BUBBLEWATCH_DATABASE_URL {shown} is not a database URL; use sqlite:///FILE or "
        "postgresql://USER:PASSWORD@HOST:PORT/DB"
    )


def known_urls() -> list[str]:
    """URLs of every engine built in this process (whose passwords :func:`scrub` hides)."""
    return list(_ENGINES)


def scrub(text: str, url: str | None = None) -> str:
    """``text`` without the password of ``url`` or of any engine of this process."""
    return dburl.scrub(text, [*known_urls(), *([url] if url else [])])


def get_sessionmaker(url: str) -> sessionmaker[Session]:
    maker = _MAKERS.get(url)
    if maker is None:
        maker = _MAKERS[url] = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    return maker


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error, always close."""
    with get_sessionmaker(url).begin() as session:
        yield session


def dispose_all() -> None:
    """Close every engine (tests, and before process exit)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _MAKERS.clear()


# --------------------------------------------------------------------------- errors in words
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 3, 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26

_UNREACHABLE = re.compile(
    r"connection refused|could not connect|timeout expired|timed out|could not translate host"
    r"|name or service not known|no route to host|network is unreachable|server closed the "
    r"connection|temporary failure in name resolution|connection reset|nodename nor servname",
    re.IGNORECASE,
)
_LOGIN = re.compile(r"password authentication failed|no password supplied|authentication "
                    r"failed|role \".*\" does not exist", re.IGNORECASE)
_NO_DATABASE = re.compile(r"database \".*\" does not exist", re.IGNORECASE)
_DISK_FULL = re.compile(r"no space left on device|could not extend file|disk is full",
                        re.IGNORECASE)
_READ_ONLY = re.compile(r"read-only transaction|readonly database", re.IGNORECASE)
_NO_TABLE = re.compile(r"no such table: (\S+)|relation \"(\S+)\" does not exist", re.IGNORECASE)


def _reason(orig: BaseException, url: str | None) -> str:
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    text = re.sub(r"^(FATAL|ERROR):\s+", "", text)
    return scrub(text, url)


def explain(exc: BaseException, url: str | None = None) -> DatabaseError | None:
    """A one-line :class:`DatabaseError` for an error people can fix, else None.

    Known: server unreachable, login refused, database missing, disk full,
    read-only database, locked or damaged SQLite file, missing table, bad URL
    or driver. Other *operational* errors (the database's own failures) get a
    generic one-line message; programming errors (a bug) give None, so their
    traceback stays visible.

    Parameters
    ----------
    exc
        An SQLAlchemy error (its driver error is read) or a driver error.
    url
        The database URL in use, shown masked; its password (and that of every
        engine of this process) is removed from the driver's text.
    """
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)):
        return _url_error(url or "", exc)
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    driver_error = isinstance(orig, sqlite3.Error) or type(orig).__module__.startswith("psycopg")
    if not (driver_error or isinstance(exc, sa_exc.SQLAlchemyError)):
        return None
    where = masked_url(url) if url else "the database"
    reason = _reason(orig, url)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(orig, sqlite3.Error) and code is not None:
        msg = _explain_sqlite(code & 0xFF, where, reason)
    else:
        msg = _explain_server(_sqlstate(orig), where, reason)
    if msg is None:
        msg = _missing_table(where, reason)
    if msg is None and isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError,
                                        sqlite3.OperationalError)):
        msg = f"database error on {where}: {reason}"
    return None if msg is None else DatabaseError(msg)


def _sqlstate(orig: BaseException) -> str | None:
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return str(code) if code else None


def _explain_sqlite(code: int, where: str, reason: str) -> str | None:
    if code == _SQLITE_FULL:
        return (f"{where}: the disk is full ({reason}); free space on the disk that holds the "
                "database, or move it and point BUBBLEWATCH_DATABASE_URL there")
    if code == _SQLITE_READONLY:
        return (f"{where} is read-only ({reason}); give this user write permission on the file "
                "and its folder (SQLite writes -wal and -shm files beside it)")
    if code in (_SQLITE_CANTOPEN, _SQLITE_PERM):
        return (f"cannot open {where} ({reason}); check that its folder exists and that this "
                "user may write there, or set BUBBLEWATCH_DATABASE_URL")
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (f"{where} stayed locked by another process for {SQLITE_BUSY_TIMEOUT_S} s "
                f"({reason}); wait for the other bubblewatch command to finish and run this "
                "again")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return (f"{where} is not a readable SQLite database ({reason}); restore it from a "
                "backup or point BUBBLEWATCH_DATABASE_URL at a new file")
    if code == _SQLITE_IOERR:
        return f"{where}: disk I/O error ({reason}); check that the disk is not full or failing"
    return None


def _explain_server(sqlstate: str | None, where: str, reason: str) -> str | None:
    if sqlstate in ("28P01", "28000") or _LOGIN.search(reason):
        return (f"{where} refused the login ({reason}); check the user and password in "
                "BUBBLEWATCH_DATABASE_URL")
    if sqlstate == "3D000" or _NO_DATABASE.search(reason):
        return (f"{where}: the database does not exist ({reason}); create it (createdb) or "
                "fix its name in BUBBLEWATCH_DATABASE_URL, then run `bubblewatch init`")
    if (sqlstate or "").startswith("53") or _DISK_FULL.search(reason):
        return (f"{where}: the database server is out of disk space or memory ({reason}); "
                "free space on the server and run this again")
    if sqlstate == "25006" or _READ_ONLY.search(reason):
        return (f"{where} accepts only reads ({reason}); point BUBBLEWATCH_DATABASE_URL at the "
                "primary server, not a read-only replica")
    if sqlstate is None and _UNREACHABLE.search(reason):
        return (f"cannot reach the database server of {where} ({reason}); check that it runs "
                "and that host and port in BUBBLEWATCH_DATABASE_URL are right")
    return None


def _missing_table(where: str, reason: str) -> str | None:
    m = _NO_TABLE.search(reason)
    if m is None:
        return None
    return (f"{where} has no table {m.group(1) or m.group(2)} ({reason}); run "
            "`bubblewatch init` to create or update the schema")
