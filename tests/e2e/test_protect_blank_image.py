"""A blank photo on `/protect`: its PDQ hash would match every blank upload, so the page
sends only its exact digests, the photo's quality travels with every PDQ hash, and the
report is filed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page, Request, expect

from shieldwall.signals.models import PDQ_LOW_QUALITY
from tests.e2e.test_protect_page import _fill_report
from tests.support.images import write_scenes
from tests.support.server import ServerProcess


def test_a_blank_photo_is_sent_without_its_pdq_hash(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _token = server
    [photo] = write_scenes(tmp_path / "mine", [31])
    blank = tmp_path / "mine" / "blank.png"
    Image.new("RGB", (640, 480), (128, 128, 128)).save(blank)
    bodies: list[bytes] = []

    def on_request(request: Request) -> None:
        if request.url.endswith("/protect/api/cases"):
            bodies.append(request.post_data_buffer or b"")

    page.on("request", on_request)
    page.goto(f"{process.url}/protect")
    page.set_input_files("#files", [str(photo), str(blank)])
    expect(page.locator("#hash-status")).to_contain_text("Fingerprints ready: 2")
    _fill_report(page)
    page.locator("#send").click()
    expect(page.locator("#done")).to_be_visible()
    sent: dict[str, Any] = json.loads(bodies[-1])
    photo_item, blank_item = sent["hashes"]
    assert photo_item["pdq_quality"] >= PDQ_LOW_QUALITY
    assert len(photo_item["pdq"]) == 64
    assert "pdq" not in blank_item
    assert len(blank_item["sha256"]) == 64
