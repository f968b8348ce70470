"""The audit buffer (lookups written behind the request) and the per-process key table."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from shieldwall.access.audit_buffer import AuditBuffer
from shieldwall.access.key_table import KeyTable
from shieldwall.access.memory import InMemoryApiKeyRepository, InMemoryLookupLog
from shieldwall.access.models import ApiKey, LookupEvent, LookupKind, LookupVerdict, Role
from shieldwall.access.service import INVALID_KEY, REVOKED_KEY, AccessService
from shieldwall.errors import AuthenticationError, StorageError
from tests.support.clock import FakeClock
from tests.support.polling import eventually

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(n: int) -> LookupEvent:
    return LookupEvent(n, T0, LookupKind.SIGNALS, n, 0, LookupVerdict.ALLOW)


class FlakyLog(InMemoryLookupLog):
    """An in-memory log whose writes fail while `down` is set (a database outage)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.attempts = 0

    def record_many(self, events: Sequence[LookupEvent]) -> None:
        self.attempts += 1
        if self.down.is_set():
            raise StorageError("database error: connection refused")
        super().record_many(events)


@pytest.fixture
def flaky() -> FlakyLog:
    return FlakyLog()


@pytest.fixture
def buffers() -> Iterator[list[AuditBuffer[LookupEvent]]]:
    made: list[AuditBuffer[LookupEvent]] = []
    yield made
    for buffer in made:
        buffer.close()


def test_a_full_buffer_is_flushed_before_the_interval(
    flaky: FlakyLog, buffers: list[AuditBuffer[LookupEvent]]
) -> None:
    buffer = AuditBuffer(flaky, interval=3600, flush_rows=3, max_rows=10)
    buffers.append(buffer)
    for n in (1, 2):
        buffer.append(_event(n))
    assert flaky.recent() == []  # below the size and long before the interval: buffered
    buffer.append(_event(3))
    eventually(lambda: len(flaky.recent()) == 3, message="a full buffer was not flushed")
    assert [e.key_id for e in flaky.recent()] == [3, 2, 1]


def test_rows_are_flushed_every_interval(
    flaky: FlakyLog, buffers: list[AuditBuffer[LookupEvent]]
) -> None:
    buffer = AuditBuffer(flaky, interval=0.05, flush_rows=100)
    buffers.append(buffer)
    buffer.append(_event(1))
    eventually(lambda: len(flaky.recent()) == 1, message="the interval flush never came")
    assert buffer.stats().depth == 0
    assert buffer.stats().last_flush_seconds > 0


def test_an_outage_keeps_the_rows_in_order_and_retries(
    flaky: FlakyLog, buffers: list[AuditBuffer[LookupEvent]]
) -> None:
    buffer = AuditBuffer(flaky, interval=0.02, flush_rows=2, max_retry_delay=0.05)
    buffers.append(buffer)
    flaky.down.set()
    for n in range(1, 6):
        buffer.append(_event(n))
    eventually(lambda: buffer.stats().failed_flushes >= 3, message="no retries while down")
    with pytest.raises(StorageError):
        buffer.flush()  # an explicit flush says so, and keeps the rows
    assert buffer.stats().depth == 5
    flaky.down.clear()
    eventually(
        lambda: buffer.stats().depth == 0, message="the rows were not written after the outage"
    )
    assert [e.key_id for e in flaky.recent()] == [5, 4, 3, 2, 1]


def test_an_overflowing_buffer_drops_the_oldest_and_counts_them(
    flaky: FlakyLog, buffers: list[AuditBuffer[LookupEvent]], caplog: pytest.LogCaptureFixture
) -> None:
    buffer = AuditBuffer(flaky, interval=0.02, flush_rows=1, max_rows=5, max_retry_delay=0.05)
    buffers.append(buffer)
    flaky.down.set()
    with caplog.at_level(logging.ERROR, logger="shieldwall.access.audit_buffer"):
        for n in range(1, 9):
            buffer.append(_event(n))
        assert buffer.stats().depth == 5
        assert buffer.stats().dropped == 3
        eventually(
            lambda: "3 oldest rows dropped" in caplog.text, message="the drop was not logged"
        )
    flaky.down.clear()
    buffer.flush()
    assert [e.key_id for e in flaky.recent()] == [8, 7, 6, 5, 4]


def test_close_writes_what_is_buffered_and_survives_an_outage(
    flaky: FlakyLog, caplog: pytest.LogCaptureFixture
) -> None:
    buffer = AuditBuffer(flaky, interval=3600, flush_rows=100)
    buffer.append(_event(1))
    buffer.close()
    assert [e.key_id for e in flaky.recent()] == [1]
    buffer.append(_event(2))  # a later append starts a new flusher
    flaky.down.set()
    with caplog.at_level(logging.ERROR, logger="shieldwall.access.audit_buffer"):
        buffer.close()  # logs the loss, never raises from shutdown
    assert "1 lost" in caplog.text


