"""The one composition root: settings -> storage -> services, for the CLI, web and workers."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import Engine

from shieldwall.access.account_service import AccountService
from shieldwall.access.audit_buffer import AuditBuffer
from shieldwall.access.buckets import BucketStore
from shieldwall.access.rate_limit import RateLimiter
from shieldwall.access.service import AccessService
from shieldwall.audit.models import Actor, ActorKind, AuditAction, AuditEvent, DetailValue, Subject
from shieldwall.audit.ports import AuditLog
from shieldwall.banks.ports import BankRepository, ChangeLog
from shieldwall.banks.service import BankService
from shieldwall.cases.service import REPORTED_BANK, CaseService
from shieldwall.clock import utc_now
from shieldwall.config import Settings
from shieldwall.detection.faces import FaceAnalyser
from shieldwall.detection.nudity import NudityScorer
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.fetch import DisabledFetcher, UrlFetcher
from shieldwall.integrations.mail import NullNotifier, SmtpNotifier
from shieldwall.integrations.notices import notice_subject_and_body
from shieldwall.integrations.transparency_db import HttpTransparencyDatabase
from shieldwall.integrations.webhook_sender import HttpWebhookSender
from shieldwall.likeness.models import Enrolment
from shieldwall.likeness.service import EnrolmentService
from shieldwall.matching.freshness import ChangeBeacon
from shieldwall.matching.holder import MatcherHolder
from shieldwall.matching.service import BankMatcher
from shieldwall.matching.slot import MatcherSlot
from shieldwall.matching.tailer import LiveMatcher
from shieldwall.review.complaints import ComplaintService
from shieldwall.review.deadlines import DeadlineWatch
from shieldwall.review.effects import CONFIRMED_BANK
from shieldwall.review.models import ReviewItem, ReviewPolicy
from shieldwall.review.ports import ReviewRepository
from shieldwall.review.quarantine import QuarantineStore
from shieldwall.review.service import ReviewService, ReviewStores
from shieldwall.review.sweep_runner import BackgroundSweeps
from shieldwall.review.sweeps import SweepService
from shieldwall.review.tdb_submissions import StatementSubmitter, SubmissionRepository
from shieldwall.review.transparency import TransparencyReporter
from shieldwall.screening.ports import ContentFetcher
from shieldwall.screening.record import ScreenedLookup, ScreenedRepository
from shieldwall.screening.service import ScreeningService
from shieldwall.signals.models import Signal
from shieldwall.storage.access_repositories import SqlApiKeyRepository, SqlLookupLog
from shieldwall.storage.account_repositories import SqlAccountRepository
from shieldwall.storage.audit_log import SqlAuditLog
from shieldwall.storage.case_repositories import SqlCaseRepository, SqlHitCounter
from shieldwall.storage.change_beacon import FileChangeBeacon
from shieldwall.storage.change_log import SqlChangeLog
from shieldwall.storage.complaint_repositories import SqlComplaintRepository
from shieldwall.storage.deadline_alerts import SqlAlertStore
from shieldwall.storage.engine import (
    create_database_engine,
    is_sqlite,
    start_wal_checkpointer,
    tighten_mode,
)
from shieldwall.storage.enrolment_repositories import SqlEnrolmentRepository
from shieldwall.storage.migrate import upgrade_engine
from shieldwall.storage.notice_repositories import SqlNoticeRepository
from shieldwall.storage.platform_repositories import SqlPlatformRepository
from shieldwall.storage.quarantine_files import FileQuarantine, load_quarantine_key
from shieldwall.storage.repositories import SqlBankRepository
from shieldwall.storage.review_repositories import SqlReviewRepository
from shieldwall.storage.screened_repositories import SqlScreenedRepository, SqlSweepRepository
from shieldwall.storage.sealing import KEY_FILE, Sealer, load_data_key
from shieldwall.storage.shared_buckets import SharedMemoryBuckets
from shieldwall.storage.tdb_submission_repositories import SqlSubmissionRepository
from shieldwall.storage.wal_checkpoint import WalCheckpointer
from shieldwall.storage.webhook_repositories import SqlDeliveryRepository, SqlEndpointRepository
from shieldwall.takedown.directory import PlatformDirectory
from shieldwall.takedown.service import NoticeService, Signatory
from shieldwall.webhooks.events import WebhookEvents
from shieldwall.webhooks.service import WebhookService


class _Storage:
    """The database engine, its checkpointer and the host's change beacon: only what closes
    them holds them."""

    def __init__(
        self,
        engines: list[Engine],
        checkpointer: WalCheckpointer | None,
        beacon: FileChangeBeacon,
    ) -> None:
        self._engines = engines
        self._checkpointer = checkpointer
        self._beacon = beacon

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        for engine in self._engines:
            engine.dispose()
        self._beacon.close()


@dataclass
class Services:
    """Everything a front end needs, built once per process, typed by the ports it uses.

    Front ends read and write through the services (`banks`, `cases`, `screening`, ...);
    `repository` and `change_log` are there for matchers and tools.
    """

    settings: Settings
    repository: BankRepository
    change_log: ChangeLog
    banks: BankService
    access: AccessService
    rate_limiter: RateLimiter
    cases: CaseService
    matcher_slot: MatcherSlot
    """The live matcher over every bank, once a server has loaded it (`matcher_slot.load`)."""
    screening: ScreeningService
    """Every lookup (web, HMA, CLI) goes through this: bank filter, re-check, hits, audit."""
    fetcher: ContentFetcher
    """Fetches the content of URL lookups (refuses every URL while `url_lookups` is off)."""
    quarantine: QuarantineStore
    """Content kept sealed while it is under review (`shieldwall quarantine sweep` expires it)."""
    audit: AuditLog
    """The hash-chained audit log of review actions (docs/audit.md)."""
    review_items: ReviewRepository
    """Review items and decisions as stored (`decisions export` reads them)."""
    reviews: ReviewService
    """The review queue: items, claims, decisions, reveals (console pages and API)."""
    accounts: AccountService
    """Console accounts (reviewers, leads, admins), their sign-in and sessions."""
    enrolments: EnrolmentService
    """Likeness protection's enrolments: consent, sealed templates, withdrawal, expiry."""
    deadlines: DeadlineWatch
    """The takedown clocks of waiting work and the leads' escalations."""
    platforms: PlatformDirectory
    """The platform directory: where copies are, how each platform is told, by when."""
    notices: NoticeService
    """Takedown notices for a case's locators: sent, exported, tracked."""
    tdb_submissions: SubmissionRepository
    """Statements of reasons sent to the EU Transparency Database, by puid (`decisions
    submit` and `decisions submissions`)."""
    screened_record: ScreenedRepository
    """The screened record: platforms' lookups as signals, for the sweeps (purged after
    `screened_retention_days`)."""
    sweeps: SweepService
    """Sweeps of the screened record after confirm decisions, and the copies' outcomes."""
    complaints: ComplaintService
    """Complaints about decisions (DSA Art. 20): lodged by reporters and platforms, looked
    at again by another reviewer."""
    transparency: TransparencyReporter
    """The transparency report of a period (`report transparency`, the leads' page)."""
    webhooks: WebhookService
    """Outgoing webhooks: endpoints, the delivery outbox, the dead letters."""
    background_sweeps: BackgroundSweeps | None = None
    """Runs the sweeps after confirm decisions in a background thread (`drain` waits)."""
    screened_buffer: AuditBuffer[ScreenedLookup] | None = None
    """Writes the screened record behind the lookups (None: `screened_record` is off)."""
    nudity: NudityScorer = field(default_factory=NudityScorer)
    """The nudity score (its model loads on first use; optional: see `shieldwall doctor`)."""
    faces: FaceAnalyser = field(default_factory=FaceAnalyser)
    """Faces and their templates (models load on first use; optional)."""
    _storage: _Storage | None = field(default=None, repr=False)

    def ping(self) -> bool:
        """Whether the database answers a trivial query now (readiness probes)."""
        try:
            self.repository.ping()
        except Exception:  # any failure to reach the database means "not ready"
            return False
        return True

    def matcher(self, bank_names: list[str] | None = None) -> BankMatcher:
        """A matcher over the named banks (all if none), kept current by this process's writes."""
        matcher = BankMatcher.load(self.repository, bank_names or [])
        self.banks.subscribe(matcher)
        return matcher

    def live_matcher(self, bank_names: list[str] | None = None) -> LiveMatcher:
        """A matcher over the named banks (all if none) that follows every process's writes.

        It tails the database's change log in a daemon thread (writes by other workers show
        within about a second) and hears this process's writes at once; close it when done.
        """
        return LiveMatcher.open(
            self.repository, self.change_log, bank_names or [], before_load=self.banks.subscribe
        )

    @contextmanager
    def statement_submitter(self) -> Iterator[StatementSubmitter]:
        """A submitter to the Transparency Database at `tdb_url` (with `tdb_token`), its
        connections closed after; InvalidInputError while `tdb_url` is not set."""
        if not self.settings.tdb_url:
            raise InvalidInputError(
                "no Transparency Database is set (tdb_url, tdb_token): "
                "use `decisions export` to write the statements instead"
            )
        with HttpTransparencyDatabase(self.settings.tdb_url, self.settings.tdb_token) as api:
            yield StatementSubmitter(api, self.tdb_submissions)

    def purge_screened_record(self) -> int:
        """Delete the screened record's lookups older than `screened_retention_days`."""
        retention = timedelta(days=self.settings.screened_retention_days)
        return self.screened_record.purge(utc_now() - retention)

    def close(self) -> None:
        """Stop the matcher's log tailer and the checkpointer; release database connections."""
        self.access.close()  # writes the buffered lookup audit rows while the engine is open
        if self.background_sweeps is not None:
            self.background_sweeps.close()  # the queued sweeps run while the engine is open
        if self.screened_buffer is not None:
            self.screened_buffer.close()
        self.matcher_slot.close()
        if self._storage is not None:
            self._storage.close()


