"""Notices for a case's locators: which platform each copy sits on, the notice it gets, sent
by email or exported for the platform's web form, and each one tracked with the platform's
answers against its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shieldwall.cases.models import LocatorKind
from shieldwall.cases.service import CaseService
from shieldwall.clock import Clock, utc_now
from shieldwall.errors import InvalidInputError
from shieldwall.takedown.directory import PlatformDirectory
from shieldwall.takedown.notices import notice_basis, notice_fields
from shieldwall.takedown.platforms import Platform
from shieldwall.takedown.ports import NoticeRepository, NoticeSender, NoticeWriter
from shieldwall.takedown.tracking import (
    LocatorNotice,
    NewNotice,
    NoticeAnswer,
    NoticeMethod,
    NoticeState,
)

MAX_NOTE = 2000


@dataclass(frozen=True)
class Signatory:
    """Who notices come from: how platforms reach the service, and who submits DSA notices."""

    contact: str
    name: str
    email: str


@dataclass(frozen=True)
class PreparedNotice:
    """A notice ready to go: its locator, platform, how it would go, and its text."""

    locator: str
    platform: Platform
    subject: str
    body: str

    @property
    def method(self) -> NoticeMethod:
        """By email where the platform has an abuse address, else through its web form."""
        return NoticeMethod.EMAIL if self.platform.abuse_email else NoticeMethod.EXPORT


class NoticeService:
    """Prepares, sends, exports and tracks a case's notices."""

    def __init__(
        self,
        cases: CaseService,
        platforms: PlatformDirectory,
        notices: NoticeRepository,
        writer: NoticeWriter,
        signatory: Signatory,
        sender: NoticeSender | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._cases = cases
        self._platforms = platforms
        self._notices = notices
        self._writer = writer
        self._signatory = signatory
        self._sender = sender
        self._clock = clock

    def now(self) -> datetime:
        """The service's time (states are read against it)."""
        return self._clock()

    def prepared(self, number: str, *, synthetic: bool = False) -> list[PreparedNotice]:
        """A notice for each of the case's links on a platform the directory knows and
        that accepts a notice Shieldwall writes (others are the support centre's to handle)."""
        case = self._cases.get(number)
        now = self._clock()
        found = []
        for locator in case.report.locators:
            if locator.kind not in (LocatorKind.URL, LocatorKind.MESSAGE):
                continue
            platform = self._platforms.platform_of(locator.value)
            if platform is None or notice_basis(platform) is None:
                continue
            fields = notice_fields(
                case,
                locator.value,
                platform,
                contact=self._signatory.contact,
                submitter=(self._signatory.name, self._signatory.email),
                now=now,
                synthetic=synthetic,
            )
            subject, body = self._writer(fields)
            found.append(PreparedNotice(locator.value, platform, subject, body))
        return found

    def send(self, number: str, *, synthetic: bool = False) -> list[LocatorNotice]:
        """Email every notice whose platform has an abuse address and that was not sent
        before; each is recorded once the mail server took it."""
        if self._sender is None:
            raise InvalidInputError("no mail server is set (smtp_url): export the notices")
        already = {(n.locator, n.platform) for n in self._notices.of_case(number)}
        sent = []
        for notice in self.prepared(number, synthetic=synthetic):
            if notice.method is not NoticeMethod.EMAIL:
                continue
            if (notice.locator, notice.platform.name) in already:
                continue
            self._sender.send_notice(notice.platform.abuse_email, notice.subject, notice.body)
            sent.append(self._record(number, notice, NoticeMethod.EMAIL))
        return sent

    def exported(self, number: str, notice: PreparedNotice) -> LocatorNotice:
        """Record a notice written out for the platform's web form."""
        return self._record(number, notice, NoticeMethod.EXPORT)

    def _record(self, number: str, notice: PreparedNotice, method: NoticeMethod) -> LocatorNotice:
        basis = notice_basis(notice.platform)
        if basis is None:  # prepared() makes none without one: the directory changed since
            raise InvalidInputError(f"{notice.platform.name} accepts no notice Shieldwall writes")
        now = self._clock()
        return self._notices.add(
            NewNotice(
                number,
                notice.locator,
                notice.platform.name,
                basis,
                notice.platform.language,
                method,
                now,
                now + timedelta(hours=notice.platform.deadline_hours),
            )
        )

    def notices(self, number: str) -> list[LocatorNotice]:
        """The case's notices, oldest first."""
        return self._notices.of_case(number)

    def answer(self, notice_id: int, state: NoticeState, note: str, by: str) -> LocatorNotice:
        """Record what the platform answered (acknowledged, removed, refused)."""
        if state in (NoticeState.NOTIFIED, NoticeState.NO_ANSWER):
            raise InvalidInputError("an answer is acknowledged, removed or refused")
        if len(note) > MAX_NOTE:
            raise InvalidInputError(f"the note is at most {MAX_NOTE} characters")
        return self._notices.answer(notice_id, NoticeAnswer(self._clock(), state, note, by))
