"""Run Alembic migrations programmatically (``bubblewatch db-upgrade``).

An upgrade is **one transaction**: every migration still to run, the version
stamp and any repair below commit together or not at all, so a process killed
in the middle (kill -9, power loss) leaves the database exactly at the
revision it had before, and the next ``init``/``db-upgrade`` simply runs again.

* PostgreSQL has transactional DDL; concurrent upgraders queue on a
  transaction-level advisory lock instead of racing to create the same tables.
* SQLite also rolls DDL back, but Python's ``sqlite3`` driver runs a
  ``CREATE TABLE`` outside any transaction (it only opens one before
  INSERT/UPDATE/DELETE), so each table used to commit on its own. Migrations
  therefore run on a connection whose driver-level transaction handling is
  off and which emits ``BEGIN IMMEDIATE`` itself (the recipe of SQLAlchemy's
  pysqlite documentation, "Serializable isolation / Savepoints / Transactional
  DDL"); ``IMMEDIATE`` takes the write lock at once, so concurrent upgraders
  wait for each other (busy timeout) instead of failing half way.

Databases left half-migrated by earlier versions (tables of a revision that
the version table does not record) are repaired in the same transaction: the
leftover tables are dropped and created again when they are empty; when they
hold rows the upgrade stops with a :class:`~bubblewatch.core.errors.DatabaseError`
naming them, as they were not made by bubblewatch's migrations.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, table
from sqlalchemy.pool import NullPool

from bubblewatch.core.errors import ConfigError, DatabaseError
from db.session import get_engine, masked_url, sqlite_connect_args, sqlite_pragmas

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Key of the PostgreSQL advisory lock that serialises upgrades (any constant
#: bigint; "bubblewatch migrate" hashed).
PG_MIGRATION_LOCK = 0x6277_6D69_6772_0001


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def _sqlite_migration_engine(url: str) -> Engine:
    """An engine whose transactions are real SQLite transactions, DDL included."""
    engine = create_engine(url, poolclass=NullPool, connect_args=sqlite_connect_args())
    event.listen(engine, "connect", sqlite_pragmas)

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # the driver no longer BEGINs or COMMITs by itself

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def migration_transaction(url: str) -> Iterator[Connection]:
    """A connection inside the single transaction an upgrade runs in; commits
    when the block ends, rolls back on any error (or never, if killed)."""
    sqlite = url.startswith("sqlite")
    engine = _sqlite_migration_engine(url) if sqlite else get_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
            yield conn
    finally:
        if sqlite:
            engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it if empty), in
    one transaction. Does nothing (and takes no write lock) when already there."""
    if revision == "head" and is_up_to_date(url):
        return
    cfg = alembic_config(url)
    with migration_transaction(url) as conn:
        _repair_partial_upgrade(conn, url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@functools.cache
def _tables_at(revision: str | None) -> frozenset[str]:
    """Tables that the migrations up to ``revision`` create (run on an empty
    in-memory SQLite database)."""
    if revision is None:
        return frozenset()
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn, conn.begin():
            cfg = alembic_config("sqlite://")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            return frozenset(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@functools.cache
def _tables_ever() -> frozenset[str]:
    """Every table some revision creates, including those a later revision
    drops (``indicator_value`` before 0004): a crashed upgrade of an earlier
    version may have left any of them."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset().union(*(_tables_at(rev.revision) for rev in script.walk_revisions()))


#: Prefix of the copy Alembic's SQLite batch mode builds before it swaps it in.
BATCH_COPY_PREFIX = "_alembic_tmp_"


def _repair_batch_copies(conn: Connection, url: str, present: set[str]) -> None:
    """Undo a table rebuild (SQLite batch mode: copy, drop, rename) that a
    crashed non-transactional upgrade left half done: a copy beside its table
    is dropped (the table is intact); a copy whose table was already dropped
    is renamed back (it holds every row)."""
    for name in sorted(n for n in present if n.startswith(BATCH_COPY_PREFIX)):
        target = name.removeprefix(BATCH_COPY_PREFIX)
        if target in present:
            log.warning("%s: dropping %s, the unfinished copy of %s", masked_url(url), name,
                        target)
            conn.exec_driver_sql(f'DROP TABLE "{name}"')
        else:
            log.warning("%s: renaming %s back to %s, whose rebuild was interrupted",
                        masked_url(url), name, target)
            conn.exec_driver_sql(f'ALTER TABLE "{name}" RENAME TO "{target}"')


def _repair_partial_upgrade(conn: Connection, url: str) -> None:
    """Drop empty tables that a crashed, non-transactional upgrade of an
    earlier version left behind (they are created again by the upgrade)."""
    import db.all_models  # noqa: F401  (every table known to Base.metadata)
    from db.base import Base

    current = MigrationContext.configure(conn).get_current_revision()
    present = set(inspect(conn).get_table_names())
    _repair_batch_copies(conn, url, present)
    present = set(inspect(conn).get_table_names())
    ours = set(Base.metadata.tables)
    if present - ours - {"alembic_version"}:
        ours |= _tables_ever()
    if not (present & ours):
        return
    leftovers = (present & ours) - _tables_at(current)
    if not leftovers:
        return
    counts = {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
              for name in sorted(leftovers)}
    full = {name: n for name, n in counts.items() if n}
    if full:
        raise DatabaseError(
            f"{masked_url(url)} is at revision {current or 'none'} but already has tables of a "
            f"later revision holding rows ({', '.join(f'{k}: {v}' for k, v in full.items())}); "
            "they were not made by `bubblewatch db-upgrade`: restore a backup or point "
            "BUBBLEWATCH_DATABASE_URL at a new database"
        )
    known = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in leftovers]
    order = sorted(leftovers - set(known)) + known  # tables a later revision dropped first
    log.warning("completing an interrupted upgrade of %s: dropping the empty tables %s and "
                "creating them again", masked_url(url), ", ".join(order))
    for name in order:
        conn.exec_driver_sql(f'DROP TABLE "{name}"')


def require_current(url: str) -> None:
    """The one schema policy of every command but ``init`` and ``db-upgrade``:
    work only on a database whose schema is this version's, and otherwise say
    what to run. Connection problems become one line (no password).

    Raises
    ------
    ConfigError
        The database has no bubblewatch tables (run ``init``), an older schema
        (run ``db-upgrade``) or a schema of a newer bubblewatch.
    DatabaseError
        The database cannot be reached or read.
    """
    from db.session import explain

    try:
        current, head = current_revision(url), head_revision(url)
    except Exception as exc:
        known = explain(exc, url)  # server down, login refused...: one line, no password
        if known is not None:
            raise known from None
        raise
    if current == head:
        return
    where = masked_url(url)
    if current is None:
        raise ConfigError(f"{where} has no bubblewatch tables yet: run `bubblewatch init`")
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()}
    if current not in known:
        raise ConfigError(f"{where} was made by a newer bubblewatch (schema revision {current}); "
                          "upgrade bubblewatch, or point BUBBLEWATCH_DATABASE_URL elsewhere")
    raise ConfigError(f"{where} has schema revision {current}; this version needs {head}: back "
                      "it up, then run `bubblewatch db-upgrade`")


def current_revision(url: str) -> str | None:
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def is_up_to_date(url: str) -> bool:
    return current_revision(url) == head_revision(url)
