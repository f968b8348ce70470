"""`shieldwall enrolments ...`: likeness protection's enrolments from a terminal."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output


@click.group("enrolments")
def enrolments_group() -> None:
    """Enrolments for likeness protection (consent, templates, expiry)."""


@enrolments_group.command("expire")
@json_option
@pass_context
def expire_command(context: CliContext, as_json: bool) -> int:
    """End every enrolment whose term is over, deleting its templates (run daily, e.g.
    from cron; each end is written to the audit log)."""
    out = Output(as_json)
    ended = context.services.enrolments.expire()
    for enrolment in ended:
        out.record({"enrolment": enrolment.number, "state": enrolment.state.value})
    if not as_json:
        out.note(f"enrolments expired: {len(ended)}")
    return 0
