"""Rate-limit buckets shared by processes: a key's limit holds for the whole service."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import httpx
import pytest

from shieldwall.access.models import Role
from shieldwall.access.rate_limit import RateLimit, RateLimiter
from shieldwall.errors import RateLimitedError
from shieldwall.storage.shared_buckets import SharedMemoryBuckets, create_table
from tests.support.cli import Cli
from tests.support.clock import FakeClock
from tests.support.factories import api_key
from tests.support.server import ServerProcess

LIMIT = RateLimit(0.001, 50)  # 50 at once, then almost nothing for the test's duration


def _spend(path: str, attempts: int, results: multiprocessing.Queue[int]) -> None:
    store = SharedMemoryBuckets(Path(path))
    allowed = 0
    for _ in range(attempts):
        if store.take(("key", 7), LIMIT, 1.0, True) is None:
            allowed += 1
    store.close()
    results.put(allowed)


def test_four_processes_share_one_burst(tmp_path: Path) -> None:
    table = create_table(tmp_path / "rate-limits.bin")
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_spend, args=(str(table), 40, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    allowed = [results.get(timeout=10) for _ in workers]
    # 160 attempts against a burst of 50 (plus what 0.001/s refills): 50, not 4 x 40.
    assert sum(allowed) in (50, 51), allowed


def test_the_bucket_arithmetic_is_the_limiters(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SharedMemoryBuckets(create_table(tmp_path / "t.bin", slots=64), clock.monotonic)
    limiter = RateLimiter({Role.SCREENER: RateLimit(2.0, 5)}, store=store)
    key = api_key(3)
    for _ in range(5):
        limiter.check(key)
    with pytest.raises(RateLimitedError) as refused:
        limiter.check(key)
    assert refused.value.retry_after == pytest.approx(0.5)
    clock.advance(1.0)
    limiter.check(key)
    limiter.check(key)
    with pytest.raises(RateLimitedError):
        limiter.check(key)
    assert store.tracked() == 1


def test_a_full_table_reuses_refilled_buckets_and_keeps_busy_ones(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SharedMemoryBuckets(create_table(tmp_path / "t.bin", slots=16), clock.monotonic)
    busy = RateLimit(0.001, 1)
    assert store.take("victim", busy, 1.0, True) is None
    for n in range(15):  # fill every other slot with buckets that refill in a second
        assert store.take(f"other-{n}", RateLimit(1.0, 1), 1.0, True) is None
    clock.advance(2.0)  # the others have refilled; the victim's bucket is still empty
    for n in range(15, 40):
        store.take(f"new-{n}", RateLimit(1.0, 1), 1.0, True)
    assert store.take("victim", busy, 1.0, True) is not None  # still refused


def test_a_file_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"\0" * 4096)
    with pytest.raises(ValueError, match="not a rate-limit table"):
        SharedMemoryBuckets(bogus)


def test_two_workers_of_serve_share_a_keys_limit(tmp_path: Path) -> None:
    env = {**Cli(tmp_path / "home").env, "SHIELDWALL_RATE_SCREENER": "0.01/10"}
    server = ServerProcess(env, workers=2)
    try:
        admin = {"x-api-key": server.admin_key()}
        made = httpx.post(
            f"{server.url}/api/v1/keys",
            json={"name": "platform", "role": "screener"},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        screener = {"x-api-key": made.json()["token"]}
        answers = [
            # A new connection each time: the kernel spreads them over both workers.
            httpx.post(
                f"{server.url}/api/v1/lookup/signals", json={"md5": "a" * 32}, headers=screener
            ).status_code
            for _ in range(40)
        ]
    finally:
        server.stop()
        server.remove_log()
    assert answers.count(200) in (10, 11), answers  # per-worker buckets would allow 20
    assert answers.count(429) == 40 - answers.count(200)
