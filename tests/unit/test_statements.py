"""Statements of reasons: every one the builder makes fits the Transparency Database schema
(tests/support/dsa_tdb_schema.json, written from the reference table) and carries no
personal data; the schema itself refuses what the database refuses."""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from shieldwall.errors import InvalidInputError
from shieldwall.review.models import (
    DEFAULT_GROUNDS,
    AutomatedDecision,
    Decision,
    DecisionKind,
    Ground,
    ItemMatch,
    ItemSource,
    ItemState,
    RemovalAction,
    ReviewItem,
)
from shieldwall.review.statements import (
    says_synthetic,
    statement_of_reasons,
    statements_between,
    truncate,
)
from shieldwall.signals.models import Signal

SCHEMA = json.loads((Path(__file__).parents[1] / "support" / "dsa_tdb_schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
ILLEGAL = Ground("dsa-illegal-ncii", "Illegal under national law: NCII", "illegal")
LINKED = Ground("take-it-down-act", "TAKE IT DOWN Act", "illegal", "https://example.org/law")
TERMS = Ground(
    "terms-ncii", "Terms of service 4.2: intimate images without consent", "incompatible"
)
OPENED = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
DECIDED = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)
CASE_NUMBER = "SW-7KQ4-9XPM"
CONTENT_REF = "https://uploads.example.com/u/jane.doe-1987/holiday.jpg"
REVIEWER = "reviewer-annika"
REASON = "the depicted person wrote to support from jane@example.com"
PDQ = "f" * 64


def decision(
    kind: DecisionKind = DecisionKind.CONFIRM,
    *,
    action: RemovalAction = RemovalAction.REMOVE,
    ground: str = ILLEGAL.code,
    facts: str = "A hash-bank match of a reported image; a reviewer confirmed it.",
    statement_id: str = "sw-0c6f3f0e-4a8d-4d6b-9a57-3e1b2c8d9f10",
    automated: AutomatedDecision = AutomatedDecision.PARTIALLY,
    at: datetime = DECIDED,
) -> Decision:
    return Decision(
        kind=kind,
        action=action,
        ground=ground,
        facts=facts,
        reason=REASON,
        reviewer=REVIEWER,
        at=at,
        automated_detection=True,
        automated_decision=automated,
        statement_id=statement_id,
    )


def item(
    *decisions: Decision,
    source: ItemSource = ItemSource.PLATFORM,
    minor: bool = False,
    trusted_flagger: bool = False,
    case_number: str = CASE_NUMBER,
    item_id: int = 1,
) -> ReviewItem:
    return ReviewItem(
        id=item_id,
        source=source,
        state=ItemState.DECIDED,
        opened_at=OPENED,
        deadline=OPENED + timedelta(hours=48),
        minor=minor,
        trusted_flagger=trusted_flagger,
        case_number=case_number,
        content_ref=CONTENT_REF,
        opened_by_key=3,
        content_address="ab" * 32,
        signals=(Signal.of("pdq", PDQ),),
        matches=(ItemMatch("reported", 41, "pdq", 12, "original"),),
        decisions=decisions or (decision(),),
    )


def errors(statement: dict[str, Any]) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(statement)]


def valid_statement() -> dict[str, Any]:
    return statement_of_reasons(item(), ILLEGAL, territorial_scope=["DE", "GR"])


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


COMBINATIONS = list(
    itertools.product(
        (False, True),  # minor
        (False, True),  # synthetic
        (RemovalAction.REMOVE, RemovalAction.RESTRICT),
        (ILLEGAL, LINKED, TERMS),
        ("voluntary", "article16", "trusted"),
        tuple(AutomatedDecision),
    )
)


@pytest.mark.parametrize(
    ("minor", "synthetic", "action", "ground", "source", "automated"), COMBINATIONS
)
def test_every_statement_fits_the_schema(
    minor: bool,
    synthetic: bool,
    action: RemovalAction,
    ground: Ground,
    source: str,
    automated: AutomatedDecision,
) -> None:
    reviewed = item(
        decision(action=action, ground=ground.code, automated=automated),
        minor=minor,
        trusted_flagger=source == "trusted",
        case_number="" if source == "voluntary" else CASE_NUMBER,
    )
    statement = statement_of_reasons(
        reviewed, ground, territorial_scope=("FR", "gr"), content_language="el", synthetic=synthetic
    )
    assert errors(statement) == []
    assert (
        statement["source_type"]
        == {
            "voluntary": "SOURCE_VOLUNTARY",
            "article16": "SOURCE_ARTICLE_16",
            "trusted": "SOURCE_TRUSTED_FLAGGER",
        }[source]
    )
    assert statement["automated_decision"] == f"AUTOMATED_DECISION_{automated.name}"
    assert statement["territorial_scope"] == ["FR", "GR"]
    assert statement["content_language"] == "EL"


