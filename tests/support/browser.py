"""Helpers of the browser tests: where screenshots go, and a record of every request a
page makes, to show that no image bytes leave the device."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from playwright.sync_api import Page, Request


def screenshots(tmp_path: Path) -> Path:
    """SHIELDWALL_SCREENSHOTS if set (to look at them), else the test's tmp folder."""
    folder = Path(os.environ.get("SHIELDWALL_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Recorder:
    """Every request a page makes: method, URL and body."""

    def __init__(self, page: Page) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        page.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        self.requests.append((request.method, request.url, request.post_data_buffer or b""))


def assert_no_image_bytes(recorder: Recorder, images: list[bytes], origin: str) -> None:
    """No request went elsewhere than `origin`, and none carried any 64-byte run of any
    image, raw, in base64 or in hex (previews read from memory are `blob:` GETs)."""
    for method, url, body in recorder.requests:
        if url.startswith(f"blob:{origin}/"):  # a preview read from memory, not the network
            assert (method, body) == ("GET", b"")
            continue
        assert url.startswith(origin), url  # nothing goes anywhere else
        for data in images:
            for offset in range(0, len(data) - 64, 4096):  # any 64-byte run of any image
                chunk = data[offset : offset + 64]
                assert chunk not in body, (method, url)
                assert base64.b64encode(chunk)[:80] not in body, (method, url)
                assert chunk.hex().encode() not in body, (method, url)
