"""Per-key token-bucket rate limits, configurable per role (no public match oracle)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from shieldwall.access.buckets import BucketStore, InMemoryBuckets
from shieldwall.access.models import ApiKey, Role
from shieldwall.errors import InvalidInputError, RateLimitedError

MAX_RATE: Final = 1_000_000.0
MAX_BURST: Final = 1_000_000_000


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `burst` requests at once, refilled at `rate_per_second`."""

    rate_per_second: float
    burst: int

    def __post_init__(self) -> None:
        rate = self.rate_per_second
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise InvalidInputError("rate per second must be a number")
        if not (math.isfinite(rate) and 0 < rate <= MAX_RATE):
            raise InvalidInputError(f"rate per second must be in (0, {MAX_RATE:g}], got {rate}")
        burst = self.burst
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= MAX_BURST:
            raise InvalidInputError(f"burst must be an integer in [1, {MAX_BURST}], got {burst}")

    @property
    def refill_seconds(self) -> float:
        """Seconds an empty bucket takes to fill up again."""
        return self.burst / self.rate_per_second

    def __str__(self) -> str:
        return f"{self.rate_per_second:g}/{self.burst}"


DEFAULT_RATE_LIMITS: Final[Mapping[Role, RateLimit]] = {
    Role.ADMIN: RateLimit(1000.0, 2000),
    Role.CURATOR: RateLimit(1000.0, 2000),
    Role.SCREENER: RateLimit(5000.0, 10000),
    Role.REVIEWER: RateLimit(10.0, 20),
    Role.REPORTER: RateLimit(10.0, 20),
    Role.MONITOR: RateLimit(5.0, 20),
}
"""Limits when nothing is configured, for the whole service (all workers of a host
together): screeners are platforms looking up every upload (thousands a second); admins
and curators script bulk work; reviewers and reporters are people."""


def parse_rate_limit(text: str) -> RateLimit:
    """Parse `RATE/BURST` (e.g. `200/400`: 200 per second, bursts of 400)."""
    if not isinstance(text, str):
        raise InvalidInputError(f"rate limit must be text like 200/400, got {text!r}")
    rate_text, slash, burst_text = text.strip().partition("/")
    if not slash or not text.isascii():
        raise InvalidInputError(f"rate limit must look like RATE/BURST (e.g. 200/400): {text!r}")
    try:
        rate = float(rate_text.strip())
        burst = int(burst_text.strip())
    except ValueError:
        raise InvalidInputError(
            f"rate limit must look like RATE/BURST (e.g. 200/400): {text!r}"
        ) from None
    return RateLimit(rate, burst)


def rate_limit_role(name: str) -> Role:
    """The role a rate-limit key names: `screener` or `rate_screener`; InvalidInputError else."""
    role_name = str(name).strip().lower().removeprefix("rate_")
    try:
        return Role(role_name)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"unknown role {name!r} in rate limits (known: {known})") from None


def parse_rate_limits(
    values: Mapping[str, str] | Iterable[tuple[str, str]],
) -> RoleRateLimits:
    """The default limits with `{role: "RATE/BURST"}` overrides applied.

    Keys are role names, optionally written `rate_<role>` as in settings; unknown roles
    and malformed values are InvalidInputError.
    """
    pairs = values.items() if isinstance(values, Mapping) else values
    limits = RoleRateLimits()
    for name, text in pairs:
        role = rate_limit_role(name)
        try:
            limits = limits.with_limit(role, parse_rate_limit(text))
        except InvalidInputError as exc:
            raise InvalidInputError(f"rate limit for {role.value}: {exc}") from None
    return limits


@dataclass(frozen=True)
class RoleRateLimits:
    """Each role's limit: DEFAULT_RATE_LIMITS with the configured overrides, parsed once.

    Settings hold this (config.py parses `rate_<role>` values into it when they are
    loaded), so a bad value fails at start-up and nothing parses limits again later.
    """

    overrides: tuple[tuple[Role, RateLimit], ...] = ()

    def __post_init__(self) -> None:
        for role, limit in self.overrides:
            if not isinstance(role, Role) or not isinstance(limit, RateLimit):
                raise InvalidInputError(f"rate limit override must be (Role, RateLimit): {role!r}")
        # One entry per role (the last given wins), in role order: equal limits compare equal.
        merged = dict(self.overrides)
        object.__setattr__(self, "overrides", tuple((r, merged[r]) for r in Role if r in merged))

    def __getitem__(self, role: Role) -> RateLimit:
        return self.as_dict()[role]

    def as_dict(self) -> dict[Role, RateLimit]:
        """Every role's limit."""
        return {**DEFAULT_RATE_LIMITS, **dict(self.overrides)}

    def with_limit(self, role: Role, limit: RateLimit) -> RoleRateLimits:
        """These limits with `role`'s replaced."""
        return RoleRateLimits((*self.overrides, (role, limit)))


class RateLimiter:
    """Token buckets per API key id, sized by the key's role; thread-safe.

    The buckets live in a BucketStore: this process's memory by default, or a table that
    every worker on the host shares (storage/shared_buckets.py, used by `serve`).
    """

    def __init__(
        self,
        limits: RoleRateLimits | Mapping[Role, RateLimit] | None = None,
        clock: Callable[[], float] = time.monotonic,
        store: BucketStore | None = None,
    ) -> None:
        self._limits = dict(DEFAULT_RATE_LIMITS)
        self._limits.update(
            limits.as_dict() if isinstance(limits, RoleRateLimits) else limits or {}
        )
        self._store = store if store is not None else InMemoryBuckets(clock)

    def limit_for(self, role: Role) -> RateLimit:
        """The limit applied to keys of `role`."""
        return self._limits[role]

    def check(self, key: ApiKey, cost: float = 1.0) -> None:
        """Take `cost` tokens from the key's bucket; RateLimitedError if it has too few.

        A cost above the burst needs a full bucket and leaves it in debt: a batch of
        1,000 lookups costs 1,000 requests' worth of time, whatever the burst.
        """
        self.check_bucket(key.id, self._limits[key.role], cost)

    def charge(self, key: ApiKey, cost: float) -> None:
        """Take `cost` more tokens for a request already let through; never refuses.

        The bucket may go into debt: later requests wait until it has refilled.
        """
        self.check_bucket(key.id, self._limits[key.role], cost, refuse=False)

    def check_bucket(
        self, bucket_key: Hashable, limit: RateLimit, cost: float = 1.0, *, refuse: bool = True
    ) -> None:
        """`check` for any bucket (an address, a case number) under the given limit."""
        if not (math.isfinite(cost) and cost >= 0):
            raise InvalidInputError(f"rate limit cost must be a non-negative number, got {cost}")
        retry_after = self._store.take(bucket_key, limit, float(cost), refuse)
        if retry_after is not None:
            raise RateLimitedError(
                f"rate limit of {limit.rate_per_second:g} requests per second exceeded; "
                f"retry after {retry_after:.3g} s",
                retry_after,
            )

    def tracked_keys(self) -> int:
        """How many buckets are held (for metrics and tests)."""
        return self._store.tracked()
