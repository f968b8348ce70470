"""A complaint about a decision in a real browser against a real `shieldwall serve`: the
person's report is refused; on /protect/status they ask, by keyboard, for the decision to
be looked at again; a different reviewer reverses it in the console; the person sees the
outcome in English, Spanish and Korean. axe-core checks every state, and a screenshot of
each goes to /tmp/complaint-shots/ for people to look at. Benign generated images only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import test_review_console as console_pages
from tests.support.cli import Cli
from tests.support.factories import jpeg, report_fields, report_item
from tests.support.server import ServerProcess

SHOTS = Path("/tmp/complaint-shots")
REFUSED = 66  # the seed of the picture whose report is refused
REJECTED = 67  # the seed of a reported picture whose matching upload is rejected
WHY = "I signed the report with my full legal name. The form shortened it."
TEXTS = {
    "en": ("Ask for this decision to be looked at again", "the decision was changed"),
    "es": ("Pedir que se revise de nuevo esta decisión", "la decisión se cambió"),
    "ko": ("이 결정을 다시 검토해 달라고 요청하기", "결정이 변경되었고"),
}


class Served:
    """The server, a reviewer key (who refuses the report) and the person's case."""

    def __init__(
        self,
        server: ServerProcess,
        http: httpx.Client,
        reviewer: dict[str, str],
        platform: dict[str, str],
    ) -> None:
        self.server = server
        self.http = http
        self.reviewer = reviewer
        self.platform = platform

    @property
    def url(self) -> str:
        return self.server.url

    def file(self, seed: int) -> dict[str, Any]:
        report = report_fields(hashes=[report_item(jpeg(seed))])
        filed = self.http.post("/protect/api/cases", json=report)
        assert filed.status_code == 201, filed.text
        case: dict[str, Any] = filed.json()
        return case

    def decide(self, item_id: int, decision: dict[str, str]) -> None:
        path = f"/api/v1/review/items/{item_id}"
        assert self.http.post(f"{path}/claim", headers=self.reviewer).status_code == 200
        decided = self.http.post(f"{path}/decisions", json=decision, headers=self.reviewer)
        assert decided.status_code == 200, decided.text

    def refused_case(self) -> dict[str, Any]:
        """A filed report, refused by the reviewer key (not by rita)."""
        case = self.file(REFUSED)
        queue = self.http.get("/api/v1/review/queue", headers=self.reviewer).json()
        [item] = [i for i in queue if i["case_number"] == case["case_number"]]
        refusal = {"kind": "refuse", "reason": "The signature does not match the name given."}
        self.decide(item["id"], refusal)
        return case

    def case_with_a_rejected_upload(self) -> dict[str, Any]:
        """A filed report, and a platform's upload of its picture that the key rejected."""
        case = self.file(REJECTED)
        answer = self.http.post(
            "/api/v1/lookup",
            content=jpeg(REJECTED),
            params={"queue": "true", "content_ref": "upload/67"},
            headers={**self.platform, "content-type": "image/jpeg"},
        ).json()
        rejection = {"kind": "reject", "reason": "A different photo of a similar scene."}
        self.decide(answer["review_item"]["id"], rejection)
        return case


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    cli = Cli(tmp_path_factory.mktemp("complaint-home"))
    for name, role in (("rita", "reviewer"), ("lena", "lead")):
        cli.run(
            "user",
            "create",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin=console_pages.PASSWORD + "\n",
        )
    server = ServerProcess({**cli.env, "SHIELDWALL_PROTECT_FILE_LIMIT": "100/100"})
    try:
        admin = {"X-API-Key": server.admin_key()}
        with httpx.Client(base_url=server.url, timeout=30) as http:
            tokens = {}
            for name, role in (("first-reviewer", "reviewer"), ("platform", "screener")):
                made = http.post("/api/v1/keys", json={"name": name, "role": role}, headers=admin)
                assert made.status_code == 201, made.text
                tokens[role] = {"X-API-Key": made.json()["token"]}
            yield Served(server, http, tokens["reviewer"], tokens["screener"])
    finally:
        server.stop()


