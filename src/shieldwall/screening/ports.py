"""What screening needs from outside: content fetched by URL for URL lookups.

Adapters: the SSRF-safe fetcher over HTTP (integrations/fetch.py), the refusing one while
URL lookups are off, and an in-memory fake for tests (screening/memory.py).
"""

from __future__ import annotations

from typing import Protocol


class ContentFetcher(Protocol):
    """Fetches the content a URL lookup screens (never stored; hashed, then dropped)."""

    async def fetch(self, url: str) -> bytes:
        """The content at `url`; FetchError (refused or failed) or MediaTooLargeError
        (over the media byte limit), each with a one-line reason that can be shown."""
        ...
