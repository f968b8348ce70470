"""`shieldwall bank add|remove|restore|import|export`: entries of a bank."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

import click

from shieldwall.banks.formats import BankFileFormat, detect_format
from shieldwall.banks.models import EntrySource, EntryState, NewEntry, Provenance
from shieldwall.banks.service import ImportSummary
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.files import HashedFile, hash_files, walk_paths
from shieldwall.cli.hash_cmd import signals_json
from shieldwall.cli.options import (
    finish,
    jobs_option,
    json_option,
    provenance_options,
    resolve_jobs,
)
from shieldwall.cli.output import Output
from shieldwall.cli.submission_import import import_submission, looks_like_submission
from shieldwall.errors import NotFoundError, ShieldwallError
from shieldwall.hashing.service import Purpose
from shieldwall.signals.models import ORIGINAL
from shieldwall.signals.pdq_quality import without_refused

ADD_BATCH = 500
FORMATS = click.Choice([f.value for f in BankFileFormat])
SUBMISSION = "submission"
"""`bank import --format`: a victim's `shieldwall protect` file (cli/submission_import.py)."""
IMPORT_FORMATS = click.Choice([*FORMATS.choices, SUBMISSION])


def _store(
    context: CliContext, out: Output, name: str, batch: list[HashedFile], provenance: Provenance
) -> None:
    # A PDQ hash the acceptance rule refuses (a blank or near-blank image) is not stored;
    # the exact digests are, so identical copies still match.
    kept = [without_refused(h.signals.entry_signals()) for h in batch if h.signals]
    entries = [NewEntry(signals, provenance) for signals, _ in kept]
    results = context.services.banks.add_entries(name, entries)
    for hashed, result, (signals, refused) in zip(batch, results, kept, strict=True):
        assert hashed.signals is not None
        out.record(
            {
                "path": hashed.path,
                "entry_id": result.entry_id,
                "created": result.created,
                "state": result.state.value,
                "signals": signals_json(hashed.signals),
                "pdq_refused": refused.reason if refused else None,
                "pdq_variants": sum(s.variant != ORIGINAL for s in signals),
            }
        )
        if refused is not None:
            out.note(f"{hashed.path}: pdq hash not stored ({refused.reason}); md5 and sha256 are")


@click.command("add")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True)
@provenance_options
@json_option
@jobs_option
@pass_context
def add(
    context: CliContext,
    name: str,
    paths: tuple[str, ...],
    source: str,
    submitted_by: str,
    case_id: str,
    note: str,
    as_json: bool,
    jobs: int | None,
) -> int:
    """Hash images and add them to a bank (directories are walked recursively)."""
    out = Output(as_json)
    context.services.banks.get_bank(name)
    provenance = Provenance(EntrySource(source), submitted_by, case_id, note)
    files = list(walk_paths(paths))
    batch: list[HashedFile] = []
    added = 0
    hashed_files = hash_files(
        files, context.settings.media, resolve_jobs(jobs), purpose=Purpose.BANK
    )
    for hashed in hashed_files:
        if hashed.signals is None:
            out.problem(hashed.path, hashed.error or "unreadable")
            continue
        batch.append(hashed)
        if len(batch) >= ADD_BATCH:
            _store(context, out, name, batch, provenance)
            added, batch = added + len(batch), []
    if batch:
        _store(context, out, name, batch, provenance)
        added += len(batch)
    out.note(f"{added} of {len(files)} files in bank {name}; {out.problems} failed")
    return finish(out.problems)


def _change_states(
    context: CliContext, out: Output, name: str, entry_ids: tuple[int, ...], state: EntryState
) -> int:
    for entry_id in entry_ids:
        try:
            entry = context.services.banks.get_entry(entry_id)
            if entry.bank != name:
                raise NotFoundError(f"entry {entry_id} is not in bank {name}")
            entry = context.services.banks.set_entry_state(entry_id, state)
        except NotFoundError as exc:
            out.problem(str(entry_id), str(exc))
            continue
        out.record({"entry_id": entry.id, "bank": entry.bank, "state": entry.state.value})
        out.note(f"entry {entry.id} in bank {entry.bank} is now {entry.state.value}")
    return finish(out.problems)