def test_an_adults_image_is_cyber_violence_with_the_ncii_keyword() -> None:
    statement = valid_statement()
    assert statement["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert statement["category_specification"] == ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"]
    assert statement["content_type"] == ["CONTENT_TYPE_IMAGE"]


def test_a_deepfake_adds_synthetic_media_and_the_deepfake_keyword() -> None:
    statement = statement_of_reasons(item(), ILLEGAL, synthetic=True)
    assert statement["content_type"] == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"]
    assert statement["category_specification"] == [
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    ]


def test_a_minor_is_protection_of_minors_with_the_csam_keywords() -> None:
    plain = statement_of_reasons(item(minor=True), ILLEGAL)
    fake = statement_of_reasons(item(minor=True), ILLEGAL, synthetic=True)
    assert plain["category"] == fake["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert plain["category_specification"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
    assert fake["category_specification"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ("A nudified picture made from her profile photo.", True),
        ("Deepfake of a public figure.", True),
        ("AI-generated intimate image.", True),
        ("This is not a deepfake: the original photo was shared.", False),
        ("A photo shared by a former partner.", False),
    ],
)
def test_the_facts_can_say_the_image_is_synthetic(facts: str, expected: bool) -> None:
    assert says_synthetic(facts) is expected
    statement = statement_of_reasons(item(decision(facts=facts)), ILLEGAL)
    assert ("CONTENT_TYPE_SYNTHETIC_MEDIA" in statement["content_type"]) is expected  # type: ignore[operator]


def test_the_fields_of_an_illegal_ground() -> None:
    statement = statement_of_reasons(item(decision(ground=LINKED.code)), LINKED)
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert statement["illegal_content_legal_ground"] == LINKED.label
    assert statement["illegal_content_explanation"] == statement["decision_facts"]
    assert statement["decision_ground_reference_url"] == "https://example.org/law"
    assert not any(key.startswith("incompatible") for key in statement)


