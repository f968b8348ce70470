"""`shieldwall hash PATH...`: signals of files, computed locally; nothing is stored."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.files import hash_files, walk_paths
from shieldwall.cli.options import finish, jobs_option, json_option, resolve_jobs
from shieldwall.cli.output import Output
from shieldwall.hashing.service import ContentSignals


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
    for hashed in hash_files(files, context.settings.media, resolve_jobs(jobs), variants):
        if hashed.signals is None:
            out.problem(hashed.path, hashed.error or "unreadable")
            continue
        out.record({"path": hashed.path, "signals": signals_json(hashed.signals, variants)})
        if not as_json:
            out.note(describe(hashed.path, hashed.signals, variants))
    return finish(out.problems)


def describe(path: str, signals: ContentSignals, with_variants: bool) -> str:
    """A block for people: whole values, one per line, so they can be copied."""
    pdq = signals.pdq
    low = ", low quality" if pdq.low_quality else ""
    lines = [
        path,
        f"  pdq     {pdq.value} (quality {pdq.quality}{low})",
        f"  md5     {signals.md5.value}",
        f"  sha256  {signals.sha256.value}",
    ]
    if with_variants:
        lines += [f"  pdq/{s.variant:<10} {s.value}" for s in signals.pdq_variants[1:]]
    return "\n".join(lines)