def build_services(
    settings: Settings, *, migrate_sqlite: bool = True, fetcher: ContentFetcher | None = None
) -> Services:
    """Open the database (bringing an embedded SQLite one to the current schema) and wire up.

    `fetcher` replaces the SSRF-safe HTTP fetcher of URL lookups (tests pass a fake); while
    `url_lookups` is off, every URL is refused whatever the fetcher.
    """
    _tighten_data_directory(settings.home)
    engine = create_database_engine(settings.effective_database_url)
    if migrate_sqlite and is_sqlite(engine):
        upgrade_engine(engine)
    repository = SqlBankRepository(engine)
    change_log = SqlChangeLog(engine)
    lookup_log = SqlLookupLog(engine)
    access = AccessService(SqlApiKeyRepository(engine), lookup_log)
    limiter = RateLimiter(settings.rate_limits, store=_bucket_store(settings))
    banks = BankService(repository)
    sealer = Sealer(load_data_key(settings.data_key, settings.home))
    notifier = (
        SmtpNotifier(settings.smtp_url, settings.mail_from, settings.lead_emails)
        if settings.smtp_url
        # Nothing reads a server's NullNotifier: it keeps one message, not a list of
        # reporters' addresses.
        else NullNotifier(settings.mail_from, keep=1, leads=settings.lead_emails)
    )
    cases = CaseService(
        SqlCaseRepository(engine, sealer),
        banks,
        notifier=notifier,
        hits=SqlHitCounter(engine),
        deadlines=settings.deadline_policy,
    )
    beacon = FileChangeBeacon.in_home(settings.home)
    banks.on_entry_stopped(beacon.bump)  # after each commit that stops an entry matching
    banks.on_bank_change(beacon.bump)  # a bank deleted or disabled stops its entries too
    # Index loads read the whole bank: through connections closed after each read, so no
    # pooled connection keeps the SQLite file mapped (~500 MiB of RSS at 1M hashes).
    load_engine = create_database_engine(settings.effective_database_url, pooled=False)
    storage = _Storage([engine, load_engine], start_wal_checkpointer(engine), beacon)
    slot = MatcherSlot(
        functools.partial(
            _serving_matcher, repository, SqlBankRepository(load_engine), change_log, banks, beacon
        )
    )
    webhooks = _webhooks(settings, engine, sealer)
    events = WebhookEvents(webhooks)
    screened_record = SqlScreenedRepository(engine)
    screened_buffer = (
        AuditBuffer(screened_record, name="shieldwall-screened-record")
        if settings.screened_record
        else None
    )
    screening = ScreeningService(
        slot.get,
        settings.media,
        access.record_lookup,
        still_active=banks.active_entry_ids,
        on_matches=cases.record_hits,
        index_current=None if settings.match_recheck_always else slot.current,
        hit_banks=[REPORTED_BANK, CONFIRMED_BANK],
        screened=None if screened_buffer is None else screened_buffer.extend,
    )
    review_items = SqlReviewRepository(engine)
    audit = SqlAuditLog(engine)
    quarantine = FileQuarantine.in_home(
        settings.home,
        load_quarantine_key(settings.quarantine_key, settings.data_key, settings.home),
    )
    enrolments = EnrolmentService(SqlEnrolmentRepository(engine, sealer), sealer, notifier=notifier)
    enrolments.on_ended(functools.partial(_audit_enrolment_end, audit))
    reviews = ReviewService(
        ReviewStores(review_items, quarantine, audit),
        banks,
        cases,
        settings.media,
        policy=_review_policy(settings),
        likeness_notices=enrolments,
    )
    complaints = ComplaintService(
        SqlComplaintRepository(engine, sealer),
        review_items,
        banks,
        cases,
        audit,
        policy=reviews.policy,
        notifier=notifier,
    )
    reviews.handle_complaints(complaints)
    sweeps = SweepService(
        screened_record,
        SqlSweepRepository(engine),
        audit,
        threshold=settings.sweep_threshold,
        retention=timedelta(days=settings.screened_retention_days),
    )
    background_sweeps = BackgroundSweeps(functools.partial(_sweep, screened_buffer, sweeps, events))
    reviews.on_confirmed(background_sweeps)
    _publish_events(events, reviews, cases)
    complaints.on_reversed(sweeps.withdraw)
    cases.on_filed(reviews.open_case_item)
    cases.on_withdrawn(reviews.case_withdrawn)
    accounts = AccountService(
        SqlAccountRepository(engine, sealer),
        require_totp_for_leads=settings.review_totp_required,
        on_change=functools.partial(_audit_account_change, audit),
    )
    platforms = PlatformDirectory(SqlPlatformRepository(engine))
    if not settings.url_lookups:
        fetcher = DisabledFetcher()
    elif fetcher is None:
        fetcher = UrlFetcher(settings)
    notices = NoticeService(
        cases,
        platforms,
        SqlNoticeRepository(engine),
        notice_subject_and_body,
        _signatory(settings),
        sender=notifier if isinstance(notifier, SmtpNotifier) else None,
        audit=audit,
        found_copies=functools.partial(_swept_refs, sweeps),
    )
    tdb_submissions = SqlSubmissionRepository(engine)
    return Services(
        settings=settings,
        repository=repository,
        change_log=change_log,
        banks=banks,
        access=access,
        rate_limiter=limiter,
        cases=cases,
        matcher_slot=slot,
        screening=screening,
        fetcher=fetcher,
        quarantine=quarantine,
        audit=audit,
        review_items=review_items,
        reviews=reviews,
        accounts=accounts,
        enrolments=enrolments,
        deadlines=DeadlineWatch(
            review_items,
            SqlAlertStore(engine),
            notifier,
            settings.deadline_policy,
            notices=notices,
        ),
        platforms=platforms,
        notices=notices,
        tdb_submissions=tdb_submissions,
        webhooks=webhooks,
        transparency=TransparencyReporter(
            review_items, complaints, sweeps, lookup_log, tdb_submissions
        ),
        screened_record=screened_record,
        sweeps=sweeps,
        complaints=complaints,
        screened_buffer=screened_buffer,
        background_sweeps=background_sweeps,
        _storage=storage,
    )


