"""Lookups: content or signals -> matches -> verdict, each recorded for audit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from shieldwall.access.models import LookupEvent, LookupKind, LookupVerdict
from shieldwall.banks.models import MatchAction
from shieldwall.clock import Clock, utc_now
from shieldwall.config import MediaLimits
from shieldwall.errors import InvalidInputError
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.matching.models import Match, verdict_of
from shieldwall.matching.service import BankMatcher
from shieldwall.screening.models import ScreeningResult
from shieldwall.screening.record import ScreenedLookup, screened_from_signals
from shieldwall.signals.models import SIGNAL_TYPES, Signal
from shieldwall.signals.regions import RegionHasher

MAX_BATCH = 1000


def signals_from_mapping(values: Mapping[str, object]) -> list[Signal]:
    """Validated signals from `{"pdq": hex, "md5": hex, ...}`; at least one is needed."""
    signals = []
    for name, value in values.items():
        if name not in SIGNAL_TYPES:
            raise InvalidInputError(f"unknown signal type {name!r}")
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a hex string")
        signals.append(Signal.of(name, value))
    if not signals:
        raise InvalidInputError("give at least one signal (pdq, md5 or sha256)")
    return signals


class ScreeningService:
    """Answers lookups against the live matcher and records each one (never the content).

    Every front end (native API, HMA API, CLI) looks up through this class, so they share
    the bank filter, the still-active re-check, hit counting and the audit record.
    """

    def __init__(
        self,
        matcher: Callable[[], BankMatcher],
        limits: MediaLimits,
        record: Callable[[LookupEvent], None],
        clock: Clock = utc_now,
        still_active: Callable[[Sequence[int]], set[int]] | None = None,
        on_matches: Callable[[Sequence[int], Sequence[int]], None] | None = None,
        *,
        index_current: Callable[[], bool] | None = None,
        hit_banks: Collection[str] | None = None,
        screened: Callable[[Sequence[ScreenedLookup]], None] | None = None,
    ) -> None:
        self._screened = screened  # the screened record's buffer (API callers' lookups)
        self._matcher = matcher
        self._limits = limits
        self._record = record
        self._clock = clock
        # Which of some entry ids are still active in the bank of record. A matcher in one
        # worker hears another worker's withdrawal through the change log within about a
        # second; checking the few matched entries closes that gap, so a withdrawal stops
        # matching at once in every worker.
        self._still_active = still_active
        # True when the matcher is known to hold every committed change (the host's change
        # beacon has not moved since its last poll of the log): the re-check is skipped.
        self._index_current = index_current
        # counts hits (and blocked re-uploads) for the cases' status pages
        self._on_matches = on_matches
        # Only matches in these banks are counted (None: all): the banks cases link to.
        self._hit_banks = None if hit_banks is None else frozenset(hit_banks)

    def with_matcher(self, matcher: Callable[[], BankMatcher]) -> ScreeningService:
        """The same screening (audit, re-check, hit counting) over another matcher.

        Its matches are always re-checked: whether an index is current is known only for
        the matcher this service was built with.
        """
        return ScreeningService(
            matcher,
            self._limits,
            self._record,
            self._clock,
            self._still_active,
            self._on_matches,
            hit_banks=self._hit_banks,
            screened=self._screened,
        )

    def screen_content(
        self,
        data: bytes,
        key_id: int | None,
        max_threshold: int | None = None,
        banks: Collection[str] | None = None,
        kind: LookupKind = LookupKind.FILE,
        content_ref: str = "",
    ) -> ScreeningResult:
        """Hash content (with its mirrors, rotations and edit-undoing views) and match it."""
        hashed = hash_content(
            data,
            self._limits,
            purpose=Purpose.LOOKUP,
            pair_windows=self._matcher().searches_pairs,
        )
        return self.screen_queries(
            hashed.lookup_signals(),
            key_id,
            kind,
            max_threshold,
            banks,
            hashed.as_json(),
            pixels=hashed.pixels,
            content_ref=content_ref,
        )

    def screen_signals(
        self,
        values: Mapping[str, object],
        key_id: int | None,
        max_threshold: int | None = None,
        banks: Collection[str] | None = None,
        content_ref: str = "",
    ) -> ScreeningResult:
        """Match given signals."""
        return self.screen_queries(
            signals_from_mapping(values),
            key_id,
            LookupKind.SIGNALS,
            max_threshold,
            banks,
            content_ref=content_ref,
        )

    def screen_queries(
        self,
        queries: Sequence[Signal],
        key_id: int | None,
        kind: LookupKind,
        max_threshold: int | None = None,
        banks: Collection[str] | None = None,
        computed: dict[str, Any] | None = None,
        *,
        pixels: RegionHasher | None = None,
        content_ref: str = "",
    ) -> ScreeningResult:
        """Match one content's signals computed elsewhere (an HMA upload, a CLI file) or given.

        `computed` is what the answer shows as the content's signals (None: nothing);
        `pixels`, the content's reduced picture for the second stage's aligned search;
        `content_ref`, the caller's id of the upload (kept in the screened record).
        """
        result = self._result(queries, max_threshold, banks, computed, pixels)
        self._audit(key_id, kind, [result])
        self._keep(key_id, content_ref, [(queries, result)])
        return result

    def screen_batch(
        self,
        items: Sequence[Mapping[str, object]],
        key_id: int | None,
        max_threshold: int | None = None,
        banks: Collection[str] | None = None,
    ) -> list[ScreeningResult]:
        """Match up to 1,000 signal sets; a bad set gets its own error, the rest still run."""
        if len(items) > MAX_BATCH:
            raise InvalidInputError(f"at most {MAX_BATCH} signal sets per batch")
        parsed: list[list[Signal] | str] = []
        for item in items:
            try:
                parsed.append(signals_from_mapping(item))
            except InvalidInputError as exc:
                parsed.append(str(exc))
        valid = [signals for signals in parsed if not isinstance(signals, str)]
        # One matcher call for the whole batch (the acceptance rule in one vectorised pass),
        # and at most one re-check read for every set's matches together.
        found = iter(self._checked(self._matcher().match_signal_sets(valid, max_threshold), banks))
        results = [
            ScreeningResult(None, [], verdict_of([]), [signals])
            if isinstance(signals, str)
            else self._finished(next(found), None)
            for signals in parsed
        ]
        self._audit(key_id, LookupKind.BATCH, results)
        return results

    def _result(
        self,
        signals: Sequence[Signal],
        max_threshold: int | None,
        banks: Collection[str] | None,
        computed: dict[str, Any] | None,
        pixels: RegionHasher | None,
    ) -> ScreeningResult:
        # The matcher applies each bank's threshold, the PDQ acceptance rule (degenerate or
        # featureless hashes are not searched) and the allow-lists.
        matches: list[Match] = self._matcher().match_signals(signals, max_threshold, pixels)
        [checked] = self._checked([matches], banks)
        return self._finished(checked, computed)

    def _checked(
        self, found: list[list[Match]], banks: Collection[str] | None
    ) -> list[list[Match]]:
        """Each lookup's matches in the wanted banks whose entries are still active."""
        if banks is not None:
            wanted = set(banks)
            found = [[m for m in matches if m.bank in wanted] for matches in found]
        matched = sorted({m.entry_id for matches in found for m in matches})
        if matched and self._still_active is not None and not self._is_index_current():
            active = self._still_active(matched)
            found = [[m for m in matches if m.entry_id in active] for matches in found]
        return found

    def _finished(self, matches: list[Match], computed: dict[str, Any] | None) -> ScreeningResult:
        """One lookup's result, its hits counted for the cases that reported them."""
        counted = [m for m in matches if self._hit_banks is None or m.bank in self._hit_banks]
        if counted and self._on_matches is not None:
            blocked = {m.entry_id for m in counted if m.action is MatchAction.BLOCK}
            self._on_matches(sorted({m.entry_id for m in counted}), sorted(blocked))
        return ScreeningResult(computed, matches, verdict_of(matches))

    def _keep(
        self,
        key_id: int | None,
        content_ref: str,
        looked_up: Sequence[tuple[Sequence[Signal], ScreeningResult]],
    ) -> None:
        """Hand API callers' lookups that name their upload (`content_ref`) to the screened
        record (signals only, never content). A lookup without one could not be acted on
        by a sweep, and the hot hash lookups (HMA's, the fast lane's) carry none: they cost
        nothing here."""
        if self._screened is None or key_id is None or not content_ref:
            return
        now = self._clock()
        rows = [
            row
            for signals, result in looked_up
            if (
                row := screened_from_signals(
                    signals, key_id, content_ref, now, result.verdict.value
                )
            )
            is not None
        ]
        if rows:
            self._screened(rows)

    def _is_index_current(self) -> bool:
        return self._index_current is not None and self._index_current()

    def _audit(self, key_id: int | None, kind: LookupKind, results: list[ScreeningResult]) -> None:
        matches = sum(len(r.matches) for r in results)
        verdict = verdict_of([m for r in results for m in r.matches])
        event = LookupEvent(
            key_id, self._clock(), kind, len(results), matches, LookupVerdict(verdict.value)
        )
        self._record(event)
