"""HMA's `enabled_ratio`: each bank is searched by that share of `/m/lookup` calls.

As in HMA, a lookup draws one number in [0, 1) and searches the banks whose ratio is at
least that number: a bank at 0.25 answers about a quarter of lookups, and a bank at 1.0
every one. The draw is random, or repeatable when the client sends a `seed` (HMA's
clients send the content id, so the same content gets the same answer every time; the
draw for a seed is the one HMA makes, Python's `random.Random(seed)`). `bypass_coinflip
=true` searches every enabled bank. `/m/raw_lookup` ignores ratios, as HMA's does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from shieldwall.banks.models import Bank


def draw(seed: str | None) -> float:
    """The lookup's number in [0, 1): repeatable for a seed, random without one."""
    if seed is None:
        return random.random()
    return random.Random(seed).random()


def sampled_banks(
    enabled: Sequence[Bank], wanted: set[str] | None, seed: str | None, bypass: str | None
) -> set[str] | None:
    """The banks a lookup searches: `wanted` (None: every enabled bank) less those the draw
    leaves out. No draw at all while every enabled bank is at 1.0 (the common case)."""
    partial = [bank for bank in enabled if bank.policy.matching_ratio < 1]
    if not partial or (bypass or "").lower() == "true":
        return wanted
    number = draw(seed)
    left_out = {bank.name for bank in partial if bank.policy.matching_ratio < number}
    if not left_out:
        return wanted
    every = {bank.name for bank in enabled} if wanted is None else wanted
    return every - left_out
