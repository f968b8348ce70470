"""Emails over SMTP, sent in the background so nothing waits on mail: the acknowledgement of
a report, the outcome of the reporter's complaint about a decision, and the notice to an
enrolled person that an image showing them was acted on.

The email says the report arrived, when, the case number and the 48-hour deadline. It
never carries the secret (a mailbox can be read by others) or any hash. A mail server
that is down or refuses the message is logged (without the address) and changes nothing
about the case.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Final
from urllib.parse import unquote, urlsplit

from shieldwall.cases.models import Case
from shieldwall.deadlines import ClockState
from shieldwall.errors import InvalidInputError, UnavailableError
from shieldwall.review.complaint_models import Complaint, ComplaintOutcome
from shieldwall.review.deadlines import WorkClock
from shieldwall.takedown.service import LocatorClock

SMTP_TIMEOUT_S: Final = 15.0
DEFAULT_SENDER: Final = "Shieldwall <no-reply@localhost>"
_log = logging.getLogger("shieldwall.mail")


def acknowledgement(case: Case, sender: str) -> EmailMessage:
    """The email confirming a report (English for now; the pages' languages later)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = case.report.email
    message["Subject"] = f"We received your report (case {case.number})"
    received = case.received_at.strftime("%Y-%m-%d %H:%M UTC")
    deadline = case.deadline.strftime("%Y-%m-%d %H:%M UTC")
    message.set_content(
        "\n".join(
            [
                "Your report has been received. Nothing else is needed from you now.",
                "",
                f"Case number: {case.number}",
                f"Received: {received}",
                f"Fingerprints received: {len(case.report.hashes)}",
                f"Copies must be removed by: {deadline}",
                "",
                "To see what happens, or to withdraw the report at any time, open the case",
                "status page and enter the case number and the secret you were shown.",
                "We never ask for your images, and never send links to them.",
            ]
        )
    )
    return message


_COMPLAINT_OUTCOMES: Final = {
    ComplaintOutcome.UPHOLD: "The decision stands.",
    ComplaintOutcome.REVERSE: "The decision was reversed, and what it did has been undone.",
}


def complaint_outcome(case: Case, complaint: Complaint, sender: str) -> EmailMessage:
    """The email telling the reporter what came of their complaint: the outcome and when,
    never an image, a hash, a link to content or the reviewer's name."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = case.report.email
    message["Subject"] = f"Your request to look at a decision again (case {case.number})"
    decided = complaint.decided_at or complaint.lodged_at
    message.set_content(
        "\n".join(
            [
                "You asked for a decision about your report to be looked at again. A reviewer",
                "who did not make the decision has now looked at it.",
                "",
                _COMPLAINT_OUTCOMES[complaint.outcome or ComplaintOutcome.UPHOLD],
                "",
                f"Case number: {case.number}",
                f"Request received: {complaint.lodged_at.strftime('%Y-%m-%d %H:%M UTC')}",
                f"Looked at again: {decided.strftime('%Y-%m-%d %H:%M UTC')}",
                "",
                "The reasons are on the case status page: enter the case number and the secret",
                "you were shown. If you still disagree, the service that runs this page can tell",
                "you about out-of-court dispute settlement and the courts.",
            ]
        )
    )
    return message


def likeness_notice(email: str, number: str, at: datetime, sender: str) -> EmailMessage:
    """The email telling an enrolled person an image showing them was found and acted on:
    no image, no link to one, no detail of where (the status page says the same)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email
    message["Subject"] = f"An image was found and blocked (enrolment {number})"
    message.set_content(
        "\n".join(
            [
                "A new explicit image that seemed to show the face you enrolled was found,",
                "checked by a person at this service, and is now blocked wherever this service",
                "screens content. You do not need to do anything.",
                "",
                f"Enrolment number: {number}",
                f"Acted on: {at.strftime('%Y-%m-%d %H:%M UTC')}",
                "",
                "We do not send the image or say where it was. Your enrolment status page shows",
                "this notice; you can withdraw your enrolment there at any time with your",
                "enrolment number and secret. If you need support, contact the service that",
                "runs this page and give your enrolment number.",
            ]
        )
    )
    return message


def deadline_alert(
    clock: WorkClock, now: datetime, sender: str, leads: Sequence[str]
) -> EmailMessage:
    """The escalation to leads: which case, its deadline, how long is left (or how long
    past), which items wait. No names, no contact details, no hashes."""
    minutes = abs(int(clock.left(now) // 60))
    span = f"{minutes // 60} h {minutes % 60} min"
    overdue = clock.state is ClockState.OVERDUE
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(leads)
    word = "OVERDUE" if overdue else "at risk"
    message["Subject"] = f"[Shieldwall] {clock.subject} is {word}"
    message.set_content(
        "\n".join(
            [
                f"{clock.subject} is {word}.",
                "",
                f"Deadline: {clock.deadline.strftime('%Y-%m-%d %H:%M UTC')}",
                f"{span} past the deadline." if overdue else f"{span} left.",
                f"Shows a minor: {'yes' if clock.minor else 'no'}",
                f"Waiting review items: {', '.join(f'#{i}' for i in clock.items)}",
                "",
                "The leads' overview in the review console (/review/overview) lists every",
                "clock at risk or overdue; each item opens from there.",
            ]
        )
    )
    return message


def notice_alert(
    clock: LocatorClock, now: datetime, sender: str, leads: Sequence[str]
) -> EmailMessage:
    """The escalation to leads about a platform's notice: no answer by its deadline, or a
    link to look at again. The platform and the case number; never the link itself (it may
    name the person), never contact details."""
    notice = clock.notice
    minutes = abs(int((now - clock.due).total_seconds() // 60))
    rechecking = notice.recheck_at is not None
    what = "is due for a re-check" if rechecking else "has no answer by its deadline"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(leads)
    message["Subject"] = f"[Shieldwall] {notice.case_number}: notice to {notice.platform} {what}"
    message.set_content(
        "\n".join(
            [
                f"The notice #{notice.id} to {notice.platform} about a link of case "
                f"{notice.case_number} {what}.",
                "",
                f"Sent: {notice.notified_at.strftime('%Y-%m-%d %H:%M UTC')} "
                f"({notice.method.value}, {notice.basis.value})",
                f"{'Re-check date' if rechecking else 'Deadline'}: "
                f"{clock.due.strftime('%Y-%m-%d %H:%M UTC')} "
                f"({minutes // 60} h {minutes % 60} min ago)",
                f"State: {clock.state.value}",
                "",
                "Look at the link, then record what you found on the case's notices page",
                f"in the review console (/review/cases/{notice.case_number}/notices).",
            ]
        )
    )
    return message


def plain_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text email (takedown notices: never an attachment)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class SmtpNotifier:
    """Sends acknowledgements through one SMTP server, each from a background thread."""

    def __init__(self, url: str, sender: str, leads: Sequence[str] = ()) -> None:
        self._leads = tuple(leads)
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
            raise InvalidInputError("smtp_url must be smtp://, smtps:// or smtp+starttls://")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender = sender

    def acknowledge(self, case: Case) -> None:
        """Send the acknowledgement in the background (returns at once)."""
        message = acknowledgement(case, self._sender)
        threading.Thread(
            target=self._send, args=(message, case.number), name="shieldwall-mail", daemon=True
        ).start()

    def notify_enrolled(self, email: str, number: str, at: datetime) -> None:
        """Tell an enrolled person an image showing them was acted on (in the background)."""
        message = likeness_notice(email, number, at, self._sender)
        threading.Thread(
            target=self._send, args=(message, number), name="shieldwall-mail", daemon=True
        ).start()

    def complaint_decided(self, case: Case, complaint: Complaint) -> None:
        """Tell the reporter what came of their complaint (in the background)."""
        message = complaint_outcome(case, complaint, self._sender)
        threading.Thread(
            target=self._send, args=(message, case.number), name="shieldwall-mail", daemon=True
        ).start()

    def deadline_alert(self, clock: WorkClock, now: datetime) -> None:
        """Tell the leads a case turned at risk or overdue (none configured: nothing)."""
        if not self._leads:
            return
        message = deadline_alert(clock, now, self._sender, self._leads)
        threading.Thread(
            target=self._send, args=(message, clock.subject), name="shieldwall-mail", daemon=True
        ).start()

    def notice_alert(self, clock: LocatorClock, now: datetime) -> None:
        """Tell the leads a platform's notice is overdue (none configured: nothing)."""
        if not self._leads:
            return
        message = notice_alert(clock, now, self._sender, self._leads)
        threading.Thread(
            target=self._send,
            args=(message, clock.notice.case_number),
            name="shieldwall-mail",
            daemon=True,
        ).start()

    def send_notice(self, to: str, subject: str, body: str) -> None:
        """Send a takedown notice now (the caller records it only if this returns); an
        SMTP or connection error is raised as a StorageError-like ShieldwallError."""
        message = plain_message(self._sender, to, subject, body)
        try:
            self._deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise UnavailableError(f"the mail server did not take the notice: {exc}") from exc

    def _deliver(self, message: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self._scheme == "smtps" else smtplib.SMTP
        with smtp_class(self._host, self._port, timeout=SMTP_TIMEOUT_S) as server:
            if self._scheme == "smtp+starttls":
                server.starttls()
            if self._user and self._password:
                server.login(self._user, self._password)
            server.send_message(message)

    def _send(self, message: EmailMessage, number: str) -> None:
        try:
            self._deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            _log.warning("email about %s not sent: %s", number, type(exc).__name__)


class NullNotifier:
    """No SMTP server configured: nothing is sent, but the emails that would have been are
    kept in `sent`, newest last (the last `keep` of them: memory stays bounded). Tests use
    it as the Notifier fake."""

    def __init__(
        self, sender: str = DEFAULT_SENDER, keep: int = 100, leads: Sequence[str] = ()
    ) -> None:
        self._leads = tuple(leads)
        if keep < 1:
            raise InvalidInputError("a NullNotifier keeps at least one message")
        self._sender = sender
        self._sent: deque[EmailMessage] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def acknowledge(self, case: Case) -> None:
        """Keep the acknowledgement that SMTP would have carried."""
        message = acknowledgement(case, self._sender)
        with self._lock:
            self._sent.append(message)

    def notify_enrolled(self, email: str, number: str, at: datetime) -> None:
        """Keep the notice to an enrolled person that SMTP would have carried."""
        message = likeness_notice(email, number, at, self._sender)
        with self._lock:
            self._sent.append(message)

    def complaint_decided(self, case: Case, complaint: Complaint) -> None:
        """Keep the outcome of a complaint that SMTP would have carried to the reporter."""
        message = complaint_outcome(case, complaint, self._sender)
        with self._lock:
            self._sent.append(message)

    def deadline_alert(self, clock: WorkClock, now: datetime) -> None:
        """Keep the escalation SMTP would have carried to the leads."""
        if not self._leads:
            return
        message = deadline_alert(clock, now, self._sender, self._leads)
        with self._lock:
            self._sent.append(message)

    def notice_alert(self, clock: LocatorClock, now: datetime) -> None:
        """Keep the escalation about a notice SMTP would have carried to the leads."""
        if not self._leads:
            return
        message = notice_alert(clock, now, self._sender, self._leads)
        with self._lock:
            self._sent.append(message)

    def send_notice(self, to: str, subject: str, body: str) -> None:
        """Keep the notice SMTP would have carried."""
        message = plain_message(self._sender, to, subject, body)
        with self._lock:
            self._sent.append(message)

    @property
    def sent(self) -> list[EmailMessage]:
        """The messages that would have been sent, oldest first."""
        with self._lock:
            return list(self._sent)
