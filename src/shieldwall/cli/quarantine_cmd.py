"""`shieldwall quarantine ...`: upkeep of the content kept for review (docs/quarantine.md)."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.clock import utc_now


@click.group()
def quarantine() -> None:
    """Upkeep of the sealed content kept for review."""


@quarantine.command("sweep")
@json_option
@pass_context
def sweep(context: CliContext, as_json: bool) -> None:
    """Delete every quarantined item whose retention has ended; print how many."""
    store = context.services.quarantine
    removed = store.sweep(utc_now())
    left = store.usage()
    if as_json:
        Output(as_json).record({"removed": removed, "kept": left.count, "kept_bytes": left.bytes})
    else:
        click.echo(f"removed {removed} expired item(s); {left.count} kept ({left.bytes} bytes)")
