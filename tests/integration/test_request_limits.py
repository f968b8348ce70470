"""Body limits on the raw ASGI stream, response headers, redirects, hosts, /metrics, docs.

The body tests call the whole app as an ASGI callable with a `receive` that would send
bytes for ever, so they see how much of a body the service pulls before refusing it
(Starlette's test client reads a whole body before the app sees any of it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.web.app import create_app
from shieldwall.web.body_limits import DEFAULT_LIMIT, KIB, MIB, human_size
from tests.support.factories import tokens_by_role
from tests.support.services import make_services

CHUNK = 64 * KIB
MAX_BYTES = MIB
"""The media limit these tests run with: uploads may have MAX_BYTES plus 1 MiB of form."""


@dataclass
class Served:
    """A running app (lifespan started), its services and one key per role."""

    app: FastAPI
    client: TestClient
    services: Services
    tokens: dict[Role, str]

    def key(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"x-api-key": self.tokens[role]}


def _serve(home: Path, **overrides: Any) -> Iterator[Served]:
    services = make_services(home, "limits.db", max_bytes=MAX_BYTES, **overrides)
    tokens = tokens_by_role(services.access)
    app = create_app(services)
    admin = {"x-api-key": tokens[Role.ADMIN]}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/banks", json={"name": "known"}, headers=admin).is_success
        assert client.post("/c/banks", json={"name": "SOME_BANK"}, headers=admin).is_success
        yield Served(app, client, services, tokens)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path)


@dataclass
class Outcome:
    status: int
    body: bytes
    pulled: int
    """Body bytes the app took from the client before it answered."""


def _endless(first: bytes, total: int = 16 * MIB) -> Iterator[bytes]:
    """A body far over every limit here (finite, so a service that reads it all answers)."""
    yield first
    for _ in range(total // CHUNK):
        yield b"x" * CHUNK


def call(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]
) -> Outcome:
    """One request straight through the ASGI app, its body sent as chunks on demand."""
    pulled = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Outcome(start["status"], body, pulled)


def _multipart(field: str = "file") -> tuple[dict[str, str], bytes]:
    boundary = "sw-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    return {"content-type": f"multipart/form-data; boundary={boundary}"}, head


JSON = {"content-type": "application/json"}
SMALL_JSON_ROUTES = [
    ("/protect/api/status", 4 * KIB, {}),
    ("/protect/api/withdraw", 4 * KIB, {}),
    ("/protect/api/cases", 1024 * KIB, {}),
    ("/protect/api/enrolments", 64 * KIB, {}),
    ("/protect/api/enrolments/status", 4 * KIB, {}),
    ("/protect/api/enrolments/withdraw", 4 * KIB, {}),
    ("/api/v1/lookup/signals", 4 * KIB, {"role": Role.SCREENER}),
    ("/api/v1/lookup/batch", 512 * KIB, {"role": Role.SCREENER}),
    ("/api/v1/banks", DEFAULT_LIMIT, {"role": Role.ADMIN}),
]


@pytest.mark.parametrize(("path", "limit", "how"), SMALL_JSON_ROUTES)
def test_a_chunked_json_body_is_cut_off_just_past_its_routes_limit(
    served: Served, path: str, limit: int, how: dict[str, Any]
) -> None:
    headers = {**JSON, **(served.key(how["role"]) if "role" in how else {})}
    outcome = call(served.app, "POST", path, headers, _endless(b'{"case_number": "'))
    assert outcome.status == 413, outcome.body
    assert b"body-too-large" in outcome.body
    assert outcome.pulled <= limit + CHUNK


UPLOAD_ROUTES = [
    "/api/v1/lookup",
    "/h/hash",
    "/m/lookup",
    "/c/bank/SOME_BANK/content",
    "/api/v1/banks/known/files",
]


@pytest.mark.parametrize("path", UPLOAD_ROUTES)
def test_a_chunked_multipart_upload_is_never_spooled_past_the_limit(
    served: Served, path: str
) -> None:
    form_headers, head = _multipart()
    headers = {**form_headers, **served.key(Role.ADMIN)}
    outcome = call(served.app, "POST", path, headers, _endless(head))
    assert outcome.status == 413, outcome.body
    # At most the route's limit (4 files' worth for bank adds) and one more chunk was read.
    assert outcome.pulled <= 4 * MAX_BYTES + MIB + CHUNK


def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(
    served: Served,
) -> None:
    headers = {**JSON, "content-length": str(200 * MIB)}
    outcome = call(served.app, "POST", "/protect/api/status", headers, _endless(b"{"))
    assert outcome.status == 413
    assert outcome.pulled == 0
    assert b"4 KiB" in outcome.body  # a sub-MiB limit is said as such, never "0 MiB"


def test_bodies_within_their_limits_still_work(served: Served) -> None:
    headers = served.key(Role.SCREENER)
    answer = served.client.post("/api/v1/lookup/signals", json={"md5": "a" * 32}, headers=headers)
    assert answer.status_code == 200, answer.text
    batch = {"items": [{"md5": f"{i:032x}"} for i in range(1000)]}
    admin = served.key(Role.ADMIN)
    assert served.client.post("/api/v1/lookup/batch", json=batch, headers=admin).status_code == 200


def test_human_sizes_never_round_to_zero() -> None:
    assert human_size(4 * KIB) == "4 KiB"
    assert human_size(512 * KIB) == "512 KiB"
    assert human_size(50 * MIB) == "50 MiB"
    assert human_size(300) == "300 bytes"
    assert human_size(1536 * KIB) == "1.5 MiB"


def test_every_answer_carries_nosniff_and_a_restrictive_policy(served: Served) -> None:
    for answer in (
        served.client.get("/status/live"),
        served.client.get("/api/v1/banks"),  # 401 problem+json
        served.client.get("/openapi.json"),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    page = served.client.get("/protect")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_redirects_never_name_the_host_the_request_claimed(served: Served) -> None:
    answer = served.client.get(
        "/protect/", headers={"host": "evil.example"}, follow_redirects=False
    )
    assert answer.status_code in (307, 308)
    assert answer.headers["location"] == "/protect"


def test_trusted_hosts_refuse_a_forged_host_header(tmp_path: Path) -> None:
    for served in _serve(tmp_path, trusted_hosts="shieldwall.example,testserver"):
        forged = served.client.get("/status/live", headers={"host": "evil.example"})
        assert forged.status_code == 400
        good = served.client.get("/status/live", headers={"host": "shieldwall.example"})
        assert good.status_code == 200


def test_metrics_need_a_monitor_or_admin_key(served: Served) -> None:
    client = served.client
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=served.key(Role.SCREENER)).status_code == 403
    monitor = client.get("/metrics", headers=served.key(Role.MONITOR))
    assert monitor.status_code == 200
    assert "shieldwall_http_requests_total" in monitor.text
    assert client.get("/status/live").status_code == 200
    assert client.get("/status/ready").status_code in (200, 503)


def test_docs_are_served_from_this_origin_under_a_policy(served: Served) -> None:
    page = served.client.get("/docs")
    assert page.status_code == 200
    assert "http" not in page.text.replace('href="/', "").split("<body")[0].lower()
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the policy forbids it
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert served.client.get(asset).status_code == 200, asset
    assert served.client.get("/docs/init.js").headers["content-type"].startswith("text/javascript")
    assert served.client.get("/redoc").status_code == 404


def test_docs_can_be_turned_off(tmp_path: Path) -> None:
    for served in _serve(tmp_path, api_docs="false"):
        assert served.client.get("/docs").status_code == 404
        assert served.client.get("/openapi.json").status_code == 200
