"""The enrolment pages in headless Chromium against a real `shieldwall serve`.

Face templates are made in the browser (onnxruntime-web on the models the service serves);
the test records every request: only the templates and the consent record are sent, never a
photo, and the templates agree with the server's own (OpenCV) on the same photos. Then the
enrolment is read and withdrawn on the status page. Screenshots of every state go to
SHIELDWALL_SCREENSHOTS (default: the test's tmp folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from shieldwall.detection.faces import FaceAnalyser
from tests.support.browser import Recorder, assert_no_image_bytes, screenshots
from tests.support.images import write_scenes
from tests.support.server import ServerProcess

AGREEMENT = 0.98
"""The least cosine similarity of a browser template and the server's on the same photo."""

WAIT_MS = 90_000
"""Time for the page to load the runtime and models (25 MB) and look at the photos."""


def face_photos(folder: Path) -> dict[str, Path]:
    """scikit-image's astronaut (one face) as PNG, enlarged as JPEG (the page then reduces
    it as the server does), twice side by side (two faces); and a scene without a face."""
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = Image.fromarray(skimage.data.astronaut())
    paths = {name: folder / name for name in ("face.png", "face-large.jpg", "two-faces.png")}
    astronaut.save(paths["face.png"])
    astronaut.resize((1500, 1500), Image.Resampling.LANCZOS).save(
        paths["face-large.jpg"], quality=92
    )
    pair = Image.new("RGB", (1024, 512))
    pair.paste(astronaut, (0, 0))
    pair.paste(astronaut, (512, 0))
    pair.save(paths["two-faces.png"])
    [paths["no-face.jpg"]] = write_scenes(folder, [7])
    return paths


def _settled(page: Page, count: int) -> None:
    """Wait until the page has looked at `count` photos."""
    expect(page.locator("#photo-list li:not([data-state=working])")).to_have_count(
        count, timeout=WAIT_MS
    )


def _tick_every_statement(page: Page) -> None:
    for box in page.locator("input[name=statements]").all():
        box.check()


def _sent_enrolment(recorder: Recorder) -> dict[str, Any]:
    [sent] = [json.loads(b) for m, u, b in recorder.requests if u.endswith("/api/enrolments")]
    return sent  # type: ignore[no-any-return]


def _server_template(path: Path) -> np.ndarray:
    [face] = FaceAnalyser().faces(np.asarray(Image.open(path).convert("RGB")))
    return face.template


def _read_and_withdraw(page: Page, url: str, number: str, secret: str, shots: Path) -> None:
    """Open the enrolment on its status page and withdraw it: its templates are gone."""
    page.goto(f"{url}/protect/enrol/status")
    page.fill("#enrolment_number", number)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Show my enrolment").click()
    expect(page.locator("#enrolment-state")).to_contain_text("Active")
    expect(page.locator("#enrolment-templates")).to_have_text("2")
    page.screenshot(path=str(shots / "enrol-status-1-active.png"), full_page=True)
    page.locator("#withdraw").click()
    page.locator("#withdraw-confirm").click()
    expect(page.locator("#enrolment-state")).to_contain_text("Withdrawn")
    expect(page.locator("#enrolment-templates")).to_have_text("0")
    expect(page.locator("#withdraw-box")).to_be_hidden()
    page.screenshot(path=str(shots / "enrol-status-2-withdrawn.png"), full_page=True)


def test_enrol_on_the_device_then_read_and_withdraw(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _ = server
    shots = screenshots(tmp_path)
    photos = face_photos(tmp_path / "photos")
    chosen = [photos["face.png"], photos["face-large.jpg"]]
    recorder = Recorder(page)
    errors: list[str] = []  # script errors and CSP violations
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)

    response = page.goto(f"{process.url}/protect/enrol")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in policy
    assert "unsafe-inline" not in policy
    assert "'unsafe-eval'" not in policy
    assert "set-cookie" not in response.headers
    page.screenshot(path=str(shots / "enrol-1-empty.png"), full_page=True)

    page.locator("#send").click()  # nothing chosen or ticked: each problem named
    expect(page.locator("#photos-error")).to_contain_text("Choose at least one photo")
    expect(page.locator("#statements-error")).to_contain_text("Tick every statement")
    page.set_input_files("#photos", [str(p) for p in chosen])
    _settled(page, 2)
    expect(page.locator("#photo-list li[data-state=ready]")).to_have_count(2)
    expect(page.locator("#model-status")).to_contain_text("Face templates ready: 2")
    page.screenshot(path=str(shots / "enrol-2-photos-ready.png"), full_page=True)
    assert not [u for _, u, _ in recorder.requests if "/api/" in u]  # nothing sent yet

    _tick_every_statement(page)
    page.locator("#send").click()
    expect(page.locator("#done")).to_be_visible()
    number = page.locator("#enrolment-number").inner_text()
    secret = page.locator("#enrolment-secret").inner_text()
    assert number.startswith("EN-")
    page.screenshot(path=str(shots / "enrol-3-enrolled.png"), full_page=True)

    sent = _sent_enrolment(recorder)
    assert set(sent) == {
        "enrollee",
        "guardian_name",
        "guardian_signature",
        "term_days",
        "email",
        "statements",
        "templates",
    }
    assert sent["enrollee"] == "self"
    assert sent["term_days"] == 365
    assert sorted(sent["statements"]) == ["own_face", "purpose", "review", "withdraw"]
    for template, path in zip(sent["templates"], chosen, strict=True):
        browser_side = np.asarray(template, np.float32)
        assert len(template) == 128
        assert float(browser_side @ _server_template(path)) >= AGREEMENT
    assert_no_image_bytes(recorder, [p.read_bytes() for p in chosen], process.url)

    _read_and_withdraw(page, process.url, number, secret, shots)
    assert errors == []


