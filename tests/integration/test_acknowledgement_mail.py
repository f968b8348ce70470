"""A filed report gets an acknowledgement email through a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shieldwall.integrations.mail import SmtpNotifier
from shieldwall.web.app import create_app
from tests.support.factories import report_fields
from tests.support.mail import Inbox, local_smtp
from tests.support.server import free_port
from tests.support.services import make_services


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with local_smtp() as served:
        yield served


def _client(tmp_path: Path, smtp_url: str) -> TestClient:
    services = make_services(
        tmp_path, "m.db", smtp_url=smtp_url, mail_from="Shieldwall <help@shieldwall.test>"
    )
    return TestClient(create_app(services))


def test_the_acknowledgement_names_the_case_but_never_the_secret(
    smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    with _client(tmp_path, f"smtp://127.0.0.1:{port}") as client:
        filed = client.post("/protect/api/cases", json=report_fields()).json()
    [mail] = inbox.wait(1)
    assert mail["To"] == "ana@example.org"
    assert mail["From"] == "Shieldwall <help@shieldwall.test>"
    assert filed["case_number"] in mail["Subject"]
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert filed["case_number"] in body
    assert "Fingerprints received: 1" in body
    assert filed["deadline"][:10] in body
    assert filed["secret"] not in body
    assert "\\n" not in body


def test_a_mail_server_that_is_down_does_not_stop_the_filing(tmp_path: Path) -> None:
    with _client(tmp_path, f"smtp://127.0.0.1:{free_port()}") as client:
        filed = client.post("/protect/api/cases", json=report_fields())
    assert filed.status_code == 201


def test_an_enrolled_person_is_told_by_email_without_the_image(
    smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    notifier = SmtpNotifier(f"smtp://127.0.0.1:{port}", "Shieldwall <help@shieldwall.test>")
    at = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    notifier.notify_enrolled("ana@example.org", "EN-AB12-CD34", at)
    [mail] = inbox.wait(1)
    assert mail["To"] == "ana@example.org"
    assert "EN-AB12-CD34" in mail["Subject"]
    assert not mail.is_multipart()  # text only: no image is ever attached
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "2026-12-04 18:30 UTC" in body
    assert "blocked" in body
    assert "http" not in body  # no link to anything
