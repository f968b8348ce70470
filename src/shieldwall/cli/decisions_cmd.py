"""`shieldwall decisions export`: statements of reasons for the EU DSA Transparency Database.

The whole period is written as one `{"statements": [...]}` body. The database's bulk API
(`POST /api/v1/statements`) takes 1 to 100 statements a request: a sender splits the list
into batches of at most 100, and treats only 201 as stored (a `puid` it already holds
answers 422, so a resend after a partial failure is safe to check with
`GET /api/v1/statement/existing-puid/{puid}`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.errors import InvalidInputError
from shieldwall.review.models import DEFAULT_GROUNDS, Ground
from shieldwall.review.statements import statements_between

BATCH_LIMIT: Final = 100
"""The most statements the Transparency Database takes in one request."""
_DAY: Final = click.DateTime(formats=["%Y-%m-%d"])


@click.group("decisions")
def decisions_group() -> None:
    """Review decisions: export statements of reasons."""


@decisions_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dsa-tdb"]),
    required=True,
    help="dsa-tdb: the EU DSA Transparency Database's statement schema.",
)
@click.option("--from", "first_day", type=_DAY, required=True, help="First day (UTC), YYYY-MM-DD.")
@click.option("--to", "last_day", type=_DAY, required=True, help="Last day (UTC), included.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
@click.option(
    "--territorial-scope",
    "scope",
    default="",
    metavar="CODES",
    help="EEA countries the decisions apply in, comma-separated (GR for Greece).",
)
@click.option("--content-language", default="", metavar="CODE", help="ISO 639-1 code, e.g. DE.")
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
    start = first_day.replace(tzinfo=UTC)
    end = last_day.replace(tzinfo=UTC) + timedelta(days=1)
    if end <= start:
        raise InvalidInputError("--to is before --from")
    repository = context.services.review_items
    statements = statements_between(
        repository.decided_between(start, end),
        _grounds(repository.grounds()),
        territorial_scope=[code for code in scope.split(",") if code.strip()],
        content_language=content_language,
    )
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


def _grounds(listed: list[Ground]) -> dict[str, Ground]:
    """The grounds by code; a default ground an admin removed still explains past decisions."""
    return {g.code: g for g in DEFAULT_GROUNDS} | {g.code: g for g in listed}
