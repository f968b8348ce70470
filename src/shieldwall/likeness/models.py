"""Enrolments and the consent that allows them. No I/O here.

A person (or a parent or guardian, for someone under 18) enrols up to MAX_TEMPLATES face
templates made on their own device from ordinary photos. The consent record says who gave
it, for which purpose text (and its version), for how long (at most three years), when,
and that each statement was explicitly agreed to. The templates are kept only while the
enrolment is active; a withdrawal or the end of the term deletes them at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import numpy as np

from shieldwall.detection.models import Template
from shieldwall.errors import InvalidInputError

ENROLMENT_PREFIX: Final = "EN"
"""Enrolment numbers read `EN-XXXX-XXXX` (case numbers `SW-...`)."""

PURPOSE_VERSION: Final = "2026-12"
"""The version of the purpose text people agree to (docs/likeness.md holds it)."""

TEMPLATE_SIZE: Final = 128
"""Numbers in a face template (SFace)."""

MAX_TEMPLATE_VALUE: Final = 1e6
"""Template numbers are about +-1 (SFace's features); nothing near overflow is taken."""

MIN_TEMPLATES, MAX_TEMPLATES = 1, 5
"""Templates per enrolment: one per photo the person chose."""

MAX_TERM_DAYS, DEFAULT_TERM_DAYS = 3 * 365, 365
"""How long an enrolment lasts: at most three years, a year unless the person chooses."""

MAX_NAME: Final = 200

CONSENT_FIELDS: Final = frozenset(
    {"enrollee", "guardian_name", "guardian_signature", "term_days", "statements", "email"}
)


class Enrollee(StrEnum):
    """Who gives consent."""

    SELF = "self"  # the person shown, 18 or over
    GUARDIAN = "guardian"  # a parent or legal guardian, for someone under 18


class Statement(StrEnum):
    """What the person explicitly agrees to, each with its own checkbox."""

    OWN_FACE = "own_face"  # the photos show me (or my child)
    PURPOSE = "purpose"  # my face templates are used only to find explicit images of me
    REVIEW = "review"  # a person at the service reviews what is found before anything is done
    WITHDRAW = "withdraw"  # I can withdraw at any time, and the templates are deleted at once


class EnrolmentState(StrEnum):
    """Where an enrolment stands; only an active one holds templates."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Consent:
    """A consent record, as given (validated by `consent_from_mapping`)."""

    enrollee: Enrollee
    statements: frozenset[Statement]
    term_days: int
    given_at: datetime
    purpose_version: str = PURPOSE_VERSION
    guardian_name: str = ""
    guardian_signature: str = ""
    email: str = ""

    @property
    def expires_at(self) -> datetime:
        """When the enrolment ends by itself."""
        return self.given_at + timedelta(days=self.term_days)


@dataclass(frozen=True)
class Enrolment:
    """An enrolment as the service keeps it (templates aside: they never leave it)."""

    number: str
    consent: Consent
    state: EnrolmentState
    templates: int
    """How many templates it holds now (0 once withdrawn or expired)."""
    ended_at: datetime | None = None
    acted_on: tuple[datetime, ...] = ()
    """When a reviewer confirmed an image showing the person and it was blocked (the
    person is told this on their status page, never shown the image)."""


def consent_from_mapping(values: Mapping[str, Any], given_at: datetime) -> Consent:
    """A consent record from submitted fields; InvalidInputError naming every problem."""
    problems = [f"unknown field {name!r}" for name in sorted(set(values) - CONSENT_FIELDS)]
    enrollee = values.get("enrollee")
    if not isinstance(enrollee, str) or enrollee not in {e.value for e in Enrollee}:
        problems.append("enrollee must be 'self' or 'guardian'")
    statements = values.get("statements")
    listed = statements if isinstance(statements, list) else []
    agreed = {s for s in listed if isinstance(s, str)}
    missing = [s.value for s in Statement if s.value not in agreed]
    if missing:
        problems.append("every statement must be agreed to: " + ", ".join(missing))
    elif len(agreed) != len(listed) or agreed - {s.value for s in Statement}:
        problems.append("statements holds something that is not one of the statements")
    term = values.get("term_days", DEFAULT_TERM_DAYS)
    if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= MAX_TERM_DAYS:
        problems.append(f"term_days must be a whole number of days from 1 to {MAX_TERM_DAYS}")
    name, signature = _text(values, "guardian_name"), _text(values, "guardian_signature")
    if enrollee == Enrollee.GUARDIAN.value and not (name and signature):
        problems.append("a guardian gives their name and types it again as a signature")
    if enrollee == Enrollee.GUARDIAN.value and name and signature and name != signature:
        problems.append("the guardian's signature must be their name as typed above")
    email = _text(values, "email")
    if email and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
        problems.append("email is not an address")
    if problems:
        raise InvalidInputError("; ".join(problems))
    return Consent(
        Enrollee(str(enrollee)),
        frozenset(Statement(s) for s in agreed),
        int(term),
        given_at,
        guardian_name=name,
        guardian_signature=signature,
        email=email,
    )


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise InvalidInputError(f"{name} must be text of at most {MAX_NAME} characters")
    return " ".join(value.split())


def templates_from_lists(values: object) -> list[Template]:
    """Face templates as submitted (lists of 128 finite numbers), each made unit-length;
    InvalidInputError otherwise."""
    if not isinstance(values, list) or not MIN_TEMPLATES <= len(values) <= MAX_TEMPLATES:
        raise InvalidInputError(f"give {MIN_TEMPLATES} to {MAX_TEMPLATES} face templates")
    found = []
    for at, value in enumerate(values):
        if (
            not isinstance(value, list)
            or len(value) != TEMPLATE_SIZE
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            # abs() first: a huge integer compares fine but overflows math.isfinite.
            or not all(abs(v) <= MAX_TEMPLATE_VALUE and math.isfinite(v) for v in value)
        ):
            raise InvalidInputError(f"template {at} must be {TEMPLATE_SIZE} finite numbers")
        template = np.asarray(value, np.float64)
        norm = float(np.linalg.norm(template))
        if norm == 0.0 or not math.isfinite(norm):
            raise InvalidInputError(f"template {at} is all zeros or too large")
        found.append(np.asarray(template / norm, np.float32))
    return found


def consent_to_dict(consent: Consent) -> dict[str, Any]:
    """A consent record as JSON-ready fields (how storage keeps it, sealed)."""
    return {
        "enrollee": consent.enrollee.value,
        "statements": sorted(s.value for s in consent.statements),
        "term_days": consent.term_days,
        "given_at": consent.given_at.isoformat(),
        "purpose_version": consent.purpose_version,
        "guardian_name": consent.guardian_name,
        "guardian_signature": consent.guardian_signature,
        "email": consent.email,
    }


def consent_from_dict(values: Mapping[str, Any]) -> Consent:
    """A stored consent record (`consent_to_dict`) back."""
    return Consent(
        Enrollee(values["enrollee"]),
        frozenset(Statement(s) for s in values["statements"]),
        int(values["term_days"]),
        datetime.fromisoformat(values["given_at"]),
        purpose_version=str(values["purpose_version"]),
        guardian_name=str(values["guardian_name"]),
        guardian_signature=str(values["guardian_signature"]),
        email=str(values["email"]),
    )
