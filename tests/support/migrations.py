"""Run the Alembic migrations to a revision on an engine (the migration tests)."""

from __future__ import annotations

from sqlalchemy import Engine

from shieldwall.storage.migrate import alembic_config


def migrate(engine: Engine, revision: str, down: bool = False) -> None:
    """Upgrade (or downgrade) the database behind `engine` to `revision`."""
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
