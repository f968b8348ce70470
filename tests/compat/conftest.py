"""Fixtures for the HMA compatibility tests: Shieldwall seen the way an HMA client sees it.

An HMA client knows a base URL and (here) a key; nothing else. The tests below are written
from reading Meta's HMA tests (facebook/ThreatExchange, BSD licence) and ROOST Coop's HMA
client (roostorg/coop, Apache-2.0); no code is copied from either.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.hashing.service import hash_content
from shieldwall.web.app import create_app
from tests.support.factories import jpeg
from tests.support.services import make_services, wait_until_ready

TEST_HOST = "http://testserver"
# A size limit small enough that the image server can announce a body just over it.
MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ImageServer:
    """A loopback HTTP server with two distinct photos, like HMA's tests' image server."""

    url: str
    files: dict[str, bytes]

    def image(self, name: str) -> str:
        return f"{self.url}/{name}"


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        name = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
        if name.startswith("announce/"):
            # Announces a body of the given length and sends none: a server that checks
            # Content-Length refuses it before reading.
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", name.removeprefix("announce/"))
            self.end_headers()
            return
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def image_server() -> Iterator[ImageServer]:
    files = {"image1.jpg": jpeg(101), "image2.jpg": jpeg(202)}
    handler = type("Handler", (_Handler,), {"files": files})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ImageServer(f"http://127.0.0.1:{server.server_address[1]}", files)
    finally:
        server.shutdown()
        server.server_close()


class HmaClient:
    """An HMA client: every path is appended to a base URL, as HMA clients build them.

    `headers` is the key header (the default for these tests); a client that can only set a
    base URL carries the key in its path instead (`/hma/<key>`) and sends no header.
    """

    def __init__(
        self, client: TestClient, base_url: str, headers: dict[str, str], services: Services
    ) -> None:
        self.c = client
        self.base_url = base_url
        self.headers = headers
        self.services = services

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response: httpx.Response = self.c.request(
            method, self.base_url + path, headers=headers, **kwargs
        )
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def pdq_of(self, data: bytes) -> str:
        """The PDQ hash of `data` as Shieldwall computes it (HMA's tests use PDQ's own)."""
        value: str = hash_content(data, self.services.settings.media).pdq.value
        return value


def services_for_hma_tests(tmp_path: Path, **overrides: Any) -> Services:
    """URL hashing on, the loopback image server allowed (HMA's tests fetch from it)."""
    settings: dict[str, Any] = {
        "url_lookups": True,
        "url_allow_hosts": ["127.0.0.1"],
        "url_allow_private": ["127.0.0.1"],
        "media": {"max_bytes": MAX_BYTES},
    }
    return make_services(tmp_path, **{**settings, **overrides})


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return services_for_hma_tests(tmp_path)


@pytest.fixture
def app_client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)  # as HMA's tests build their index before calling
        yield client


@pytest.fixture
def admin_key(services: Services) -> str:
    return services.access.issue_key("hma-client", Role.ADMIN).token


@pytest.fixture
def client(app_client: TestClient, services: Services, admin_key: str) -> HmaClient:
    """The HMA client of HMA's tests: base URL + a key header (admin: HMA has no roles)."""
    return HmaClient(app_client, TEST_HOST, {"X-API-Key": admin_key}, services)


@pytest.fixture
def path_key_client(app_client: TestClient, services: Services, admin_key: str) -> HmaClient:
    """A client that can only set a base URL: the key is carried in its path."""
    return HmaClient(app_client, f"{TEST_HOST}/hma/{admin_key}", {}, services)


def create_bank(client: HmaClient, bank_name: str) -> None:
    response = client.post("/c/banks", json={"name": bank_name})
    assert response.status_code == 201, response.text
    assert response.json() == {"matching_enabled_ratio": 1.0, "name": bank_name}
