"""The victims' page hashes in the browser: its PDQ agrees with the server's.

The browser decodes the JPEG itself (Chromium's decoder, not Pillow's), draws it on a
canvas and runs web/static/protect/pdq.js; the server hashes the same bytes. Issue 5 asks
for agreement within 10 bits for images of quality >= 80.
"""

from __future__ import annotations

import base64
import io
from importlib import resources

import pytest
import skimage.data
from PIL import Image
from playwright.sync_api import Page

from shieldwall.config import MediaLimits
from shieldwall.hashing.service import hash_content
from shieldwall.signals.pdq import pdq_distance
from tests.support.edits import jpeg_bytes
from tests.support.images import sample_photos, scene

PDQ_JS = resources.files("shieldwall.web") / "static" / "protect" / "pdq.js"
HASH_IN_PAGE = """async (dataUrl) => {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  return window.ShieldwallPdq.pdqFromRgba(data, canvas.width, canvas.height);
}"""


def _images() -> list[tuple[str, Image.Image]]:
    images = sample_photos()
    big = Image.fromarray(skimage.data.hubble_deep_field()[:600, :900])
    images.append(("hubble-900", big))
    images += [(f"scene{seed}", scene(seed, 640, 427)) for seed in range(8)]
    return images


@pytest.fixture
def pdq_page(page: Page) -> Page:
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content=PDQ_JS.read_text(encoding="utf-8"))
    return page


def test_browser_pdq_agrees_with_the_server(pdq_page: Page) -> None:
    limits = MediaLimits()
    compared = 0
    for name, image in _images():
        data = jpeg_bytes(image, 90)
        server = hash_content(data, limits).pdq
        url = "data:image/jpeg;base64," + base64.b64encode(data).decode()
        browser = pdq_page.evaluate(HASH_IN_PAGE, url)
        assert len(browser["hash"]) == 64, name
        assert abs(browser["quality"] - (server.quality or 0)) <= 5, name
        if (server.quality or 0) >= 80:
            compared += 1
            assert pdq_distance(browser["hash"], server.value) <= 10, name
    assert compared >= 15  # 21 images; measured: at most 2 bits apart


def test_browser_pdq_is_exact_on_identical_pixels(pdq_page: Page) -> None:
    """Given the very pixels the server sees (a lossless PNG), the hashes are identical."""
    image = scene(3, 480, 320)
    data = _png(image)
    server = hash_content(data, MediaLimits()).pdq
    browser = pdq_page.evaluate(
        HASH_IN_PAGE, "data:image/png;base64," + base64.b64encode(data).decode()
    )
    assert browser["hash"] == server.value
    assert browser["quality"] == server.quality


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
