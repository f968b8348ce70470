"""Every Notifier adapter acknowledges a filed report with the same email: through a real
local SMTP server, or kept by the NullNotifier (no SMTP configured; the tests' fake)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message

import pytest

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.service import BankService
from shieldwall.cases.memory import InMemoryCaseRepository
from shieldwall.cases.models import validate_report
from shieldwall.cases.ports import Notifier
from shieldwall.cases.service import CaseService
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.mail import NullNotifier, SmtpNotifier
from tests.support.factories import report_fields
from tests.support.mail import local_smtp

SENDER = "Shieldwall <help@shieldwall.test>"
Delivered = Callable[[int], list[Message]]


@pytest.fixture(params=["null", "smtp"])
def notifier(request: pytest.FixtureRequest) -> Iterator[tuple[Notifier, Delivered]]:
    """Each Notifier adapter and how to read the messages it sent (waiting for `count`)."""
    if request.param == "null":
        null = NullNotifier(SENDER)
        yield null, lambda count: [message_from_bytes(m.as_bytes()) for m in null.sent]
        return
    with local_smtp() as (inbox, port):
        yield SmtpNotifier(f"smtp://127.0.0.1:{port}", SENDER), inbox.wait


def test_a_filed_report_is_acknowledged_by_number_never_with_its_secret(
    notifier: tuple[Notifier, Delivered],
) -> None:
    adapter, delivered = notifier
    cases = CaseService(
        InMemoryCaseRepository(), BankService(InMemoryBankRepository()), notifier=adapter
    )
    filed = cases.file(validate_report(report_fields()))
    [mail] = delivered(1)
    assert (mail["To"], mail["From"]) == ("ana@example.org", SENDER)
    assert filed.case.number in mail["Subject"]
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert filed.case.number in body
    assert "Fingerprints received: 1" in body
    assert filed.secret not in body


def test_the_null_notifier_keeps_only_the_newest_messages() -> None:
    null = NullNotifier(SENDER, keep=2)
    cases = CaseService(
        InMemoryCaseRepository(), BankService(InMemoryBankRepository()), notifier=null
    )
    numbers = [cases.file(validate_report(report_fields())).case.number for _ in range(3)]
    subjects = [message["Subject"] for message in null.sent]
    assert len(subjects) == 2
    assert numbers[1] in subjects[0]
    assert numbers[2] in subjects[1]
    with pytest.raises(InvalidInputError):
        NullNotifier(SENDER, keep=0)
