"""The Transparency Database's rules for one statement of reasons, written by hand from the
schema table in ../shared/reference/review.md (not from Shieldwall's code, so that they check
it): required fields, enumerations, lengths, the fields a decision ground requires, the puid
pattern, dates and their ranges. Errors come per field, worded as the API's (Laravel's)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Final

Errors = dict[str, list[str]]

VISIBILITY: Final = frozenset(
    [
        *(
            f"DECISION_VISIBILITY_CONTENT_{name}"
            for name in (
                "REMOVED",
                "DISABLED",
                "DEMOTED",
                "AGE_RESTRICTED",
                "INTERACTION_RESTRICTED",
                "LABELLED",
            )
        ),
        "DECISION_VISIBILITY_OTHER",
    ]
)
MONETARY: Final = frozenset(
    f"DECISION_MONETARY_{n}" for n in ("SUSPENSION", "TERMINATION", "OTHER")
)
PROVISION: Final = frozenset(
    f"DECISION_PROVISION_{n}"
    for n in ("PARTIAL_SUSPENSION", "TOTAL_SUSPENSION", "PARTIAL_TERMINATION", "TOTAL_TERMINATION")
)
ACCOUNT: Final = frozenset({"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"})
ACCOUNT_TYPES: Final = frozenset({"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"})
ILLEGAL: Final = "DECISION_GROUND_ILLEGAL_CONTENT"
INCOMPATIBLE: Final = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
CONTENT_TYPES: Final = frozenset(
    f"CONTENT_TYPE_{n}"
    for n in ("APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER")
)
CATEGORIES: Final = frozenset(
    f"STATEMENT_CATEGORY_{n}"
    for n in [
        "ANIMAL_WELFARE",
        "CONSUMER_INFORMATION",
        "CYBER_VIOLENCE",
        "CYBER_VIOLENCE_AGAINST_WOMEN",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NOT_SPECIFIED_NOTICE",
        "OTHER_VIOLATION_TC",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "UNSAFE_AND_PROHIBITED_PRODUCTS",
        "VIOLENCE",
    ]
)
KEYWORDS: Final = frozenset(
    f"KEYWORD_{n}"
    for n in [
        "NON_CONSENSUAL_IMAGE_SHARING",
        "NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "CYBER_HARASSMENT",
        "CYBER_STALKING",
        "CYBER_BULLYING_INTIMIDATION",
        "CYBER_INCITEMENT",
        "NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        "BULLYING_AGAINST_GIRLS",
        "CYBER_HARASSMENT_AGAINST_WOMEN",
        "CYBER_STALKING_AGAINST_WOMEN",
        "CHILD_SEXUAL_ABUSE_MATERIAL",
        "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "OTHER",
    ]
)
"""The keywords the reference lists (those that matter for NCII, and KEYWORD_OTHER)."""
COUNTRIES: Final = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
SOURCES: Final = frozenset(
    {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION"}
    | {"SOURCE_VOLUNTARY"}
)
YES_NO: Final = frozenset({"Yes", "No"})
AUTOMATED: Final = frozenset(
    f"AUTOMATED_DECISION_{n}" for n in ("FULLY", "PARTIALLY", "NOT_AUTOMATED")
)
PUID: Final = re.compile(r"[a-zA-Z0-9_-]+")
DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
LANGUAGE: Final = re.compile(r"[A-Z]{2}")
EAN_13: Final = re.compile(r"\d{13}")
CONTENT_DATES: Final = (date(2000, 1, 1), date(2038, 1, 1))
APPLICATION_DATES: Final = (date(2020, 1, 1), date(2038, 1, 1))
DECISIONS: Final = ("decision_visibility", "decision_monetary", "decision_provision")
DECISIONS_ALL: Final = (*DECISIONS, "decision_account")
END_DATES: Final = tuple(
    f"end_date_{n}_restriction" for n in ("visibility", "monetary", "service", "account")
)


def _words(field: str) -> str:
    return field.replace("_", " ")


def _choice(values: frozenset[str]) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if isinstance(value, str) and value in values else "The selected {} is invalid."

    return check


def _choices(values: frozenset[str], *, at_least_one: bool) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if not isinstance(value, list):
            return "The {} field must be an array."
        if at_least_one and not value:
            return "The {} field is required."
        if len(set(map(str, value))) != len(value):
            return "The {} field has a duplicate value."
        if any(not isinstance(v, str) or v not in values for v in value):
            return "The selected {} is invalid."
        return None

    return check


def _text(limit: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if not isinstance(value, str):
            return "The {} field must be a string."
        if not value.strip():
            return "The {} field is required."
        if len(value) > limit:
            return f"The {{}} field must not be greater than {limit} characters."
        return None

    return check


def _day(
    bounds: tuple[date, date] | None, *, nullable: bool = False
) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if nullable and value in (None, ""):
            return None
        if not isinstance(value, str) or not DAY.fullmatch(value):
            return "The {} field must match the format Y-m-d."
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return "The {} field must be a valid date."
        if bounds is not None and not bounds[0] <= day <= bounds[1]:
            return f"The {{}} field must be a date between {bounds[0]} and {bounds[1]}."
        return None

    return check


def _puid(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "The {} field must be a string."
    if len(value) > 500:
        return "The {} field must not be greater than 500 characters."
    return None if PUID.fullmatch(value) else "The {} field format is invalid."


def _url(value: object) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/]+\S*", value):
        return "The {} field must be a valid URL."
    return None if len(value) <= 500 else "The {} field must not be greater than 500 characters."


def _language(value: object) -> str | None:
    ok = isinstance(value, str) and LANGUAGE.fullmatch(value)
    return None if ok else "The selected {} is invalid."


def _content_id(value: object) -> str | None:
    if not isinstance(value, dict) or set(value) != {"EAN-13"}:
        return "The {} field must be an object with the single key EAN-13."
    ean = value["EAN-13"]
    return None if isinstance(ean, str) and EAN_13.fullmatch(ean) else "The {} EAN-13 is invalid."


RULES: Final[Mapping[str, Callable[[object], str | None]]] = {
    "decision_visibility": _choices(VISIBILITY, at_least_one=True),
    "decision_visibility_other": _text(500),
    "decision_monetary": _choice(MONETARY),
    "decision_monetary_other": _text(500),
    "decision_provision": _choice(PROVISION),
    "decision_account": _choice(ACCOUNT),
    "account_type": _choice(ACCOUNT_TYPES),
    "decision_ground": _choice(frozenset({ILLEGAL, INCOMPATIBLE})),
    "illegal_content_legal_ground": _text(500),
    "illegal_content_explanation": _text(2000),
    "incompatible_content_ground": _text(500),
    "incompatible_content_explanation": _text(2000),
    "incompatible_content_illegal": _choice(YES_NO),
    "decision_ground_reference_url": _url,
    "content_type": _choices(CONTENT_TYPES, at_least_one=True),
    "content_type_other": _text(500),
    "category": _choice(CATEGORIES),
    "category_addition": _choices(CATEGORIES, at_least_one=False),
    "category_specification": _choices(KEYWORDS, at_least_one=False),
    "category_specification_other": _text(500),
    "territorial_scope": _choices(COUNTRIES, at_least_one=False),
    "content_language": _language,
    "content_date": _day(CONTENT_DATES),
    "application_date": _day(APPLICATION_DATES),
    **{name: _day(None, nullable=True) for name in END_DATES},
    "decision_facts": _text(5000),
    "source_type": _choice(SOURCES),
    "source_identity": _text(500),
    "automated_detection": _choice(YES_NO),
    "automated_decision": _choice(AUTOMATED),
    "puid": _puid,
    "content_id": _content_id,
}
REQUIRED: Final = (
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
# Documented as required, accepted empty: the key must be there, an empty list will do.
PRESENT: Final = ("territorial_scope",)


def statement_errors(statement: object) -> Errors:
    """What is wrong with one statement, by field; empty when the database would take it."""
    if not isinstance(statement, dict):
        return {"statement": ["The statement must be an object."]}
    errors: Errors = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message.format(_words(field)))

    for field in statement:
        if field not in RULES:
            fail(field, "The {} field is not allowed.")
    for field in (*REQUIRED, *PRESENT):
        if field not in statement or (field in REQUIRED and statement[field] in (None, "", [])):
            fail(field, "The {} field is required.")
    for field, check in RULES.items():
        if field in statement and field not in errors:
            problem = check(statement[field])
            if problem:
                fail(field, problem)
    for field, message in _conditional(statement):
        if field not in errors:
            fail(field, message)
    return errors


def _conditional(statement: Mapping[str, object]) -> list[tuple[str, str]]:
    """The fields other fields' values require (or forbid)."""
    problems: list[tuple[str, str]] = []
    if not any(statement.get(name) not in (None, "", []) for name in DECISIONS_ALL):
        problems.append(
            (
                "decision_visibility",
                "The {} field is required when none of decision monetary / decision provision /"
                " decision account are present.",
            )
        )
    ground = statement.get("decision_ground")
    needed = {
        ILLEGAL: ("illegal_content_legal_ground", "illegal_content_explanation"),
        INCOMPATIBLE: ("incompatible_content_ground", "incompatible_content_explanation"),
    }
    for field in needed.get(ground, ()) if isinstance(ground, str) else ():
        if field not in statement:
            problems.append(
                (field, f"The {{}} field is required when decision ground is {ground}.")
            )
    for field, of, value in (
        ("decision_visibility_other", "decision_visibility", "DECISION_VISIBILITY_OTHER"),
        ("decision_monetary_other", "decision_monetary", "DECISION_MONETARY_OTHER"),
        ("content_type_other", "content_type", "CONTENT_TYPE_OTHER"),
        ("category_specification_other", "category_specification", "KEYWORD_OTHER"),
    ):
        given = statement.get(of)
        chosen = value in given if isinstance(given, list) else given == value
        if chosen and field not in statement:
            problems.append((field, f"The {{}} field is required when {_words(of)} is {value}."))
    if statement.get("source_type") == "SOURCE_VOLUNTARY" and "source_identity" in statement:
        problems.append(
            ("source_identity", "The {} field is prohibited when source type is SOURCE_VOLUNTARY.")
        )
    return problems
