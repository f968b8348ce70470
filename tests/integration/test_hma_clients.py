"""HMA clients as they are (ROOST Coop, atproto-hma): base URLs, keys in them, lenient input.

Coop's default base URL ends with `/` (every path starts `//`), and neither client can
send a key header: they reach the HMA routes under `/hma/<key>/`.
"""

from __future__ import annotations

import dataclasses
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import hash_content
from shieldwall.web.app import create_app
from tests.support.factories import jpeg, tokens_by_role
from tests.support.server import ServerProcess
from tests.support.services import make_services, wait_until_ready

# A PDQ-like hash (about 128 bits set): degenerate ones are refused at intake.
STORED = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"


class Client:
    """A test client and one key per role."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.c = client
        self.services = services
        self.tokens = tokens_by_role(services.access)

    def h(self, role: Role = Role.CURATOR) -> dict[str, str]:
        return {"X-API-Key": self.tokens[role]}


def _services(tmp_path: Path, **overrides: Any) -> Services:
    return make_services(tmp_path, "hma.db", **overrides)


@pytest.fixture
def hma(tmp_path: Path) -> Iterator[Client]:
    services = _services(tmp_path)
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)
        yield Client(client, services)


def test_status_says_index_not_loaded_until_it_is(hma: Client) -> None:
    """HMA's matcher answers 503 INDEX-NOT-LOADED while its index loads; so does Shieldwall."""
    runtime = hma.c.app.state.runtime  # type: ignore[attr-defined]
    loading = dataclasses.replace(runtime, ready=lambda: False)
    hma.c.app.state.runtime = loading  # type: ignore[attr-defined]
    try:
        answer = hma.c.get("/status")
        assert (answer.status_code, answer.text) == (503, "INDEX-NOT-LOADED")
    finally:
        hma.c.app.state.runtime = runtime  # type: ignore[attr-defined]
    assert hma.c.get("/status").text == "I-AM-ALIVE"


@pytest.mark.parametrize(
    "path",
    [
        "/hma/%00/c/banks",
        "/hma/%C3%A9%F0%9F%98%80/c/banks",
        "/hma/%FF%FE/c/banks",
        "/hma/" + "k" * 5000 + "/c/banks",
        "/hma//c/banks",
        "/hma/k/c/bank/%2F..%2F/content/1",
        "//hma//",
        "/" * 300,
    ],
)
def test_odd_paths_are_refused_never_500(hma: Client, path: str) -> None:
    answer = hma.c.get(BASE + path)
    assert answer.status_code < 500, (path, answer.text)
    if path.startswith("/hma/"):  # a bad key, or no such route: never let through
        assert answer.status_code in (400, 401, 404), (path, answer.text)


# Paths ------------------------------------------------------------------------------------

BASE = "http://testserver"
"""Absolute URLs: httpx would read a path starting `//` as a host."""


def test_duplicate_slashes_reach_the_same_routes(hma: Client) -> None:
    c, h = hma.c, hma.h()
    created = c.post(f"{BASE}//c//banks", json={"name": "COOP_BANK"}, headers=h)
    assert created.status_code == 201, created.text
    for path in ("//c/banks", "/c//banks", "///c///banks"):
        listed = c.get(BASE + path, headers=h)
        assert listed.status_code == 200, path
        assert listed.json() == [{"name": "COOP_BANK", "matching_enabled_ratio": 1.0}]
    # The 404 that Coop reads as "bank deleted" is gone for a bank that exists.
    assert c.get(f"{BASE}//c/bank/COOP_BANK", headers=h).json()["name"] == "COOP_BANK"
    assert c.get(f"{BASE}//c/bank/OTHER_BANK", headers=h).status_code == 404
    assert c.get(f"{BASE}//status").text == "I-AM-ALIVE"
    # Collapsing does not open anything: the key is still checked.
    assert c.get(f"{BASE}//c/banks").status_code == 401


def test_a_key_in_the_base_path_reaches_the_hma_routes(hma: Client) -> None:
    c = hma.c
    curator, screener = hma.tokens[Role.CURATOR], hma.tokens[Role.SCREENER]
    created = c.post(f"/hma/{curator}/c/banks", json={"name": "BASE_BANK"})
    assert created.status_code == 201, created.text
    # Coop's base URL ends with '/': `/hma/<key>//c/banks`.
    for path in (f"/hma/{curator}/c/banks", f"/hma/{curator}//c/banks", f"//hma/{curator}/c/banks"):
        listed = c.get(BASE + path)
        assert listed.status_code == 200, path
        assert [bank["name"] for bank in listed.json()] == ["BASE_BANK"]
    assert c.get(f"/hma/{curator}/status").text == "I-AM-ALIVE"
    # The key's role still decides: a screener may look up, not curate.
    assert c.post(f"/hma/{screener}/c/banks", json={"name": "NOPE"}).status_code == 403
    assert c.get(f"/hma/{screener}/c/banks").status_code == 403
    # The path's key is the credential, whatever header comes with it.
    assert c.get(f"/hma/{screener}/c/banks", headers=hma.h(Role.CURATOR)).status_code == 403
    assert c.get("/hma/sw_000000000000_not-a-real-secret-but-right-size/c/banks").status_code == 401