def _swept_refs(sweeps: SweepService, number: str) -> list[str]:
    """The platforms' references of the copies the case's sweeps found, oldest first."""
    return [hit.hit.content_ref for sweep in sweeps.of_case(number) for hit in sweep.hits]


def _webhooks(settings: Settings, engine: Engine, sealer: Sealer) -> WebhookService:
    """Outgoing webhooks: endpoints with sealed secrets, the outbox, the SSRF-safe sender
    (which also checks endpoint URLs)."""
    sender = HttpWebhookSender(settings)
    return WebhookService(
        SqlEndpointRepository(engine, sealer), SqlDeliveryRepository(engine), sender, sender
    )


def _publish_events(events: WebhookEvents, reviews: ReviewService, cases: CaseService) -> None:
    """Decisions and case events become webhook deliveries (sweeps publish their own)."""
    reviews.on_decided(events.decided)
    cases.on_filed(functools.partial(events.case, what="filed"))
    cases.on_withdrawn(functools.partial(events.case, what="withdrawn"))


def _sweep(
    buffer: AuditBuffer[ScreenedLookup] | None,
    sweeps: SweepService,
    events: WebhookEvents,
    item: ReviewItem,
    queries: Sequence[Signal],
) -> None:
    """After a confirm decision: write this worker's latest lookups, sweep, and tell the
    platforms whose lookups brought copies (webhooks)."""
    if buffer is not None:
        buffer.flush()
    events.swept(sweeps.sweep(item.id, item.case_number or "", queries))


