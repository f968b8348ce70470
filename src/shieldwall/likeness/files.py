"""Enrolment files: what `shieldwall enrol` writes on the person's own machine and a
service imports (`shieldwall enrolments import`). They hold the consent record and the face
templates, never a photo; they are biometric data: kept owner-only, deleted once imported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from shieldwall.detection.models import Template
from shieldwall.errors import InvalidFormatError, InvalidInputError
from shieldwall.likeness.models import Consent, consent_from_mapping, templates_from_lists

FORMAT: Final = "shieldwall-enrolment"
VERSION: Final = 1
MAX_FILE_BYTES: Final = 64 * 1024
MAX_AGE: Final = timedelta(days=30)
"""A file older than this is refused: consent is given for now, not for whenever."""


def enrolment_file(
    consent_fields: dict[str, Any], templates: Sequence[Template], made_at: datetime
) -> str:
    """The JSON text of an enrolment file (consent fields as the person gave them)."""
    return json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "made_at": made_at.astimezone(UTC).isoformat(),
            "consent": consent_fields,
            "templates": [[round(float(v), 6) for v in t] for t in templates],
        },
        indent=1,
    )


def read_enrolment_file(text: bytes, now: datetime) -> tuple[Consent, list[Template]]:
    """The consent record (given when the file was made) and templates of a file;
    InvalidFormatError or InvalidInputError naming what is wrong."""
    if len(text) > MAX_FILE_BYTES:
        raise InvalidFormatError(f"an enrolment file is at most {MAX_FILE_BYTES} bytes")
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidFormatError(f"not a JSON enrolment file: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidFormatError(f"not a {FORMAT} file")
    if document.get("version") != VERSION:
        raise InvalidFormatError(f"unknown {FORMAT} version {document.get('version')!r}")
    try:
        made_at = datetime.fromisoformat(str(document.get("made_at")))
    except ValueError:
        raise InvalidFormatError("made_at is not a time") from None
    if made_at.tzinfo is None or not now - MAX_AGE <= made_at <= now + timedelta(minutes=5):
        raise InvalidInputError("the file was not made within the last 30 days: enrol again")
    fields = document.get("consent")
    if not isinstance(fields, dict):
        raise InvalidFormatError("consent must be an object")
    return consent_from_mapping(fields, made_at), templates_from_lists(document.get("templates"))
