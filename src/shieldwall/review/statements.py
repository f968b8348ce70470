"""DSA Art. 17 statements of reasons, in the EU Transparency Database schema. No I/O.

One statement is built for each confirm decision on a platform's content (the content was
removed or restricted). Field names and values follow the database's July 2025 schema
(docs: ../shared/reference/review.md). A statement holds no personal data: no reviewer, no
case number, no `content_ref` (it may be a URL naming a person), no hashes, no e-mail; the
reviewer's facts are redacted of links, e-mail addresses and the item's own identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Final

from shieldwall.errors import InvalidInputError
from shieldwall.review.models import (
    CONTENT_SOURCES,
    AutomatedDecision,
    Decision,
    DecisionKind,
    Ground,
    RemovalAction,
    ReviewItem,
)

MAX_PUID: Final = 500
MAX_EXPLANATION: Final = 2000
MAX_DECISION_FACTS: Final = 5000
MAX_LEGAL_GROUND: Final = 500
PUID_PATTERN: Final = re.compile(r"[a-zA-Z0-9_-]+")
_EEA_CODES: Final = (
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK"
)
EEA_COUNTRIES: Final = frozenset(_EEA_CODES.split())
"""The territorial scopes the database accepts (Greece is GR, not EL)."""
ISO_639_1: Final = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
    hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr
    nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq
    sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".upper().split()
)
"""Two-letter language codes (ISO 639-1), upper-case as the database wants them."""

_VISIBILITY: Final = {
    RemovalAction.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    RemovalAction.RESTRICT: "DECISION_VISIBILITY_CONTENT_DISABLED",
}
_AUTOMATED: Final = {
    AutomatedDecision.FULLY: "AUTOMATED_DECISION_FULLY",
    AutomatedDecision.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    AutomatedDecision.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}
_CONTENT_DATES: Final = (date(2000, 1, 1), date(2038, 1, 1))
_APPLICATION_DATES: Final = (date(2020, 1, 1), date(2038, 1, 1))
_SYNTHETIC_TERM: Final = r"(?:deep-?fakes?|nudif\w*|synthetic|ai[- ]generated)"
_SYNTHETIC: Final = re.compile(rf"\b{_SYNTHETIC_TERM}\b", re.IGNORECASE)
# "not a deepfake", "no synthetic ..." must not mark real photos as synthetic media.
_NEGATED: Final = re.compile(
    rf"\b(?:not|no|never|isn't|wasn't)\s+(?:an?\s+|the\s+)?{_SYNTHETIC_TERM}", re.IGNORECASE
)
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A link up to, not including, the punctuation that ends its sentence.
_LINK: Final = re.compile(r"\b(?:https?://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))", re.IGNORECASE)
# Any case number (`SW-XXXX-XXXX`, as typed), not only the item's own: facts may name another.
_CASE_NUMBER: Final = re.compile(r"\bSW[- ]?[0-9A-Z]{4}[- ]?[0-9A-Z]{4}\b", re.IGNORECASE)
_REDACTED: Final = "[redacted]"
_DEFAULT_FACTS: Final = (
    "A reviewer compared the content with a reported image and confirmed that it is "
    "intimate material shared without the consent of the person depicted."
)


def statement_of_reasons(
    item: ReviewItem,
    ground: Ground,
    *,
    territorial_scope: Sequence[str] = (),
    content_language: str = "",
    synthetic: bool = False,
) -> dict[str, object]:
    """The statement of reasons for the confirm decision on a platform item.

    `synthetic` marks deepfake ("nudify") output; the decision's facts saying so does too.
    InvalidInputError for any other item or decision, or a value the database refuses.
    """
    decision = _confirmed(item)
    if decision.ground != ground.code:
        raise InvalidInputError(
            f"item {item.id} was decided on ground {decision.ground!r}, not {ground.code!r}"
        )
    facts = _clean_facts(decision.facts, item) or _DEFAULT_FACTS
    synthetic = synthetic or says_synthetic(decision.facts)
    category, keywords = category_of(minor=item.minor, synthetic=synthetic)
    statement: dict[str, object] = {
        "puid": _puid(decision.statement_id),
        "decision_visibility": [_VISIBILITY[decision.action]],
        **_ground_fields(ground, facts),
        "content_type": ["CONTENT_TYPE_IMAGE", *(["CONTENT_TYPE_SYNTHETIC_MEDIA"] * synthetic)],
        "category": category,
        "category_specification": keywords,
        "territorial_scope": _territorial_scope(territorial_scope),
        "content_date": _day(item.opened_at, _CONTENT_DATES, "content_date"),
        "application_date": _day(decision.at, _APPLICATION_DATES, "application_date"),
        "decision_facts": truncate(facts, MAX_DECISION_FACTS),
        "source_type": source_type_of(item),
        "automated_detection": "Yes" if decision.automated_detection else "No",
        "automated_decision": _AUTOMATED[decision.automated_decision],
    }
    if ground.reference_url:
        statement["decision_ground_reference_url"] = ground.reference_url
    if content_language:
        statement["content_language"] = _language(content_language)
    return statement


def statements_between(
    items: Iterable[ReviewItem],
    grounds: Mapping[str, Ground],
    *,
    territorial_scope: Sequence[str] = (),
    content_language: str = "",
    synthetic: bool = False,
) -> list[dict[str, object]]:
    """The statements of the confirm decisions on platform items among `items`, in order.

    `grounds` maps a ground's code to the ground; a decision on a code that is missing is an
    InvalidInputError (put the ground back to export its statements).
    """
    statements = []
    for item in items:
        decision = item.decision
        if item.source not in CONTENT_SOURCES or decision is None:
            continue
        if decision.kind is not DecisionKind.CONFIRM:
            continue
        ground = grounds.get(decision.ground)
        if ground is None:
            raise InvalidInputError(
                f"item {item.id} was decided on ground {decision.ground!r}, "
                "which is not in the list of grounds"
            )
        statements.append(
            statement_of_reasons(
                item,
                ground,
                territorial_scope=territorial_scope,
                content_language=content_language,
                synthetic=synthetic,
            )
        )
    return statements


def says_synthetic(facts: str) -> bool:
    """Whether the facts call the content a deepfake, "nudified" or synthetic (not negated)."""
    return bool(_SYNTHETIC.search(_NEGATED.sub(" ", facts)))


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, ending in an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Cut at the last space when it is not too far back: never mid-word if avoidable.
    space = cut.rfind(" ")
    if space >= limit * 3 // 4:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _confirmed(item: ReviewItem) -> Decision:
    if item.source not in CONTENT_SOURCES:
        raise InvalidInputError(
            f"item {item.id} is a case item: statements are for a platform's content"
        )
    decision = item.decision
    if decision is None or decision.kind is not DecisionKind.CONFIRM:
        raise InvalidInputError(f"item {item.id} has no confirm decision")
    if decision.action not in _VISIBILITY:
        raise InvalidInputError(f"item {item.id}: a confirm decision removes or restricts")
    return decision


def _puid(statement_id: str) -> str:
    if not PUID_PATTERN.fullmatch(statement_id) or len(statement_id) > MAX_PUID:
        raise InvalidInputError(
            f"a statement id is 1-{MAX_PUID} letters, digits, - and _ (got {statement_id!r})"
        )
    return statement_id


def _ground_fields(ground: Ground, facts: str) -> dict[str, str]:
    label = truncate(ground.label, MAX_LEGAL_GROUND)
    explanation = truncate(facts, MAX_EXPLANATION)
    if ground.kind == "illegal":
        return {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": label,
            "illegal_content_explanation": explanation,
        }
    return {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": label,
        "incompatible_content_explanation": explanation,
    }


def category_of(*, minor: bool, synthetic: bool) -> tuple[str, list[str]]:
    """The database's category and keywords for NCII: of a minor, or an adult's; a
    deepfake keyword for synthetic content (review.md's mapping)."""
    if minor:
        keyword = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" + ("_DEEPFAKE" if synthetic else "")
        return "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", [keyword]
    keywords = ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"]
    if synthetic:
        keywords.append("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE")
    return "STATEMENT_CATEGORY_CYBER_VIOLENCE", keywords


def source_type_of(item: ReviewItem) -> str:
    """How the database names what brought the item: a trusted flagger, a person's
    notice (Art. 16), or the service's own initiative (voluntary)."""
    if item.trusted_flagger:
        return "SOURCE_TRUSTED_FLAGGER"
    # A platform item linked to a case was found because a person gave notice (Art. 16);
    # one the platform's own lookup found, with no case, is the platform's own initiative.
    return "SOURCE_ARTICLE_16" if item.case_number else "SOURCE_VOLUNTARY"


def _territorial_scope(codes: Sequence[str]) -> list[str]:
    scope: list[str] = []
    for code in codes:
        value = code.strip().upper() if isinstance(code, str) else ""
        if value == "EL":
            raise InvalidInputError("territorial scope: Greece is GR, not EL")
        if value not in EEA_COUNTRIES:
            raise InvalidInputError(f"territorial scope: {code!r} is not an EEA country code")
        if value not in scope:
            scope.append(value)
    return scope


def _language(code: str) -> str:
    value = code.strip().upper()
    if value not in ISO_639_1:
        raise InvalidInputError(f"content language: {code!r} is not an ISO 639-1 code")
    return value


def _day(moment: datetime, bounds: tuple[date, date], name: str) -> str:
    day = moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
    if not bounds[0] <= day <= bounds[1]:
        raise InvalidInputError(f"{name} {day} is outside {bounds[0]} to {bounds[1]}")
    return day.isoformat()


def _clean_facts(facts: str, item: ReviewItem) -> str:
    """The facts without links, e-mail addresses, case numbers or the item's identifiers."""
    text = _EMAIL.sub(_REDACTED, _LINK.sub(_REDACTED, facts))
    text = _CASE_NUMBER.sub(_REDACTED, text)
    identifiers = [item.content_ref, item.case_number]
    decision = item.decision
    if decision is not None and len(decision.reviewer) >= 3:
        identifiers.append(decision.reviewer)
    for identifier in sorted(filter(None, identifiers), key=len, reverse=True):
        pattern = rf"(?<!\w){re.escape(identifier)}(?!\w)"
        text = re.sub(pattern, _REDACTED, text, flags=re.IGNORECASE)
    return text.strip()
