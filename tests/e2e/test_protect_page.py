"""The victims' pages in headless Chromium against a real `shieldwall serve`.

Choose images, see blurred previews, file the report, read the case with its secret and
withdraw it, while every request the page makes is recorded: none may carry image bytes.
Screenshots of each state go to SHIELDWALL_SCREENSHOTS (default: the test's tmp folder).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from shieldwall.app import build_services
from shieldwall.config import MediaLimits, load_settings
from shieldwall.hashing.service import hash_content
from shieldwall.signals.pdq import pdq_distance
from shieldwall.takedown.tracking import NoticeState
from tests.support.browser import Recorder, assert_no_image_bytes, screenshots
from tests.support.factories import REPORT_SHA, report_fields
from tests.support.images import write_scenes
from tests.support.server import ServerProcess


def _report_fields() -> dict[str, Any]:
    """A complete report as the page files it (for tests that file without the page)."""
    return report_fields(country="ES", locators=[], hashes=[{"sha256": REPORT_SHA}])


def _fill_report(page: Page) -> None:
    page.fill("#name", "Ana Example")
    page.fill("#email", "ana@example.org")
    page.fill("#country", "ES")
    page.fill("#locators", "https://forum.example/t/1\na school group chat")
    page.check("#good_faith")
    page.check("#accurate")
    page.fill("#signature", "Ana Example")
    page.check("#signature_confirmed")


def _check_sent_hashes(recorder: Recorder, images: list[bytes]) -> None:
    """The report carried the form's fields and hashes equal to the server's."""
    filed = [json.loads(b) for _, u, b in recorder.requests if u.endswith("/protect/api/cases")]
    sent: dict[str, Any] = filed[-1]
    assert set(sent) <= {*_report_fields(), "authority", "language", "depicted_minor"}
    for item, data in zip(sent["hashes"], images, strict=True):
        server_side = hash_content(data, MediaLimits())
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
        assert pdq_distance(item["pdq"], server_side.pdq.value) <= 10


def _check_and_withdraw(
    page: Page, url: str, token: str, number: str, secret: str, images: list[bytes], shots: Path
) -> None:
    """Open the case on the status page, withdraw it, and see its hashes stop matching."""
    page.goto(f"{url}/protect/status")
    page.fill("#case_number", number)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Show my case").click()
    expect(page.locator("#case-state")).to_contain_text("Received")
    expect(page.locator("#timeline li")).to_have_count(1)
    page.screenshot(path=str(shots / "status-1-received.png"), full_page=True)
    admin = {"X-API-Key": token}
    lookup = {"sha256": hashlib.sha256(images[0]).hexdigest()}
    before = httpx.post(f"{url}/api/v1/lookup/signals", json=lookup, headers=admin)
    assert before.json()["verdict"] == "review"
    page.locator("#withdraw").click()
    page.locator("#withdraw-confirm").click()
    expect(page.locator("#case-state")).to_contain_text("Withdrawn")
    page.screenshot(path=str(shots / "status-2-withdrawn.png"), full_page=True)
    after = httpx.post(f"{url}/api/v1/lookup/signals", json=lookup, headers=admin)
    assert after.json()["matches"] == []


def test_hash_file_check_and_withdraw_without_sending_an_image(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, token = server
    shots = screenshots(tmp_path)
    paths = write_scenes(tmp_path / "mine", [21, 22])
    images = [p.read_bytes() for p in paths]
    recorder = Recorder(page)
    errors: list[str] = []  # script errors and CSP violations (not 4xx answers)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)

    response = page.goto(f"{process.url}/protect")
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "set-cookie" not in response.headers
    page.screenshot(path=str(shots / "protect-1-empty.png"), full_page=True)

    page.set_input_files("#files", [str(p) for p in paths])
    expect(page.locator("#hash-status")).to_contain_text("Fingerprints ready: 2")
    expect(page.locator("#items img.blurred")).to_have_count(2)
    page.screenshot(path=str(shots / "protect-2-chosen.png"), full_page=True)

    page.locator("#send").click()  # nothing filled in: the server names each field
    expect(page.locator("#email-error")).to_contain_text("Enter an email address")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(shots / "protect-3-problems.png"), full_page=True)

    _fill_report(page)
    page.locator("#send").click()
    expect(page.locator("#done")).to_be_visible()
    number = page.locator("#case-number").inner_text()
    secret = page.locator("#case-secret").inner_text()
    assert number.startswith("SW-")
    page.screenshot(path=str(shots / "protect-4-received.png"), full_page=True)

    filed = [json.loads(b) for m, u, b in recorder.requests if u.endswith("/protect/api/cases")]
    sent: dict[str, Any] = filed[-1]
    assert set(sent) <= {
        "reporter",
        "name",
        "email",
        "country",
        "authority",
        "signature",
        "language",
        "signature_confirmed",
        "good_faith",
        "accurate",
        "depicted_minor",
        "locators",
        "hashes",
    }
    for item, data in zip(sent["hashes"], images, strict=True):
        server_side = hash_content(data, MediaLimits())
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
        assert pdq_distance(item["pdq"], server_side.pdq.value) <= 10

    _check_and_withdraw(page, process.url, token, number, secret, images, shots)
    assert_no_image_bytes(recorder, images, process.url)
    assert errors == []  # no CSP violations, no script errors


def test_a_wrong_secret_says_no_case(page: Page, server: tuple[ServerProcess, str]) -> None:
    process, _ = server
    page.goto(f"{process.url}/protect/status")
    page.fill("#case_number", "SW-0000-0000")
    page.fill("#secret", "not-the-secret")
    page.get_by_role("button", name="Show my case").click()
    expect(page.locator("#lookup-status")).to_contain_text("No case matches")
    expect(page.locator("#case")).to_be_hidden()


@pytest.mark.parametrize(
    ("locale", "heading", "problem"),
    [
        ("es-ES", "Protege tus imágenes", "Escribe un correo electrónico"),
        ("ko-KR", "내 이미지 보호하기", "이메일 주소를 입력해 주세요"),
        ("en-GB", "Protect your images", "Enter an email address"),
    ],
)
def test_the_page_speaks_the_browser_language(
    browser: Browser,
    server: tuple[ServerProcess, str],
    tmp_path: Path,
    locale: str,
    heading: str,
    problem: str,
) -> None:
    process, _ = server
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{process.url}/protect")
        expect(page.locator("h1")).to_have_text(heading)
        assert page.locator("html").get_attribute("lang") == locale[:2]
        page.set_input_files("#files", [str(p) for p in write_scenes(tmp_path / "l", [9])])
        page.locator("#send").click()
        expect(page.locator("#email-error")).to_contain_text(problem)
        page.screenshot(path=str(screenshots(tmp_path) / f"protect-{locale}.png"), full_page=True)
    finally:
        context.close()


def test_the_language_can_be_switched(page: Page, server: tuple[ServerProcess, str]) -> None:
    process, _ = server
    page.goto(f"{process.url}/protect/status")
    page.get_by_role("link", name="한국어").click()
    expect(page.locator("h1")).to_have_text("사건 상태")
    page.get_by_role("link", name="Español").click()
    expect(page.locator("h1")).to_have_text("Estado del caso")
    page.get_by_role("link", name="Proteger imágenes").click()
    expect(page.locator("h1")).to_have_text("Protege tus imágenes")


def test_the_status_page_works_from_the_keyboard_alone(
    page: Page, server: tuple[ServerProcess, str]
) -> None:
    process, _ = server
    filed = httpx.post(f"{process.url}/protect/api/cases", json=_report_fields(), timeout=10).json()
    page.goto(f"{process.url}/protect/status")
    page.keyboard.press("Tab")  # skip link
    for _ in range(20):  # on to the case number field
        if page.evaluate("document.activeElement.id") == "case_number":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(filed["case_number"])
    page.keyboard.press("Tab")
    page.keyboard.type(filed["secret"])
    page.keyboard.press("Enter")
    expect(page.locator("#case-state")).to_contain_text("Received")
    assert page.evaluate("document.activeElement.id") == "case-title"  # focus follows
    page.locator("#withdraw").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "withdraw-confirm"
    page.keyboard.press("Enter")
    expect(page.locator("#case-state")).to_contain_text("Withdrawn")
    assert page.context.cookies() == []


def test_the_receipt_lists_what_was_received(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _ = server
    paths = write_scenes(tmp_path / "r", [31])
    video = tmp_path / "r" / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    page.goto(f"{process.url}/protect")
    page.locator("#files").focus()
    expect(page.locator("label.file")).to_be_visible()
    page.set_input_files("#files", [str(paths[0]), str(video)])
    expect(page.locator("#hash-status")).to_contain_text("Fingerprints ready: 2")
    expect(page.locator("#items li").nth(1)).to_contain_text("Video 2")
    _fill_report(page)
    page.locator("#signature").focus()
    page.keyboard.press("Enter")  # Enter in a field submits the form
    expect(page.locator("#done")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#receipt").click()
    assert download.value.suggested_filename == "shieldwall-receipt.txt"
    receipt = Path(download.value.path()).read_text(encoding="utf-8")
    assert page.locator("#case-number").inner_text() in receipt
    assert hashlib.sha256(paths[0].read_bytes()).hexdigest() in receipt
    video_line = next(line for line in receipt.splitlines() if line.startswith("2. "))
    assert hashlib.md5(video.read_bytes(), usedforsecurity=False).hexdigest() in video_line
    assert "pdq" not in video_line  # videos: MD5 and SHA-256 only, for now
    assert "https://forum.example/t/1" in receipt
    assert "UTC" in receipt


def test_the_person_sees_what_each_platform_was_asked_and_answered(
    page: Page, server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _ = server
    fields = report_fields(
        country="ES",
        hashes=[{"sha256": REPORT_SHA}],
        locators=[
            {"kind": "url", "value": "https://forum.example/t/99"},
            {"kind": "platform", "value": "a school group chat"},
        ],
    )
    filed = httpx.post(f"{process.url}/protect/api/cases", json=fields).json()
    settings = load_settings(
        config_file=process.home / "absent.toml",
        environ={
            "SHIELDWALL_HOME": str(process.home),
            "SHIELDWALL_DATABASE_URL": f"sqlite:///{process.home / 'cli.db'}",  # Cli's
        },
    )
    services = build_services(settings)
    try:
        services.platforms.add(
            {
                "name": "forum",
                "display_name": "Example Forum",
                "abuse_form": "https://forum.example/report",
                "jurisdiction": "ES",
                "bases": ["dsa_art16"],
                "hosts": ["forum.example"],
            }
        )
        [prepared] = services.notices.prepared(filed["case_number"])
        notice = services.notices.exported(filed["case_number"], prepared)

        def look_up() -> None:
            page.goto(f"{process.url}/protect/status")
            page.fill("#case_number", filed["case_number"])
            page.fill("#secret", filed["secret"])
            page.get_by_role("button", name="Show my case").click()

        look_up()
        locators = page.locator("#case-locators")
        expect(locators).to_contain_text("Example Forum was asked to remove it on")
        expect(locators).to_contain_text("a school group chat (reported)")
        page.screenshot(path=str(screenshots(tmp_path) / "status-3-notified.png"), full_page=True)
        services.notices.answer(notice.id, NoticeState.REMOVED, "their ref 8812", "ana")
        look_up()
        expect(locators).to_contain_text("Example Forum says it removed it.")
        page.screenshot(path=str(screenshots(tmp_path) / "status-4-removed.png"), full_page=True)
    finally:
        services.close()
