"""HMA's enabled_ratio: which banks one /m/lookup searches."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from shieldwall.banks.models import Bank, BankPolicy
from shieldwall.web.hma.sampling import draw, sampled_banks

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def bank(name: str, ratio: float) -> Bank:
    return Bank(len(name), name, True, BankPolicy(matching_ratio=ratio), NOW, NOW)


ALL = [bank("all", 1.0), bank("half", 0.5), bank("tenth", 0.1)]


def test_no_draw_while_every_bank_is_searched_always() -> None:
    state = random.getstate()
    assert sampled_banks([bank("a", 1.0)], None, None, None) is None
    assert sampled_banks([bank("a", 1.0)], {"a"}, None, None) == {"a"}
    assert random.getstate() == state  # the common case draws nothing


def test_a_seed_draws_as_hma_does_and_keeps_banks_at_or_above_it() -> None:
    for seed in (f"content-{n}" for n in range(50)):
        number = random.Random(seed).random()
        assert draw(seed) == number
        expected = {b.name for b in ALL if b.policy.matching_ratio >= number}
        # None: no bank left out (search every enabled bank).
        assert (sampled_banks(ALL, None, seed, None) or {"all", "half", "tenth"}) == expected
        assert sampled_banks(ALL, {"all", "tenth"}, seed, None) == expected & {"all", "tenth"}


def test_bypass_searches_every_wanted_bank() -> None:
    seed = next(s for s in map(str, range(100)) if random.Random(s).random() > 0.5)
    assert sampled_banks(ALL, None, seed, "true") is None
    assert sampled_banks(ALL, {"half"}, seed, "TRUE") == {"half"}
    assert sampled_banks(ALL, None, seed, "false") == {"all"}


def test_without_a_seed_each_bank_is_searched_by_its_share() -> None:
    searched = {"all": 0, "half": 0, "tenth": 0}
    for _ in range(4000):
        for name in sampled_banks(ALL, None, None, None) or set(searched):
            searched[name] += 1
    assert searched["all"] == 4000
    assert 1700 < searched["half"] < 2300
    assert 250 < searched["tenth"] < 550