def _audit_account_change(
    audit: AuditLog, actor: str, action: str, details: dict[str, DetailValue]
) -> None:
    """An account change (made in the console or the CLI) as a record of the audit log."""
    kind = ActorKind.REVIEWER if actor.startswith("account:") else ActorKind.SYSTEM
    audit.append(
        AuditEvent(
            utc_now(),
            Actor(kind, actor),
            AuditAction.ACCOUNT_CHANGE,
            Subject("account", str(details.get("account", ""))),
            {"change": action, **details},
        )
    )


def _audit_enrolment_end(audit: AuditLog, enrolment: Enrolment, why: str) -> None:
    """An enrolment withdrawn by its person or expired (its templates deleted) in the log."""
    actor = (
        Actor(ActorKind.PERSON, enrolment.number)
        if why == "withdrawn"
        else Actor(ActorKind.SYSTEM, "enrolment-expiry")
    )
    audit.append(
        AuditEvent(
            enrolment.ended_at or utc_now(),
            actor,
            AuditAction.ENROLMENT_END,
            Subject("enrolment", enrolment.number),
            {"ended": why, "templates_deleted": True},
        )
    )


def _signatory(settings: Settings) -> Signatory:
    """Notices come from the service's mail sender (`mail_from`): its name and address."""
    name, address = parseaddr(settings.mail_from)
    return Signatory(settings.mail_from, name or address, address)


