"""`shieldwall hash PATH...`: signals of files, computed locally; nothing is stored."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.files import hash_files, walk_paths
from shieldwall.cli.options import finish, jobs_option, json_option, resolve_jobs
from shieldwall.cli.output import Output
from shieldwall.signals.hashing import ContentSignals


def signals_json(signals: ContentSignals, with_variants: bool = False) -> dict[str, object]:
    """The `signals` object of the command-line contract (optionally with PDQ variants)."""
    record: dict[str, object] = dict(signals.as_json())
    if with_variants:
        record["pdq_variants"] = {s.variant: s.value for s in signals.pdq_variants}
    return record


@click.command("hash")
@click.argument("paths", nargs=-1, required=True)
@click.option("--variants", is_flag=True, help="Also print the 8 PDQ mirror/rotation hashes.")
@json_option
@jobs_option
@pass_context
def hash_command(
    context: CliContext, paths: tuple[str, ...], variants: bool, as_json: bool, jobs: int | None
) -> int:
    """Print PDQ, MD5 and SHA-256 of images (directories are walked recursively)."""
    out = Output(as_json)
    files = list(walk_paths(paths))
    rows: list[tuple[str, ...]] = []
    for hashed in hash_files(files, context.settings.media, resolve_jobs(jobs), variants):
        if hashed.signals is None:
            out.problem(hashed.path, hashed.error or "unreadable")
            continue
        out.record({"path": hashed.path, "signals": signals_json(hashed.signals, variants)})
        pdq = hashed.signals.pdq
        quality = f"{pdq.quality}{' (low)' if pdq.low_quality else ''}"
        rows.append((hashed.path, pdq.value, quality, hashed.signals.md5.value))
    out.table(["path", "pdq", "quality", "md5"], rows)
    return finish(out.problems)
