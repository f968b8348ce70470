"""Enrolment files: written and read back; everything malformed refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shieldwall.errors import InvalidFormatError, InvalidInputError
from shieldwall.likeness.files import MAX_FILE_BYTES, enrolment_file, read_enrolment_file
from shieldwall.likeness.models import Statement

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FIELDS = {"enrollee": "self", "statements": [s.value for s in Statement]}


def template() -> np.ndarray:
    vector = np.random.default_rng(3).normal(size=128).astype(np.float32)
    return np.asarray(vector / np.linalg.norm(vector), np.float32)


def test_a_file_reads_back_with_its_consent_given_when_it_was_made() -> None:
    text = enrolment_file(FIELDS, [template()], NOW - timedelta(days=2))
    consent, [read] = read_enrolment_file(text.encode(), NOW)
    assert consent.given_at == NOW - timedelta(days=2)
    assert float(np.dot(read, template())) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        (lambda d: "{", InvalidFormatError, "not a JSON"),
        (lambda d: json.dumps([d]), InvalidFormatError, "not a shieldwall-enrolment"),
        (lambda d: json.dumps({**d, "version": 2}), InvalidFormatError, "version"),
        (lambda d: json.dumps({**d, "made_at": "yesterday"}), InvalidFormatError, "made_at"),
        (
            lambda d: json.dumps({**d, "made_at": "2026-12-04T11:00:00"}),
            InvalidInputError,
            "30 days",
        ),
        (
            lambda d: json.dumps({**d, "made_at": (NOW + timedelta(hours=1)).isoformat()}),
            InvalidInputError,
            "30 days",
        ),
        (lambda d: json.dumps({**d, "consent": []}), InvalidFormatError, "consent"),
        (lambda d: json.dumps({**d, "templates": []}), InvalidInputError, "1 to 5"),
        (lambda d: " " * (MAX_FILE_BYTES + 1), InvalidFormatError, "at most"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(
    change: object, error: type[Exception], reason: str
) -> None:
    document = json.loads(enrolment_file(FIELDS, [template()], NOW))
    text = change(document)  # type: ignore[operator]
    with pytest.raises(error, match=reason):
        read_enrolment_file(text.encode(), NOW)
