"""The reviewer console in a real browser against a real `shieldwall serve` with two workers.

A reviewer sets up TOTP and signs in with it, works the queue by keyboard with the media
blurred by default (the bytes the browser received are the server's filtered rendition),
reveals one item (audited), confirms it, after which lookups of the picture and of an
edited copy answer `block`; a rejection stops the same picture being queued again; a lead
handles an escalation; the person sees the decision on /protect/status. axe-core checks
every page state, and a screenshot of each goes to /tmp/review-shots/ for people to look
at. Benign generated images only.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from shieldwall.access.accounts import DEFAULT_BLUR
from shieldwall.app import Services, build_services
from shieldwall.audit.models import AuditAction
from shieldwall.config import load_settings
from shieldwall.media.limits import MediaLimits
from shieldwall.review.models import DetectorFindings, EnrolledLikeness
from shieldwall.review.renditions import blurred_rendition, original_rendition
from shieldwall.signals.models import Signal
from shieldwall.storage.engine import create_database_engine
from tests.support.cli import Cli
from tests.support.edits import captioned, jpeg_bytes
from tests.support.factories import jpeg, report_fields, report_item
from tests.support.polling import eventually
from tests.support.server import ServerProcess

PASSWORD = "correct horse battery staple"
SHOTS = Path("/tmp/review-shots")
AXE = (
    Path(__file__).resolve().parents[2]
    / ".venv"
    / "axe"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
CONFIRMED, REJECTED, ESCALATED = 61, 62, 63  # seeds of pictures the report accepts
LIKENESS = 64  # the seed of a picture a likeness item holds
OVERDUE = 65  # the seed of a picture reported in a case left overdue


@dataclass
class Console:
    """The server, its HTTP side (a platform's screener key) and the home it runs on."""

    server: ServerProcess
    http: httpx.Client
    screener: dict[str, str]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def file_case(self, content: bytes) -> dict[str, Any]:
        item = report_item(content)
        answer = self.http.post("/protect/api/cases", json=report_fields(hashes=[item]))
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def lookup(self, content: bytes, **params: str) -> dict[str, Any]:
        answer = self.http.post(
            "/api/v1/lookup",
            content=content,
            params=params,
            headers={**self.screener, "content-type": "image/jpeg"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def queue_upload(self, content: bytes, ref: str) -> dict[str, Any]:
        """File the person's case, then a platform's upload of the picture asks for review."""
        case = self.file_case(content)
        answer = self.lookup(content, queue="true", content_ref=ref)
        assert answer["verdict"] == "review", answer
        return case

    def services(self) -> Services:
        """The server's services, built in this process on the same database."""
        settings = load_settings(
            config_file=Path(self.env["SHIELDWALL_HOME"]) / "absent.toml", environ=self.env
        )
        return build_services(settings)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    cli = Cli(tmp_path_factory.mktemp("console-home"))
    for name, role in (
        ("alice", "reviewer"),
        ("rita", "reviewer"),
        ("lena", "lead"),
        ("ada", "admin"),
    ):
        cli.run("user", "create", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    env = {**cli.env, "SHIELDWALL_PROTECT_FILE_LIMIT": "100/100"}
    server = ServerProcess(env, workers=2)
    try:
        admin = {"X-API-Key": server.admin_key()}
        with httpx.Client(base_url=server.url, timeout=30) as http:
            made = http.post(
                "/api/v1/keys", json={"name": "platform", "role": "screener"}, headers=admin
            )
            assert made.status_code == 201, made.text
            yield Console(server, http, {"X-API-Key": made.json()["token"]}, env)
    finally:
        server.stop()


@pytest.fixture
def axe_context(browser: Browser) -> Browser:
    if not AXE.is_file():
        pytest.fail("axe-core is not installed: run `make test` (it runs npm install axe-core)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return browser


def new_page(browser: Browser) -> Page:
    # bypass_csp only so that axe's script can be injected; the pages' CSP is tested in
    # tests/integration/test_review_login.py and test_review_console.py.
    return browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()


def look(page: Page, name: str) -> None:
    """Check the page state with axe (nothing serious) and save its screenshot."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], name
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, url: str, username: str, code: str = "") -> None:
    page.goto(f"{url}/review/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    if code:
        page.fill("#code", code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#wellbeing")).to_be_visible()


def set_up_totp(page: Page, console: Console) -> str:
    """Sign alice in with her password, turn TOTP on from the set-up page; the secret."""
    page.goto(f"{console.url}/review")
    expect(page).to_have_url(f"{console.url}/review/login")
    look(page, "01-login")
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/review/totp")
    look(page, "02-totp-setup")
    secret = "".join(page.locator(".secret span").all_inner_texts())
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator(".done")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{console.url}/review/login")
    return secret


def open_by_keyboard(page: Page, ref: str) -> None:
    """On the queue, j until the row of `ref` has the focus, then Enter (claim and open)."""
    for _ in range(12):
        page.keyboard.press("j")
        row = page.evaluate("() => document.activeElement.closest('tr')?.innerText || ''")
        if ref in row:
            page.keyboard.press("Enter")
            expect(page.locator("h1")).to_contain_text(ref)
            return
    raise AssertionError(f"{ref} is not in the queue")


def ground_and_facts(page: Page, facts: str) -> None:
    """With the ground's list focused: the first ground, Tab, the facts, Ctrl+Enter."""
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type(facts)
    page.keyboard.press("Control+Enter")


def wait_for_script(page: Page) -> None:
    """Until the console's script listens: ? opens the keyboard help, Escape closes it."""
    shortcut_dialog = page.locator("#help-dialog")
    for _ in range(50):
        page.keyboard.press("?")
        if shortcut_dialog.is_visible():
            page.keyboard.press("Escape")
            expect(shortcut_dialog).to_be_hidden()
            return
        page.wait_for_timeout(100)
    raise AssertionError("the console's script does not answer")


def shortcut(page: Page, key: str, *forms: str) -> None:
    """Press a decision shortcut until the focus is in one of its forms. A key pressed
    before the page's script listens is lost, and letters typed after it would then be
    shortcuts themselves (the "r" in "sure" would open the rejection)."""
    inside = "(ids) => ids.some((id) => document.activeElement?.closest('#' + id))"
    for _ in range(50):
        page.keyboard.press(key)
        if page.evaluate(inside, list(forms)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{key} did not open {forms}")


def decide_confirm(page: Page, facts: str) -> None:
    """c (the action, remove, has the focus), Tab to the ground, then the rest."""
    shortcut(page, "c", "decide-confirm", "decide-accept")
    page.keyboard.press("Tab")
    ground_and_facts(page, facts)


def decide_accept(page: Page, facts: str) -> None:
    """c on a report (the ground has the focus), then the rest."""
    shortcut(page, "c", "decide-confirm", "decide-accept")
    ground_and_facts(page, facts)


def open_blurred(page: Page, console: Console, picture: bytes, ref: str) -> None:
    """Open the item by keyboard; the media the browser gets is the filtered rendition."""
    page.goto(f"{console.url}/review?source=platform")
    with page.expect_response(lambda r: r.url.endswith("/media")) as shown:
        open_by_keyboard(page, ref)
    media = shown.value.body()
    assert shown.value.headers["cache-control"] == "no-store"
    assert media == blurred_rendition(picture, MediaLimits(), DEFAULT_BLUR)
    assert hashlib.sha256(media).digest() != hashlib.sha256(picture).digest()
    with Image.open(io.BytesIO(media)) as image:
        assert (image.format, image.mode) == ("JPEG", "L")
    assert hashlib.sha256(picture).hexdigest() not in page.content()
    look(page, "04-item-blurred")


def reveal_then_leave(page: Page, picture: bytes) -> None:
    """v shows the original (once); leaving the page swaps the blurred rendition back."""
    with page.expect_response(lambda r: "/original?r=" in r.url) as revealed:
        page.keyboard.press("v")
    assert revealed.value.status == 200
    assert revealed.value.headers["cache-control"] == "no-store"
    assert revealed.value.body() == original_rendition(picture, MediaLimits())[0]
    expect(page.locator("#media-img")).to_have_attribute("data-state", "original")
    look(page, "05-item-revealed")
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide'))")
    expect(page.locator("#media-img")).to_have_attribute("data-state", "blurred")
    expect(page.locator("#media-img")).to_have_attribute("src", re.compile(r"/media$"))


def only_alice_revealed_once(console: Console) -> None:
    services = console.services()
    try:
        reveals = [r for r in services.audit.records() if r.action is AuditAction.REVEAL]
        assert [r.actor.id for r in reveals] == ["alice"]
        assert services.audit.verify().problem is None
    finally:
        services.close()


def blocked_everywhere(console: Console, content: bytes) -> bool:
    """Whether lookups (spread over both workers) all answer block."""
    return all(console.lookup(content)["verdict"] == "block" for _ in range(4))


def test_a_reviewer_works_the_queue_by_keyboard_with_blurred_media(
    axe_context: Browser, console: Console
) -> None:
    browser = axe_context
    confirmed = jpeg(CONFIRMED)
    case = console.queue_upload(confirmed, "upload/confirm")
    page = new_page(browser)
    secret = set_up_totp(page, console)
    sign_in(page, console.url, "alice", pyotp.TOTP(secret).at(time.time() + 30))
    look(page, "03-queue-full")
    open_blurred(page, console, confirmed, "upload/confirm")
    reveal_then_leave(page, confirmed)

    page.keyboard.press("c")
    page.keyboard.press("Control+Enter")  # no ground, no facts: the page says what is missing
    expect(page.locator("#item-error")).to_be_visible()
    expect(page.locator("#confirm-ground")).to_be_focused()
    look(page, "06-decision-error")
    ground_and_facts(page, "The upload is the reported picture.")
    expect(page.locator("h1")).to_contain_text(case["case_number"])  # the next item, claimed

    edited = jpeg_bytes(captioned(Image.open(io.BytesIO(confirmed)), 60))
    eventually(lambda: blocked_everywhere(console, confirmed), timeout=2, message="not blocked")
    eventually(lambda: blocked_everywhere(console, edited), timeout=2, message="edit not blocked")

    decide_accept(page, "A valid notice from the person shown.")
    expect(page.locator(".done[role=status]")).to_be_visible()  # nothing else waiting
    look(page, "07-queue-empty")
    only_alice_revealed_once(console)

    status = new_page(browser)
    status.goto(f"{console.url}/protect/status")
    status.fill("#case_number", case["case_number"])
    status.fill("#secret", case["secret"])
    status.keyboard.press("Enter")
    expect(status.locator("#decision-outcome")).to_contain_text("Your report was accepted")


def test_a_rejection_and_a_leads_escalation(axe_context: Browser, console: Console) -> None:
    browser = axe_context
    benign, doubtful = jpeg(REJECTED), jpeg(ESCALATED)
    console.queue_upload(benign, "upload/reject")
    console.queue_upload(doubtful, "upload/escalate")
    # This reviewer's browser keeps the pages' CSP: the script must work under it.
    page = browser.new_context().new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    sign_in(page, console.url, "rita")
    page.goto(f"{console.url}/review?source=platform")
    open_by_keyboard(page, "upload/reject")
    shortcut(page, "r", "decide-reject")
    page.keyboard.type("A different picture: a beach, not the reported one.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("h1")).not_to_contain_text("upload/reject")
    # The allow-list reaches every serving worker within the 2 s the others are given.
    eventually(
        lambda: console.lookup(benign)["verdict"] == "allow",
        timeout=2,
        message="the rejected picture is still queued for review",
    )
    again = console.lookup(benign, queue="true", content_ref="upload/reject-again")
    assert (again["verdict"], again["review_item"]) == ("allow", None)

    page.goto(f"{console.url}/review?source=platform")
    open_by_keyboard(page, "upload/escalate")
    # Words typed before any field has the focus stay words: the "r" of "sure" does not
    # open the rejection (whose form would then take the rest and Ctrl+Enter send it).
    wait_for_script(page)
    page.keyboard.type("Not sure this is")
    in_a_form = "() => Boolean(document.activeElement?.closest('form.decision'))"
    assert page.evaluate(in_a_form) is False
    page.keyboard.press("Control+Enter")
    expect(page.locator("h1")).to_contain_text("upload/escalate")
    shortcut(page, "e", "decide-escalate")
    page.keyboard.type("Not sure this is the reported picture: please look.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("h1")).not_to_contain_text("upload/escalate")
    assert console.lookup(doubtful)["verdict"] == "review"
    assert refused == []

    lead = new_page(browser)
    sign_in(lead, console.url, "lena")
    lead.goto(f"{console.url}/review/escalations")
    look(lead, "08-escalations")
    open_by_keyboard(lead, "upload/escalate")
    expect(lead.locator(".history")).to_contain_text("Not sure this is the reported picture")
    decide_confirm(lead, "The lead compared it with the report: it is the reported picture.")
    expect(lead.locator("h1")).not_to_contain_text("upload/escalate")
    eventually(
        lambda: console.lookup(doubtful)["verdict"] == "block",
        timeout=2,
        message="the escalated picture is not blocked",
    )


def test_the_settings_admin_pages_and_the_break_prompt(
    axe_context: Browser, console: Console
) -> None:
    browser = axe_context
    page = new_page(browser)
    page.clock.install()
    sign_in(page, console.url, "ada")
    page.goto(f"{console.url}/review/settings")
    look(page, "09-settings")
    page.goto(f"{console.url}/review/admin/users")
    expect(page.locator("table")).to_contain_text("rita")
    look(page, "10-admin-users")
    page.goto(f"{console.url}/review/admin/grounds")
    expect(page.locator("table")).to_contain_text("take-it-down-act")
    look(page, "11-admin-grounds")
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    look(page, "12-keyboard-help")
    page.keyboard.press("Escape")
    expect(page.locator("#break-dialog")).to_be_hidden()
    page.clock.fast_forward("01:01:00")  # an hour of work: the break prompt comes by itself
    expect(page.locator("#break-dialog")).to_be_visible()
    look(page, "13-break-prompt")
    page.get_by_role("button", name="I am back").click()
    expect(page.locator("#break-dialog")).to_be_hidden()


def test_a_likeness_item_shows_its_findings_and_its_confirmation_reaches_the_person(
    axe_context: Browser, console: Console
) -> None:
    picture = jpeg(LIKENESS)
    template = [1.0 / 128**0.5] * 128
    enrolled = console.http.post(
        "/protect/api/enrolments",
        json={
            "enrollee": "guardian",
            "guardian_name": "Marta Example",
            "guardian_signature": "Marta Example",
            "statements": ["own_face", "purpose", "review", "withdraw"],
            "templates": [template],
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    number, secret = enrolled.json()["enrolment_number"], enrolled.json()["secret"]
    services = console.services()
    findings = DetectorFindings(
        0.94,
        1,
        (EnrolledLikeness(number, 0.78),),
        (("Test generator 1.0", "c2pa:digitalSourceType", "trainedAlgorithmicMedia"),),
    )
    services.reviews.queue_likeness(
        findings,
        [Signal.of("sha256", hashlib.sha256(picture).hexdigest())],
        content_ref="chat/likeness",
        key_id=None,
        content=picture,
        minor=services.enrolments.is_minor([number]),
    )
    services.close()
    page = new_page(axe_context)
    sign_in(page, console.url, "rita")
    page.goto(f"{console.url}/review?source=likeness")
    expect(page.locator("tbody")).to_contain_text("Enrolled person")
    look(page, "10-queue-likeness")
    open_by_keyboard(page, "chat/likeness")
    expect(page.locator("h1")).to_contain_text("Possible new explicit image of an enrolled person")
    expect(page.locator(".facts-line")).to_contain_text("Minor")
    expect(page.locator("#likeness")).to_contain_text(number)
    expect(page.locator("#provenance")).to_contain_text("trainedAlgorithmicMedia")
    look(page, "11-item-likeness")
    decide_confirm(page, "A generated explicit image of the enrolled child.")
    expect(page.locator("h1")).not_to_contain_text("chat/likeness")
    eventually(
        lambda: console.lookup(picture)["verdict"] == "block",
        timeout=2,
        message="the confirmed likeness picture is not blocked",
    )
    status = console.http.post(
        "/protect/api/enrolments/status", json={"enrolment_number": number, "secret": secret}
    )
    assert len(status.json()["acted_on"]) == 1


def _overdue(console: Console, number: str, hours: int) -> None:
    """The real server's clock cannot be moved: move the case's stored clock instead, as if
    `hours` had passed since its deadline (its review items carry the same deadline)."""
    settings = load_settings(
        config_file=Path(console.env["SHIELDWALL_HOME"]) / "absent.toml", environ=console.env
    )
    engine = create_database_engine(settings.effective_database_url)
    try:
        past = datetime.now(UTC) - timedelta(hours=hours)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE cases SET deadline = :d WHERE number = :n"), {"d": past, "n": number}
            )
            connection.execute(
                text("UPDATE review_items SET deadline = :d WHERE case_number = :n"),
                {"d": past, "n": number},
            )
    finally:
        engine.dispose()


def test_a_lead_works_the_overdue_list(axe_context: Browser, console: Console) -> None:
    late = console.file_case(jpeg(OVERDUE))
    _overdue(console, late["case_number"], 3)
    page = new_page(axe_context)
    sign_in(page, console.url, "lena")
    page.goto(f"{console.url}/review/overview?show=overdue")
    row = page.locator(f"tr[data-subject='{late['case_number']}']")
    expect(row).to_contain_text("Overdue")
    expect(row).to_contain_text("past the deadline")
    look(page, "12-overview-overdue")
    open_by_keyboard(page, late["case_number"])
    decide_accept(page, "A valid notice from the person shown; late, acted on now.")
    expect(page.locator("h1")).not_to_contain_text(late["case_number"])
    page.goto(f"{console.url}/review/overview?show=overdue")
    expect(page.locator(f"tr[data-subject='{late['case_number']}']")).to_have_count(0)
    expect(page.locator("#clock-filters")).to_contain_text("Overdue (0)")
    look(page, "13-overview-after")


NOTICED = 66  # the seed of a picture whose case names a link on another platform


def test_a_lead_adds_a_platform_and_a_reviewer_tracks_its_notice(
    axe_context: Browser, console: Console
) -> None:
    link = "https://formgram.example/v/314"
    fields = report_fields(
        hashes=[report_item(jpeg(NOTICED))], locators=[{"kind": "url", "value": link}]
    )
    filed = console.http.post("/protect/api/cases", json=fields)
    assert filed.status_code == 201, filed.text
    number = filed.json()["case_number"]
    page = new_page(axe_context)
    sign_in(page, console.url, "lena")
    page.goto(f"{console.url}/review/platforms")
    look(page, "14-platforms-empty")
    page.fill("#p-name", "formgram")
    page.fill("#p-display", "Formgram")
    page.fill("#p-form", "https://formgram.example/report")
    page.fill("#p-country", "ES")
    page.check("#p-basis-dsa_art16")
    page.select_option("#p-language", "es")
    page.fill("#p-hosts", "formgram.example")
    page.click("#save-platform")
    expect(page.locator("tr[data-platform='formgram']")).to_contain_text("EU DSA Article 16")
    look(page, "15-platforms-added")
    page.goto(f"{console.url}/review/cases/{number}/notices")
    row = page.locator(f"tr[data-locator='{link}']")
    expect(row).to_contain_text("Formgram")
    expect(row).to_contain_text("not sent")
    look(page, "16-case-notices")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF link 1").click()
    assert download.value.suggested_filename == f"{number}-formgram.pdf"
    page.reload()
    expect(row).to_contain_text("notified")
    page.get_by_text("Record the platform's answer").click()
    page.select_option("select[name='state']", "acknowledged")
    page.fill("input[name='note']", "ticket 4411")
    look(page, "17-case-notices-answer-form")
    page.get_by_role("button", name="Record answer").click()
    expect(page.locator(".done")).to_contain_text("The answer is recorded.")
    expect(row).to_contain_text("acknowledged")
    look(page, "18-case-notices-answered")
    page.goto(f"{console.url}/review/overview")
    expect(page.locator("#locator-clocks")).to_contain_text(number)
    look(page, "19-overview-notices")
    for lang in ("es", "ko"):
        page.goto(f"{console.url}/review/cases/{number}/notices?lang={lang}")
        look(page, f"20-case-notices-{lang}")
        page.goto(f"{console.url}/review/platforms?lang={lang}")
        look(page, f"21-platforms-{lang}")


def test_a_lead_reads_the_transparency_report(axe_context: Browser, console: Console) -> None:
    page = new_page(axe_context)
    sign_in(page, console.url, "lena")
    page.get_by_role("link", name="Transparency").click()
    expect(page.locator("h1")).to_have_text("Transparency report")
    received = int(page.locator("#received-total").inner_text())
    assert received >= 1  # the cases and uploads the tests before filed today
    expect(page.locator("#decisions-by-kind")).to_be_visible()
    charts = page.locator("img.chart")
    expect(charts).to_have_count(4)
    for index in range(4):
        charts.nth(index).scroll_into_view_if_needed()
    loaded = "(images) => images.every((img) => img.complete && img.naturalWidth > 0)"
    eventually(lambda: charts.evaluate_all(loaded), message="a chart did not load")
    look(page, "22-transparency")
    page.fill("#from", "2020-01-01")
    page.fill("#to", "2020-01-31")
    page.get_by_role("button", name="Show the period").click()
    expect(page.locator("#received-total")).to_have_text("0")
    look(page, "23-transparency-empty-period")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "transparency-2020-01-01-2020-01-31.csv"
    for lang in ("es", "ko"):
        page.goto(f"{console.url}/review/transparency?lang={lang}")
        look(page, f"24-transparency-{lang}")
