"""PDQ index: every stored hash within a Hamming threshold of a query, exactly.

Structure (why: exact recall at distance <= 31 with ~90 bytes per hash at 10M hashes):
- Hashes live in immutable *segments*. A segment cuts the 256 bits into m parts of about
  log2(n) bits and keeps, per part, a bucket directory (CSR: offsets by part value, then
  3-byte row numbers). By the generalised pigeonhole principle, a hash within t bits of the
  query is within r_i bits on some part i whenever sum(r_i + 1) > t, so probing every part
  value within r_i and verifying the full distance finds all matches and only them. The
  C kernel `_mihscan` does the probing and verification without the GIL.
- New hashes go to a small *buffer* scanned linearly, so an addition is visible to the
  very next query. A full buffer becomes a segment; segments of similar size are merged
  (dropping removed rows), so there are O(log n) of them and nothing is ever rebuilt from
  scratch because of one change.
- Removal (disable, withdraw) clears a row's `alive` flag: it stops matching at once.

Each row carries a caller-chosen int64 `key` (the entry id) and a uint8 `label` (the
stored variant); searches return (key, label, distance).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from shieldwall.errors import InvalidInputError
from shieldwall.matching import _mihscan

HASH_BYTES: Final = 32
HASH_BITS: Final = 256
MAX_THRESHOLD: Final = 63
BUFFER_ROWS: Final = 4096
MAX_SEGMENT_ROWS: Final = (1 << 24) - 1  # row numbers are stored in 3 bytes
MERGE_FACTOR: Final = 4  # merge a segment into its older neighbour unless that is 4x bigger

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class IndexColumns:
    """Rows to index as arrays: hashes (n, 32), keys, labels (PdqIndex.add's arguments)."""

    hashes: npt.NDArray[np.uint8]
    keys: npt.NDArray[np.int64]
    labels: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def concatenate(parts: Sequence[IndexColumns]) -> IndexColumns:
        """One set of columns from several (a load's batches, indexed in one piece)."""
        if len(parts) == 1:
            return parts[0]
        return IndexColumns(
            np.concatenate([part.hashes for part in parts]),
            np.concatenate([part.keys for part in parts]),
            np.concatenate([part.labels for part in parts]),
        )


@dataclass(frozen=True)
class PdqHit:
    """One stored hash within the threshold of a query."""

    key: int
    label: int
    distance: int


def part_layout(rows: int) -> list[tuple[int, int]]:
    """(start bit, width) of each part for a segment of `rows` hashes.

    Parts of about log2(rows) bits leave about one row per bucket, which balances probes
    against candidates (Norouzi et al., multi-index hashing); widths stay within 8-22 bits.
    """
    width = min(22, max(8, round(math.log2(max(rows, 2)))))
    count = math.ceil(HASH_BITS / width)
    narrow, wide_count = divmod(HASH_BITS, count)
    widths = [narrow + 1] * wide_count + [narrow] * (count - wide_count)
    starts = np.cumsum([0, *widths[:-1]]).tolist()
    return list(zip(starts, widths, strict=True))


def part_radii(part_count: int, threshold: int) -> list[int]:
    """Search radius per part so that sum(radius + 1) = threshold + 1 (-1: skip the part)."""
    base, extra = divmod(threshold + 1, part_count)
    return [base if i < extra else base - 1 for i in range(part_count)]


def _part_values(words: npt.NDArray[np.uint64], start: int, width: int) -> npt.NDArray[np.uint32]:
    """Bits [start, start+width) of each hash, as the C kernel reads them."""
    word, offset = divmod(start, 64)
    values = words[:, word] >> np.uint64(offset)
    if offset + width > 64:
        values |= words[:, word + 1] << np.uint64(64 - offset)
    return (values & np.uint64((1 << width) - 1)).astype(np.uint32)


def _stable_order(values: npt.NDArray[np.uint32], width: int) -> npt.NDArray[np.intp]:
    """np.argsort(values, kind="stable"), as two 16-bit radix passes when wider than 16 bits
    (numpy radix-sorts 16-bit keys; 32-bit ones take timsort, twice as slow at 1M rows)."""
    if width <= 16:
        return np.argsort(values.astype(np.uint16), kind="stable")
    order = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((values[order] >> 16).astype(np.uint16), kind="stable")]


