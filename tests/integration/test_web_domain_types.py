"""The native API's allowed values are the domain's: read from the OpenAPI document.

Adding a signal type, role, entry source or bank action to the domain must change the
API's bodies with it (no `Literal` copies in web/): these tests fail on any drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.banks.models import EntrySource, EntryState, MatchAction
from shieldwall.cases.models import CaseState, LocatorKind, LocatorState
from shieldwall.signals.models import SIGNAL_TYPES, SignalKind
from shieldwall.web.app import create_app
from shieldwall.web.domain_types import signal_values_model
from tests.support.services import make_services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = make_services(tmp_path)
    yield built
    built.close()


@pytest.fixture
def document(services: Services) -> dict[str, Any]:
    return create_app(services).openapi()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with its $ref followed and `X | None` unwrapped."""
    if "anyOf" in schema:
        (schema,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def allowed(document: dict[str, Any], model: str, field: str) -> list[str]:
    """The `enum` a model's field allows in the document."""
    properties = document["components"]["schemas"][model]["properties"]
    enum: list[str] = _resolve(document, properties[field])["enum"]
    return enum


def values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


@pytest.mark.parametrize(
    ("model", "field", "domain"),
    [
        ("LookupOut", "verdict", MatchAction),
        ("BankCreate", "action", MatchAction),
        ("BankUpdate", "action", MatchAction),
        ("BankOut", "action", MatchAction),
        ("EntryIn", "source", EntrySource),
        ("EntryOut", "source", EntrySource),
        ("EntryOut", "state", EntryState),
        ("KeyCreate", "role", Role),
        ("KeyOut", "role", Role),
        ("CaseOut", "state", CaseState),
        ("LocatorOut", "kind", LocatorKind),
        ("LocatorOut", "state", LocatorState),
    ],
)
def test_enum_fields_allow_the_domains_values(
    document: dict[str, Any], model: str, field: str, domain: type[StrEnum]
) -> None:
    assert allowed(document, model, field) == values(domain)


@pytest.mark.parametrize(
    ("model", "field"),
    [("SignalIn", "type"), ("SignalOut", "type"), ("MatchOut", "signal_type")],
)
def test_signal_type_fields_allow_the_registry(
    document: dict[str, Any], model: str, field: str
) -> None:
    assert allowed(document, model, field) == list(SIGNAL_TYPES)


def test_a_signal_set_has_one_field_per_registered_signal_type(document: dict[str, Any]) -> None:
    properties = document["components"]["schemas"]["SignalSet"]["properties"]
    assert list(properties) == list(SIGNAL_TYPES)
    for name, kind in SIGNAL_TYPES.items():
        assert _resolve(document, properties[name])["maxLength"] == kind.hex_length


def test_a_new_signal_type_needs_only_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `vpdq` will do: registered once, it is a field of the signal set."""
    monkeypatch.setitem(SIGNAL_TYPES, "vpdq", SignalKind("vpdq", 64, True, "video PDQ"))
    model = signal_values_model("WithVideo")
    assert list(model.model_fields) == ["pdq", "md5", "sha256", "vpdq"]
    assert model.model_validate({"vpdq": "a" * 64}).model_dump()["vpdq"] == "a" * 64


def test_every_role_can_be_given_to_a_key_and_unknown_values_are_refused(
    services: Services,
) -> None:
    token = services.access.issue_key("admin", Role.ADMIN).token
    headers = {"X-API-Key": token}
    with TestClient(create_app(services)) as client:
        for role in Role:  # the monitor role was missing from the copied list
            created = client.post(
                "/api/v1/keys",
                json={"name": f"k-{role.value}", "role": role.value},
                headers=headers,
            )
            assert created.status_code == 201, created.text
            assert created.json()["role"] == role.value
        refused = client.post("/api/v1/keys", json={"name": "x", "role": "root"}, headers=headers)
        assert refused.status_code == 422
        client.post("/api/v1/banks", json={"name": "b"}, headers=headers).raise_for_status()
        entry = {"signals": [{"type": "vpdq", "value": "a" * 64}]}
        unknown = client.post("/api/v1/banks/b/entries", json={"entries": [entry]}, headers=headers)
        assert unknown.status_code == 422
        assert "EntriesIn" in unknown.json()["detail"]
        bank = client.get("/api/v1/banks/b", headers=headers).json()
        assert bank["action"] == MatchAction.BLOCK.value


def test_every_reference_in_the_document_resolves(document: dict[str, Any]) -> None:
    """Hand-documented bodies name their models, which the components then hold."""
    references = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert "EntriesIn" in references
    assert references <= set(document["components"]["schemas"])
