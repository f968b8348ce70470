"""A review world in memory: banks, a live matcher, cases, screening and the review service,
all on one fake clock, for the review tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from shieldwall.access.models import LookupEvent
from shieldwall.audit.memory import InMemoryAuditLog
from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import Entry
from shieldwall.banks.service import BankService
from shieldwall.cases.memory import InMemoryCaseRepository, InMemoryHitCounter
from shieldwall.cases.models import Case, validate_report
from shieldwall.cases.service import REPORTED_BANK, CaseService
from shieldwall.config import MediaLimits
from shieldwall.deadlines import DeadlinePolicy
from shieldwall.integrations.mail import NullNotifier
from shieldwall.likeness.memory import InMemoryEnrolmentRepository
from shieldwall.likeness.service import EnrolmentService
from shieldwall.matching.service import BankMatcher
from shieldwall.review.effects import CONFIRMED_BANK
from shieldwall.review.memory import InMemoryReviewRepository
from shieldwall.review.models import DEFAULT_GROUNDS, Reviewer, ReviewPolicy
from shieldwall.review.quarantine import InMemoryQuarantine
from shieldwall.review.service import ReviewService, ReviewStores
from shieldwall.review.sweep_memory import InMemorySweepRepository
from shieldwall.review.sweeps import SweepService
from shieldwall.screening.memory import InMemoryScreenedRepository
from shieldwall.screening.service import ScreeningService
from shieldwall.storage.sealing import Sealer
from tests.support.clock import FakeClock
from tests.support.factories import report_fields, report_item

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ALICE = Reviewer("alice")
BOB = Reviewer("bob")
LEAD = Reviewer("lena", lead=True)


class ReloadingMatcher:
    """A matcher over every bank that reloads when a bank is made or its policy changes (as
    a server's live matcher does) and hears entry changes at once."""

    def __init__(self, repository: InMemoryBankRepository) -> None:
        self._repository = repository
        self.current = BankMatcher.load(repository)

    def reload(self) -> None:
        self.current = BankMatcher.load(self._repository)

    def apply_added(self, entry: Entry) -> None:
        self.current.apply_added(entry)

    def apply_removed(self, entry: Entry) -> None:
        self.current.apply_removed(entry)


@dataclass
class ReviewWorld:
    """Everything a review test touches."""

    clock: FakeClock
    banks: BankService
    bank_repository: InMemoryBankRepository
    cases: CaseService
    items: InMemoryReviewRepository
    quarantine: InMemoryQuarantine
    audit: InMemoryAuditLog
    screening: ScreeningService
    review: ReviewService
    lookups: list[LookupEvent]
    enrolments: EnrolmentService
    mail: NullNotifier
    record: InMemoryScreenedRepository
    sweeps: SweepService

    def file_case(self, content: bytes, **changes: object) -> Case:
        """File a victim's report with the hashes of `content` (computed as the page does)."""
        item = report_item(content)
        return self.cases.file(validate_report(report_fields(hashes=[item], **changes))).case


def review_world(
    policy: ReviewPolicy | None = None, deadlines: DeadlinePolicy | None = None
) -> ReviewWorld:
    """A fresh world at NOW with the default grounds (and the deployment's clocks)."""
    clock = FakeClock(NOW)
    repository = InMemoryBankRepository()
    matcher = ReloadingMatcher(repository)
    banks = BankService(repository, [matcher])
    banks.on_bank_change(matcher.reload)
    case_repository = InMemoryCaseRepository()
    cases = CaseService(
        case_repository,
        banks,
        clock,
        hits=InMemoryHitCounter(case_repository),
        deadlines=deadlines,
    )
    items = InMemoryReviewRepository()
    for ground in DEFAULT_GROUNDS:
        items.put_ground(ground)
    quarantine = InMemoryQuarantine(clock)
    audit = InMemoryAuditLog()
    lookups: list[LookupEvent] = []
    record = InMemoryScreenedRepository()
    screening = ScreeningService(
        lambda: matcher.current,
        MediaLimits(),
        lookups.append,
        clock,
        still_active=banks.active_entry_ids,
        on_matches=cases.record_hits,
        hit_banks=[REPORTED_BANK, CONFIRMED_BANK],
        screened=record.record_many,
    )
    mail = NullNotifier()
    enrolments = EnrolmentService(
        InMemoryEnrolmentRepository(), Sealer(secrets.token_bytes(32)), clock, notifier=mail
    )
    review = ReviewService(
        ReviewStores(items, quarantine, audit),
        banks,
        cases,
        MediaLimits(),
        clock,
        policy,
        likeness_notices=enrolments,
    )
    sweeps = SweepService(record, InMemorySweepRepository(), audit, clock)
    review.on_confirmed(lambda item, queries: sweeps.sweep(item.id, item.case_number, queries))
    cases.on_filed(review.open_case_item)
    cases.on_withdrawn(review.case_withdrawn)
    return ReviewWorld(
        clock,
        banks,
        repository,
        cases,
        items,
        quarantine,
        audit,
        screening,
        review,
        lookups,
        enrolments,
        mail,
        record,
        sweeps,
    )
