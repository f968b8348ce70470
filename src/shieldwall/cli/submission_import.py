"""`shieldwall bank import NAME submission.json`: a victim's submission file into a bank.

A person who does not want to use the /protect page hashes their pictures with
`shieldwall protect` (hashes only: whole image, regions, digests) and gives the file to a
support centre, which imports it. Each item becomes one entry, like a `bank add` entry of
the same picture (its region hashes included); `--json` prints one line per item:
`{"item": N, "entry_id", "created", "state"}` with N the item's position in the files the
person hashed (or `{"item": N, "error"}`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import click

from shieldwall.banks.models import NewEntry, Provenance
from shieldwall.cases.models import device_item_signals
from shieldwall.cli.context import CliContext
from shieldwall.cli.output import Output
from shieldwall.errors import InvalidInputError, ShieldwallError

SUBMISSION_FORMAT: Final = "shieldwall-submission/1"
MAX_HEAD: Final = 4096
"""Bytes read to tell a submission (a JSON object naming its format) from other files."""


def looks_like_submission(path: str) -> bool:
    """Whether the file starts like a `shieldwall protect` submission (JSON with its format)."""
    if path == "-":
        return False
    try:
        with open(path, "rb") as file:
            head = file.read(MAX_HEAD)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and SUBMISSION_FORMAT.encode() in head


def read_submission(path: Path | str) -> dict[str, Any]:
    """The submission `shieldwall protect` wrote to `path`; InvalidInputError otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise InvalidInputError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SUBMISSION_FORMAT:
        raise InvalidInputError(f"{path} is not a `shieldwall protect` submission")
    report = data.get("report") or {}
    if (
        not isinstance(data.get("hashes", []), list)
        or not isinstance(report, dict)
        or not isinstance(report.get("locators", []), list)
    ):
        raise InvalidInputError(f"{path} is damaged: its hashes or report have the wrong shape")
    return data


def _position(item: Any, index: int) -> int:
    position = item.get("position") if isinstance(item, dict) else None
    return position if isinstance(position, int) and not isinstance(position, bool) else index


def import_submission(
    context: CliContext, name: str, path: str, provenance: Provenance, out: Output
) -> int:
    """Import every readable item as an entry; the number of items refused."""
    items = read_submission(path).get("hashes", [])
    entries: list[tuple[int, NewEntry]] = []
    for index, item in enumerate(items):
        position = _position(item, index)
        try:
            entries.append((position, NewEntry(device_item_signals(item), provenance)))
        except ShieldwallError as exc:
            out.problems += 1
            out.record({"item": position, "error": str(exc)})
            click.echo(f"error: {path}: item {position}: {exc}", err=True)
    added = context.services.banks.add_entries(name, [entry for _, entry in entries])
    for (position, _), result in zip(entries, added, strict=True):
        out.record(
            {
                "item": position,
                "entry_id": result.entry_id,
                "created": result.created,
                "state": result.state.value,
            }
        )
    created = sum(result.created for result in added)
    out.note(
        f"imported {len(added)} items of {path} into {name} ({created} new); "
        f"{len(items) - len(entries)} refused"
    )
    return len(items) - len(entries)
