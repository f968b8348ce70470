"""`shieldwall enrolments ...`: likeness protection's enrolments from a terminal."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.config import MediaLimits
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.errors import InvalidInputError
from shieldwall.likeness.files import MAX_FILE_BYTES, enrolment_file, read_enrolment_file
from shieldwall.likeness.models import (
    DEFAULT_TERM_DAYS,
    MAX_TEMPLATES,
    MIN_TEMPLATES,
    Statement,
    consent_from_mapping,
)
from shieldwall.media.decode import decode_image, read_content


@click.group("enrolments")
def enrolments_group() -> None:
    """Enrolments for likeness protection (consent, templates, expiry)."""


@enrolments_group.command("expire")
@json_option
@pass_context
def expire_command(context: CliContext, as_json: bool) -> int:
    """End every enrolment whose term is over, deleting its templates (run daily, e.g.
    from cron; each end is written to the audit log)."""
    out = Output(as_json)
    ended = context.services.enrolments.expire()
    for enrolment in ended:
        out.record({"enrolment": enrolment.number, "state": enrolment.state.value})
    if not as_json:
        out.note(f"enrolments expired: {len(ended)}")
    return 0


@enrolments_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_context
def import_command(context: CliContext, path: Path, as_json: bool) -> int:
    """Enrol from a file made with `shieldwall enrol` (consent and templates, no photos).

    Prints the enrolment number and its secret, once: give both to the person (they need
    them to see the enrolment's status or withdraw it). Delete the file afterwards: it holds
    biometric templates."""
    services = context.services
    consent, templates = read_enrolment_file(
        read_limited(path, MAX_FILE_BYTES), services.enrolments.now()
    )
    enrolment, secret = services.enrolments.enrol(consent, templates)
    out = Output(as_json)
    out.record(
        {
            "enrolment": enrolment.number,
            "secret": secret,
            "templates": enrolment.templates,
            "expires_at": consent.expires_at.isoformat(),
        }
    )
    if not as_json:
        out.note(f"enrolment {enrolment.number}, secret {secret} (shown once)")
        out.note(f"{enrolment.templates} templates; ends {consent.expires_at:%Y-%m-%d}")
        out.note(f"delete {path}: it holds biometric templates")
    return 0


@click.command("enrol")
@click.argument("photos", nargs=-1, required=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the enrolment file (templates and consent; never the photos).",
)
@click.option(
    "--enrollee", type=click.Choice(["self", "guardian"]), default="self", show_default=True
)
@click.option("--guardian-name", default="", help="A parent's or guardian's full name.")
@click.option("--guardian-signature", default="", help="The same name, typed again as a signature.")
@click.option(
    "--agree",
    "agreed",
    multiple=True,
    type=click.Choice([s.value for s in Statement]),
    help="Each statement agreed to; all four are needed (see docs/likeness.md).",
)
@click.option("--term-days", type=int, default=DEFAULT_TERM_DAYS, show_default=True)
@click.option("--email", default="", help="Where to be told if an image is found (optional).")
@json_option
def enrol_command(
    photos: tuple[str, ...],
    out_path: Path,
    enrollee: str,
    guardian_name: str,
    guardian_signature: str,
    agreed: tuple[str, ...],
    term_days: int,
    email: str,
    as_json: bool,
) -> int:
    """Make face templates from 1-5 ordinary photos on this machine, for likeness protection.

    Each photo must show exactly one face: yours (or your child's). Only the templates and
    your consent go into the file; the photos never leave this machine."""
    fields: dict[str, Any] = {
        "enrollee": enrollee,
        "statements": sorted(set(agreed)),
        "term_days": term_days,
    }
    for name, value in (
        ("guardian_name", guardian_name),
        ("guardian_signature", guardian_signature),
        ("email", email),
    ):
        if value:
            fields[name] = value
    now = datetime.now(UTC)
    consent_from_mapping(fields, now)  # every problem named before any photo is read
    if not MIN_TEMPLATES <= len(photos) <= MAX_TEMPLATES:
        raise InvalidInputError(f"choose {MIN_TEMPLATES} to {MAX_TEMPLATES} photos")
    analyser = FaceAnalyser()
    limits = MediaLimits()
    templates = []
    for photo in photos:
        pixels = decode_image(read_content(Path(photo), limits), limits).pixels
        faces = analyser.faces(pixels)
        if len(faces) != 1:
            found = "no face" if not faces else f"{len(faces)} faces"
            raise InvalidInputError(f"{photo}: {found}; choose photos showing only your face")
        templates.append(faces[0].template)
    write_owner_only(out_path, enrolment_file(fields, templates, now))
    out = Output(as_json)
    out.record({"out": str(out_path), "templates": len(templates)})
    if not as_json:
        out.note(f"wrote {out_path}: {len(templates)} templates and your consent, no photos")
    return 0


def read_limited(path: Path, limit: int) -> bytes:
    """A file's bytes, refusing one over `limit`."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InvalidInputError(f"{path} is over {limit} bytes")
    return data


def write_owner_only(path: Path, text: str) -> None:
    """Write a new file readable by its owner only (refuses to overwrite one)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInputError(f"{path} exists; choose another name") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