def _review_policy(settings: Settings) -> ReviewPolicy:
    return ReviewPolicy(
        deadline=timedelta(hours=settings.deadline_hours),
        retention=timedelta(days=settings.quarantine_retention_days),
        daily_reveals=settings.review_daily_reveals,
        trusted_flaggers_confirm=settings.trusted_flaggers_confirm,
        complaint_window=timedelta(days=settings.complaint_window_days),
        complaint_deadline=(
            timedelta(hours=settings.complaint_deadline_hours)
            if settings.complaint_deadline_hours
            else None
        ),
    )


def _serving_matcher(
    repository: BankRepository,
    loads: BankRepository,
    change_log: ChangeLog,
    banks: BankService,
    beacon: ChangeBeacon,
) -> LiveMatcher:
    """The live matcher a server's lookups use: every bank, following every writer."""

    def follow_own_writes(holder: MatcherHolder) -> None:
        # Before the first load, so a report filed while the index loads (its bank created,
        # its entries added) is in the first matcher served. This process's own bank
        # changes (created, policy, enabled, renamed) reload it at once; other processes'
        # arrive through the change log.
        banks.subscribe(holder)
        banks.on_bank_change(holder.reload)

    return LiveMatcher.open(
        repository, change_log, [], beacon=beacon, loads=loads, before_load=follow_own_writes
    )


def _tighten_data_directory(home: Path) -> None:
    # New data directories are made 0700 where they are made (engine, key file); an older
    # install's is tightened here, but only when it holds our files: `home` may be set to
    # a folder that is not ours alone.
    if any((home / name).exists() for name in ("shieldwall.db", KEY_FILE)):
        tighten_mode(home)


def _bucket_store(settings: Settings) -> BucketStore | None:
    """The host's shared rate-limit table when `serve` made one; else this process's own."""
    if not settings.rate_limit_table:
        return None
    return SharedMemoryBuckets(Path(settings.rate_limit_table))
