"""Alembic environment: URL from bubblewatch settings unless the caller set one.

Online migrations run inside one transaction (see :mod:`db.migrate`): the
caller's, when :func:`db.migrate.upgrade` passes its connection in
``config.attributes["connection"]``, or one opened here for the ``alembic``
command line. Alembic sees the transaction already open and adds none of its
own, so the whole upgrade commits or rolls back as one.
"""

from __future__ import annotations

from alembic import context

import db.all_models  # noqa: F401  (imports every models module)
from db.base import Base
from db.migrate import migration_transaction

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bubblewatch.core.settings import get_settings

    return get_settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with migration_transaction(_url()) as conn:
        _run(conn)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
