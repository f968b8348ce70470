"""The screened record: what the service has looked up for platforms that named the upload
(its `content_ref`), kept as signals only (a PDQ hash and its views, MD5, SHA-256), with
the caller's key, the `content_ref` and the time; never the content. A confirm decision
sweeps it for the same picture and its edited copies (review/sweeps.py); rows older than
the retention (180 days unless set) are purged.

Lookups must stay fast, so rows are not written inside the request: the same buffer as the
lookup audit (access/audit_buffer.py) takes them and a background thread writes them in
batches (and at shutdown). A crash loses at most the last fraction of a second of the
record, never a lookup's answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from shieldwall.signals.models import DIHEDRAL_VARIANTS, ORIGINAL, Signal
from shieldwall.signals.pdq_quality import without_refused

DEFAULT_RETENTION: Final = timedelta(days=180)
MAX_VIEWS: Final = 16
"""Edit-undoing views kept per lookup at most (a lookup makes about 14)."""


@dataclass(frozen=True)
class ScreenedLookup:
    """One looked-up piece of content as the record keeps it."""

    key_id: int
    content_ref: str
    screened_at: datetime
    pdq: str | None
    md5: str | None
    sha256: str | None
    verdict: str
    views: tuple[str, ...] = ()
    """PDQ hashes of the views the lookup made to undo edits (a caption or a chat band cut
    away, borders trimmed): a sweep finds the captioned copy of a picture through them."""


@dataclass(frozen=True)
class ScreenedRow:
    """A stored lookup, by its id in the record."""

    id: int
    lookup: ScreenedLookup


def screened_from_signals(
    signals: Sequence[Signal], key_id: int, content_ref: str, at: datetime, verdict: str
) -> ScreenedLookup | None:
    """What the record keeps of a lookup's signals: the original PDQ hash and the views
    that undo edits (unless the acceptance rule refuses them: too plain to find copies by;
    the rotations and mirrors are left out, a sweep searches with its own) and the digests;
    None when nothing is left."""
    kept, _ = without_refused(signals)
    first = {s.type: s.value for s in reversed(kept) if s.variant == ORIGINAL}
    views = [
        s.value
        for s in kept
        if s.type == "pdq" and s.variant != ORIGINAL and s.variant not in DIHEDRAL_VARIANTS
    ]
    if not first and not views:
        return None
    return ScreenedLookup(
        key_id,
        content_ref,
        at,
        first.get("pdq"),
        first.get("md5"),
        first.get("sha256"),
        verdict,
        tuple(dict.fromkeys(views))[:MAX_VIEWS],
    )


class ScreenedRepository(Protocol):
    """The record's storage. Errors are ShieldwallErrors."""

    def record_many(self, rows: Sequence[ScreenedLookup], /) -> None:
        """Store lookups (one transaction)."""
        ...

    def pdq_rows(self, since: datetime) -> Iterator[tuple[list[int], list[bytes]]]:
        """The ids and 32-byte PDQ hashes (the original's and the views', an id once for
        each) of lookups since `since`, in chunks."""
        ...

    def with_digests(
        self, md5s: Sequence[str], sha256s: Sequence[str], since: datetime
    ) -> list[ScreenedRow]:
        """Lookups since `since` whose MD5 or SHA-256 is one of these."""
        ...

    def get_many(self, ids: Sequence[int]) -> list[ScreenedRow]:
        """Lookups by id (missing ones left out), by id."""
        ...

    def purge(self, before: datetime) -> int:
        """Delete lookups older than `before`; how many went."""
        ...
