"""`shieldwall match PATH... [--bank NAME]...`: which bank entries do these images match?"""

from __future__ import annotations

import click

from shieldwall.access.models import LookupKind
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.files import hash_files, walk_paths
from shieldwall.cli.options import finish, jobs_option, json_option, resolve_jobs
from shieldwall.cli.output import Output
from shieldwall.hashing.service import Purpose

CLI_KIND = LookupKind.CLI
"""The audit record's kind for `shieldwall match` lookups (they have no API key)."""


@click.command("match")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--bank",
    "banks",
    multiple=True,
    metavar="NAME",
    help="Match against this bank (repeatable; default: every enabled bank).",
)
@click.option(
    "--threshold",
    type=click.IntRange(0, 63),
    default=None,
    help="Tighten every bank's PDQ threshold to at most this many bits.",
)
@json_option
@jobs_option
@pass_context
def match_command(
    context: CliContext,
    paths: tuple[str, ...],
    banks: tuple[str, ...],
    threshold: int | None,
    as_json: bool,
    jobs: int | None,
) -> int:
    """Match images against banks; edited copies (crops, borders, captions, screenshots,
    mirrors, rotations) are found too, and each match says which view or variant matched."""
    out = Output(as_json)
    services = context.services
    # Only the named banks (and their allow-lists) are loaded, so no bank filter is needed;
    # the lookups still share the web's re-check, hit counting and audit record.
    matcher = services.matcher(list(banks))
    screening = services.screening.with_matcher(lambda: matcher)
    files = list(walk_paths(paths))
    rows: list[tuple[str, ...]] = []
    hashed_files = hash_files(
        files,
        context.settings.media,
        resolve_jobs(jobs),
        purpose=Purpose.LOOKUP,
        pair_windows=matcher.searches_pairs,
    )
    for hashed in hashed_files:
        if hashed.signals is None:
            out.problem(hashed.path, hashed.error or "unreadable")
            continue
        result = screening.screen_queries(
            hashed.signals.lookup_signals(),
            None,
            CLI_KIND,
            max_threshold=threshold,
            pixels=hashed.signals.pixels,
        )
        matches, verdict = result.matches, result.verdict
        out.record(
            {
                "path": hashed.path,
                "verdict": verdict.value,
                "matches": [m.as_json() for m in matches],
            }
        )
        shown = "; ".join(
            f"{m.bank}#{m.entry_id} {m.signal_type} d={m.distance} {m.variant}" for m in matches[:3]
        )
        more = f" (+{len(matches) - 3} more)" if len(matches) > 3 else ""
        rows.append((hashed.path, verdict.value if matches else "no match", shown + more))
    out.table(["path", "verdict", "matches"], rows)
    return finish(out.problems)
