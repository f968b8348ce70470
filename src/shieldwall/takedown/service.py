"""Notices for a case's locators: which platform each copy sits on, the notice it gets, sent
by email or exported for the platform's web form, and each one tracked with the platform's
answers against its deadline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from shieldwall.audit.models import Actor, ActorKind, AuditAction, AuditEvent, DetailValue, Subject
from shieldwall.audit.ports import AuditLog
from shieldwall.cases.models import LocatorKind
from shieldwall.cases.service import CaseService
from shieldwall.clock import Clock, utc_now
from shieldwall.deadlines import ClockState, DeadlinePolicy
from shieldwall.errors import InvalidInputError, NotFoundError
from shieldwall.takedown.directory import PlatformDirectory
from shieldwall.takedown.notices import notice_basis, notice_fields
from shieldwall.takedown.platforms import LegalBasis, Platform
from shieldwall.takedown.ports import NoticeRepository, NoticeSender, NoticeWriter
from shieldwall.takedown.tracking import (
    LocatorNotice,
    NewNotice,
    NoticeAnswer,
    NoticeMethod,
    NoticeState,
)

MAX_NOTE = 2000
SYSTEM = Actor(ActorKind.SYSTEM, "cli")
"""Who acts when no one signed in does (the command line)."""
MAX_RECHECK = timedelta(days=90)


@dataclass(frozen=True)
class LocatorClock:
    """A notice someone should look at: by when (its re-check date, else the platform's
    deadline), that time's clock state, and the notice's own state."""

    notice: LocatorNotice
    due: datetime
    clock: ClockState
    state: NoticeState

    @property
    def subject(self) -> str:
        """Its key in the alert store: one alert per notice, deadline and re-check date."""
        return f"notice-{self.notice.id}-{self.due.strftime('%Y%m%dT%H%M')}"


@dataclass(frozen=True)
class Signatory:
    """Who notices come from: how platforms reach the service, and who submits DSA notices."""

    contact: str
    name: str
    email: str


@dataclass(frozen=True)
class CaseLink:
    """A link of a case: from the report, or a copy a sweep found (`swept`)."""

    value: str
    swept: bool


@dataclass(frozen=True)
class PreparedNotice:
    """A notice ready to go: its locator, platform, how it would go, and its text."""

    locator: str
    platform: Platform
    subject: str
    body: str

    @property
    def basis(self) -> LegalBasis | None:
        """The law the notice rests on (prepared() makes none without one)."""
        return notice_basis(self.platform)

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
        audit: AuditLog | None = None,
        found_copies: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        self._audit = audit
        self._found_copies = found_copies
        self._cases = cases
        self._platforms = platforms
        self._notices = notices
        self._writer = writer
        self._signatory = signatory
        self._sender = sender
        self._clock = clock

    @property
    def can_send(self) -> bool:
        """Whether notices can be emailed (a mail server is set)."""
        return self._sender is not None

    def now(self) -> datetime:
        """The service's time (states are read against it)."""
        return self._clock()

    def prepared(self, number: str, *, synthetic: bool = False) -> list[PreparedNotice]:
        """A notice for each of the case's links on a platform the directory knows and
        that accepts a notice Shieldwall writes (others are the support centre's to handle)."""
        case = self._cases.get(number)
        now = self._clock()
        found = []
        links = self.links(number)
        swept = [link.value for link in links if link.swept]
        for link in links:
            platform = self._platforms.platform_of(link.value)
            if platform is None or notice_basis(platform) is None:
                continue
            fields = notice_fields(
                case,
                link.value,
                platform,
                contact=self._signatory.contact,
                submitter=(self._signatory.name, self._signatory.email),
                now=now,
                synthetic=synthetic,
                found_copies=swept,
            )
            subject, body = self._writer(fields)
            found.append(PreparedNotice(link.value, platform, subject, body))
        return found

    def links(self, number: str) -> list[CaseLink]:
        """The case's links: the report's (URLs and messages), then the copies the sweeps
        found on platforms that gave a URL as their `content_ref`, each once."""
        case = self._cases.get(number)
        links = [
            CaseLink(locator.value, swept=False)
            for locator in case.report.locators
            if locator.kind in (LocatorKind.URL, LocatorKind.MESSAGE)
        ]
        seen = {link.value for link in links}
        for ref in self._found_copies(number) if self._found_copies is not None else ():
            if ref not in seen and urlsplit(ref).scheme in ("http", "https"):
                links.append(CaseLink(ref, swept=True))
                seen.add(ref)
        return links

    def send(
        self, number: str, *, synthetic: bool = False, actor: Actor = SYSTEM
    ) -> list[LocatorNotice]:
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
            sent.append(self._record(number, notice, NoticeMethod.EMAIL, actor))
        return sent

    def exported(self, number: str, notice: PreparedNotice, actor: Actor = SYSTEM) -> LocatorNotice:
        """Record a notice written out for the platform's web form (once: writing it out
        again keeps the first record and its clock)."""
        for recorded in self._notices.of_case(number):
            if (recorded.locator, recorded.platform) == (notice.locator, notice.platform.name):
                return recorded
        return self._record(number, notice, NoticeMethod.EXPORT, actor)

    def prepared_for(self, number: str, locator: str, *, synthetic: bool = False) -> PreparedNotice:
        """The notice of one of the case's locators; NotFoundError if it gets none."""
        for notice in self.prepared(number, synthetic=synthetic):
            if notice.locator == locator:
                return notice
        raise NotFoundError("no notice for that link: its platform is not in the directory")

    def _record(
        self, number: str, notice: PreparedNotice, method: NoticeMethod, actor: Actor
    ) -> LocatorNotice:
        basis = notice_basis(notice.platform)
        if basis is None:  # prepared() makes none without one: the directory changed since
            raise InvalidInputError(f"{notice.platform.name} accepts no notice Shieldwall writes")
        now = self._clock()
        recorded = self._notices.add(
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
        self._log(actor, recorded, {"change": "sent", "method": method.value, "basis": basis.value})
        return recorded

    def _log(self, actor: Actor, notice: LocatorNotice, details: dict[str, DetailValue]) -> None:
        """The notice's change in the audit log (never the link: it may name the person)."""
        if self._audit is None:
            return
        self._audit.append(
            AuditEvent(
                self._clock(),
                actor,
                AuditAction.NOTICE,
                Subject("case", notice.case_number),
                {"notice": notice.id, "platform": notice.platform, **details},
            )
        )

    def notices(self, number: str) -> list[LocatorNotice]:
        """The case's notices, oldest first."""
        return self._notices.of_case(number)

    def get(self, notice_id: int) -> LocatorNotice:
        """A notice by id."""
        return self._notices.get(notice_id)

    def answer(
        self,
        notice_id: int,
        state: NoticeState,
        note: str,
        by: str,
        recheck_at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> LocatorNotice:
        """Record what the platform answered (acknowledged, removed, refused), and when
        someone should look at the link again (after now, within MAX_RECHECK)."""
        if state in (NoticeState.NOTIFIED, NoticeState.NO_ANSWER):
            raise InvalidInputError("an answer is acknowledged, removed or refused")
        if len(note) > MAX_NOTE:
            raise InvalidInputError(f"the note is at most {MAX_NOTE} characters")
        if not by.strip():
            raise InvalidInputError("say who records the answer")
        now = self._clock()
        if recheck_at is not None and not now < recheck_at <= now + MAX_RECHECK:
            raise InvalidInputError("the re-check date is after now and within 90 days")
        answered = self._notices.answer(
            notice_id, NoticeAnswer(now, state, note.strip(), by.strip(), recheck_at)
        )
        recheck = recheck_at.isoformat() if recheck_at is not None else None
        self._log(actor, answered, {"change": "answer", "state": state.value, "recheck": recheck})
        return answered

    def clocks(self, policy: DeadlinePolicy) -> list[LocatorClock]:
        """Every notice someone should look at (unsettled, or with a re-check date), by
        when: the earliest first."""
        now = self._clock()
        found = []
        for notice in self._notices.all():
            due = notice.next_look(now)
            if due is not None:
                found.append(LocatorClock(notice, due, policy.state(due, now), notice.state(now)))
        return sorted(found, key=lambda c: (c.due, c.notice.id))
