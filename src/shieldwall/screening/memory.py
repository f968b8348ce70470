"""In-memory adapters for tests: a ContentFetcher with pages held in a dict (no network,
no patching), and the screened record in a list."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from shieldwall.errors import FetchError
from shieldwall.screening.record import ScreenedLookup, ScreenedRow


class InMemoryFetcher:
    """Answers each URL with its page; any other URL fails as a 404 would. Records every
    URL asked for, in order, in `fetched`."""

    def __init__(self, pages: Mapping[str, bytes] | None = None) -> None:
        self.pages: dict[str, bytes] = dict(pages or {})
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> bytes:
        """The page stored for `url`; FetchError if there is none."""
        self.fetched.append(url)
        page = self.pages.get(url)
        if page is None:
            raise FetchError(f"{url} answered HTTP 404 Not Found")
        return page


class InMemoryScreenedRepository:
    """The screened record in a list (tests, the in-memory world)."""

    def __init__(self) -> None:
        self._rows: list[ScreenedRow] = []
        self._lock = threading.Lock()

    def record_many(self, rows: Sequence[ScreenedLookup], /) -> None:
        """Store lookups."""
        with self._lock:
            start = self._rows[-1].id + 1 if self._rows else 1
            self._rows.extend(ScreenedRow(start + i, row) for i, row in enumerate(rows))

    def pdq_rows(self, since: datetime) -> Iterator[tuple[list[int], list[bytes]]]:
        """Ids and PDQ bytes of lookups since `since`, in one chunk."""
        with self._lock:
            pairs = [
                (r.id, bytes.fromhex(value))
                for r in self._rows
                if r.lookup.screened_at >= since
                for value in ((r.lookup.pdq,) if r.lookup.pdq else ()) + r.lookup.views
            ]
        if pairs:
            yield [key for key, _ in pairs], [value for _, value in pairs]

    def with_digests(
        self, md5s: Sequence[str], sha256s: Sequence[str], since: datetime
    ) -> list[ScreenedRow]:
        """Lookups since `since` with one of these digests."""
        with self._lock:
            return [
                r
                for r in self._rows
                if r.lookup.screened_at >= since
                and (r.lookup.md5 in md5s or r.lookup.sha256 in sha256s)
            ]

    def get_many(self, ids: Sequence[int]) -> list[ScreenedRow]:
        """Lookups by id."""
        wanted = set(ids)
        with self._lock:
            return [r for r in self._rows if r.id in wanted]

    def purge(self, before: datetime) -> int:
        """Delete lookups older than `before`."""
        with self._lock:
            kept = [r for r in self._rows if r.lookup.screened_at >= before]
            gone = len(self._rows) - len(kept)
            self._rows = kept
            return gone

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)