def test_only_hma_routes_are_reachable_under_the_key_path(hma: Client) -> None:
    admin = hma.tokens[Role.ADMIN]
    for path in (f"/hma/{admin}/api/v1/banks", f"/hma/{admin}/metrics", f"/hma/{admin}", "/hma/"):
        answer = hma.c.get(path)
        assert answer.status_code == 404, path
        assert admin not in answer.text
    assert hma.c.get("/api/v1/banks", headers={"X-API-Key": admin}).status_code == 200


def test_the_key_in_a_base_path_is_never_written_to_the_log(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SHIELDWALL_HOME": str(tmp_path / "home"),
        "SHIELDWALL_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
    }
    server = ServerProcess(env, log_level="info")
    try:
        key = server.admin_key()
        # sw_<key id>_<secret>: the secret is URL-safe base64 and may itself hold "_" (its
        # last piece alone may be one letter, which any log line holds).
        secret = key.split("_", 2)[2]
        assert len(secret) >= 24
        with httpx.Client(base_url=server.url, timeout=30) as client:
            created = client.post(f"/hma/{key}/c/banks", json={"name": "LOGGED"})
            assert created.status_code == 201, created.text
            assert client.get(f"/hma/{key}//c/banks").status_code == 200
            assert client.get(f"{server.url}//hma//{key}//c/bank/LOGGED").status_code == 200
            assert client.get(f"/hma/{key}/c/bank/MISSING?x=1").status_code == 404
            assert client.get(f"/hma/{key}/api/v1/banks").status_code == 404
    finally:
        server.stop()
    log = server.stderr()
    server.remove_log()
    assert "/hma/<redacted>/c/banks" in log  # the access log is on, and scrubbed
    assert "/hma/<redacted>/api/v1/banks" in log
    assert key not in log
    assert secret not in log


# Lenient input ----------------------------------------------------------------------------


def test_numbers_and_booleans_may_arrive_as_strings(hma: Client) -> None:
    c, h = hma.c, hma.h()
    # What Coop sends when it creates a bank.
    coop = c.post("/c/banks", json={"name": "COOP", "enabled_ratio": "1"}, headers=h)
    assert coop.status_code == 201, coop.text
    assert coop.json() == {"name": "COOP", "matching_enabled_ratio": 1.0}
    off = c.post("/c/banks", json={"name": "OFF", "enabled_ratio": "0.0"}, headers=h)
    assert off.json()["matching_enabled_ratio"] == 0.0
    for spelling, ratio in (("true", 1.0), ("0", 0.0), ("YES", 1.0), (False, 0.0), (1, 1.0)):
        changed = c.put("/c/bank/COOP", json={"enabled": spelling}, headers=h)
        assert changed.status_code == 200, (spelling, changed.text)
        assert changed.json()["matching_enabled_ratio"] == ratio, spelling
    assert c.put("/c/bank/COOP", json={"enabled_ratio": " 1 "}, headers=h).status_code == 200
    content = c.post("/c/bank/COOP/signal", json={"md5": "ab" * 16}, headers=h).json()["id"]
    disabled = c.put(f"/c/bank/COOP/content/{content}", json={"disable_until_ts": "0"}, headers=h)
    assert disabled.json()["disable_until_ts"] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("enabled_ratio", "lots", "enabled_ratio must be a number"),
        ("enabled_ratio", True, "enabled_ratio must be a number"),
        ("enabled_ratio", "nan", "enabled_ratio must be a number"),
        ("enabled_ratio", 10**400, "enabled_ratio must be a number"),
        ("enabled_ratio", "1.5", "enabled_ratio must be between 0.0 and 1.0"),
        ("enabled_ratio", -1, "enabled_ratio must be between 0.0 and 1.0"),
        ("enabled", "maybe", "enabled must be true or false"),
        ("enabled", 2, "enabled must be true or false"),
        ("enabled", [], "enabled must be true or false"),
    ],
)
def test_values_hma_would_refuse_are_refused_with_its_400(
    hma: Client, field: str, value: Any, message: str
) -> None:
    answer = hma.c.post("/c/banks", json={"name": "BANK", field: value}, headers=hma.h())
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"message": message}
    assert hma.c.get("/c/banks", headers=hma.h()).json() == []


def test_disable_until_ts_past_any_number_is_400_not_500(hma: Client) -> None:
    c, h = hma.c, hma.h()
    assert c.post("/c/banks", json={"name": "B"}, headers=h).status_code == 201
    content = c.post("/c/bank/B/signal", json={"md5": "cd" * 16}, headers=h).json()["id"]
    answer = c.put(
        f"/c/bank/B/content/{content}",
        content=b'{"disable_until_ts": 1e999}',
        headers={**h, "content-type": "application/json"},
    )
    assert answer.status_code == 400, answer.text


