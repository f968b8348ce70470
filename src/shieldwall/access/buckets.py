"""Token buckets: the arithmetic, and where the buckets live (this process, or shared).

`take` is the whole rule, as a pure function of a bucket's state; a `BucketStore` keeps
the states. `InMemoryBuckets` serves one process; storage/shared_buckets.py keeps them in
a memory-mapped table that every worker process of one host shares, so a key's limit
holds for the whole service rather than once per worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from shieldwall.access.rate_limit import RateLimit

SWEEP_INTERVAL_S: Final = 60.0
"""How often (by the store's clock) buckets that have refilled are forgotten."""


@dataclass(frozen=True)
class BucketState:
    """Tokens left (negative: in debt) at `updated`; full again from `full_at` on."""

    tokens: float
    updated: float
    full_at: float


def take(
    state: BucketState | None, now: float, limit: RateLimit, cost: float, refuse: bool
) -> tuple[BucketState, float | None]:
    """The bucket after asking for `cost` tokens at `now`, and the wait if refused.

    A cost above the burst needs a full bucket and leaves it in debt. With `refuse` off
    the tokens are taken whatever is left (a request already let through).
    """
    burst = float(limit.burst)
    if state is None:
        state = BucketState(burst, now, now)
    elapsed = max(now - state.updated, 0.0)  # a clock that steps back refills nothing
    tokens = min(burst, state.tokens + elapsed * limit.rate_per_second)
    updated = max(now, state.updated)
    needed = min(cost, burst)
    allowed = tokens >= needed or not refuse
    if allowed:
        tokens -= cost  # below zero for a cost over the burst: debt
    full_at = updated + (burst - tokens) / limit.rate_per_second
    retry_after = None if allowed else (needed - tokens) / limit.rate_per_second
    return BucketState(tokens, updated, full_at), retry_after


class BucketStore(Protocol):
    """Where buckets live; `take` is atomic per bucket."""

    def take(
        self, bucket_key: Hashable, limit: RateLimit, cost: float, refuse: bool
    ) -> float | None:
        """Take tokens as `take` does; the seconds to wait if refused, else None."""
        ...

    def tracked(self) -> int:
        """How many buckets are held."""
        ...


class InMemoryBuckets:
    """Buckets of this process only; thread-safe, refilled buckets swept away."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[Hashable, BucketState] = {}
        self._next_sweep = clock() + SWEEP_INTERVAL_S

    def take(
        self, bucket_key: Hashable, limit: RateLimit, cost: float, refuse: bool
    ) -> float | None:
        """Take tokens from the bucket (created full); the wait if refused."""
        with self._lock:
            now = self._clock()
            if now >= self._next_sweep:
                # A bucket that has refilled completely is the same as a new one.
                full = [key for key, state in self._states.items() if now >= state.full_at]
                for key in full:
                    del self._states[key]
                self._next_sweep = now + SWEEP_INTERVAL_S
            state, retry_after = take(self._states.get(bucket_key), now, limit, cost, refuse)
            self._states[bucket_key] = state
            return retry_after

    def tracked(self) -> int:
        """How many buckets are held."""
        with self._lock:
            return len(self._states)
