"""Matching content and signals against the active entries of a set of banks.

Indexes are rebuilt from the database when a matcher starts, not persisted: the database
is the bank of record, a rebuild of 1M hashes takes seconds (bench/index.py), and a
snapshot file would be one more thing that can drift from the database. After the start,
changes arrive incrementally through `apply_added` and `apply_removed` (from this
process's writes, and from other processes' through the change log: matching/tailer.py).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from shieldwall.banks.models import (
    Bank,
    Entry,
    EntryState,
    IndexBatch,
    IndexRow,
    MatchAction,
    PdqColumns,
    pdq_columns_of,
)
from shieldwall.banks.ports import BankRepository
from shieldwall.errors import InvalidInputError
from shieldwall.matching.alignment import (
    MAX_SEEDS,
    SEED_THRESHOLD,
    WINDOW_BOXES,
    Placement,
    align,
    stored_windows,
)
from shieldwall.matching.models import Match, Stage, sort_matches, variant_label
from shieldwall.matching.pairs import PairStore, find_pairs
from shieldwall.matching.pdq_index import IndexColumns, PdqIndex
from shieldwall.normalise.views import CLEANED_FRAMES, SECOND_STAGE_VIEWS
from shieldwall.signals.models import DIHEDRAL_VARIANTS, ORIGINAL, Signal
from shieldwall.signals.pairs import Pair, is_pair_name, query_pairs_of
from shieldwall.signals.pdq_quality import degenerate_rows, matchable, pdq_refusals
from shieldwall.signals.regions import FULL, Box, RegionHasher

SEED_VIEW: Final = "whole"
"""How an aligned match names the query's view that seeded it (the whole picture; a
cleaned view is named as its own variant, e.g. `uncaptioned`)."""


class _VariantNames:
    """Stored variant names <-> the uint8 labels the PDQ index keeps per row."""

    def __init__(self) -> None:
        self._names: list[str] = [ORIGINAL]
        self._codes: dict[str, int] = {ORIGINAL: 0}

    def code(self, name: str) -> int:
        found = self._codes.get(name)
        if found is None:
            if len(self._names) >= 256:
                raise InvalidInputError("at most 256 distinct stored variant names")
            found = self._codes[name] = len(self._names)
            self._names.append(name)
        return found

    def name(self, code: int) -> str:
        return self._names[code]


@dataclass
class _BankIndex:
    """One bank's indexes: PDQ within the bank's threshold, its pair windows (searched
    only by the second stage), exact digests."""

    bank: Bank
    pdq: PdqIndex = field(default_factory=PdqIndex)
    pairs: PairStore = field(default_factory=PairStore)
    exact: dict[tuple[str, str], list[tuple[int, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


class BankMatcher:
    """In-memory indexes over the active entries of some banks (plus their allow-lists)."""

    def __init__(self, banks: Sequence[Bank]) -> None:
        self._banks = {bank.name: _BankIndex(bank) for bank in banks if bank.enabled}
        self._by_id = {index.bank.id: index for index in self._banks.values()}
        self._variants = _VariantNames()
        self._lock = threading.Lock()
        self._max_entry_id = 0  # entries above it cannot be indexed yet

    @classmethod
    def load(cls, repository: BankRepository, names: Sequence[str] = ()) -> BankMatcher:
        """Build indexes for the named banks (all banks if none) and the banks they allow-list."""
        every = {bank.name: bank for bank in repository.list_banks()}
        wanted = list(names) if names else list(every)
        for name in wanted:
            if name not in every:
                repository.get_bank(name)  # raises NotFoundError with the usual message
        chosen = {name: every[name] for name in wanted}
        for bank in list(chosen.values()):
            for allowed in bank.policy.allow_list_banks:
                chosen.setdefault(allowed, every[allowed])
        matcher = cls(list(chosen.values()))
        bank_ids = [index.bank.id for index in matcher._banks.values()]
        if bank_ids:
            matcher.add_batches(repository.iter_index_batches(bank_ids))
        return matcher

    def add_batches(self, batches: Iterable[IndexBatch]) -> None:
        """Stream the banks' PDQ columns into arrays, then build each bank's index once (an
        index load; rows of banks this matcher does not hold are left out).

        Batches are dropped one by one: only the arrays stay (about 41 bytes per hash
        before the index is built), and each bank's index is built in one piece instead
        of being merged up from batch-sized segments; so is each bank's pair store. Digests
        arrive as rows.
        """
        columns: dict[int, list[IndexColumns]] = defaultdict(list)
        pairs: dict[int, list[IndexColumns]] = defaultdict(list)
        with self._lock:
            for batch in batches:
                self._add_rows_locked(batch.others)
                for bank_id, found in self._split_locked(batch.pdq, pairs).items():
                    columns[bank_id].append(found)
            for bank_id, parts in columns.items():
                self._index_pdq_locked(bank_id, IndexColumns.concatenate(parts))
            for bank_id, parts in pairs.items():
                self._by_id[bank_id].pairs.index_placed(IndexColumns.concatenate(parts))

    def _split_locked(
        self, pdq: PdqColumns, pairs: dict[int, list[IndexColumns]] | None = None
    ) -> dict[int, IndexColumns]:
        """One batch's PDQ columns per bank this matcher holds, variants as its codes.
        Pair windows (each named by its own landmarks) go to their banks' pair stores, or,
        with `pairs`, are placed there and gathered in it by bank, to index later."""
        if not len(pdq):
            return {}
        pdq = self._pairs_split_off_locked(pdq, pairs)
        if not len(pdq):
            return {}
        codes = np.zeros(len(pdq.variant_names), np.uint8)  # for the names rows still use
        for used in np.unique(pdq.variants).tolist():
            codes[used] = self._variants.code(pdq.variant_names[used])
        labels = codes[pdq.variants]
        found = {}
        for bank_id in np.unique(pdq.bank_ids).tolist():
            if bank_id in self._by_id:
                mine = pdq.bank_ids == bank_id
                found[bank_id] = IndexColumns(pdq.hashes[mine], pdq.entry_ids[mine], labels[mine])
                self._max_entry_id = max(self._max_entry_id, int(pdq.entry_ids[mine].max()))
        return found

    def _pairs_split_off_locked(
        self, pdq: PdqColumns, gathered: dict[int, list[IndexColumns]] | None
    ) -> PdqColumns:
        """Index a batch's pair windows in their banks' pair stores (or gather them: see
        `_split_locked`); the rest of the batch."""
        is_pair = np.array([is_pair_name(name) for name in pdq.variant_names], bool)
        if not is_pair.any():
            return pdq
        rows = is_pair[pdq.variants]
        usable = rows & ~degenerate_rows(pdq.hashes)
        for bank_id in np.unique(pdq.bank_ids[usable]).tolist():
            index = self._by_id.get(bank_id)
            if index is not None:
                mine = usable & (pdq.bank_ids == bank_id)
                names = [pdq.variant_names[v] for v in pdq.variants[mine].tolist()]
                if gathered is None:
                    index.pairs.add(pdq.hashes[mine], pdq.entry_ids[mine], names)
                else:
                    placed = index.pairs.place(pdq.hashes[mine], pdq.entry_ids[mine], names)
                    gathered[bank_id].append(placed)
                self._max_entry_id = max(self._max_entry_id, int(pdq.entry_ids[mine].max()))
        rest = ~rows
        return PdqColumns(
            pdq.entry_ids[rest],
            pdq.bank_ids[rest],
            pdq.hashes[rest],
            pdq.variant_names,
            pdq.variants[rest],
        )

    @property
    def banks(self) -> list[Bank]:
        """The enabled banks this matcher searches."""
        return [index.bank for index in self._banks.values()]

    @property
    def searches_pairs(self) -> bool:
        """Whether a lookup's own pair windows can be searched: some bank with the second
        stage on holds pair windows (hash_content makes them ahead only then)."""
        return any(
            index.bank.policy.second_stage and len(index.pairs) for index in self._banks.values()
        )

    def size(self) -> dict[str, int]:
        """Live PDQ hashes per bank."""
        return {name: len(index.pdq) for name, index in self._banks.items()}

    def segment_sizes(self) -> dict[str, dict[str, list[int]]]:
        """Rows per index segment of each bank's PDQ index and pair store (each segment is
        searched on its own: a load builds one, live additions add small ones that merge)."""
        return {
            name: {"pdq": index.pdq.segment_sizes(), "pairs": index.pairs.index.segment_sizes()}
            for name, index in self._banks.items()
        }

    def _add_rows(self, rows: Iterable[IndexRow]) -> None:
        with self._lock:
            self._add_rows_locked(rows)

    def _add_rows_locked(self, rows: Iterable[IndexRow]) -> None:
        """Rows (a live update, an index load's digests): PDQ ones through the same columns
        an index load reads, the others straight into the exact-match indexes."""
        rows = list(rows)
        exact = [row for row in rows if row.signal_type != "pdq"]
        for row in exact:
            index = self._by_id.get(row.bank_id)
            if index is not None:
                self._max_entry_id = max(self._max_entry_id, row.entry_id)
                index.exact[(row.signal_type, row.value)].append((row.entry_id, row.variant))
        if len(exact) < len(rows):
            for bank_id, found in self._split_locked(pdq_columns_of(rows)).items():
                self._index_pdq_locked(bank_id, found)

    def _index_pdq_locked(self, bank_id: int, found: IndexColumns) -> None:
        # Entries banked before the acceptance rule may hold degenerate hashes (all zeros, a
        # flat image's): they are never indexed, so they can never match.
        usable = ~degenerate_rows(found.hashes)
        if usable.any():
            self._by_id[bank_id].pdq.add(
                found.hashes[usable], found.keys[usable], found.labels[usable]
            )

    def _by_bank(self, entries: Iterable[Entry]) -> dict[str, list[Entry]]:
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries:
            if entry.bank in self._banks:
                grouped[entry.bank].append(entry)
        return grouped

    @staticmethod
    def _indexed(index: _BankIndex, entries: Sequence[Entry]) -> set[int]:
        """Which of these entries the bank's indexes hold (entries are added whole)."""
        held = index.pdq.live_keys(entry.id for entry in entries)
        for entry in entries:
            for signal in entry.signals:
                holders = index.exact.get((signal.type, signal.value), ())
                if any(holder[0] == entry.id for holder in holders):
                    held.add(entry.id)
        return held

    def apply_added(self, entry: Entry) -> None:
        """Make an active entry matchable at once (no-op for other states or banks).

        Idempotent: an entry already indexed is left as it is (an entry's signals never
        change), so a change heard twice (own write and change log) is harmless."""
        self.apply_added_many([entry])

    def apply_added_many(self, entries: Iterable[Entry]) -> None:
        """`apply_added` for many entries at once (one index scan per bank, at most)."""
        active = (entry for entry in entries if entry.state is EntryState.ACTIVE)
        with self._lock:
            rows: list[IndexRow] = []
            for name, group in self._by_bank(active).items():
                index = self._banks[name]
                # Only entries at or below the highest id indexed so far can be held already.
                maybe = [entry for entry in group if entry.id <= self._max_entry_id]
                held = self._indexed(index, maybe) if maybe else set()
                seen: set[int] = set()
                for entry in group:
                    if entry.id not in held and entry.id not in seen:
                        seen.add(entry.id)
                        rows += [
                            IndexRow(entry.id, index.bank.id, s.type, s.value, s.variant)
                            for s in entry.signals
                        ]
            self._add_rows_locked(rows)

    def apply_removed(self, entry: Entry) -> None:
        """Stop matching an entry at once (it was disabled, withdrawn or deleted)."""
        self.apply_removed_many([entry])

    def apply_removed_many(self, entries: Iterable[Entry]) -> None:
        """`apply_removed` for many entries at once (one index scan per bank)."""
        with self._lock:
            for name, group in self._by_bank(entries).items():
                index = self._banks[name]
                index.pdq.remove(entry.id for entry in group)
                index.pairs.remove([entry.id for entry in group])
                for entry in group:
                    for signal in entry.signals:
                        holders = index.exact.get((signal.type, signal.value))
                        if holders:
                            holders[:] = [h for h in holders if h[0] != entry.id]

    def apply_current_rows(
        self, states: Mapping[int, EntryState], rows: Iterable[IndexRow]
    ) -> None:
        """Hold exactly the active ones of some entries, given their states and every signal
        of theirs as index rows: how the change-log tailer follows other processes' writes
        without building Entry objects. Idempotent, like `apply_added` and `apply_removed`."""
        by_entry: dict[int, list[IndexRow]] = defaultdict(list)
        for row in rows:
            if row.bank_id in self._by_id:
                by_entry[row.entry_id].append(row)
        active = {
            entry_id: entry_rows
            for entry_id, entry_rows in by_entry.items()
            if states.get(entry_id) is EntryState.ACTIVE
        }
        with self._lock:
            self._remove_rows_locked(
                row
                for entry_id, entry_rows in by_entry.items()
                if entry_id not in active
                for row in entry_rows
            )
            held = self._held_locked(active)
            self._add_rows_locked(
                row
                for entry_id, entry_rows in active.items()
                if entry_id not in held
                for row in entry_rows
            )

    def _held_locked(self, entries: Mapping[int, list[IndexRow]]) -> set[int]:
        """Which of these entries (by their rows) the indexes hold already."""
        # Only entries at or below the highest id indexed so far can be held already.
        maybe = [rows for entry_id, rows in entries.items() if entry_id <= self._max_entry_id]
        held: set[int] = set()
        for bank_id, bank_rows in _by_bank_id(row for rows in maybe for row in rows).items():
            index = self._by_id[bank_id]
            held |= index.pdq.live_keys({row.entry_id for row in bank_rows})
            for row in bank_rows:
                holders = index.exact.get((row.signal_type, row.value), ())
                if any(holder[0] == row.entry_id for holder in holders):
                    held.add(row.entry_id)
        return held

    def _remove_rows_locked(self, rows: Iterable[IndexRow]) -> None:
        for bank_id, bank_rows in _by_bank_id(rows).items():
            index = self._by_id[bank_id]
            index.pdq.remove({row.entry_id for row in bank_rows})
            index.pairs.remove(list({row.entry_id for row in bank_rows}))
            for row in bank_rows:
                holders = index.exact.get((row.signal_type, row.value))
                if holders:
                    holders[:] = [h for h in holders if h[0] != row.entry_id]

    def match_signals(
        self,
        signals: Sequence[Signal],
        max_threshold: int | None = None,
        pixels: RegionHasher | None = None,
    ) -> list[Match]:
        """Matches for a content's signals (the 8 PDQ dihedral variants may be among them).

        Each bank's own threshold applies; `max_threshold` may only tighten it. One match is
        kept per (bank, entry, signal type): from the earliest stage that found it (whole,
        regions, second), the nearest, preferring the untransformed query.
        PDQ queries that the acceptance rule refuses (too little detail, degenerate values)
        are not searched: a blank image must not match anything on PDQ; digests still are.
        With the content's `pixels` (a lookup of a file), a bank that stage one found
        nothing in is also searched for zoomed-in crops by its pair windows and, if that
        finds nothing either, for crops of any amount by the aligned search, unless its
        policy turns the second stage off.
        """
        return self._match_accepted(matchable(signals), max_threshold, pixels)

    def match_signal_sets(
        self, sets: Sequence[Sequence[Signal]], max_threshold: int | None = None
    ) -> list[list[Match]]:
        """`match_signals` for each of many sets (a batch lookup), with the acceptance rule
        checked for all their PDQ hashes in one vectorised pass."""
        flat = [signal for signals in sets for signal in signals]
        refusals = pdq_refusals(flat)
        found, at = [], 0
        for signals in sets:
            verdicts = refusals[at : at + len(signals)]
            at += len(signals)
            accepted = [s for s, refusal in zip(signals, verdicts, strict=True) if not refusal]
            found.append(self._match_accepted(accepted, max_threshold, None))
        return found

    def _match_accepted(
        self,
        signals: Sequence[Signal],
        max_threshold: int | None,
        pixels: RegionHasher | None,
    ) -> list[Match]:
        best: dict[tuple[str, int, str], Match] = {}
        first_stage = [s for s in signals if not _second_stage(s)]
        seeds = _aligned_seeds(signals, pixels)
        seen_pairs: list[tuple[Pair, bytes]] | None = None  # the query's, made when needed
        for index in self._banks.values():
            threshold = index.bank.policy.pdq_threshold
            if max_threshold is not None:
                threshold = min(threshold, max_threshold)
            second = index.bank.policy.second_stage
            found = False
            for signal in signals if second else first_stage:
                for match in self._search(index, signal, threshold):
                    found = True
                    key = (match.bank, match.entry_id, match.signal_type)
                    held = best.get(key)
                    if held is None or _better(match, held):
                        best[key] = match
            if not second or found or pixels is None:
                continue
            # The pair search first: it costs a few milliseconds where the aligned search
            # costs tens, and it finds most crops the aligned search would.
            if len(index.pairs):
                if seen_pairs is None:
                    seen_pairs = query_pairs_of(pixels)
                for match in self._paired(index, seen_pairs, pixels, threshold):
                    found = True
                    best[(match.bank, match.entry_id, match.signal_type)] = match
            for seed, frame in seeds if not found else ():
                aligned = self._aligned(index, seed, frame, pixels, threshold)
                best.update({(m.bank, m.entry_id, m.signal_type): m for m in aligned})
                if aligned:
                    break
        return sort_matches(self._apply_allow_lists(list(best.values())))

    @staticmethod
    def _paired(
        index: _BankIndex, seen: list[tuple[Pair, bytes]], pixels: RegionHasher, threshold: int
    ) -> list[Match]:
        """The second stage's pair search (matching/pairs.py) in one bank."""
        bank = index.bank
        return [
            Match(
                bank.name,
                found.entry_id,
                "pdq",
                found.distance,
                found.variant,
                bank.policy.action,
                Stage.SECOND,
            )
            for found in find_pairs(index.pairs, seen, pixels, threshold)
        ]

    def _aligned(
        self,
        index: _BankIndex,
        seed: Signal,
        frame: Box,
        pixels: RegionHasher,
        threshold: int,
    ) -> list[Match]:
        """The second stage's aligned search (matching/alignment.py) in one bank, from the
        nearest few entries one of whose stored windows the seed's hash comes near; the seed
        is the query's whole hash (`frame` FULL) or a cleaned view's (`frame` its box)."""
        seeds: dict[int, str] = {}  # entry: the stored window seeding it, nearest first
        for hit in index.pdq.search(bytes.fromhex(seed.value), SEED_THRESHOLD):
            name = self._variants.name(hit.label)
            if name in WINDOW_BOXES:
                seeds.setdefault(hit.key, name)
                if len(seeds) == MAX_SEEDS:
                    break
        matches = []
        for key, name in seeds.items():
            stored = {self._variants.name(label): value for label, value in index.pdq.rows_of(key)}
            placement = Placement.matching(WINDOW_BOXES[name], frame)
            aligned = align(pixels, stored_windows(stored), placement, threshold)
            if aligned is not None:
                bank = index.bank
                matches.append(
                    Match(
                        bank.name,
                        key,
                        "pdq",
                        aligned.distance,
                        f"{_seed_name(seed)}/{aligned.variant}",
                        bank.policy.action,
                        Stage.SECOND,
                    )
                )
        return matches

    def _search(self, index: _BankIndex, signal: Signal, threshold: int) -> list[Match]:
        bank = index.bank
        if signal.type == "pdq":
            return [
                Match(
                    bank.name,
                    hit.key,
                    "pdq",
                    hit.distance,
                    variant_label(signal.variant, stored),
                    bank.policy.action,
                    _stage(signal.variant, stored),
                )
                for hit in index.pdq.search(bytes.fromhex(signal.value), threshold)
                for stored in (self._variants.name(hit.label),)
            ]
        return [
            Match(
                bank.name,
                entry_id,
                signal.type,
                0,
                variant_label(signal.variant, stored),
                bank.policy.action,
                Stage.EXACT,
            )
            for entry_id, stored in index.exact.get((signal.type, signal.value), ())
        ]

    def _apply_allow_lists(self, matches: list[Match]) -> list[Match]:
        """Drop matches from banks whose allow-list banks also matched (benign collisions)."""
        matched_banks = {m.bank for m in matches}
        suppressed = {
            name
            for name, index in self._banks.items()
            if matched_banks.intersection(index.bank.policy.allow_list_banks)
        }
        return [m for m in matches if m.bank not in suppressed]


def _by_bank_id(rows: Iterable[IndexRow]) -> dict[int, list[IndexRow]]:
    grouped: dict[int, list[IndexRow]] = defaultdict(list)
    for row in rows:
        grouped[row.bank_id].append(row)
    return grouped


def _second_stage(signal: Signal) -> bool:
    """Whether a query signal is one of the second stage's views."""
    return signal.variant.startswith(SECOND_STAGE_VIEWS)


def _stage(query_variant: str, stored_variant: str) -> Stage:
    """The stage a PDQ match of these two variants belongs to."""
    if query_variant.startswith(SECOND_STAGE_VIEWS):
        return Stage.SECOND
    if query_variant in DIHEDRAL_VARIANTS and stored_variant == ORIGINAL:
        return Stage.WHOLE
    return Stage.REGIONS


_STAGE_ORDER: Final = tuple(Stage)


def _better(candidate: Match, held: Match) -> bool:
    """Which of two matches of one entry to keep: the earliest stage that found it (a copy
    the whole picture's hash finds is reported so, even where a band came nearer), then
    the nearest, then the untransformed query."""
    if candidate.stage is not held.stage:
        return _STAGE_ORDER.index(candidate.stage) < _STAGE_ORDER.index(held.stage)
    if candidate.distance != held.distance:
        return candidate.distance < held.distance
    return candidate.variant == ORIGINAL and held.variant != ORIGINAL


__all__ = ["BankMatcher", "Match", "MatchAction"]


def _aligned_seeds(
    signals: Sequence[Signal], pixels: RegionHasher | None
) -> list[tuple[Signal, Box]]:
    """What the aligned search seeds from, in order: the query's whole hash, then each
    cleaned view's (a crop later captioned or framed), each with the box it covers."""
    if pixels is None:
        return []
    pdq = {s.variant: s for s in signals if s.type == "pdq"}
    seeds = [(pdq[ORIGINAL], FULL)] if ORIGINAL in pdq else []
    frames = pixels.derived.get(CLEANED_FRAMES, ())
    assert isinstance(frames, tuple)
    seeds += [(pdq[name], box) for name, box in frames if name in pdq]
    return seeds


def _seed_name(seed: Signal) -> str:
    return SEED_VIEW if seed.variant == ORIGINAL else seed.variant
