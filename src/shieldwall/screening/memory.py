"""In-memory ContentFetcher: pages held in a dict, for tests (no network, no patching)."""

from __future__ import annotations

from collections.abc import Mapping

from shieldwall.errors import FetchError


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
