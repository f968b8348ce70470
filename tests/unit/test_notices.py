"""Takedown notices for each legal basis and language, against golden files: what the
TAKE IT DOWN Act and DSA Article 16 ask for is there, a minor's case leaves out the
submitter's name and email (DSA), and no notice carries the image, a hash or the person's
contact details. `SHIELDWALL_WRITE_GOLDEN=1` rewrites the files (then read them)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.cases.models import Case, CaseState, validate_report
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.notices import notice_text
from shieldwall.takedown.notices import notice_basis, notice_fields
from shieldwall.takedown.platforms import LegalBasis, Platform, platform_from_mapping
from tests.support.factories import REPORT_SHA, report_fields

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "notices"
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
LOCATION = "https://examplegram.example/p/8812"
CONTACT = "Shieldwall helpline <help@shieldwall.example> (acting for the person)"
SUBMITTER = ("Shieldwall helpline", "notices@shieldwall.example")


def case(**changes: object) -> Case:
    fields = report_fields(
        hashes=[{"sha256": REPORT_SHA}],
        locators=[
            {"kind": "url", "value": LOCATION},
            {"kind": "platform", "value": "a school group chat"},
        ],
        country="ES",
        **changes,
    )
    return Case(1, "SW-AB12-CD34", CaseState.RECEIVED, NOW, validate_report(fields), ())


def platform(basis: LegalBasis, language: str) -> Platform:
    return platform_from_mapping(
        {
            "name": "examplegram",
            "display_name": "Examplegram",
            "abuse_email": "abuse@examplegram.example",
            "jurisdiction": "US" if basis is LegalBasis.TAKE_IT_DOWN else "ES",
            "bases": [basis.value],
            "hosts": ["examplegram.example"],
            "language": language,
        }
    )


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SHIELDWALL_WRITE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {name}: run with SHIELDWALL_WRITE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("basis", [LegalBasis.TAKE_IT_DOWN, LegalBasis.DSA_ART16])
@pytest.mark.parametrize("language", ["en", "es", "ko"])
@pytest.mark.parametrize("minor", [False, True])
def test_each_notice_matches_its_golden_file(basis: LegalBasis, language: str, minor: bool) -> None:
    filed = case(reporter="guardian", depicted_minor=True, name="") if minor else case()
    fields = notice_fields(
        filed,
        LOCATION,
        platform(basis, language),
        contact=CONTACT,
        submitter=SUBMITTER,
        now=NOW,
        synthetic=True,
    )
    notice = notice_text(fields)
    _check_golden(
        f"{basis.value}.{language}{'.minor' if minor else ''}.txt",
        f"Subject: {notice.subject}\n\n{notice.body}",
    )
    assert "SW-AB12-CD34" in notice.subject
    assert LOCATION in notice.body
    assert filed.report.email not in notice.body  # the person's address never goes out
    assert REPORT_SHA not in notice.body
    if basis is LegalBasis.DSA_ART16:  # Art. 16(2)(c): no name or email for a minor
        assert (SUBMITTER[1] in notice.body) is not minor
    else:
        assert f"/s/ {filed.report.signature}" in notice.body


def test_a_us_platform_gets_a_take_it_down_request_and_an_eu_one_a_dsa_notice() -> None:
    both = platform_from_mapping(
        {
            "name": "x",
            "abuse_email": "a@x.example",
            "jurisdiction": "US",
            "bases": ["dsa_art16", "take_it_down"],
            "hosts": ["x.example"],
        }
    )
    assert notice_basis(both) is LegalBasis.TAKE_IT_DOWN
    european = platform_from_mapping({**both.as_json(), "jurisdiction": "DE"})
    assert notice_basis(european) is LegalBasis.DSA_ART16
    terms_only = platform_from_mapping({**both.as_json(), "bases": ["terms"]})
    assert notice_basis(terms_only) is None
    with pytest.raises(InvalidInputError, match="own form"):
        notice_fields(case(), LOCATION, terms_only, contact=CONTACT, submitter=SUBMITTER, now=NOW)


def test_a_notice_is_only_about_a_locator_of_the_case() -> None:
    with pytest.raises(InvalidInputError, match="not a locator"):
        notice_fields(
            case(),
            "https://examplegram.example/other",
            platform(LegalBasis.TAKE_IT_DOWN, "en"),
            contact=CONTACT,
            submitter=SUBMITTER,
            now=NOW,
        )
