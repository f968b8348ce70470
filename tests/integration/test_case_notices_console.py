"""The console's takedown pages over the whole app: a case's notices (download as text and
PDF, recorded once; the platform's answer with a re-check date, audited), the leads'
platform directory, and the notices' clocks on the leads' Deadlines page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest

from shieldwall.audit.models import AuditAction
from shieldwall.cases.models import validate_report
from tests.support.console import Console, every_answer_is_no_store, running_console
from tests.support.factories import report_fields
from tests.support.mail import Inbox, local_smtp

EXAMPLEGRAM = {
    "name": "examplegram",
    "display_name": "Examplegram",
    "abuse_email": "abuse@examplegram.example",
    "jurisdiction": "US",
    "bases": ["take_it_down"],
    "hosts": ["examplegram.example"],
}
FORMGRAM = {
    "name": "formgram",
    "display_name": "Formgram",
    "abuse_form": "https://formgram.example/report",
    "jurisdiction": "ES",
    "bases": ["dsa_art16"],
    "language": "es",
    "hosts": ["formgram.example"],
}
LINKS = [
    {"kind": "url", "value": "https://examplegram.example/p/9"},
    {"kind": "url", "value": "https://formgram.example/v/9"},
    {"kind": "url", "value": "https://unknown.example/x"},
]


def file_case(console: Console) -> str:
    console.services.platforms.add(EXAMPLEGRAM)
    console.services.platforms.add(FORMGRAM)
    report = validate_report(report_fields(locators=LINKS))
    number: str = console.services.cases.file(report).case.number
    return number


def test_a_reviewer_downloads_a_web_form_notice_and_records_the_answer(
    console: Console,
) -> None:
    number = file_case(console)
    alice = console.sign_in("alice")
    page = alice.get(f"/review/cases/{number}/notices")
    assert page.status_code == 200
    assert "Formgram" in page.text
    assert "EU DSA Article 16" in page.text
    assert "Not in the platform directory" in page.text
    assert "No mail server is set" in page.text
    link = "https://formgram.example/v/9"
    pdf = alice.post(f"/review/cases/{number}/notices/export", {"locator": link, "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"{number}-formgram.pdf" in pdf.headers["content-disposition"]
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert link in text.replace("\n", "")
    assert "Reglamento (UE) 2022/2065" in " ".join(text.split())
    plain = alice.post(f"/review/cases/{number}/notices/export", {"locator": link, "format": "txt"})
    assert link in plain.text
    [notice] = console.services.notices.notices(number)  # downloaded twice, recorded once
    assert (notice.platform, notice.method.value) == ("formgram", "export")
    recheck = (console.services.notices.now() + timedelta(days=3)).strftime("%Y-%m-%d")
    answered = alice.post(
        f"/review/notices/{notice.id}/answer",
        {"state": "acknowledged", "note": "ticket 4411", "recheck": recheck},
    )
    assert answered.status_code == 303
    [notice] = console.services.notices.notices(number)
    assert notice.answers[-1].by == "alice"
    assert notice.recheck_at is not None
    assert notice.recheck_at.strftime("%Y-%m-%d") == recheck
    again = alice.get(f"/review/cases/{number}/notices")
    assert "ticket 4411" in again.text
    assert "acknowledged" in again.text
    events = [
        r.event for r in console.services.audit.records() if r.event.action is AuditAction.NOTICE
    ]
    assert [(e.actor.id, e.details["change"]) for e in events] == [
        ("alice", "sent"),
        ("alice", "answer"),
    ]
    assert all(link not in str(e.details) for e in events)
    every_answer_is_no_store(console)


def test_wrong_answers_are_refused_calmly(console: Console) -> None:
    number = file_case(console)
    alice = console.sign_in("alice")
    link = "https://formgram.example/v/9"
    alice.post(f"/review/cases/{number}/notices/export", {"locator": link, "format": "txt"})
    [notice] = console.services.notices.notices(number)
    for form in (
        {"state": "notified"},
        {"state": "removed", "recheck": "2001-01-01"},
        {"state": "removed", "recheck": "not a date"},
        {"state": "removed", "note": "x" * 2001},
    ):
        answer = alice.post(f"/review/notices/{notice.id}/answer", form)
        assert answer.status_code == 422, form
        assert 'role="alert"' in answer.text
    assert alice.post("/review/notices/999/answer", {"state": "removed"}).status_code == 404
    unknown = alice.post(
        f"/review/cases/{number}/notices/export", {"locator": "https://unknown.example/x"}
    )
    assert unknown.status_code == 422
    assert alice.get("/review/cases/SW-ZZZZ-ZZZZ/notices").status_code == 404
    no_csrf = alice.client.post(f"/review/notices/{notice.id}/answer", data={"state": "removed"})
    assert no_csrf.status_code == 403
    assert console.services.notices.notices(number)[0].answers == ()


@pytest.fixture
def mailing_console(tmp_path: Path) -> Iterator[tuple[Console, Inbox]]:
    with local_smtp() as (inbox, port):
        yield from (
            (console, inbox)
            for console in running_console(
                tmp_path,
                smtp_url=f"smtp://127.0.0.1:{port}",
                mail_from="Helpline <help@helpline.example>",
                lead_emails="lena@helpline.example",
            )
        )


def test_the_page_emails_notices_and_the_leads_see_their_clocks(
    mailing_console: tuple[Console, Inbox],
) -> None:
    console, inbox = mailing_console
    number = file_case(console)
    lena = console.sign_in("lena")
    page = lena.get(f"/review/cases/{number}/notices")
    assert "Send 1 notice(s)" in page.text
    sent = lena.post(f"/review/cases/{number}/notices/send", {"synthetic": "yes"})
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("?done=sent-1")
    mails = inbox.wait(2)
    [notice_mail] = [m for m in mails if m["To"] == "abuse@examplegram.example"]
    assert not notice_mail.is_multipart()  # text only: never an attachment
    body = notice_mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "digital forgery" in body.decode("utf-8").lower()
    overview = lena.get("/review/overview")
    assert 'id="locator-clocks"' in overview.text
    assert "examplegram" in overview.text
    [notice] = console.services.notices.notices(number)
    assert f'data-notice="{notice.id}"' in overview.text
    again = lena.post(f"/review/cases/{number}/notices/send")
    assert again.headers["location"].endswith("?done=sent-0")  # each notice goes once


def test_leads_keep_the_platform_directory_and_reviewers_cannot(console: Console) -> None:
    alice, lena = console.sign_in("alice"), console.sign_in("lena")
    assert alice.get("/review/platforms").status_code == 403
    assert alice.post("/review/platforms", {"change": "add"}).status_code == 403
    empty = lena.get("/review/platforms")
    assert "No platform yet" in empty.text
    form = {
        "change": "add",
        "name": "examplegram",
        "display_name": "Examplegram",
        "abuse_email": "abuse@examplegram.example",
        "jurisdiction": "us",
        "bases": "take_it_down",
        "deadline_hours": "48",
        "language": "en",
        "hosts": "examplegram.example\nm.examplegram.example",
    }
    assert lena.post("/review/platforms", form).status_code == 303
    added = console.services.platforms.get("examplegram")
    assert added.hosts == ("examplegram.example", "m.examplegram.example")
    assert added.jurisdiction == "US"
    duplicate = lena.post("/review/platforms", form)
    assert duplicate.status_code == 422
    assert 'value="examplegram"' in duplicate.text  # what was typed is shown again
    broken = lena.post(
        "/review/platforms", {**form, "name": "other", "abuse_email": "", "hosts": "not a host"}
    )
    assert broken.status_code == 422
    assert "abuse contact" in broken.text
    assert "is not a host name" in broken.text
    editing = lena.get("/review/platforms?edit=examplegram")
    assert "Change examplegram" in editing.text
    assert "readonly" in editing.text
    changed = lena.post("/review/platforms", {**form, "change": "edit", "deadline_hours": "24"})
    assert changed.status_code == 303
    assert console.services.platforms.get("examplegram").deadline_hours == 24
    listing = lena.get("/review/platforms")
    assert "24 hours" in listing.text
    assert "m.examplegram.example" in listing.text
    every_answer_is_no_store(console)
