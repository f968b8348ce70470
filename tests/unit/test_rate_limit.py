"""Per-key token buckets with an injected clock; limits parsed from settings."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.access.buckets import SWEEP_INTERVAL_S
from shieldwall.access.models import ApiKey, Role
from shieldwall.access.rate_limit import (
    DEFAULT_RATE_LIMITS,
    RateLimit,
    RateLimiter,
    parse_rate_limit,
    parse_rate_limits,
)
from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError, RateLimitedError
from tests.support.clock import FakeClock
from tests.support.factories import api_key

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _take(limiter: RateLimiter, key: ApiKey, times: int) -> int:
    """How many of `times` checks pass."""
    passed = 0
    for _ in range(times):
        try:
            limiter.check(key)
        except RateLimitedError:
            continue
        passed += 1
    return passed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter({Role.SCREENER: RateLimit(2.0, 5)}, clock=clock.monotonic)


def test_burst_then_rate_limited_with_retry_after(limiter: RateLimiter) -> None:
    key = api_key(1)
    for _ in range(5):
        limiter.check(key)
    with pytest.raises(RateLimitedError) as caught:
        limiter.check(key)
    assert caught.value.retry_after == pytest.approx(0.5)  # one token at 2 per second
    assert caught.value.code == "rate-limited"
    assert "retry after" in str(caught.value)


def test_bucket_refills_over_time(limiter: RateLimiter, clock: FakeClock) -> None:
    key = api_key(1)
    assert _take(limiter, key, 10) == 5
    clock.advance(0.49)
    with pytest.raises(RateLimitedError) as caught:
        limiter.check(key)
    assert caught.value.retry_after == pytest.approx(0.01)
    clock.advance(0.01)
    limiter.check(key)
    clock.advance(1.0)
    assert _take(limiter, key, 10) == 2
    clock.advance(3600)
    assert _take(limiter, key, 10) == 5  # never more than the burst


def test_retry_after_is_honest(limiter: RateLimiter, clock: FakeClock) -> None:
    key = api_key(1)
    _take(limiter, key, 5)
    with pytest.raises(RateLimitedError) as caught:
        limiter.check(key)
    clock.advance(caught.value.retry_after)
    limiter.check(key)


def test_denied_requests_do_not_drain_the_bucket(limiter: RateLimiter, clock: FakeClock) -> None:
    key = api_key(1)
    _take(limiter, key, 5)
    assert _take(limiter, key, 1000) == 0
    clock.advance(0.5)
    limiter.check(key)


def test_keys_have_their_own_buckets(limiter: RateLimiter) -> None:
    assert _take(limiter, api_key(1), 10) == 5
    assert _take(limiter, api_key(2), 10) == 5
    assert _take(limiter, api_key(1), 1) == 0


def test_limits_follow_the_role(clock: FakeClock) -> None:
    limiter = RateLimiter(
        {Role.SCREENER: RateLimit(100.0, 50), Role.REPORTER: RateLimit(1.0, 2)},
        clock=clock.monotonic,
    )
    assert _take(limiter, api_key(1, Role.SCREENER), 100) == 50
    assert _take(limiter, api_key(2, Role.REPORTER), 100) == 2
    admin = DEFAULT_RATE_LIMITS[Role.ADMIN]
    assert limiter.limit_for(Role.ADMIN) == admin  # unconfigured roles keep the default
    assert _take(limiter, api_key(3, Role.ADMIN), admin.burst + 100) == admin.burst


def test_defaults_favour_screeners() -> None:
    assert set(DEFAULT_RATE_LIMITS) == set(Role)
    screener = DEFAULT_RATE_LIMITS[Role.SCREENER]
    for role in (Role.ADMIN, Role.CURATOR, Role.REVIEWER, Role.REPORTER):
        assert DEFAULT_RATE_LIMITS[role].rate_per_second < screener.rate_per_second
        assert DEFAULT_RATE_LIMITS[role].burst < screener.burst


def test_cost_takes_several_tokens_and_a_cost_over_the_burst_leaves_debt(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    key = api_key(1)
    limiter.check(key, cost=4)
    with pytest.raises(RateLimitedError) as caught:
        limiter.check(key, cost=3)
    assert caught.value.retry_after == pytest.approx(1.0)
    clock.advance(10)
    limiter.check(key, cost=1000)  # needs a full bucket of 5, and costs all 1,000
    assert _take(limiter, key, 1) == 0
    clock.advance(490)  # 2 per second: 980 of the 995 missing tokens back
    assert _take(limiter, key, 1) == 0
    clock.advance(10)
    assert _take(limiter, key, 1) == 1
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(InvalidInputError):
            limiter.check(key, cost=bad)


def test_clock_stepping_back_refills_nothing(limiter: RateLimiter, clock: FakeClock) -> None:
    key = api_key(1)
    _take(limiter, key, 5)
    clock.advance(-100)
    assert _take(limiter, key, 1) == 0
    clock.advance(100.5)
    assert _take(limiter, key, 5) == 1


def test_idle_buckets_are_dropped(limiter: RateLimiter, clock: FakeClock) -> None:
    for key_id in range(1, 1001):
        limiter.check(api_key(key_id))
    assert limiter.tracked_keys() == 1000
    clock.advance(SWEEP_INTERVAL_S - 1)  # everyone has refilled, but no sweep is due yet
    busy = api_key(5000)
    _take(limiter, busy, 5)  # empty: needs 2.5 s to refill
    assert limiter.tracked_keys() == 1001
    clock.advance(1)
    limiter.check(api_key(1))  # this check sweeps: only the busy bucket is still refilling
    assert limiter.tracked_keys() == 2  # busy, and key 1 created again after the sweep
    assert _take(limiter, busy, 5) == 2  # its state survived the sweep
    clock.advance(SWEEP_INTERVAL_S)
    limiter.check(api_key(7))
    assert limiter.tracked_keys() == 1


def test_a_dropped_bucket_comes_back_full(limiter: RateLimiter, clock: FakeClock) -> None:
    key = api_key(1)
    _take(limiter, key, 5)
    clock.advance(SWEEP_INTERVAL_S)
    limiter.check(api_key(2))
    assert _take(limiter, key, 10) == 5


def test_concurrent_checks_never_overspend(clock: FakeClock) -> None:
    limiter = RateLimiter({Role.SCREENER: RateLimit(1.0, 500)}, clock=clock.monotonic)
    key = api_key(1)
    passed: list[int] = []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        passed.append(_take(limiter, key, 200))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(passed) == 500


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200/400", RateLimit(200.0, 400)), (" 0.5 / 3 ", RateLimit(0.5, 3)), ("1e3/1", None)],
)
def test_parse_rate_limit(text: str, expected: RateLimit | None) -> None:
    parsed = parse_rate_limit(text)
    assert parsed == (expected or RateLimit(1000.0, 1))
    assert parse_rate_limit(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    ["", "200", "/", "200/", "/400", "a/b", "200/4.5", "0/10", "-1/10", "10/0", "10/-5",
     "nan/10", "inf/10", "1e308/10", "10/99999999999", "200/400/600", "\uff12\uff10\uff10/400"],
)  # fmt: skip
def test_bad_rate_limits_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_rate_limit(text)


def test_rate_limit_refuses_bad_values_directly() -> None:
    for rate, burst in ((0.0, 1), (1.0, 0), (True, 1), (1.0, True), (1.0, 1.5)):
        with pytest.raises(InvalidInputError):
            RateLimit(rate, burst)  # type: ignore[arg-type]


def test_parse_rate_limits_overrides_defaults() -> None:
    limits = parse_rate_limits({"screener": "1000/2000", "rate_REPORTER": "1/1"})
    assert limits[Role.SCREENER] == RateLimit(1000.0, 2000)
    assert limits[Role.REPORTER] == RateLimit(1.0, 1)
    assert limits[Role.ADMIN] == DEFAULT_RATE_LIMITS[Role.ADMIN]
    assert parse_rate_limits([("curator", "5/5")])[Role.CURATOR] == RateLimit(5.0, 5)
    assert parse_rate_limits(()).as_dict() == dict(DEFAULT_RATE_LIMITS)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"superuser": "1/1"}, "unknown role"),
        ({"screener": "fast"}, "rate limit for screener"),
        ({"screener": "0/1"}, "rate per second"),
    ],
)
def test_parse_rate_limits_errors(values: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_rate_limits(values)


def test_settings_carry_rate_limits_from_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text('[shieldwall]\nrate_screener = "300/600"\nrate_reporter = "2/4"\n')
    settings = load_settings(
        config_file=config, environ={"SHIELDWALL_RATE_REPORTER": "3/6", "SHIELDWALL_RATE_X": "1"}
    )
    limits = settings.rate_limits  # parsed once, when the settings were loaded
    assert limits.overrides == (
        (Role.SCREENER, RateLimit(300.0, 600)),
        (Role.REPORTER, RateLimit(3.0, 6)),
    )
    assert limits[Role.SCREENER] == RateLimit(300.0, 600)
    assert limits[Role.REPORTER] == RateLimit(3.0, 6)
    assert limits[Role.ADMIN] == DEFAULT_RATE_LIMITS[Role.ADMIN]
    unset = load_settings(config_file=tmp_path / "absent.toml", environ={}).rate_limits
    assert unset.as_dict() == dict(DEFAULT_RATE_LIMITS)


@pytest.mark.parametrize(
    ("environ", "text"),
    [
        ({"SHIELDWALL_RATE_SCREENER": "lots"}, ""),
        ({}, '[shieldwall]\nrate_screener = "0/1"\n'),
        ({}, "[shieldwall]\nrate_screener = 5\n"),
        ({}, '[shieldwall]\nrate_superuser = "5/5"\n'),
    ],
)
def test_bad_rate_settings_are_clear_errors(
    tmp_path: Path, environ: dict[str, str], text: str
) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text(text)
    with pytest.raises(InvalidInputError, match="rate_s"):
        load_settings(config_file=config, environ=environ)
