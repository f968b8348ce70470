"""`shieldwall protect` and `shieldwall case submit`: the victims' side from a terminal.

Support centres that work from a terminal hash the images on their own machine (`protect`:
the same signals as the `/protect` page, nothing else, images never leave) and file the
report with `case submit`, which posts the hashes and the legal fields to a server.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click
import httpx

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.files import hash_files, walk_paths
from shieldwall.cli.options import finish, jobs_option, json_option, resolve_jobs
from shieldwall.cli.output import Output
from shieldwall.cli.submission_import import SUBMISSION_FORMAT
from shieldwall.cli.submission_import import read_submission as read_submission_file
from shieldwall.errors import InvalidInputError, ShieldwallError
from shieldwall.hashing.service import ContentSignals, Purpose
from shieldwall.media.decode import read_content
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq_quality import signal_refusal

VIDEO_SUFFIXES: Final = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".3gp"})
"""Videos get MD5 and SHA-256 only, for now (per-frame PDQ is a later issue)."""


def _video_digests(path: str, context: CliContext) -> dict[str, str]:
    data = read_content(Path(path), context.settings.media)
    return {
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@click.command("protect")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the submission (hashes only; no file names, no images).",
)
@json_option
@jobs_option
@pass_context
def protect_command(
    context: CliContext, paths: tuple[str, ...], out_path: Path, as_json: bool, jobs: int | None
) -> int:
    """Hash photos and videos on this machine for a report; the images never leave it."""
    out = Output(as_json)
    files = list(walk_paths(paths))
    videos = {p for p in files if Path(p).suffix.lower() in VIDEO_SUFFIXES}
    photos = [p for p in files if p not in videos]
    hashed_items: dict[str, dict[str, Any]] = {}
    # Purpose.BANK: the region hashes too, as `bank add` stores them, so that a report made
    # here matches cropped and overlaid copies as well as a banked file does.
    for hashed in hash_files(
        photos, context.settings.media, resolve_jobs(jobs), purpose=Purpose.BANK
    ):
        if hashed.signals is None:
            out.problem(hashed.path, hashed.error or "unreadable")
        else:
            hashed_items[hashed.path] = photo_item(hashed.signals)
    for path in sorted(videos, key=files.index):
        try:
            hashed_items[path] = {"kind": "video", **_video_digests(path, context)}
        except (ShieldwallError, OSError) as exc:
            out.problem(path, str(exc))
    # In the order the files were given (directories walked in sorted order); `position`
    # is the file's place in that order, so an item can be traced even when a file failed.
    items = [
        {**hashed_items[path], "position": position}
        for position, path in enumerate(files)
        if path in hashed_items
    ]
    submission = {
        "format": SUBMISSION_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "hashes": items,
    }
    out_path.write_text(json.dumps(submission, indent=2) + "\n", encoding="utf-8")
    out.record({"out": str(out_path), "items": len(items), "problems": out.problems})
    out.note(f"{len(items)} of {len(files)} files hashed into {out_path}; {out.problems} failed")
    return finish(out.problems)


def photo_item(signals: ContentSignals) -> dict[str, Any]:
    """A photo's item in a submission: its whole-image hashes and its region hashes."""
    return {
        "kind": "photo",
        "pdq": signals.pdq.value,
        "pdq_quality": signals.pdq.quality,
        "md5": signals.md5.value,
        "sha256": signals.sha256.value,
        "regions": [
            {"variant": view.variant, "pdq": view.value, "quality": view.quality}
            for view in signals.views
        ],
    }


def read_submission(path: Path) -> dict[str, Any]:
    """The submission `shieldwall protect` wrote to `path`; a ClickException otherwise."""
    try:
        return read_submission_file(path)
    except InvalidInputError as exc:
        raise click.ClickException(str(exc)) from None


def _report_fields(submission: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The report to post: the submission's `report` object, then the options given."""
    report = dict(submission.get("report") or {})
    for name, value in options.items():
        if name != "locators" and value not in (None, (), False):
            report[name] = value
    locators = []
    for item in options.get("locators") or ():
        kind, given, value = item.partition("=")
        locators.append(
            {"kind": kind, "value": value} if given else {"kind": "text", "value": item}
        )
    if locators:
        report["locators"] = [*report.get("locators", []), *locators]
    report["hashes"] = [
        _report_item(item) for item in submission.get("hashes", []) if isinstance(item, dict)
    ]
    return report


def _report_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item's hashes as the server takes them. A PDQ hash the server would refuse (too
    plain, low quality, no quality) is left out: the photo is reported by its digests."""
    sent = {
        k: v for k, v in item.items() if k in {"pdq", "pdq_quality", "md5", "sha256", "regions"}
    }
    try:
        pdq = Signal.of("pdq", sent["pdq"], quality=sent.get("pdq_quality"))
    except (KeyError, TypeError, ShieldwallError):
        return sent  # no PDQ hash, or one the server will call invalid
    if signal_refusal(pdq, quality_required=True) is not None:
        del sent["pdq"]
        sent.pop("pdq_quality", None)
    return sent


@click.group("case")
def case_group() -> None:
    """Cases: file a report with hashes made by `shieldwall protect`."""


@case_group.command("submit")
@click.argument("submission", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--server", required=True, help="The Shieldwall server, e.g. https://ncii.example.")
@click.option(
    "--reporter", type=click.Choice(["depicted", "guardian", "representative"]), default=None
)
@click.option("--name", default=None, help="Full name (optional when the person was a minor).")
@click.option("--email", default=None, help="Contact email for the acknowledgement.")
@click.option("--signature", default=None, help="Electronic signature: the typed full name.")
@click.option("--authority", default=None, help="A representative's statement of authority.")
@click.option("--country", default=None, help="Country, ISO 3166 two letters (ES, KR, US...).")
@click.option("--minor", "depicted_minor", is_flag=True, help="The person depicted was under 18.")
@click.option(
    "--locator",
    "locators",
    multiple=True,
    metavar="KIND=VALUE",
    help="Where copies are: url=..., message=..., platform=..., text=... (repeatable).",
)
@click.option("--sign", "signature_confirmed", is_flag=True, help="I sign this report.")
@click.option(
    "--good-faith", is_flag=True, help="I believe in good faith it was shared without consent."
)
@click.option("--accurate", is_flag=True, help="The information in this report is accurate.")
@json_option
def submit_command(submission: Path, server: str, as_json: bool, **options: Any) -> int:
    """File a report from a submission file with a server; prints the case number and secret."""
    report = _report_fields(read_submission(submission), options)
    url = server.rstrip("/") + "/protect/api/cases"
    try:
        response = httpx.post(url, json=report, timeout=30.0)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {server}: {exc}") from None
    if response.status_code == 422:
        body = response.json()
        for item in body.get("problems", []):
            click.echo(f"{item['field']}: {item['code']}", err=True)
        raise click.ClickException(body.get("detail", "the report was refused"))
    if response.status_code != 201:
        raise click.ClickException(
            f"the server answered {response.status_code}: {response.text[:200]}"
        )
    filed = response.json()
    out = Output(as_json)
    out.record(filed)
    if not as_json:
        click.echo(f"case number: {filed['case_number']}")
        click.echo(f"secret:      {filed['secret']}   (shown once: keep it safe)")
        click.echo(f"received:    {filed['received_at']} (copies must be gone within 48 hours)")
    sys.stdout.flush()
    return 0