def look(page: Page, name: str) -> None:
    """axe finds nothing serious; the screenshot goes to SHOTS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    console_pages.SHOTS = SHOTS
    console_pages.look(page, name)


def open_case(page: Page, url: str, case: dict[str, Any], lang: str) -> None:
    page.goto(f"{url}/protect/status?lang={lang}")
    page.fill("#case_number", case["case_number"])
    page.fill("#secret", case["secret"])
    page.keyboard.press("Enter")
    expect(page.locator("#case-title")).to_be_focused()


def test_the_person_complains_and_another_reviewer_reverses_the_refusal(
    browser: Browser, served: Served
) -> None:
    if not console_pages.AXE.is_file():
        pytest.fail("axe-core is not installed: run `make test` (it runs npm install axe-core)")
    case = served.refused_case()
    person = console_pages.new_page(browser)
    for lang in ("es", "ko", "en"):
        open_case(person, served.url, case, lang)
        form = person.locator("#complaint-form")
        expect(form).to_be_visible()
        expect(form.locator("h4")).to_have_text(TEXTS[lang][0])
        expect(person.locator("#decision-complaint-slot #complaint-form")).to_have_count(1)
        look(person, f"complaint-1-form-{lang}")

    # By keyboard: an empty request is refused in words, then the explanation is sent.
    person.focus("#complaint-explanation")
    person.keyboard.press("Tab")
    expect(person.get_by_role("button", name="Send my request")).to_be_focused()
    person.keyboard.press("Enter")
    expect(person.locator("#complaint-status")).to_contain_text("Please say in a few words")
    expect(person.locator("#complaint-explanation")).to_be_focused()
    person.keyboard.type(WHY)
    person.keyboard.press("Tab")
    person.keyboard.press("Enter")
    expect(person.locator("#lookup-status")).to_contain_text("Your request was sent")
    expect(person.locator("#complaints-title")).to_be_focused()
    expect(person.locator("#complaint-form")).to_be_hidden()
    expect(person.locator("#case-state")).to_contain_text("being looked at again")
    expect(person.locator("#complaints-list")).to_contain_text("is looking at it again")
    look(person, "complaint-2-sent-en")

    reviewer = console_pages.new_page(browser)
    console_pages.sign_in(reviewer, served.url, "rita")
    reviewer.goto(f"{served.url}/review?source=complaint")
    look(reviewer, "complaint-3-queue")
    reviewer.locator("#queue .open-item").first.click()
    expect(reviewer.locator("h1")).to_contain_text("Complaint about a decision")
    expect(reviewer.locator("#complaint-explanation")).to_have_text(WHY)
    expect(reviewer.locator("#original-decider")).to_have_text("another reviewer")
    look(reviewer, "complaint-4-item")
    console_pages.wait_for_script(reviewer)
    console_pages.shortcut(reviewer, "r", "decide-reverse")
    reviewer.keyboard.type("The signature is the legal name; the form shortened it.")
    reviewer.keyboard.press("Control+Enter")
    expect(reviewer.locator(".done[role=status]")).to_be_visible()

    for lang in ("en", "es", "ko"):
        open_case(person, served.url, case, lang)
        expect(person.locator("#complaints-list")).to_contain_text(TEXTS[lang][1])
        expect(person.locator("#complaints-list")).to_contain_text("the form shortened it")
        expect(person.locator("#complaint-form")).to_be_hidden()
        look(person, f"complaint-5-outcome-{lang}")
    found = served.http.post(
        "/api/v1/lookup/signals",
        json={"sha256": report_item(jpeg(REFUSED))["sha256"]},
        headers={"X-API-Key": served.server.admin_key()},
    ).json()
    assert found["verdict"] == "review"  # the report's hashes ask for a review again


def test_the_person_can_ask_about_a_copy_found_not_to_be_their_picture(
    browser: Browser, served: Served
) -> None:
    case = served.case_with_a_rejected_upload()
    person = console_pages.new_page(browser)
    for lang in ("en", "es", "ko"):
        open_case(person, served.url, case, lang)
        uploads = person.locator("#uploads-list")
        expect(uploads.locator("li")).to_have_count(1)
        expect(person.locator("#complaint-form")).to_be_hidden()  # the case is not decided
        uploads.get_by_role("button").focus()
        person.keyboard.press("Enter")
        expect(person.locator("#complaint-explanation")).to_be_focused()
        expect(uploads.locator("#complaint-form")).to_be_visible()
        look(person, f"complaint-6-upload-{lang}")
