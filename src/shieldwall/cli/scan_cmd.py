"""`shieldwall scan PATH...`: the screening cascade of likeness protection, per file.

Bank matches first; then, for what no bank blocks, the nudity score; only over its
threshold, faces and the enrolled templates. Prints per file where the cascade stopped,
the scores, the enrolments a face comes near (only for explicit content) and the time per
step. A likeness finding asks for human review; it blocks nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from shieldwall.access.models import LookupKind
from shieldwall.banks.models import MatchAction
from shieldwall.cascade.service import Cascade
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.files import walk_paths
from shieldwall.cli.options import finish, json_option
from shieldwall.cli.output import Output
from shieldwall.errors import ShieldwallError
from shieldwall.matching.models import Match
from shieldwall.media.decode import read_content


@click.command("scan")
@click.argument("paths", nargs=-1, required=True)
@json_option
@pass_context
def scan_command(context: CliContext, paths: tuple[str, ...], as_json: bool) -> int:
    """Run the likeness cascade over images (directories are walked recursively)."""
    out = Output(as_json)
    services = context.services
    limits = context.settings.media
    matcher = services.matcher()
    screening = services.screening.with_matcher(lambda: matcher)

    def screen(data: bytes) -> tuple[MatchAction, list[Match]]:
        result = screening.screen_content(data, None, kind=LookupKind.CLI)
        return result.verdict, result.matches

    cascade = Cascade(screen, services.nudity, services.faces, services.enrolments, limits)
    rows = []
    for path in walk_paths(paths):
        try:
            findings = cascade.run(read_content(Path(path), limits))
        except ShieldwallError as exc:
            out.problem(path, str(exc))
            continue
        shown = findings.as_json()
        out.record({"path": path, **shown})
        likeness = ", ".join(f"{m['enrolment']} {m['similarity']}" for m in shown["likeness"])
        nudity = "-" if shown["nudity"] is None else f"{shown['nudity']:.3f}"
        rows.append((path, shown["verdict"], shown["stop"], nudity, likeness or "-"))
    out.table(["path", "verdict", "stopped", "nudity", "enrolled faces"], rows)
    return finish(out.problems)