class _Segment:
    """An immutable multi-index over up to 2**24 - 1 hashes (only `alive` changes)."""

    def __init__(self, hashes: U8, keys: I64, labels: U8) -> None:
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint8)
        self.keys = np.ascontiguousarray(keys, dtype=np.int64)
        self.labels = np.ascontiguousarray(labels, dtype=np.uint8)
        self.alive = np.ones(len(self.keys), dtype=np.uint8)
        self.layout = part_layout(len(self.keys))
        self.rows, self.dirs, self._offsets = self._build()
        self._parts_by_threshold: dict[int, npt.NDArray[np.int64]] = {}
        # Loads and merges keep entries in id order, so a key's rows are usually one run
        # found by bisection; otherwise by a scan.
        self.keys_sorted = bool(np.all(self.keys[1:] >= self.keys[:-1]))

    def rows_under(self, key: int) -> npt.NDArray[np.intp]:
        """Rows (live or not) stored under `key`."""
        if self.keys_sorted:
            first = int(np.searchsorted(self.keys, key, side="left"))
            end = int(np.searchsorted(self.keys, key, side="right"))
            return np.arange(first, end, dtype=np.intp)
        return np.flatnonzero(self.keys == key)

    def __len__(self) -> int:
        return len(self.keys)

    def _build(self) -> tuple[U8, npt.NDArray[np.uint32], list[tuple[int, int]]]:
        n = len(self.keys)
        words = self.hashes.view("<u8").reshape(n, 4)
        rows = np.empty(len(self.layout) * n * 3, dtype=np.uint8)
        dir_sizes = [(1 << width) + 1 for _, width in self.layout]
        dirs = np.empty(sum(dir_sizes), dtype=np.uint32)
        offsets: list[tuple[int, int]] = []
        dir_at = 0
        for part, (start, width) in enumerate(self.layout):
            values = _part_values(words, start, width)
            order = _stable_order(values, width).astype("<u4")
            rows[part * n * 3 : (part + 1) * n * 3] = (
                order.view(np.uint8).reshape(n, 4)[:, :3].ravel()
            )
            counts = np.bincount(values, minlength=1 << width)
            dirs[dir_at] = 0
            np.cumsum(counts, out=dirs[dir_at + 1 : dir_at + dir_sizes[part]])
            offsets.append((dir_at, part * n))
            dir_at += dir_sizes[part]
        return rows, dirs, offsets

    def _parts(self, threshold: int) -> npt.NDArray[np.int64]:
        parts = self._parts_by_threshold.get(threshold)
        if parts is None:
            radii = part_radii(len(self.layout), threshold)
            parts = np.array(
                [
                    (start, width, radius, dir_at, row_at)
                    for (start, width), radius, (dir_at, row_at) in zip(
                        self.layout, radii, self._offsets, strict=True
                    )
                ],
                dtype=np.int64,
            )
            self._parts_by_threshold[threshold] = parts
        return parts

    def search(self, query: bytes, threshold: int) -> list[tuple[int, int]]:
        """(row, distance) of live rows within the threshold."""
        return _mihscan.mih_search(
            query, self.hashes, self.alive, self.rows, self.dirs, self._parts(threshold), threshold
        )

    def memory_bytes(self) -> int:
        """Bytes held by this segment's arrays."""
        arrays = (self.hashes, self.keys, self.labels, self.alive, self.rows, self.dirs)
        return sum(a.nbytes for a in arrays)


class _Buffer:
    """Recent additions, scanned linearly until there are enough to make a segment."""

    def __init__(self) -> None:
        self.hashes = np.zeros((BUFFER_ROWS, HASH_BYTES), dtype=np.uint8)
        self.keys = np.zeros(BUFFER_ROWS, dtype=np.int64)
        self.labels = np.zeros(BUFFER_ROWS, dtype=np.uint8)
        self.alive = np.zeros(BUFFER_ROWS, dtype=np.uint8)
        self.count = 0

    def append(self, hashes: U8, keys: I64, labels: U8) -> None:
        """Copy rows in; the caller makes sure they fit."""
        end = self.count + len(keys)
        self.hashes[self.count : end] = hashes
        self.keys[self.count : end] = keys
        self.labels[self.count : end] = labels
        self.alive[self.count : end] = 1
        self.count = end  # publish only after the rows are written

    def search(self, query: bytes, threshold: int) -> list[tuple[int, int]]:
        """(row, distance) of live rows within the threshold."""
        return _mihscan.brute_search(query, self.hashes, self.alive, self.count, threshold)