def test_photos_without_exactly_one_face_are_refused_on_the_device(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _ = server
    photos = face_photos(tmp_path / "photos")
    recorder = Recorder(page)
    page.goto(f"{process.url}/protect/enrol")
    page.set_input_files("#photos", [str(photos["two-faces.png"]), str(photos["no-face.jpg"])])
    _settled(page, 2)
    items = page.locator("#photo-list li")
    expect(items.nth(0)).to_contain_text("2 faces found")
    expect(items.nth(1)).to_contain_text("no face found")
    _tick_every_statement(page)
    page.locator("#send").click()
    expect(page.locator("#photos-error")).to_contain_text("Remove the photos marked above")
    page.screenshot(path=str(screenshots(tmp_path) / "enrol-4-problems.png"), full_page=True)
    items.nth(0).get_by_role("button").click()  # remove both: the picker is empty again
    items.nth(0).get_by_role("button").click()
    expect(items).to_have_count(0)
    assert not [u for _, u, _ in recorder.requests if "/api/" in u]


def test_a_guardian_signs_with_their_name(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _ = server
    photos = face_photos(tmp_path / "photos")
    recorder = Recorder(page)
    page.goto(f"{process.url}/protect/enrol")
    expect(page.locator("#guardian-fields")).to_be_hidden()
    page.locator("input[name=enrollee][value=guardian]").check()
    expect(page.locator("#guardian-fields")).to_be_visible()
    page.fill("#guardian_name", "Marta Example")
    page.fill("#guardian_signature", "Someone Else")
    page.set_input_files("#photos", [str(photos["face.png"])])
    _settled(page, 1)
    _tick_every_statement(page)
    page.locator("#send").click()
    expect(page.locator("#guardian-error")).to_contain_text("exactly as above")
    expect(page.locator("#guardian_signature")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(screenshots(tmp_path) / "enrol-5-guardian.png"), full_page=True)
    page.fill("#guardian_signature", "Marta Example")
    page.locator("#send").click()
    expect(page.locator("#done")).to_be_visible()
    sent = _sent_enrolment(recorder)
    assert (sent["enrollee"], sent["guardian_signature"]) == ("guardian", "Marta Example")


@pytest.mark.parametrize(
    ("locale", "heading", "status_heading"),
    [
        ("es-ES", "Protege tu cara", "Estado de la inscripción"),
        ("ko-KR", "얼굴", "등록 상태"),
        ("en-GB", "Protect your face", "Enrolment status"),
    ],
)
def test_the_enrolment_pages_speak_the_browser_language(
    browser: Browser,
    server: tuple[ServerProcess, str],
    tmp_path: Path,
    locale: str,
    heading: str,
    status_heading: str,
) -> None:
    process, _ = server
    context = browser.new_context(locale=locale)
    page = context.new_page()
    try:
        page.goto(f"{process.url}/protect/enrol")
        expect(page.locator("h1")).to_contain_text(heading)
        page.locator("#send").click()
        page.screenshot(path=str(screenshots(tmp_path) / f"enrol-{locale}.png"), full_page=True)
        page.goto(f"{process.url}/protect/enrol/status")
        expect(page.locator("h1")).to_contain_text(status_heading)
        page.fill("#enrolment_number", "EN-0000-0000")
        page.fill("#secret", "not-the-secret")
        page.locator("#lookup button").click()
        expect(page.locator("#lookup-status")).not_to_be_empty()
        page.screenshot(
            path=str(screenshots(tmp_path) / f"enrol-status-{locale}.png"), full_page=True
        )
    finally:
        context.close()
