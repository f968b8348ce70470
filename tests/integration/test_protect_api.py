"""The victims' JSON API over a real SQLite database: file, status, withdraw, limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import build_services
from shieldwall.config import load_settings
from shieldwall.web.app import create_app
from tests.unit.test_cases import PDQ, SHA, fields


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = load_settings(
        config_file=tmp_path / "absent.toml",
        environ={},
        overrides={"home": str(tmp_path), "database_url": f"sqlite:///{tmp_path / 'p.db'}"},
    )
    services = build_services(settings)
    admin = {"X-API-Key": services.access.issue_key("admin", Role.ADMIN).token}
    with TestClient(create_app(services)) as test_client:
        yield test_client, admin


def _file(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/protect/api/cases", json=fields(**changes))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _lookup(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/api/v1/lookup/signals", json={"pdq": PDQ}, headers=admin
    ).json()
    return body


def test_a_filed_report_opens_a_case_whose_hashes_match_for_review(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, admin = client
    filed = _file(c, depicted_minor=True, reporter="guardian", name="")
    assert filed["case_number"].startswith("SW-")
    assert len(filed["secret"]) >= 24
    assert filed["state"] == "received"
    assert filed["priority"] is True
    assert [e["kind"] for e in filed["timeline"]] == ["received"]
    assert "email" not in filed
    assert "ana@example.org" not in str(filed)
    found = _lookup(c, admin)
    assert found["verdict"] == "review"
    assert [m["bank"] for m in found["matches"]] == ["reported"]


def test_invalid_reports_name_each_field_and_keep_nothing(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, admin = client
    refused = c.post("/protect/api/cases", json=fields(email="nope", good_faith=False))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {(p["field"], p["code"]) for p in refused.json()["problems"]} == {
        ("email", "invalid"),
        ("good_faith", "required"),
    }
    form = c.post("/protect/api/cases", data={"email": "a@b.org"})
    assert form.status_code == 422  # only application/json: no cross-site form posts
    assert (
        c.post(
            "/protect/api/cases", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert _lookup(c, admin)["matches"] == []


def test_status_needs_the_secret_and_a_wrong_one_looks_like_no_case(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    filed = _file(c)
    key = {"case_number": filed["case_number"].lower(), "secret": filed["secret"]}
    status = c.post("/protect/api/status", json=key)
    assert status.status_code == 200, status.text
    assert status.json()["case_number"] == filed["case_number"]
    assert [loc["state"] for loc in status.json()["locators"]] == ["reported"] * 3
    wrong = c.post("/protect/api/status", json={**key, "secret": "x" * 24})
    unknown = c.post("/protect/api/status", json={"case_number": "SW-0000-0000", "secret": "x"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_withdrawal_stops_matching_at_once(client: tuple[TestClient, dict[str, str]]) -> None:
    c, admin = client
    filed = _file(c)
    assert _lookup(c, admin)["verdict"] == "review"
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    withdrawn = c.post("/protect/api/withdraw", json=key)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    assert [e["kind"] for e in withdrawn.json()["timeline"]] == ["received", "withdrawn"]
    assert _lookup(c, admin)["matches"] == []
    exact = c.post("/api/v1/lookup/signals", json={"sha256": SHA}, headers=admin).json()
    assert exact["matches"] == []


def test_filing_and_guessing_secrets_are_rate_limited(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    answers = [c.post("/protect/api/cases", json=fields()).status_code for _ in range(6)]
    assert answers == [201] * 5 + [429]
    guesses = [
        c.post("/protect/api/status", json={"case_number": "SW-1234-5678", "secret": f"g{i}"})
        for i in range(21)
    ]
    assert [g.status_code for g in guesses[:20]] == [404] * 20
    assert guesses[20].status_code == 429
    assert "retry-after" in {k.lower() for k in guesses[20].headers}


def test_requests_from_other_sites_are_refused(client: tuple[TestClient, dict[str, str]]) -> None:
    c, admin = client
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
        refused = c.post("/protect/api/cases", json=fields(), headers=headers)
        assert refused.status_code == 403, headers
        status = c.post(
            "/protect/api/status",
            json={"case_number": "SW-0000-0000", "secret": "x"},
            headers=headers,
        )
        assert status.status_code == 403
    assert _lookup(c, admin)["matches"] == []
    same = c.post(
        "/protect/api/cases",
        json=fields(),
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert same.status_code == 201


def test_problems_are_explained_in_the_reporters_language(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    spanish = c.post("/protect/api/cases", json=fields(email="", language="es")).json()
    [email] = spanish["problems"]
    assert (email["field"], email["code"]) == ("email", "required")
    assert email["message"].startswith("Escribe un correo electrónico")
    korean = c.post(
        "/protect/api/cases", json=fields(country=""), headers={"accept-language": "ko-KR"}
    ).json()
    assert korean["problems"][0]["message"].startswith("국가를 두 글자로")


def test_the_status_counts_the_copies_found(client: tuple[TestClient, dict[str, str]]) -> None:
    c, admin = client
    filed = _file(c)
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    assert c.post("/protect/api/status", json=key).json()["copies_found"] == 0
    assert _lookup(c, admin)["verdict"] == "review"
    assert _lookup(c, admin)["verdict"] == "review"
    assert c.post("/protect/api/status", json=key).json()["copies_found"] == 2
