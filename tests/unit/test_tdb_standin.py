"""The Transparency Database stand-in is faithful: its rules refuse what the schema refuses
(tests/support/dsa_tdb_schema.json, both written from the reference table), per field; its
endpoints store only whole valid batches of 1 to 100 with new puids, behind the token."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.support.tdb_rules import statement_errors
from tests.support.tdb_standin import NOT_UNIQUE, TOKEN, TdbStandIn

SCHEMA = json.loads((Path(__file__).parents[1] / "support" / "dsa_tdb_schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
AUTH = {"authorization": f"Bearer {TOKEN}", "accept": "application/json"}
VALID: dict[str, Any] = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Terms of service 4.2",
    "incompatible_content_explanation": "Intimate image shared without consent.",
    "content_type": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "category_specification": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
    "territorial_scope": [],
    "content_language": "EL",
    "content_date": "2026-11-30",
    "application_date": "2026-12-01",
    "end_date_visibility_restriction": None,
    "decision_facts": "A reviewer confirmed a hash-bank match.",
    "source_type": "SOURCE_ARTICLE_16",
    "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    "puid": "sw-0c6f3f0e",
    "content_id": {"EAN-13": "4006381333931"},
}
# Each change makes the statement invalid at the field named.
BROKEN: list[tuple[str, dict[str, Any], list[str]]] = [
    ("decision_ground", {"decision_ground": None}, []),
    ("decision_ground", {"decision_ground": "DECISION_GROUND_OTHER"}, []),
    ("decision_visibility", {}, ["decision_visibility"]),
    ("decision_visibility", {"decision_visibility": ["DECISION_VISIBILITY_GONE"]}, []),
    ("decision_visibility_other", {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, []),
    ("incompatible_content_explanation", {}, ["incompatible_content_explanation"]),
    ("incompatible_content_explanation", {"incompatible_content_explanation": "x" * 2001}, []),
    (
        "illegal_content_legal_ground",
        {"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_explanation": "x"},
        [],
    ),
    ("content_type", {"content_type": []}, []),
    ("content_type_other", {"content_type": ["CONTENT_TYPE_OTHER"]}, []),
    ("category", {"category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"}, []),
    (
        "category_specification",
        {"category_specification": ["KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"]},
        [],
    ),
    ("territorial_scope", {}, ["territorial_scope"]),
    ("territorial_scope", {"territorial_scope": ["EL"]}, []),
    ("content_language", {"content_language": "el"}, []),
    ("content_date", {"content_date": "1999-12-31"}, []),
    ("content_date", {"content_date": "2026-02-30"}, []),
    ("application_date", {"application_date": "2019-12-31"}, []),
    ("application_date", {"application_date": "01/12/2026"}, []),
    ("end_date_visibility_restriction", {"end_date_visibility_restriction": "tomorrow"}, []),
    ("decision_facts", {"decision_facts": "x" * 5001}, []),
    ("source_type", {"source_type": "SOURCE_ARTICLE_17"}, []),
    ("source_identity", {"source_type": "SOURCE_VOLUNTARY", "source_identity": "x"}, []),
    ("automated_detection", {"automated_detection": True}, []),
    ("automated_decision", {"automated_decision": "AUTOMATED_DECISION_NONE"}, []),
    ("puid", {"puid": "sw 1"}, []),
    ("puid", {"puid": "p" * 501}, []),
    ("puid", {}, ["puid"]),
    ("content_id", {"content_id": {"EAN-13": "123"}}, []),
    ("decision_ground_reference_url", {"decision_ground_reference_url": "ftp://x"}, []),
    ("reviewer", {"reviewer": "annika"}, []),
]


def test_a_valid_statement_passes_both() -> None:
    assert list(VALIDATOR.iter_errors(VALID)) == []
    assert statement_errors(VALID) == {}


@pytest.mark.parametrize(("field", "changes", "removed"), BROKEN)
def test_the_rules_refuse_what_the_schema_refuses(
    field: str, changes: dict[str, Any], removed: list[str]
) -> None:
    statement = {**copy.deepcopy(VALID), **changes}
    for name in removed:
        del statement[name]
    assert list(VALIDATOR.iter_errors(statement)), "the schema takes it"
    errors = statement_errors(statement)
    assert field in errors, errors
    assert all(message.startswith("The ") for message in errors[field])


def _post(standin: TdbStandIn, path: str, body: object, **headers: str) -> tuple[int, Any]:
    status, _, payload = standin.answer(
        "POST", path, {**AUTH, **headers}, json.dumps(body).encode()
    )
    return status, payload


def _statement(puid: str) -> dict[str, Any]:
    return {**VALID, "puid": puid}


def test_a_bulk_request_stores_all_or_nothing() -> None:
    standin = TdbStandIn()
    status, _ = _post(standin, "/api/v1/statements", {"statements": [_statement("a")]})
    assert status == 201
    batch = [_statement("b"), _statement("a"), {**_statement("c"), "category": "X"}]
    status, body = _post(standin, "/api/v1/statements", {"statements": batch})
    assert status == 422
    assert body["errors"]["statements.1.puid"] == [NOT_UNIQUE]
    assert body["errors"]["statements.2.category"] == ["The selected category is invalid."]
    assert "(and 1 more error)" in body["message"]
    assert set(standin.statements) == {"a"}
    repeated = [_statement("d"), _statement("d")]
    assert _post(standin, "/api/v1/statements", {"statements": repeated})[0] == 422
    assert set(standin.statements) == {"a"}


@pytest.mark.parametrize("count", [0, 101])
def test_a_bulk_request_holds_1_to_100(count: int) -> None:
    batch = [_statement(f"p{i}") for i in range(count)]
    status, body = _post(TdbStandIn(), "/api/v1/statements", {"statements": batch})
    assert status == 422
    assert "between 1 and 100" in body["errors"]["statements"][0]


def test_one_statement_and_the_existing_puid_check() -> None:
    standin = TdbStandIn()
    standin.url = "http://tdb.test"
    assert _post(standin, "/api/v1/statement", _statement("x"))[0] == 201
    status, body = _post(standin, "/api/v1/statement", _statement("x"))
    assert (status, body["errors"]) == (422, {"puid": [NOT_UNIQUE]})
    status, headers, _ = standin.answer("GET", "/api/v1/statement/existing-puid/x", AUTH, b"")
    assert status == 302
    assert headers["Location"].startswith("http://tdb.test/api/v1/statement/")
    assert standin.answer("GET", "/api/v1/statement/existing-puid/y", AUTH, b"")[0] == 404


def test_the_token_is_required_and_failures_can_be_scripted() -> None:
    standin = TdbStandIn()
    body = {"statements": [_statement("a")]}
    assert _post(standin, "/api/v1/statements", body, authorization="Bearer wrong")[0] == 401
    assert _post(standin, "/api/v1/statements", body, authorization="")[0] == 401
    standin.fail_next(2)
    assert _post(standin, "/api/v1/statements", body)[0] == 500
    assert _post(standin, "/api/v1/statement", body["statements"][0])[0] == 500
    assert standin.statements == {}
    assert _post(standin, "/api/v1/statements", body)[0] == 201
    assert [r.status for r in standin.seen] == [401, 401, 500, 500, 201]
