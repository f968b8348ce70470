"""Screening results. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shieldwall.banks.models import MatchAction
from shieldwall.matching.models import Match


@dataclass(frozen=True)
class ScreeningResult:
    """What a lookup found: the signals computed (for content), matches and the verdict."""

    signals: dict[str, Any] | None
    matches: list[Match]
    verdict: MatchAction
    errors: list[str] = field(default_factory=list)

    def as_json(self, details: bool) -> dict[str, Any]:
        """The API shape; without `details` no distances or entry ids (no match oracle)."""
        matches = [
            m.as_json() if details else {"bank": m.bank, "signal_type": m.signal_type}
            for m in self.matches
        ]
        if not details:  # one line per bank and signal type is all a screener learns
            matches = [dict(t) for t in dict.fromkeys(tuple(sorted(m.items())) for m in matches)]
        body: dict[str, Any] = {"verdict": self.verdict.value, "matches": matches}
        if self.signals is not None:
            body["signals"] = self.signals
        if self.errors:
            body["errors"] = self.errors
        return body