@click.command("remove")
@click.argument("name")
@click.argument("entry_ids", nargs=-1, required=True, type=int)
@click.option(
    "--disable", is_flag=True, help="Disable (reversible with `restore`) instead of withdrawing."
)
@json_option
@pass_context
def remove(
    context: CliContext, name: str, entry_ids: tuple[int, ...], disable: bool, as_json: bool
) -> int:
    """Withdraw entries (kept as tombstones, never match again) or disable them."""
    state = EntryState.DISABLED if disable else EntryState.WITHDRAWN
    return _change_states(context, Output(as_json), name, entry_ids, state)


@click.command("restore")
@click.argument("name")
@click.argument("entry_ids", nargs=-1, required=True, type=int)
@json_option
@pass_context
def restore(context: CliContext, name: str, entry_ids: tuple[int, ...], as_json: bool) -> int:
    """Re-activate disabled entries (withdrawn entries cannot come back)."""
    return _change_states(context, Output(as_json), name, entry_ids, EntryState.ACTIVE)


def _open_text(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    return open(path, encoding="utf-8-sig", errors="strict", newline="")


@click.command("import")
@click.argument("name")
@click.argument("file", metavar="FILE")
@click.option(
    "--format",
    "fmt",
    type=IMPORT_FORMATS,
    default=None,
    help="hashfile (`pdq <hex>` lines), csv, jsonl or submission (`shieldwall protect`'s "
    "file) (default: detected).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=5000,
    show_default=True,
    help="Most entries per transaction (fewer while transactions run long).",
)
@provenance_options
@json_option
@pass_context
def import_command(
    context: CliContext,
    name: str,
    file: str,
    fmt: str | None,
    batch_size: int,
    source: str,
    submitted_by: str,
    case_id: str,
    note: str,
    as_json: bool,
) -> int:
    """Import hashes (without content) from a hash file, CSV or JSON lines ('-' is stdin),
    or a victim's `shieldwall protect` submission (one entry per item, regions included)."""
    out = Output(as_json)
    provenance = Provenance(EntrySource(source), submitted_by, case_id, note)
    if fmt in (None, SUBMISSION) and (fmt == SUBMISSION or looks_like_submission(file)):
        try:
            return finish(import_submission(context, name, file, provenance, out))
        except ShieldwallError as exc:
            out.problem(file, str(exc))
            return 1
    try:
        stream = _open_text(file)
    except OSError as exc:
        out.problem(file, f"cannot open: {exc.strerror or exc}")
        return 1
    with stream:
        head = list(islice(stream, 20))
        chosen = BankFileFormat(fmt) if fmt else detect_format(head, None if file == "-" else file)
        lines = _chain(head, stream)
        try:
            summary = context.services.banks.import_lines(
                name, lines, chosen, provenance, batch_size, on_batch=lambda s: _progress(out, s)
            )
        except UnicodeDecodeError as exc:
            out.problem(file, f"not UTF-8 text: {exc.reason}")
            return 1
    for problem in summary.problems:
        out.problem(f"{file}:{problem.line}", problem.message)
    out.record(
        {
            "path": file,
            "format": chosen.value,
            "added": summary.added,
            "existing": summary.existing,
            "problems": len(summary.problems),
        }
    )
    out.note(
        f"imported {summary.added} new and {summary.existing} existing entries into "
        f"{name} ({chosen.value}); {len(summary.problems)} lines refused"
    )
    return finish(len(summary.problems))


def _chain(head: list[str], rest: TextIO) -> Iterator[str]:
    yield from head
    yield from rest


def _progress(out: Output, summary: ImportSummary) -> None:
    if sys.stderr.isatty():
        click.echo(f"\r{summary.lines} lines", nl=False, err=True)


@click.command("export")
@click.argument("name")
@click.option(
    "--format", "fmt", type=FORMATS, default=BankFileFormat.JSONL.value, show_default=True
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
@click.option(
    "--include-inactive",
    is_flag=True,
    help="Also export disabled and withdrawn entries (jsonl only).",
)
@pass_context
def export(
    context: CliContext, name: str, fmt: str, out_path: Path | None, include_inactive: bool
) -> None:
    """Stream a bank's entries to stdout or a file."""
    chosen = BankFileFormat(fmt)
    if out_path is None:
        count = context.services.banks.export(name, chosen, sys.stdout, include_inactive)
    else:
        with out_path.open("w", encoding="utf-8", newline="") as stream:
            count = context.services.banks.export(name, chosen, stream, include_inactive)
    click.echo(f"exported {count} entries from {name} ({chosen.value})", err=True)
