"""Engine and sessions, built once per database URL.

SQLite files get WAL mode, a busy timeout and foreign keys; PostgreSQL gets
``pool_pre_ping``. :func:`session_scope` is one transaction per unit of work:
it commits on success and rolls back on any error, so a failing job leaves
nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_ENGINES: dict[str, Engine] = {}
_MAKERS: dict[str, sessionmaker[Session]] = {}


def masked_url(url: str) -> str:
    """``url`` with any password hidden, for messages and the dashboard; an
    unparseable URL gives ``<invalid database URL>``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any parse error: never echo the raw string
        return "<invalid database URL>"


def get_engine(url: str) -> Engine:
    """The engine for ``url`` (built once). SQLite folders are created if missing."""
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _ENGINES[url] = engine
    return engine


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
