"""Match results and verdicts. No I/O here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from shieldwall.banks.models import MatchAction
from shieldwall.signals.models import ORIGINAL

# Most severe first: a verdict is the most severe action among a content's matches.
_SEVERITY = (MatchAction.BLOCK, MatchAction.REVIEW, MatchAction.ALLOW)


class Stage(enum.StrEnum):
    """Which stage of matching found a match (every match says so, with its variant)."""

    EXACT = "exact"
    """The same file: an MD5 or SHA-256 digest."""
    WHOLE = "whole"
    """The whole picture's PDQ hash, as it is or turned or mirrored."""
    REGIONS = "regions"
    """Stage one of edit-robust matching: a view that undoes an edit (borders, captions, a
    screenshot, a tilt) or a stored region variant (crops, zooms, bands)."""
    SECOND = "second"
    """The second stage: a collage's panel, a keystone undone, or an aligned crop search.
    Each bank can turn it off (its policy's `second_stage`)."""


@dataclass(frozen=True)
class Match:
    """One bank entry that a content (or signal) matched, and how."""

    bank: str
    entry_id: int
    signal_type: str
    distance: int
    variant: str
    action: MatchAction
    stage: Stage = Stage.WHOLE

    def as_json(self) -> dict[str, Any]:
        """The command-line and API shape of a match."""
        return {
            "bank": self.bank,
            "entry_id": self.entry_id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "variant": self.variant,
            "stage": self.stage.value,
        }


def variant_label(query_variant: str, stored_variant: str) -> str:
    """How a match was made: the query's transform, the stored one, or both."""
    if stored_variant == ORIGINAL:
        return query_variant
    if query_variant == ORIGINAL:
        return stored_variant
    return f"{query_variant}/{stored_variant}"


def verdict_of(matches: list[Match]) -> MatchAction:
    """The most severe action among the matches; `allow` when there are none."""
    actions = {match.action for match in matches}
    for action in _SEVERITY:
        if action in actions:
            return action
    return MatchAction.ALLOW


def sort_matches(matches: list[Match]) -> list[Match]:
    """Most severe verdict first, then nearest, then by bank and entry for stable output."""
    return sorted(
        matches,
        key=lambda m: (_SEVERITY.index(m.action), m.distance, m.bank, m.entry_id, m.signal_type),
    )
