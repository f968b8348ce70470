"""`shieldwall audit verify`: recompute the audit log's hash chain and name the first bad record."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output

EXIT_BROKEN = 1


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log of review actions."""


@audit_group.command("verify")
@json_option
@pass_context
def verify_command(context: CliContext, as_json: bool) -> int:
    """Check every record's hash and link, and the head; exit 1 at the first bad record."""
    out = Output(as_json)
    result = context.services.audit.verify()
    out.record(result.as_dict())
    problem = result.problem
    if problem is None:
        out.note(
            f"audit chain holds: {result.records} records, "
            f"head {result.head.sequence} {result.head.hash[:16]}"
        )
        return 0
    held = f"records 1..{result.head.sequence} hold" if result.records else "no record holds"
    click.echo(
        f"audit chain broken at record {problem.sequence} ({problem.fault.value}): "
        f"{problem.message}; {held}",
        err=True,
    )
    return EXIT_BROKEN
