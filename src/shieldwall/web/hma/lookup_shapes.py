"""HMA's lookup answers: matches grouped by bank, distances as strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from shieldwall.matching.models import Match
from shieldwall.signals.models import SIGNAL_TYPES
from shieldwall.web.hma.names import hma_bank_name

NO_DISTANCE: Final = "-"
"""HMA's distance string for exact-match signal types (its `NO_DISTANCE_STR`)."""
TMatchByBank = dict[str, list[dict[str, Any]]]


def distance_text(signal_type: str, distance: int) -> str:
    """HMA's distance string: the number for PDQ, "-" for exact-match signal types."""
    return str(distance) if SIGNAL_TYPES[signal_type].distance_based else NO_DISTANCE


def match_json(match: Match) -> dict[str, Any]:
    """HMA's `{"bank_content_id": id, "distance": "d"}`."""
    return {
        "bank_content_id": match.entry_id,
        "distance": distance_text(match.signal_type, match.distance),
    }


def matches_by_bank(matches: Sequence[Match], signal_type: str) -> TMatchByBank:
    """HMA's `{BANK: [{"bank_content_id": id, "distance": "d"}]}` for one signal type."""
    results: TMatchByBank = {}
    for match in matches:
        if match.signal_type == signal_type:
            results.setdefault(hma_bank_name(match.bank), []).append(match_json(match))
    return results