def _check_rows(hashes: U8, keys: I64, labels: U8 | None) -> tuple[U8, I64, U8]:
    hashes = np.asarray(hashes, dtype=np.uint8)
    keys = np.asarray(keys, dtype=np.int64)
    if hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES or keys.shape != (len(hashes),):
        raise InvalidInputError("hashes must be an (n, 32) uint8 array with one key per hash")
    labels_array = (
        np.zeros(len(keys), dtype=np.uint8) if labels is None else np.asarray(labels, np.uint8)
    )
    if labels_array.shape != keys.shape:
        raise InvalidInputError("labels must have one value per hash")
    return hashes, keys, labels_array


class PdqIndex:
    """Exact PDQ search within a threshold (<= 63) with incremental add and remove."""

    def __init__(self) -> None:
        # Searches take no lock: they read this pair once, and changes replace it whole, so
        # a search never sees a frozen buffer's rows twice or not at all.
        self._view: tuple[_Buffer, list[_Segment]] = (_Buffer(), [])
        self._lock = threading.Lock()

    @property
    def _buffer(self) -> _Buffer:
        return self._view[0]

    @property
    def _segments(self) -> list[_Segment]:
        return self._view[1]

    def __len__(self) -> int:
        """Number of live (matchable) hashes."""
        buffer, segments = self._view
        parts = [buffer.alive[: buffer.count], *(s.alive for s in segments)]
        return int(sum(int(np.count_nonzero(a)) for a in parts))

    def add(self, hashes: U8, keys: I64, labels: U8 | None = None) -> None:
        """Add hashes ((n, 32) uint8) with their keys; visible to the next search."""
        hashes, keys, label_array = _check_rows(hashes, keys, labels)
        with self._lock:
            start = 0
            while start < len(keys):
                room = BUFFER_ROWS - self._buffer.count
                if self._buffer.count == 0 and len(keys) - start >= BUFFER_ROWS:
                    end = min(len(keys), start + MAX_SEGMENT_ROWS)
                    # copies: the segment must not share memory the caller may reuse
                    self._push_segment(
                        _Segment(
                            hashes[start:end].copy(),
                            keys[start:end].copy(),
                            label_array[start:end].copy(),
                        )
                    )
                    start = end
                    continue
                end = min(len(keys), start + room)
                self._buffer.append(hashes[start:end], keys[start:end], label_array[start:end])
                start = end
                if self._buffer.count == BUFFER_ROWS:
                    self._freeze_buffer()

    def _live_rows(self, wanted: I64) -> list[tuple[I64, U8, I64]]:
        """Per table: its keys, its `alive` flags, and its live rows under the wanted keys."""
        buffer = self._buffer
        tables = [
            (buffer.keys[: buffer.count], buffer.alive),
            *((s.keys, s.alive) for s in self._segments),
        ]
        found = []
        for table_keys, alive in tables:
            hit = np.isin(table_keys, wanted) if len(wanted) > 1 else table_keys == wanted[0]
            rows = np.flatnonzero(hit & (alive[: len(table_keys)] == 1))
            found.append((table_keys, alive, rows))
        return found

    def remove(self, keys: Iterable[int]) -> int:
        """Stop matching every hash stored under these keys; returns how many rows stopped."""
        wanted = np.fromiter(keys, dtype=np.int64)
        if len(wanted) == 0:
            return 0
        removed = 0
        with self._lock:
            for _, alive, rows in self._live_rows(wanted):
                alive[rows] = 0
                removed += len(rows)
        return removed

    def live_keys(self, keys: Iterable[int]) -> set[int]:
        """Those of `keys` that have at least one live (matchable) hash."""
        wanted = np.fromiter(keys, dtype=np.int64)
        if len(wanted) == 0:
            return set()
        with self._lock:
            found = self._live_rows(wanted)
        return {int(key) for table_keys, _, rows in found for key in table_keys[rows]}

    def rows_of(self, key: int) -> list[tuple[int, bytes]]:
        """(label, 32-byte hash) of every live hash stored under one key (the second
        stage reads a seeded entry's stored regions): a bisection of each segment whose
        keys are in order (as loads and merges leave them), else a scan."""
        with self._lock:
            buffer = self._buffer
            tables = [
                (
                    buffer.hashes,
                    buffer.labels,
                    buffer.alive,
                    np.flatnonzero(buffer.keys[: buffer.count] == key),
                ),
                *((s.hashes, s.labels, s.alive, s.rows_under(key)) for s in self._segments),
            ]
            return [
                (int(labels[row]), hashes[row].tobytes())
                for hashes, labels, alive, rows in tables
                for row in rows.tolist()
                if alive[row]
            ]

    def search(self, query: bytes, threshold: int) -> list[PdqHit]:
        """Every live hash within `threshold` bits of the 32-byte query, nearest first."""
        if not isinstance(query, bytes | bytearray) or len(query) != HASH_BYTES:
            raise InvalidInputError("a PDQ query is 32 bytes")
        if not isinstance(threshold, int | np.integer) or not 0 <= threshold <= MAX_THRESHOLD:
            raise InvalidInputError(f"threshold must be 0-{MAX_THRESHOLD}, got {threshold}")
        hits: list[PdqHit] = []
        buffer, segments = self._view
        for row, distance in buffer.search(query, threshold):
            hits.append(PdqHit(int(buffer.keys[row]), int(buffer.labels[row]), distance))
        for segment in segments:
            for row, distance in segment.search(query, threshold):
                hits.append(PdqHit(int(segment.keys[row]), int(segment.labels[row]), distance))
        hits.sort(key=lambda hit: (hit.distance, hit.key, hit.label))
        return hits

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays."""
        buffer, segments = self._view
        own = buffer.hashes.nbytes + buffer.keys.nbytes + buffer.labels.nbytes
        return own + buffer.alive.nbytes + sum(s.memory_bytes() for s in segments)

    def segment_sizes(self) -> list[int]:
        """Rows per segment, oldest first (for metrics and tests)."""
        return [len(s) for s in self._segments]

    def _freeze_buffer(self) -> None:
        buffer, segments = self._view
        live = buffer.alive[: buffer.count] == 1
        if np.any(live):
            segments = self._with_segment(
                _Segment(
                    buffer.hashes[: buffer.count][live],
                    buffer.keys[: buffer.count][live],
                    buffer.labels[: buffer.count][live],
                )
            )
        self._view = (_Buffer(), segments)  # the rows move from buffer to segment at once

    def _push_segment(self, segment: _Segment) -> None:
        self._view = (self._buffer, self._with_segment(segment))

    def _with_segment(self, segment: _Segment) -> list[_Segment]:
        """A new segment list: the current one plus `segment`, merged as the policy says."""
        segments = [*self._segments, segment]
        while len(segments) >= 2 and self._should_merge(segments[-2], segments[-1]):
            segments[-2:] = [_merge(segments[-2], segments[-1])]
        return segments

    @staticmethod
    def _should_merge(older: _Segment, newer: _Segment) -> bool:
        live_older = int(np.count_nonzero(older.alive))
        live_newer = int(np.count_nonzero(newer.alive))
        fits = live_older + live_newer <= MAX_SEGMENT_ROWS
        return fits and live_older < MERGE_FACTOR * live_newer


def _merge(older: _Segment, newer: _Segment) -> _Segment:
    """One segment holding the live rows of both."""
    keep_old = older.alive == 1
    keep_new = newer.alive == 1
    return _Segment(
        np.concatenate([older.hashes[keep_old], newer.hashes[keep_new]]),
        np.concatenate([older.keys[keep_old], newer.keys[keep_new]]),
        np.concatenate([older.labels[keep_old], newer.labels[keep_new]]),
    )


def hex_to_hash_array(values: Iterable[str]) -> U8:
    """(n, 32) uint8 array from normalised 64-digit hex strings."""
    joined = "".join(values)
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, HASH_BYTES).copy()
