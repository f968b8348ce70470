"""Options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from shieldwall.banks.models import EntrySource
from shieldwall.cli.files import default_jobs

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """--json: one JSON object per line on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")(
        func
    )


def log_level_option(func: F) -> F:
    """--log-level: how much a long-running command logs."""
    return click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="info",
        show_default=True,
    )(func)


def jobs_option(func: F) -> F:
    """--jobs N: hashing processes."""
    return click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 256),
        default=None,
        metavar="N",
        help="Hash with N processes (default: one per core).",
    )(func)


def resolve_jobs(jobs: int | None) -> int:
    """The --jobs value, or one per core."""
    return jobs if jobs is not None else default_jobs()


def finish(problems: int) -> int:
    """Exit status after per-item work: non-zero if any item failed."""
    return 1 if problems else 0


def provenance_options(func: F) -> F:
    """--source, --submitted-by, --case-id and --note for entries being added."""
    func = click.option("--note", default="", help="Free note stored with each entry.")(func)
    func = click.option("--case-id", default="", help="Case the entries belong to.")(func)
    func = click.option("--submitted-by", default="", help="Who vouched for the entries.")(func)
    return click.option(
        "--source",
        type=click.Choice([s.value for s in EntrySource]),
        default=EntrySource.MANUAL.value,
        show_default=True,
    )(func)
