"""PdqIndex: exactly the brute-force answer, for every size, threshold and change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shieldwall.errors import InvalidInputError
from shieldwall.matching.pdq_index import (
    BUFFER_ROWS,
    HASH_BITS,
    MAX_THRESHOLD,
    PdqHit,
    PdqIndex,
    part_layout,
    part_radii,
)

U8 = npt.NDArray[np.uint8]
POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def flip_bits(rng: np.random.Generator, hashes: U8, counts: npt.NDArray[np.int64]) -> U8:
    """Copies of `hashes` with counts[i] distinct random bits flipped in row i."""
    out = hashes.copy()
    bits = np.unpackbits(out, axis=1)
    for row, count in enumerate(counts):
        where = rng.choice(HASH_BITS, size=int(count), replace=False)
        bits[row, where] ^= 1
    return np.packbits(bits, axis=1)


def make_hashes(rng: np.random.Generator, n: int, clustered: float) -> U8:
    """n hashes: random ones plus clusters of near-duplicates (0-16 bits from a centre)."""
    cluster_rows = int(n * clustered)
    random_rows = rng.integers(0, 256, (n - cluster_rows, 32), dtype=np.uint8)
    if cluster_rows == 0:
        return random_rows
    centres = rng.integers(0, 256, (max(1, cluster_rows // 10), 32), dtype=np.uint8)
    members = centres[rng.integers(0, len(centres), cluster_rows)]
    members = flip_bits(rng, members, rng.integers(0, 17, cluster_rows))
    hashes = np.concatenate([random_rows, members])
    return hashes[rng.permutation(n)]


def make_queries(rng: np.random.Generator, stored: U8, count: int, threshold: int) -> list[bytes]:
    """Half near stored hashes (0 to threshold + 4 bits away), half random."""
    queries = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(count // 2)]
    if len(stored):
        near = stored[rng.integers(0, len(stored), count - len(queries))]
        flips = rng.integers(0, min(HASH_BITS, threshold + 5), len(near))
        queries += [row.tobytes() for row in flip_bits(rng, near, flips)]
    return queries


@dataclass
class Model:
    """The reference: every row ever added, with a live flag, searched by brute force."""

    hashes: U8 = field(default_factory=lambda: np.zeros((0, 32), np.uint8))
    keys: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    labels: U8 = field(default_factory=lambda: np.zeros(0, np.uint8))
    alive: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    def add(self, hashes: U8, keys: npt.NDArray[np.int64], labels: U8) -> None:
        self.hashes = np.concatenate([self.hashes, hashes])
        self.keys = np.concatenate([self.keys, keys])
        self.labels = np.concatenate([self.labels, labels])
        self.alive = np.concatenate([self.alive, np.ones(len(keys), bool)])

    def remove(self, keys: set[int]) -> int:
        hit = np.isin(self.keys, list(keys)) & self.alive
        self.alive &= ~hit
        return int(hit.sum())

    def distances(self, query: bytes) -> npt.NDArray[np.int32]:
        per_byte: npt.NDArray[np.int32] = POPCOUNT[self.hashes ^ np.frombuffer(query, np.uint8)]
        return np.asarray(per_byte.sum(axis=1), dtype=np.int32)

    def search(self, distances: npt.NDArray[np.int32], threshold: int) -> list[PdqHit]:
        rows = np.flatnonzero((distances <= threshold) & self.alive)
        hits = [PdqHit(int(self.keys[r]), int(self.labels[r]), int(distances[r])) for r in rows]
        return sorted(hits, key=lambda h: (h.distance, h.key, h.label))

    def live(self) -> int:
        return int(self.alive.sum())


def assert_same_as_brute_force(
    index: PdqIndex, model: Model, queries: list[bytes], thresholds: list[int]
) -> None:
    for query in queries:
        distances = model.distances(query)
        for threshold in thresholds:
            assert index.search(query, threshold) == model.search(distances, threshold)


def build(
    rng: np.random.Generator, batches: list[int], clustered: float, shared_keys: bool = False
) -> tuple[PdqIndex, Model, U8]:
    """An index and its model filled batch by batch (labels key % 7).

    Keys are 0..n-1, or with `shared_keys` about three rows per key, scattered over batches.
    """
    hashes = make_hashes(rng, sum(batches), clustered)
    keys = np.arange(len(hashes), dtype=np.int64)
    if shared_keys:
        keys = rng.integers(0, max(1, len(keys) // 3), len(keys)).astype(np.int64)
    labels = (keys % 7).astype(np.uint8)
    index, model = PdqIndex(), Model()
    start = 0
    for size in batches:
        end = start + size
        index.add(hashes[start:end], keys[start:end], labels[start:end])
        model.add(hashes[start:end], keys[start:end], labels[start:end])
        start = end
    return index, model, hashes


thresholds = st.lists(st.integers(0, MAX_THRESHOLD), min_size=1, max_size=4)
seeds = st.integers(0, 2**32 - 1)
clustering = st.sampled_from([0.0, 0.1, 0.5, 1.0])


@PROPERTY
@given(seed=seeds, n=st.integers(0, BUFFER_ROWS - 1), clustered=clustering, ts=thresholds)
def test_buffer_only_matches_brute_force(
    seed: int, n: int, clustered: float, ts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    index, model, hashes = build(rng, [n], clustered)
    assert index.segment_sizes() == []
    assert len(index) == n
    assert_same_as_brute_force(index, model, make_queries(rng, hashes, 8, max(ts)), ts)


@PROPERTY
@given(seed=seeds, extra=st.integers(-1, 1), split=st.booleans(), ts=thresholds)
def test_buffer_size_boundary_matches_brute_force(
    seed: int, extra: int, split: bool, ts: list[int]
) -> None:
    n = BUFFER_ROWS + extra
    batches = [1000, n - 1000] if split else [n]
    rng = np.random.default_rng(seed)
    index, model, hashes = build(rng, batches, 0.1)
    # a full buffer becomes a segment; so does a bulk addition of a buffer's worth or more
    frozen = [] if n < BUFFER_ROWS else [BUFFER_ROWS if split else n]
    assert index.segment_sizes() == frozen
    assert len(index) == n
    assert_same_as_brute_force(index, model, make_queries(rng, hashes, 8, max(ts)), ts)


@settings(PROPERTY, max_examples=12)
@given(
    seed=seeds,
    batches=st.lists(st.integers(1500, 5000), min_size=6, max_size=9),
    clustered=clustering,
    ts=thresholds,
)
def test_many_segments_match_brute_force(
    seed: int, batches: list[int], clustered: float, ts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    index, model, hashes = build(rng, batches, clustered)
    sizes = index.segment_sizes()
    assert len(index) == sum(batches)
    assert sum(sizes) <= sum(batches) < sum(sizes) + BUFFER_ROWS
    assert max(sizes) > BUFFER_ROWS  # segments were merged (or bulk-added)
    assert_same_as_brute_force(index, model, make_queries(rng, hashes, 10, max(ts)), ts)


@settings(PROPERTY, max_examples=12)
@given(seed=seeds, n=st.integers(BUFFER_ROWS, 30_000), clustered=clustering, ts=thresholds)
def test_bulk_segment_matches_brute_force(
    seed: int, n: int, clustered: float, ts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    index, model, hashes = build(rng, [n], clustered)
    assert index.segment_sizes() == [n]
    assert_same_as_brute_force(index, model, make_queries(rng, hashes, 10, max(ts)), ts)


@settings(PROPERTY, max_examples=10)
@given(seed=seeds, batches=st.lists(st.integers(500, 5000), min_size=2, max_size=6), ts=thresholds)
def test_removal_and_readding_match_brute_force(
    seed: int, batches: list[int], ts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    index, model, hashes = build(rng, batches, 0.3, shared_keys=True)
    keys = model.keys.copy()
    distinct = np.unique(keys)
    gone = {int(k) for k in rng.choice(distinct, size=len(distinct) // 3, replace=False)}
    assert index.remove(gone) == model.remove(gone)
    assert len(index) == model.live()
    queries = make_queries(rng, hashes, 8, max(ts))
    assert_same_as_brute_force(index, model, queries, ts)
    back = np.flatnonzero(np.isin(keys, sorted(gone)[: len(gone) // 2]))
    labels = np.full(len(back), 9, dtype=np.uint8)
    index.add(hashes[back], keys[back], labels)
    model.add(hashes[back], keys[back], labels)
    assert len(index) == model.live()
    assert_same_as_brute_force(index, model, queries, ts)


def test_removing_a_key_hides_its_rows_in_buffer_and_segments_at_once() -> None:
    rng = np.random.default_rng(7)
    index = PdqIndex()
    shared = make_hashes(rng, 3, 0.0)
    # key 1 has a row in each of two segments and one in the buffer
    index.add(np.concatenate([shared[:1], make_hashes(rng, 19_999, 0.1)]), np.r_[1, 10:20_009])
    index.add(shared[1:2], np.array([1]), np.array([4], dtype=np.uint8))
    index.add(make_hashes(rng, BUFFER_ROWS - 1, 0.1), np.arange(30_000, 30_000 + BUFFER_ROWS - 1))
    index.add(shared[2:3], np.array([1]), np.array([5], dtype=np.uint8))
    assert index.segment_sizes() == [20_000, BUFFER_ROWS]
    assert {h.label for q in shared for h in index.search(q.tobytes(), 0)} == {0, 4, 5}
    before = len(index)
    assert index.live_keys([1, 15, 30_000, 5]) == {1, 15, 30_000}
    assert index.live_keys([1]) == {1}
    assert index.live_keys([]) == set()
    assert index.remove([1]) == 3
    assert index.live_keys([1, 15]) == {15}
    assert len(index) == before - 3
    assert all(1 not in keys_of(index, q) for q in shared)
    assert index.remove([1]) == 0  # already gone
    index.add(shared[:1], np.array([1]), np.array([6], dtype=np.uint8))
    assert index.search(shared[0].tobytes(), 0) == [PdqHit(1, 6, 0)]


def keys_of(index: PdqIndex, query: U8) -> set[int]:
    return {hit.key for hit in index.search(query.tobytes(), 63)}


def test_hits_carry_labels_and_are_sorted_by_distance() -> None:
    rng = np.random.default_rng(3)
    centre = make_hashes(rng, 1, 0.0)
    flips = np.arange(0, 40, 3)
    near = flip_bits(rng, np.repeat(centre, len(flips), axis=0), flips)
    labels = np.arange(len(flips), dtype=np.uint8)
    for rows in (10, 10_000):  # in the buffer, then in a segment
        index = PdqIndex()
        filler = make_hashes(rng, rows, 0.0)
        index.add(
            np.concatenate([filler, near]),
            np.r_[100 : 100 + rows, 0 : len(flips)],
            np.r_[np.zeros(rows, np.uint8), labels],
        )
        hits = index.search(centre[0].tobytes(), 31)
        assert [h.distance for h in hits] == [int(f) for f in flips if f <= 31]
        assert [h.label for h in hits] == [int(k) for k, f in enumerate(flips) if f <= 31]
        assert [h.key for h in hits] == [h.label for h in hits]


def test_the_same_hash_under_two_keys_is_returned_twice() -> None:
    rng = np.random.default_rng(5)
    hashes = make_hashes(rng, 6000, 0.0)
    hashes[5999] = hashes[17]
    index = PdqIndex()
    index.add(hashes[:5000], np.arange(5000))  # a segment holds key 17
    index.add(hashes[5000:], np.arange(5000, 6000))  # the buffer holds key 5999
    assert index.search(hashes[17].tobytes(), 0) == [PdqHit(17, 0, 0), PdqHit(5999, 0, 0)]


def test_merging_drops_removed_rows() -> None:
    rng = np.random.default_rng(11)
    index = PdqIndex()
    hashes = make_hashes(rng, 6 * BUFFER_ROWS, 0.1)
    index.add(hashes[:BUFFER_ROWS], np.arange(BUFFER_ROWS))
    index.remove(range(0, BUFFER_ROWS, 2))
    assert index.segment_sizes() == [BUFFER_ROWS]  # removal only hides rows
    memory = index.memory_bytes()
    index.add(hashes[BUFFER_ROWS:], np.arange(BUFFER_ROWS, len(hashes)))
    assert sum(index.segment_sizes()) == len(index) == len(hashes) - BUFFER_ROWS // 2
    assert len(index.segment_sizes()) < 5  # merged
    assert index.memory_bytes() > memory
    assert index.search(hashes[0].tobytes(), 0) == []
    assert index.search(hashes[1].tobytes(), 0) == [PdqHit(1, 0, 0)]


def test_stored_rows_do_not_share_memory_with_the_callers_arrays() -> None:
    rng = np.random.default_rng(13)
    hashes = make_hashes(rng, 2 * BUFFER_ROWS, 0.0)
    keys = np.arange(len(hashes))
    expected = hashes.copy()
    index = PdqIndex()
    index.add(hashes, keys)
    hashes[:] = 0
    keys[:] = -1
    assert index.search(expected[10].tobytes(), 0) == [PdqHit(10, 0, 0)]


def test_searches_racing_with_additions_always_find_a_stored_hash() -> None:
    rng = np.random.default_rng(17)
    hashes = make_hashes(rng, 40_001, 0.0)
    index = PdqIndex()
    index.add(hashes[:1], np.array([0]))  # in the buffer until the first freeze
    query = hashes[0].tobytes()
    counts: list[int] = []
    done = threading.Event()

    def search_until_done() -> None:
        while not done.is_set():
            counts.append(len(index.search(query, 0)))

    searcher = threading.Thread(target=search_until_done)
    searcher.start()
    try:
        for start in range(1, len(hashes), 1000):
            index.add(hashes[start : start + 1000], np.arange(start, start + 1000))
    finally:
        done.set()
        searcher.join()
    assert counts
    assert set(counts) == {1}


OK_QUERY = bytes(32)
BAD_CALLS: dict[str, Callable[[PdqIndex], object]] = {
    "query too short": lambda index: index.search(OK_QUERY[:31], 3),
    "query too long": lambda index: index.search(OK_QUERY + b"\0", 3),
    "query as text": lambda index: index.search("0" * 32, 3),  # type: ignore[arg-type]
    "threshold 64": lambda index: index.search(OK_QUERY, 64),
    "threshold -1": lambda index: index.search(OK_QUERY, -1),
    "threshold float": lambda index: index.search(OK_QUERY, 3.0),  # type: ignore[arg-type]
    "hashes 31 wide": lambda index: index.add(np.zeros((2, 31), np.uint8), np.arange(2)),
    "hashes 1-d": lambda index: index.add(np.zeros(32, np.uint8), np.arange(1)),
    "hashes 3-d": lambda index: index.add(np.zeros((1, 1, 32), np.uint8), np.arange(1)),
    "too few keys": lambda index: index.add(np.zeros((2, 32), np.uint8), np.arange(1)),
    "keys 2-d": lambda index: index.add(np.zeros((2, 32), np.uint8), np.zeros((2, 1), np.int64)),
    "key scalar": lambda index: index.add(np.zeros((1, 32), np.uint8), np.int64(5)),  # type: ignore[arg-type]
    "labels short": lambda index: index.add(
        np.zeros((2, 32), np.uint8), np.arange(2), np.zeros(1, np.uint8)
    ),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_invalid_input_raises_and_changes_nothing(case: str) -> None:
    index = PdqIndex()
    index.add(np.zeros((2, 32), np.uint8), np.arange(2))
    with pytest.raises(InvalidInputError):
        BAD_CALLS[case](index)
    assert len(index) == 2
    assert index.search(OK_QUERY, 0) == [PdqHit(0, 0, 0), PdqHit(1, 0, 0)]


@pytest.mark.parametrize("rows", [0, 1, 2, 100, 255, 256, 4096, 5000, 2**20, 10**7, 2**24 - 1])
def test_part_layout_covers_all_bits_with_8_to_22_bit_parts(rows: int) -> None:
    layout = part_layout(rows)
    widths = [width for _, width in layout]
    assert sum(widths) == HASH_BITS
    assert all(8 <= width <= 22 for width in widths)
    assert max(widths) - min(widths) <= 1
    assert [start for start, _ in layout] == [sum(widths[:i]) for i in range(len(widths))]


@pytest.mark.parametrize("parts", sorted({len(part_layout(2**b)) for b in range(26)} | {1, 2, 64}))
def test_part_radii_sum_to_threshold_plus_one(parts: int) -> None:
    for threshold in range(MAX_THRESHOLD + 1):
        radii = part_radii(parts, threshold)
        assert len(radii) == parts
        assert sum(r + 1 for r in radii) == threshold + 1
        assert min(radii) >= -1
        assert max(radii) - min(radii) <= 1


@pytest.mark.parametrize("ordered", [True, False])
def test_rows_of_finds_a_keys_rows_in_ordered_and_unordered_segments(ordered: bool) -> None:
    rng = np.random.default_rng(5)
    count = BUFFER_ROWS + 10  # one segment, built at once
    keys = np.repeat(np.arange(count // 2, dtype=np.int64), 2)[:count]
    if not ordered:
        keys = rng.permutation(keys)
    hashes = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    labels = (np.arange(count) % 7).astype(np.uint8)
    index = PdqIndex()
    index.add(hashes, keys, labels)
    assert len(index.segment_sizes()) == 1
    for key in (0, 17, int(keys.max())):
        rows = np.flatnonzero(keys == key)
        expected = sorted((int(labels[r]), hashes[r].tobytes()) for r in rows)
        assert sorted(index.rows_of(key)) == expected
    index.remove([17])
    assert index.rows_of(17) == []
    assert index.rows_of(10**9) == []
