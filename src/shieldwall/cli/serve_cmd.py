"""`shieldwall serve`: the HTTP service (native API, HMA-compatible API, health, metrics)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Final

import click

from shieldwall.allocator import limit_arenas
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import log_level_option
from shieldwall.storage.shared_buckets import create_table

ADMIN_KEY_FILE: Final = "admin-key.txt"
"""Where the first admin key goes when stderr is not a terminal (inside the data directory)."""


RATE_LIMIT_TABLE: Final = "rate-limits.bin"
"""The workers' shared rate-limit buckets, made anew in the data directory at each start."""


def _export_settings(context: CliContext) -> None:
    """Worker processes read their settings from the environment: pass ours on."""
    settings = context.settings
    os.environ["SHIELDWALL_HOME"] = str(settings.home)
    os.environ["SHIELDWALL_DATABASE_URL"] = settings.effective_database_url
    # One table for all workers: a key's limit holds for the whole service.
    table = create_table(settings.home / RATE_LIMIT_TABLE)
    os.environ["SHIELDWALL_RATE_LIMIT_TABLE"] = str(table.resolve())


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
@log_level_option
@pass_context
def serve(context: CliContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Run the HTTP service until interrupted; in-flight requests finish on shutdown."""
    import uvicorn

    from shieldwall.web.http_protocol import MAX_HEADER_BYTES, BoundedHttpToolsProtocol
    from shieldwall.web.logs import log_config

    services = context.services  # migrates an embedded SQLite database first
    issued = services.access.bootstrap_admin()
    url = f"http://{host}:{port}"
    click.echo(f"Shieldwall serving on {url} (API docs at {url}/docs)", err=True)
    if issued is not None:
        _hand_over_admin_key(issued.token, context.settings.home)
    services.close()
    _export_settings(context)
    limit_arenas()  # before workers start: they inherit MALLOC_ARENA_MAX
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
        http=BoundedHttpToolsProtocol,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,  # the same bound if h11 is used
    )


def _hand_over_admin_key(token: str, home: Path) -> None:
    """Show the first admin key on a terminal; otherwise (logs, services) write it to an
    owner-only file, since whatever collects stderr would keep the key forever."""
    if sys.stderr.isatty():
        click.echo(
            "First start: a one-time admin API key was created. It is shown only now;", err=True
        )
        click.echo(f"  admin key: {token}", err=True)
    else:
        path = write_secret_file(home / ADMIN_KEY_FILE, token + "\n")
        click.echo(
            f"First start: a one-time admin API key was written to {path} (readable by its "
            "owner only). Move it somewhere safe and delete the file.",
            err=True,
        )
    click.echo("Create other keys with `shieldwall key create --role ...`.", err=True)


def write_secret_file(path: Path, text: str) -> Path:
    """Write `text` to a new file only its owner can read (0600 from the first byte)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a stale copy may have looser permissions: start afresh
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
