"""The probe detector: runs of near-identical PDQ hashes from one key raise a flag."""

from __future__ import annotations

import random

from shieldwall.access.probing import MAX_KEYS, RUN_TO_FLAG, ProbeAlert, ProbeDetector


def _hash(rng: random.Random) -> int:
    return rng.getrandbits(256)


def _hex(value: int) -> str:
    return f"{value:064x}"


def test_the_one_bit_flips_of_a_hash_are_flagged() -> None:
    raised: list[ProbeAlert] = []
    detector = ProbeDetector(raised.append)
    base = _hash(random.Random(1))
    flips = [_hex(base ^ (1 << bit)) for bit in range(256)]
    alerts = detector.observe(7, [_hex(base), *flips])
    assert alerts, "256 one-bit flips in one batch went unnoticed"
    assert alerts == raised
    assert {a.key_id for a in alerts} == {7}
    assert alerts[0].run == RUN_TO_FLAG


def test_a_walk_spread_over_many_requests_is_flagged_too() -> None:
    detector = ProbeDetector()
    value = _hash(random.Random(2))
    alerts = []
    for bit in range(40):  # hill-climbing one bit at a time, one request each
        value ^= 1 << bit
        alerts += detector.observe(3, [_hex(value)])
    assert alerts


def test_ordinary_uploads_and_repeats_raise_nothing() -> None:
    rng = random.Random(3)
    detector = ProbeDetector()
    pictures = [_hex(_hash(rng)) for _ in range(500)]
    assert detector.observe(1, pictures) == []
    # The same picture re-uploaded many times is a repeat, not a probe.
    assert detector.observe(1, [pictures[0]] * 200) == []


def test_keys_are_watched_apart_and_memory_stays_bounded() -> None:
    detector = ProbeDetector()
    base = _hash(random.Random(4))
    # Each key sends fewer near hashes than a run needs: nobody is flagged.
    for key_id in range(MAX_KEYS + 50):
        flips = [_hex(base ^ (1 << bit)) for bit in range(RUN_TO_FLAG // 2)]
        assert detector.observe(key_id, flips) == []
    assert detector.tracked_keys() == MAX_KEYS


def test_malformed_hashes_are_left_to_the_lookup() -> None:
    assert ProbeDetector().observe(1, ["not hex", "", "zz" * 32]) == []
