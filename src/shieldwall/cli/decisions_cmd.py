"""`shieldwall decisions export|submit|submissions`: statements of reasons for the EU DSA
Transparency Database, written out or sent to its API and tracked.

`export` writes the whole period as one `{"statements": [...]}` body. The database's bulk API
(`POST /api/v1/statements`) takes 1 to 100 statements a request: a sender splits the list
into batches of at most 100, and treats only 201 as stored (a `puid` it already holds
answers 422, so a resend after a partial failure is safe to check with
`GET /api/v1/statement/existing-puid/{puid}`). `submit` does just that
(review/tdb_submissions.py) and records each statement's outcome; `submissions` lists them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import finish, json_option
from shieldwall.cli.output import Output
from shieldwall.errors import InvalidInputError
from shieldwall.review.models import DEFAULT_GROUNDS, Ground, ReviewItem
from shieldwall.review.statements import statements_between
from shieldwall.review.tdb_submissions import (
    BATCH_LIMIT,
    PendingStatement,
    SubmissionState,
    pending_statements,
)

__all__ = ["BATCH_LIMIT", "decisions_group"]

F = TypeVar("F", bound=Callable[..., Any])
_DAY: Final = click.DateTime(formats=["%Y-%m-%d"])


def _statement_options(func: F) -> F:
    """--from, --to, --territorial-scope and --content-language (export and submit)."""
    func = click.option(
        "--content-language", default="", metavar="CODE", help="ISO 639-1 code, e.g. DE."
    )(func)
    func = click.option(
        "--territorial-scope",
        "scope",
        default="",
        metavar="CODES",
        help="EEA countries the decisions apply in, comma-separated (GR for Greece).",
    )(func)
    func = click.option(
        "--to", "last_day", type=_DAY, required=True, help="Last day (UTC), included."
    )(func)
    return click.option(
        "--from", "first_day", type=_DAY, required=True, help="First day (UTC), YYYY-MM-DD."
    )(func)


@click.group("decisions")
def decisions_group() -> None:
    """Review decisions: statements of reasons, exported or sent to the EU database."""


@decisions_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dsa-tdb"]),
    required=True,
    help="dsa-tdb: the EU DSA Transparency Database's statement schema.",
)
@_statement_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
@json_option
@pass_context
def export_command(
    context: CliContext,
    fmt: str,
    first_day: datetime,
    last_day: datetime,
    out_path: Path | None,
    scope: str,
    content_language: str,
    as_json: bool,
) -> int:
    """Statements of reasons for the confirm decisions on platform content in a period.

    Prints {"statements": [...]} (send it in batches of at most 100), or with --json one
    statement per line.
    """
    start, end = _period(first_day, last_day)
    items = context.services.review_items.decided_between(start, end)
    statements = [p.statement for p in _pending(context, items, scope, content_language)]
    if as_json:
        text = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in statements)
    else:
        text = json.dumps({"statements": statements}, ensure_ascii=False, indent=2) + "\n"
    if out_path is None:
        click.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
    batches = -(-len(statements) // BATCH_LIMIT)
    click.echo(
        f"{len(statements)} statements of reasons ({fmt}) for decisions from "
        f"{start.date()} to {last_day.date()}; the API takes at most {BATCH_LIMIT} a request: "
        f"{batches} request(s)",
        err=True,
    )
    return 0


@decisions_group.command("submit")
@_statement_options
@json_option
@pass_context
def submit_command(
    context: CliContext,
    first_day: datetime,
    last_day: datetime,
    scope: str,
    content_language: str,
    as_json: bool,
) -> int:
    """Send the statements of reasons of a period to the Transparency Database (`tdb_url`,
    `tdb_token`), in batches of at most 100, skipping those it already stored.

    Prints the counts stored, failed and skipped (with --json, one object); each failure
    on stderr. Exits 1 if any failed: run it again to retry them.
    """
    out = Output(as_json)
    start, end = _period(first_day, last_day)
    items = context.services.review_items.decided_between(start, end)
    pending = _pending(context, items, scope, content_language)
    with context.services.statement_submitter() as submitter:
        report = submitter.submit(pending)
    for failure in report.failures:
        click.echo(f"failed: {failure.puid} (item {failure.item_id}): {failure.error}", err=True)
    counts = {"stored": report.stored, "failed": report.failed, "skipped": report.skipped}
    out.record({**counts, "requests": report.requests})
    if not as_json:
        out.note(
            f"stored {report.stored}, failed {report.failed}, skipped {report.skipped} "
            f"(stored before) of {len(pending)} statements for decisions from {start.date()} "
            f"to {last_day.date()}, in {report.requests} request(s)"
        )
    return finish(report.failed)


@decisions_group.command("submissions")
@click.option(
    "--state",
    type=click.Choice([s.value for s in SubmissionState]),
    default=None,
    help="Only the statements in this state.",
)
@json_option
@pass_context
def submissions_command(context: CliContext, state: str | None, as_json: bool) -> int:
    """The statements of reasons sent to the Transparency Database: state, tries, last error."""
    out = Output(as_json)
    listed = context.services.tdb_submissions.listed(SubmissionState(state) if state else None)
    rows = []
    for submission in listed:
        record = {
            "puid": submission.puid,
            "item": submission.item_id,
            "state": submission.state.value,
            "attempts": submission.attempts,
            "first_attempt_at": submission.first_attempt_at.isoformat(),
            "last_attempt_at": submission.last_attempt_at.isoformat(),
            "last_error": submission.last_error,
        }
        out.record(record)
        rows.append([str(value) for value in record.values()])
    out.table(["puid", "item", "state", "attempts", "first", "last", "last error"], rows)
    if not as_json:
        out.note(f"{len(listed)} statement(s)")
    return 0


def _period(first_day: datetime, last_day: datetime) -> tuple[datetime, datetime]:
    """The UTC period from the first day's start to the end of the last day."""
    start = first_day.replace(tzinfo=UTC)
    end = last_day.replace(tzinfo=UTC) + timedelta(days=1)
    if end <= start:
        raise InvalidInputError("--to is before --from")
    return start, end


def _pending(
    context: CliContext, items: list[ReviewItem], scope: str, content_language: str
) -> list[PendingStatement]:
    """The statements of the confirm decisions among `items`, each with its item."""
    statements = statements_between(
        items,
        _grounds(context.services.review_items.grounds()),
        territorial_scope=[code for code in scope.split(",") if code.strip()],
        content_language=content_language,
    )
    return pending_statements(items, statements)


def _grounds(listed: list[Ground]) -> dict[str, Ground]:
    """The grounds by code; a default ground an admin removed still explains past decisions."""
    return {g.code: g for g in DEFAULT_GROUNDS} | {g.code: g for g in listed}
