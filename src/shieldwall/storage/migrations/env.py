"""Alembic environment: runs Shieldwall's migrations on a given connection or URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _configured_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("SHIELDWALL_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or SHIELDWALL_DATABASE_URL")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running them (`alembic upgrade --sql`)."""
    context.configure(url=_configured_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection handed over by `upgrade_database`, or the URL."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    engine = create_database_engine(_configured_url())
    try:
        with engine.connect() as own_connection:
            _run(own_connection)
            own_connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
