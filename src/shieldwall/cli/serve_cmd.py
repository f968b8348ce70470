"""`shieldwall serve`: opens the database; the HTTP API arrives with the service issue."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@pass_context
def serve(context: CliContext, host: str, port: int) -> None:
    """Open the database and report where it is (the HTTP API is not built yet)."""
    from sqlalchemy.engine import make_url

    services = context.services
    url = make_url(context.settings.effective_database_url)
    banks = services.banks.list_banks()
    click.echo(f"database: {url.render_as_string(hide_password=True)}")
    click.echo(f"banks: {len(banks)}")
    click.echo(
        f"the HTTP API ({host}:{port}) comes with the next release; "
        "use the command line (`shieldwall --help`) until then"
    )
