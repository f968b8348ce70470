"""What the enrolment page runs on the device, served by the service: onnxruntime-web's
files (only those the page loads) and the face models rewritten from the installed package;
and the page itself, which says so calmly when they are missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.web.app import create_app
from tests.support.services import make_services


def _client(home: Path, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(make_services(home, "a.db", **overrides))) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path)


def test_the_models_are_served_with_a_tag_and_kept_by_the_browser(client: TestClient) -> None:
    detector = client.get("/assets/models/face-detector.onnx")
    assert detector.status_code == 200
    assert detector.headers["content-type"] == "application/octet-stream"
    assert "max-age" in detector.headers["cache-control"]
    tag = detector.headers["etag"]
    again = client.get("/assets/models/face-detector.onnx", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    recogniser = client.get("/assets/models/face-recogniser.onnx")
    assert recogniser.status_code == 200
    assert 5_000_000 < len(recogniser.content) < 15_000_000  # int8 weights kept, not floats
    assert client.get("/assets/models/other.onnx").status_code == 404


def test_only_the_runtime_files_the_page_loads_are_served(client: TestClient) -> None:
    script = client.get("/assets/onnxruntime-web/ort.wasm.min.mjs")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    wasm = client.get("/assets/onnxruntime-web/ort-wasm-simd-threaded.wasm")
    assert wasm.headers["content-type"] == "application/wasm"
    assert wasm.content[:4] == b"\0asm"
    for name in ("ort.all.min.js", "..%2F..%2Fpackage.json", "ort.min.js.map"):
        assert client.get(f"/assets/onnxruntime-web/{name}").status_code == 404


def test_only_the_enrolment_page_may_compile_webassembly(client: TestClient) -> None:
    enrol = client.get("/protect/enrol")
    assert enrol.status_code == 200
    assert "script-src 'self' 'wasm-unsafe-eval'" in enrol.headers["content-security-policy"]
    assert 'type="module" src="/protect/static/enrol.mjs"' in enrol.text
    for other in ("/protect", "/protect/status", "/protect/enrol/status", "/"):
        assert "wasm" not in client.get(other).headers["content-security-policy"]


def test_without_the_runtime_the_page_says_enrolment_is_unavailable(tmp_path: Path) -> None:
    for client in _client(tmp_path, onnxruntime_web_dir=str(tmp_path / "missing")):
        page = client.get("/protect/enrol?lang=en")
        assert page.status_code == 200
        assert "not available on this server" in page.text
        assert "enrol.mjs" not in page.text
        missing = client.get("/assets/onnxruntime-web/ort.wasm.min.mjs")
        assert missing.status_code == 503
        assert "make install" in missing.json()["detail"]
