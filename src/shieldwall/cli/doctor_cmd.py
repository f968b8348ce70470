"""`shieldwall doctor`: which optional detectors are installed and working."""

from __future__ import annotations

import click

from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.detection.doctor import check_detectors


@click.command("doctor")
@json_option
def doctor_command(as_json: bool) -> int:
    """List the detectors (nudity score, faces, provenance) and whether each works.

    Each is optional: without it, screening runs without that check. Exits 1 if any
    detector is missing or broken."""
    out = Output(as_json)
    checks = check_detectors()
    for check in checks:
        out.record({"detector": check.name, "working": check.working, "detail": check.detail})
    out.table(
        ["detector", "state", "detail"],
        [[c.name, "working" if c.working else "NOT WORKING", c.detail] for c in checks],
    )
    return 0 if all(check.working for check in checks) else 1
