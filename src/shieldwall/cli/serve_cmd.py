"""`shieldwall serve`: the HTTP service (native API, HMA-compatible API, health, metrics)."""

from __future__ import annotations

import os

import click

from shieldwall.cli.context import CliContext, pass_context


def _export_settings(context: CliContext) -> None:
    """Worker processes read their settings from the environment: pass ours on."""
    settings = context.settings
    os.environ["SHIELDWALL_HOME"] = str(settings.home)
    os.environ["SHIELDWALL_DATABASE_URL"] = settings.effective_database_url


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; they share the database and follow its change log.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@pass_context
def serve(context: CliContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Run the HTTP service until interrupted; in-flight requests finish on shutdown."""
    import uvicorn

    from shieldwall.web.logs import log_config

    services = context.services  # migrates an embedded SQLite database first
    issued = services.access.bootstrap_admin()
    url = f"http://{host}:{port}"
    click.echo(f"Shieldwall serving on {url} (API docs at {url}/docs)", err=True)
    if issued is not None:
        click.echo(
            "First start: a one-time admin API key was created. It is shown only now;", err=True
        )
        click.echo(f"  admin key: {issued.token}", err=True)
        click.echo("Create other keys with `shieldwall key create --role ...`.", err=True)
    services.close()
    _export_settings(context)
    uvicorn.run(
        "shieldwall.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(log_level),
        timeout_graceful_shutdown=30,
        proxy_headers=False,
        server_header=False,
    )