def test_the_fields_of_a_terms_ground() -> None:
    statement = statement_of_reasons(item(decision(ground=TERMS.code)), TERMS)
    assert statement["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert statement["incompatible_content_ground"] == TERMS.label
    assert "illegal_content_legal_ground" not in statement
    assert "decision_ground_reference_url" not in statement


def test_visibility_dates_puid_and_automation() -> None:
    removed = valid_statement()
    restricted = statement_of_reasons(item(decision(action=RemovalAction.RESTRICT)), ILLEGAL)
    assert removed["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert restricted["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert (removed["content_date"], removed["application_date"]) == ("2026-11-30", "2026-12-02")
    assert removed["puid"] == "sw-0c6f3f0e-4a8d-4d6b-9a57-3e1b2c8d9f10"
    assert removed["automated_detection"] == "Yes"
    assert "content_language" not in removed


def test_long_facts_are_cut_at_a_word_within_each_limit() -> None:
    facts = ("The uploaded image matched reported entry material closely. " * 60).strip()
    assert len(facts) < 5000
    statement = statement_of_reasons(item(decision(facts=facts)), ILLEGAL)
    explanation = statement["illegal_content_explanation"]
    assert isinstance(explanation, str)
    assert 1900 <= len(explanation) <= 2000
    assert explanation.endswith("…")
    assert explanation[:-1].split()[-1] in facts.split()  # a whole word, not half of one
    assert statement["decision_facts"] == facts
    assert errors(statement) == []
    assert truncate("short", 10) == "short"
    assert len(truncate("x" * 3000, 2000)) == 2000  # one long word is still cut to the limit


def test_empty_facts_get_a_plain_description() -> None:
    statement = statement_of_reasons(item(decision(facts="")), ILLEGAL)
    assert statement["decision_facts"]
    assert errors(statement) == []


def test_no_personal_data_from_the_item_appears_anywhere() -> None:
    facts = (
        f"Matched case {CASE_NUMBER}; uploaded at {CONTENT_REF}; {REVIEWER} checked it; "
        "the uploader's address is uploader@example.net."
    )
    reviewed = item(decision(facts=facts), trusted_flagger=True)
    text = json.dumps(statement_of_reasons(reviewed, ILLEGAL)).lower()
    for personal in (
        CASE_NUMBER,
        CONTENT_REF,
        "jane.doe",
        REVIEWER,
        "annika",
        REASON,
        "jane@example.com",
        "uploader@example.net",
        PDQ,
        "ab" * 32,
    ):
        assert personal.lower() not in text, personal
    assert "matched case [redacted]" in text


def test_any_case_number_in_the_facts_is_redacted_even_on_an_item_without_a_case() -> None:
    facts = "Same picture as case SW-2ABC-DEF3 and case sw 9xyz 7kqm; see www.example.org/x."
    statement = statement_of_reasons(item(decision(facts=facts), case_number=""), ILLEGAL)
    assert statement["decision_facts"] == (
        "Same picture as case [redacted] and case [redacted]; see [redacted]."
    )


@pytest.mark.parametrize(
    ("reviewed", "message"),
    [
        (item(source=ItemSource.CASE), "case item"),
        (item(decision(DecisionKind.REJECT)), "no confirm"),
        (item(decision(DecisionKind.ESCALATE)), "no confirm"),
        (item(decision(statement_id="")), "statement id"),
        (item(decision(statement_id="sw 1")), "statement id"),
        (item(decision(statement_id="s" * 501)), "statement id"),
        (item(decision(action=RemovalAction.NONE)), "removes or restricts"),
        (item(decision(ground="csam")), "decided on ground"),
        (item(decision(at=datetime(2019, 12, 31, tzinfo=UTC))), "application_date"),
    ],
)
def test_anything_but_a_confirm_on_platform_content_is_refused(
    reviewed: ReviewItem, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        statement_of_reasons(reviewed, ILLEGAL)


@pytest.mark.parametrize(
    ("scope", "language", "message"),
    [(["EL"], "", "Greece is GR"), (["US"], "", "not an EEA"), ([], "english", "ISO 639-1")],
)
def test_scope_and_language_are_checked(scope: list[str], language: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        statement_of_reasons(item(), ILLEGAL, territorial_scope=scope, content_language=language)


def test_statements_between_picks_the_confirm_decisions_on_platform_items() -> None:
    grounds = {g.code: g for g in DEFAULT_GROUNDS}
    confirmed = item(decision(ground="csam", statement_id="sw-a"), item_id=1, minor=True)
    escalated_then_confirmed = item(
        decision(DecisionKind.ESCALATE, statement_id=""),
        decision(ground="terms-ncii", statement_id="sw-b"),
        item_id=2,
    )
    rejected = item(decision(DecisionKind.REJECT, statement_id=""), item_id=3)
    case_item = item(decision(DecisionKind.ACCEPT, statement_id=""), item_id=4)
    case_item = replace(case_item, source=ItemSource.CASE)
    statements = statements_between(
        [confirmed, escalated_then_confirmed, rejected, case_item], grounds, content_language="de"
    )
    assert [s["puid"] for s in statements] == ["sw-a", "sw-b"]
    assert all(errors(s) == [] for s in statements)
    assert {s["content_language"] for s in statements} == {"DE"}


def test_statements_between_refuses_a_ground_no_longer_listed() -> None:
    with pytest.raises(InvalidInputError, match="not in the list of grounds"):
        statements_between([item()], {})


def mutated(change: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    statement = copy.deepcopy(valid_statement())
    statement.update(change)
    for key in drop:
        del statement[key]
    return statement


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(mutated({}, drop=("puid",)), id="no puid"),
        pytest.param(mutated({"puid": "sw 1/2"}), id="puid pattern"),
        pytest.param(mutated({"puid": "x" * 501}), id="puid length"),
        pytest.param(
            mutated({"category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"}), id="old"
        ),
        pytest.param(
            mutated({"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"}), id="porn"
        ),
        pytest.param(
            mutated({"category_specification": ["KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"]}), id="kw"
        ),
        pytest.param(mutated({}, drop=("illegal_content_explanation",)), id="no explanation"),
        pytest.param(
            mutated({"decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}), id="no terms"
        ),
        pytest.param(mutated({}, drop=("decision_visibility",)), id="no decision_*"),
        pytest.param(mutated({"decision_visibility": []}), id="empty visibility"),
        pytest.param(mutated({"territorial_scope": ["EL"]}), id="EL"),
        pytest.param(mutated({"content_language": "el"}), id="lower-case language"),
        pytest.param(mutated({"content_date": "1999-12-31"}), id="content date"),
        pytest.param(mutated({"application_date": "2019-06-01"}), id="application date"),
        pytest.param(mutated({"application_date": "2026-02-30"}), id="no such day"),
        pytest.param(mutated({"decision_facts": "x" * 5001}), id="facts length"),
        pytest.param(mutated({"automated_detection": True}), id="detection boolean"),
        pytest.param(mutated({"case_number": CASE_NUMBER}), id="extra field"),
        pytest.param(
            mutated({"source_type": "SOURCE_VOLUNTARY", "source_identity": "a platform"}),
            id="identity of voluntary",
        ),
        pytest.param(
            mutated({"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}), id="other no text"
        ),
    ],
)
def test_the_schema_refuses_what_the_database_refuses(bad: dict[str, Any]) -> None:
    assert errors(valid_statement()) == []
    assert errors(bad) != []
