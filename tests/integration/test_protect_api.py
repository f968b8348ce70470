"""The victims' JSON API over a real SQLite database: file, status, withdraw, limits."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.web.app import create_app
from tests.support.factories import REPORT_PDQ, REPORT_SHA, report_fields
from tests.support.services import make_services


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    services = make_services(tmp_path, "p.db")
    admin = {"X-API-Key": services.access.issue_key("admin", Role.ADMIN).token}
    with TestClient(create_app(services)) as test_client:
        yield test_client, admin


def _file(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/protect/api/cases", json=report_fields(**changes))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _lookup(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/api/v1/lookup/signals", json={"pdq": REPORT_PDQ}, headers=admin
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
    refused = c.post("/protect/api/cases", json=report_fields(email="nope", good_faith=False))
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
    exact = c.post("/api/v1/lookup/signals", json={"sha256": REPORT_SHA}, headers=admin).json()
    assert exact["matches"] == []


def test_filing_and_guessing_secrets_are_rate_limited(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    answers = [c.post("/protect/api/cases", json=report_fields()).status_code for _ in range(6)]
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
        refused = c.post("/protect/api/cases", json=report_fields(), headers=headers)
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
        json=report_fields(),
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert same.status_code == 201


def test_problems_are_explained_in_the_reporters_language(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    spanish = c.post("/protect/api/cases", json=report_fields(email="", language="es")).json()
    [email] = spanish["problems"]
    assert (email["field"], email["code"]) == ("email", "required")
    assert email["message"].startswith("Escribe un correo electrónico")
    korean = c.post(
        "/protect/api/cases", json=report_fields(country=""), headers={"accept-language": "ko-KR"}
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


def test_a_later_case_counts_only_the_copies_found_after_it_was_filed(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, admin = client
    first = _file(c)
    assert _lookup(c, admin)["verdict"] == "review"
    assert _lookup(c, admin)["verdict"] == "review"
    second = _file(c, email="friend@example.org")  # the same image, reported again
    keys = [{"case_number": f["case_number"], "secret": f["secret"]} for f in (first, second)]
    assert [c.post("/protect/api/status", json=k).json()["copies_found"] for k in keys] == [2, 0]
    assert _lookup(c, admin)["verdict"] == "review"
    assert [c.post("/protect/api/status", json=k).json()["copies_found"] for k in keys] == [3, 1]


def _from(c: TestClient, address: str) -> TestClient:
    """A client of the same app at another address (each has its own per-address limit)."""
    return TestClient(c.app, client=(address, 50000))


def _spellings(number: str) -> Iterator[str]:
    """One case number typed in other ways: lower case, spaces inside."""
    for i, j in itertools.combinations(range(1, len(number)), 2):
        yield f"{number[:i]} {number[i:j]} {number[j:]}".lower()


def test_guesses_never_lock_the_owner_out_and_share_one_bucket_per_case(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    filed = _file(c)
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    owner = [_from(c, f"10.1.0.{i}").post("/protect/api/status", json=key) for i in range(25)]
    assert {r.status_code for r in owner} == {200}  # reading one's case costs no tries
    spellings = _spellings(filed["case_number"])
    guesses = [
        _from(c, f"10.2.0.{i}").post(
            "/protect/api/status", json={"case_number": next(spellings), "secret": f"guess-{i}"}
        )
        for i in range(21)
    ]
    assert [g.status_code for g in guesses] == [404] * 20 + [429]
    for address in ("10.2.0.0", "10.3.0.1"):  # a guesser's address, and a new one
        assert _from(c, address).post("/protect/api/status", json=key).status_code == 200
    again = {**key, "secret": "one more guess"}
    assert _from(c, "10.3.0.2").post("/protect/api/withdraw", json=again).status_code == 429
    withdrawn = _from(c, "10.3.0.3").post("/protect/api/withdraw", json=key)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"


def test_unknown_numbers_run_out_of_tries_like_wrong_secrets(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    spellings = [
        "SW-" + "".join("O" if mask >> bit & 1 else "0" for bit in range(8)) for mask in range(21)
    ]
    answers = [
        _from(c, f"10.4.0.{i}").post(
            "/protect/api/status",
            json={"case_number": f"{number[:7]}-{number[7:]}", "secret": "guess"},
        )
        for i, number in enumerate(spellings)
    ]
    assert [a.status_code for a in answers] == [404] * 20 + [429]
    assert answers[0].json()["detail"] == answers[19].json()["detail"]


@pytest.mark.parametrize("path", ["/protect/api/status", "/protect/api/withdraw"])
def test_case_keys_are_read_within_a_few_kib_and_nothing_else(
    client: tuple[TestClient, dict[str, str]], path: str
) -> None:
    c, _ = client
    key = {"case_number": "SW-0000-0000", "secret": "x"}
    padded = c.post(path, json={**key, "case_number": "SW-0000-0000" + " " * 100_000})
    assert padded.status_code == 413
    chunks = [b'{"case_number": "SW-0000-0000", "secret": "', *[b"x" * 1024] * 64, b'"}']
    streamed = c.post(path, content=iter(chunks), headers={"content-type": "application/json"})
    assert streamed.status_code == 413  # chunked: no Content-Length to refuse early on
    extra = c.post(path, json={**key, "admin": True})
    assert extra.status_code == 422
    assert extra.headers["content-type"].startswith("application/problem+json")
    assert extra.json()["type"].endswith(":invalid-request")
    assert (
        c.post(path, content=b"[]", headers={"content-type": "application/json"}).status_code == 422
    )
    form = c.post(path, data=key)
    assert form.status_code == 422  # only application/json: no cross-site form posts
    assert c.post(path, json=key).status_code == 404


def _asgi_post(app: object, headers: list[tuple[bytes, bytes]], address: str) -> list[str]:
    """POST an endless JSON body to /protect/api/status; what happened, in order."""
    events: list[str] = []

    async def receive() -> dict[str, object]:
        events.append("receive")
        return {"type": "http.request", "body": b" " * 1024, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        events.append(f"{message['type']}:{message.get('status', '')}")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/protect/api/status",
        "raw_path": b"/protect/api/status",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": (address, 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    return events


def test_refusals_come_before_a_byte_of_the_body_is_read(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    cross_site = _asgi_post(c.app, [(b"sec-fetch-site", b"cross-site")], "10.5.0.1")
    assert cross_site[0] == "http.response.start:403"
    for _ in range(20):
        c.post("/protect/api/status", json={"case_number": "SW-0000-0000", "secret": "x"})
    limited = _asgi_post(c.app, [], "testclient")
    assert limited[0] == "http.response.start:429"
    endless = _asgi_post(c.app, [], "10.5.0.2")  # read, but only as far as the limit
    assert "http.response.start:413" in endless
    assert endless.count("receive") <= 6


def test_the_case_key_body_stays_documented(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    doc = c.get("/openapi.json").json()
    for path in ("/protect/api/status", "/protect/api/withdraw"):
        operation = doc["paths"][path]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = doc["components"]["schemas"][ref.removeprefix("#/components/schemas/")]
        assert set(schema["properties"]) == {"case_number", "secret"}
        assert schema["additionalProperties"] is False
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/CaseOut"
        }


def test_reports_with_unknown_fields_or_markup_are_refused_in_the_reporters_language(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, admin = client
    extra = c.post("/protect/api/cases", json=report_fields(language="es", priority=True))
    assert extra.status_code == 422
    [problem] = extra.json()["problems"]
    assert (problem["field"], problem["code"]) == ("report", "unknown_field")
    assert problem["message"].startswith("La denuncia tiene un campo")
    markup = c.post(
        "/protect/api/cases",
        json=report_fields(email='"><svg onload=alert(1)>@example.org', language="<b>ko</b>"),
        headers={"accept-language": "ko"},
    )
    assert markup.status_code == 422
    messages = {(p["field"], p["code"]): p["message"] for p in markup.json()["problems"]}
    assert messages == {
        ("email", "invalid"): "이메일 주소가 올바르지 않은 것 같아요.",
        (
            "language",
            "invalid",
        ): "페이지 언어를 읽을 수 없어요. 페이지를 새로 고친 뒤 다시 시도해 주세요.",
    }
    assert _lookup(c, admin)["matches"] == []