def test_a_note_and_metadata_ride_along_with_signals(hma: Client) -> None:
    c, h = hma.c, hma.h()
    assert c.post("/c/banks", json={"name": "NOTED"}, headers=h).status_code == 201
    body = {"pdq": STORED, "note": "reported by a helpline", "metadata": {"content_id": "c-1"}}
    added = c.post("/c/bank/NOTED/signal", json=body, headers=h)
    assert added.status_code == 200, added.text
    assert added.json()["signals"] == {"pdq": STORED}  # HMA's add answer: id and signals
    shown = c.get(f"/c/bank/NOTED/content/{added.json()['id']}", headers=h).json()
    assert shown["note"] == "reported by a helpline"
    too_long = c.post("/c/bank/NOTED/signal", json={"md5": "ef" * 16, "note": "x" * 256}, headers=h)
    assert too_long.json() == {"message": "note must be at most 255 characters"}
    bad_metadata = c.post(
        "/c/bank/NOTED/signal", json={"md5": "ef" * 16, "metadata": {"colour": 1}}, headers=h
    )
    assert bad_metadata.status_code == 400
    assert bad_metadata.json()["message"].startswith("Invalid metadata")


def test_bank_names_may_be_as_long_as_hmas(hma: Client) -> None:
    c, h = hma.c, hma.h()
    longest = "COOP_" + "A" * 250
    created = c.post("/c/banks", json={"name": longest, "enabled_ratio": "1"}, headers=h)
    assert created.status_code == 201, created.text
    assert c.get(f"/c/bank/{longest}", headers=h).json()["name"] == longest
    added = c.post(f"/c/bank/{longest}/signal", json={"md5": "ab" * 16}, headers=h)
    assert added.status_code == 200, added.text
    too_long = c.post("/c/banks", json={"name": "B" * 256}, headers=h)
    assert too_long.status_code == 400
    assert too_long.json()["message"].endswith("at most 255 characters long")


# Discovery routes -------------------------------------------------------------------------


def test_signal_and_content_types_are_listed_as_hma_lists_them(hma: Client) -> None:
    c = hma.c
    reviewer = hma.h(Role.REVIEWER)
    signal_types = c.get("/c/signal_type", headers=reviewer)
    assert signal_types.status_code == 200, signal_types.text
    assert signal_types.json() == [
        {"name": "pdq", "enabled_ratio": 1.0},
        {"name": "md5", "enabled_ratio": 1.0},
        {"name": "sha256", "enabled_ratio": 1.0},
    ]
    assert c.get("/c/content_type", headers=reviewer).json() == [
        {"name": "photo", "enabled": True},
        {"name": "video", "enabled": False},
    ]
    # Guarded like the other curation reads.
    assert c.get("/c/signal_type").status_code == 401
    assert c.get("/c/content_type", headers=hma.h(Role.SCREENER)).status_code == 403


def test_the_site_map_lists_the_hma_routes(hma: Client) -> None:
    answer = hma.c.get("/site-map", headers=hma.h(Role.MONITOR))
    assert answer.status_code == 200, answer.text
    paths = answer.json()
    assert paths == sorted(paths)
    for path in ("/status", "/site-map", "/h/hash", "/m/lookup", "/c/banks", "/c/signal_type"):
        assert path in paths
    assert not [path for path in paths if path.startswith(("/api/", "/protect", "/metrics"))]
    assert hma.c.get("/site-map").status_code == 401
    assert hma.c.get(f"/hma/{hma.tokens[Role.SCREENER]}/site-map").json() == paths


# URL hashing (what Coop calls at run time) -----------------------------------------------


@pytest.fixture
def media_store() -> Iterator[str]:
    """A plain HTTP server on loopback serving one JPEG at /photo.jpg."""
    body = jpeg(5)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/photo.jpg" else 404)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_url_hashing_reaches_only_what_the_operator_listed(
    tmp_path: Path, media_store: str
) -> None:
    url = f"{media_store}/photo.jpg"
    expected = hash_content(jpeg(5), MediaLimits())
    listed = _services(tmp_path, url_lookups=True, url_allow_private=["127.0.0.1"])
    with TestClient(create_app(listed)) as client:
        key = {"X-API-Key": listed.access.issue_key("coop", Role.SCREENER).token}
        hashed = client.get("/h/hash", params={"url": url}, headers=key)
        assert hashed.status_code == 200, hashed.text
        assert hashed.json() == {
            "pdq": expected.pdq.value,
            "md5": expected.md5.value,
            "sha256": expected.sha256.value,
        }
    unlisted = _services(tmp_path / "other", url_lookups=True, url_allow_private=["127.0.0.0/8"])
    with TestClient(create_app(unlisted)) as client:
        key = {"X-API-Key": unlisted.access.issue_key("coop", Role.SCREENER).token}
        refused = client.get("/h/hash", params={"url": url}, headers=key)
        assert refused.status_code == 400, refused.text
        assert refused.json() == {
            "message": "127.0.0.1 resolves to 127.0.0.1 (loopback): refused; only listing the "
            "exact address 127.0.0.1 in url_allow_private allows it"
        }