def test_recording_a_lookup_never_waits_on_a_failing_database(flaky: FlakyLog) -> None:
    access = AccessService(InMemoryApiKeyRepository(), flaky)
    flaky.down.set()
    access.record_lookup(access.lookup_event(None, "file", 1, 0, "allow"))  # does not raise
    with pytest.raises(StorageError):
        access.flush()
    flaky.down.clear()
    assert [e.kind for e in access.recent_lookups()] == ["file"]  # flushed first
    access.close()


class CountingKeys(InMemoryApiKeyRepository):
    """In-memory keys that count reads by prefix and can serve an old table snapshot."""

    def __init__(self) -> None:
        super().__init__()
        self.prefix_reads = 0
        self.snapshot: list[tuple[ApiKey, str]] | None = None
        self.down = False

    def find_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        self.prefix_reads += 1
        return super().find_by_prefix(prefix)

    def list_with_hashes(self) -> list[tuple[ApiKey, str]]:
        if self.down:
            raise StorageError("database error: connection refused")
        return self.snapshot if self.snapshot is not None else super().list_with_hashes()


def _service(keys: CountingKeys, clock: FakeClock) -> tuple[AccessService, KeyTable]:
    table = KeyTable(keys, refresh_interval=3600, max_staleness=2.0, clock=clock.monotonic)
    return AccessService(keys, InMemoryLookupLog(), key_table=table), table


def test_known_keys_are_checked_without_a_database_read() -> None:
    keys, clock = CountingKeys(), FakeClock()
    access, _table = _service(keys, clock)
    issued = access.issue_key("k", Role.SCREENER)
    for _ in range(100):
        assert access.authenticate(issued.token) == issued.key
    assert keys.prefix_reads == 0
    access.close()


def test_random_prefixes_cannot_force_a_database_read_per_request() -> None:
    keys, clock = CountingKeys(), FakeClock()
    access, _table = _service(keys, clock)
    access.issue_key("k", Role.SCREENER)
    for _ in range(1000):
        token = f"sw_{secrets.token_hex(6)}_{secrets.token_urlsafe(24)}"
        with pytest.raises(AuthenticationError, match=INVALID_KEY):
            access.authenticate(token)
    assert keys.prefix_reads <= 5  # the fallback's burst; the clock did not move
    clock.advance(1.0)
    with pytest.raises(AuthenticationError):
        access.authenticate(f"sw_{secrets.token_hex(6)}_{secrets.token_urlsafe(24)}")
    assert keys.prefix_reads <= 6
    access.close()


def test_a_revocation_elsewhere_is_seen_at_the_next_refresh() -> None:
    keys, clock = CountingKeys(), FakeClock()
    table = KeyTable(keys, refresh_interval=0.05, clock=clock.monotonic)
    access = AccessService(keys, InMemoryLookupLog(), key_table=table)
    issued = access.issue_key("k", Role.SCREENER)
    assert access.authenticate(issued.token) == issued.key
    keys.revoke(issued.key.id)  # another process, straight to storage

    def refused() -> bool:
        clock.advance(0.05)
        try:
            access.authenticate(issued.token)
        except AuthenticationError as error:
            return str(error) == REVOKED_KEY
        return False

    eventually(refused, timeout=1.0, message="the background refresh never saw the revocation")
    access.close()


def test_an_old_refresh_cannot_undo_this_process_s_revocation() -> None:
    keys, clock = CountingKeys(), FakeClock()
    access, table = _service(keys, clock)
    issued = access.issue_key("k", Role.SCREENER)
    access.authenticate(issued.token)
    keys.snapshot = keys.list_with_hashes()  # a refresh that read before the revocation
    access.revoke(issued.key.id)
    table.refresh()  # lands after the revocation
    with pytest.raises(AuthenticationError, match="revoked"):
        access.authenticate(issued.token)
    access.close()


def test_a_stale_table_reads_the_database_per_request() -> None:
    keys, clock = CountingKeys(), FakeClock()
    access, _table = _service(keys, clock)
    issued = access.issue_key("k", Role.SCREENER)
    access.authenticate(issued.token)
    keys.down = True  # refreshes fail from now on
    InMemoryApiKeyRepository.revoke(keys, issued.key.id)  # behind the table's back
    clock.advance(2.5)  # past the staleness bound: the table may miss revocations
    with pytest.raises(AuthenticationError, match="revoked"):
        access.authenticate(issued.token)
    assert keys.prefix_reads == 1
    access.close()


def test_metrics_show_the_buffer_and_count_drops_once() -> None:
    from shieldwall.access.audit_buffer import AuditBufferStats
    from shieldwall.web.metrics import Metrics

    metrics = Metrics()
    metrics.observe_audit(
        AuditBufferStats(depth=7, last_flush_seconds=0.004, dropped=2, failed_flushes=1)
    )
    metrics.observe_audit(
        AuditBufferStats(depth=3, last_flush_seconds=0.002, dropped=5, failed_flushes=1)
    )
    lines = metrics.render().decode().splitlines()
    assert "shieldwall_audit_buffer_rows 3.0" in lines
    assert "shieldwall_audit_flush_seconds 0.002" in lines
    assert "shieldwall_audit_dropped_rows_total 5.0" in lines  # not 7: scrapes add the change
    assert "shieldwall_audit_flush_failures_total 1.0" in lines
