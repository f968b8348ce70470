"""`shieldwall db upgrade|current`: the database schema."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context


@click.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@pass_context
def upgrade(context: CliContext) -> None:
    """Bring the database to the current schema (safe to run again)."""
    from shieldwall.storage.migrate import current_revision, upgrade_database

    url = context.settings.effective_database_url
    upgrade_database(url)
    click.echo(f"database at revision {current_revision(url)}", err=True)


@db.command("current")
@pass_context
def current(context: CliContext) -> None:
    """Print the database's schema revision."""
    from shieldwall.storage.migrate import current_revision

    click.echo(current_revision(context.settings.effective_database_url) or "empty")
