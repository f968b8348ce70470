"""Takedown notices: what a notice to a platform says, under which law, in which language,
from a case and one of its locators. No I/O and no rendering here (integrations/notices.py
renders the texts).

A TAKE IT DOWN Act request carries the signature, the identification and location of the
depiction, the good-faith statement and a contact (47 U.S.C. 223a(a)(1)(B)); a DSA
Article 16 notice a substantiated explanation, the exact location, the submitter's name and
email except where the content involves a minor, and the bona fide statement (Art. 16(2)).
A notice never carries the image, a hash or the person's contact details: the contact is
the service's, with the case number as the reference.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from shieldwall.cases.models import Case, ReporterRole
from shieldwall.errors import InvalidInputError
from shieldwall.takedown.platforms import NOTICE_LANGUAGES, LegalBasis, Platform

TEMPLATED_BASES: Final = (LegalBasis.TAKE_IT_DOWN, LegalBasis.DSA_ART16)
"""The legal bases notices are written for (the others: the platform's own form)."""


def notice_basis(platform: Platform) -> LegalBasis | None:
    """The basis a notice to `platform` rests on: the TAKE IT DOWN Act for a US platform
    that accepts it, else DSA Article 16 where accepted, else the TAKE IT DOWN Act; None
    when the platform accepts neither."""
    if platform.jurisdiction == "US" and LegalBasis.TAKE_IT_DOWN in platform.bases:
        return LegalBasis.TAKE_IT_DOWN
    for basis in (LegalBasis.DSA_ART16, LegalBasis.TAKE_IT_DOWN):
        if basis in platform.bases:
            return basis
    return None


@dataclass(frozen=True)
class NoticeFields:
    """Everything a notice's text is made from."""

    basis: LegalBasis
    language: str
    platform: str
    location: str
    reference: str
    signature: str
    role: str
    """`depicted`, `guardian` or `representative`: who signs."""
    minor: bool
    synthetic: bool
    country: str
    submitter_name: str
    """For DSA notices: the submitter's name ("" where the content involves a minor)."""
    submitter_email: str
    contact: str
    signed_on: datetime

    @property
    def on_behalf(self) -> bool:
        """Whether someone signs for the person shown."""
        return self.role != ReporterRole.DEPICTED.value


def notice_fields(
    case: Case,
    location: str,
    platform: Platform,
    *,
    contact: str,
    submitter: tuple[str, str],
    now: datetime,
    synthetic: bool = False,
    found_copies: Collection[str] = (),
) -> NoticeFields:
    """The fields of the notice about `location` (one of the case's locators, or a copy
    its sweeps found: `found_copies`) to `platform`. `submitter` is the (name, email) of
    whoever submits DSA notices (the service's operator); `contact` how the platform
    reaches the service."""
    if location not in {locator.value for locator in case.report.locators} | set(found_copies):
        raise InvalidInputError(f"{location!r} is not a locator of case {case.number}")
    basis = notice_basis(platform)
    if basis is None:
        raise InvalidInputError(
            f"{platform.name} accepts no notice Shieldwall writes (take_it_down, dsa_art16):"
            " use its own form"
        )
    report = case.report
    minor = report.depicted_minor
    name, email = submitter
    return NoticeFields(
        basis=basis,
        language=platform.language if platform.language in NOTICE_LANGUAGES else "en",
        platform=platform.display_name,
        location=location,
        reference=case.number,
        signature=report.signature,
        role=report.reporter.value,
        minor=minor,
        synthetic=synthetic,
        country=platform.jurisdiction,
        submitter_name="" if minor else name,
        submitter_email="" if minor else email,
        contact=contact,
        signed_on=now,
    )
