"""Every ContentFetcher adapter behaves the same: the SSRF-safe HTTP fetcher (over an
in-memory transport and resolver: nothing leaves the process) and the in-memory fake that
tests pass to `build_services` instead of patching. While URL lookups are off, no fetcher
is asked at all."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from shieldwall.config import MediaLimits, Settings
from shieldwall.errors import FetchError
from shieldwall.integrations.fetch import DISABLED_MESSAGE, DisabledFetcher, UrlFetcher
from shieldwall.screening.memory import InMemoryFetcher
from shieldwall.screening.ports import ContentFetcher
from tests.support.services import make_services

pytestmark = pytest.mark.anyio

PAGE_URL = "https://media.example.org/a/photo.jpg"
MISSING_URL = "https://media.example.org/a/gone.jpg"
PAGE = bytes(range(256)) * 8  # binary, with every byte value: returned as sent
PUBLIC_ADDRESS = "93.184.216.34"  # what the fake resolver answers: a global address


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _resolve(host: str, port: int) -> Sequence[str]:
    return [PUBLIC_ADDRESS]


def _serve(request: httpx.Request) -> httpx.Response:
    if request.headers["host"] == "media.example.org" and request.url.path == "/a/photo.jpg":
        return httpx.Response(200, content=PAGE, headers={"content-type": "image/jpeg"})
    return httpx.Response(404)


@pytest.fixture(params=["memory", "http"])
def fetcher(request: pytest.FixtureRequest) -> Iterator[ContentFetcher]:
    """Each ContentFetcher adapter, serving PAGE at PAGE_URL and nothing else."""
    if request.param == "memory":
        yield InMemoryFetcher({PAGE_URL: PAGE})
        return
    settings = Settings(url_lookups=True, media=MediaLimits(max_bytes=len(PAGE) * 2))
    yield UrlFetcher(settings, resolver=_resolve, transport=httpx.MockTransport(_serve))


async def test_the_content_at_a_url_comes_back_byte_for_byte(fetcher: ContentFetcher) -> None:
    assert await fetcher.fetch(PAGE_URL) == PAGE
    assert await fetcher.fetch(PAGE_URL) == PAGE  # nothing is used up


async def test_a_url_without_content_is_a_fetch_error_naming_the_status(
    fetcher: ContentFetcher,
) -> None:
    with pytest.raises(FetchError, match="404"):
        await fetcher.fetch(MISSING_URL)


async def test_the_in_memory_fake_records_what_was_asked() -> None:
    fake = InMemoryFetcher({PAGE_URL: PAGE})
    await fake.fetch(PAGE_URL)
    with pytest.raises(FetchError):
        await fake.fetch(MISSING_URL)
    assert fake.fetched == [PAGE_URL, MISSING_URL]


async def test_the_disabled_fetcher_refuses_every_url_saying_why() -> None:
    for url in (PAGE_URL, "http://127.0.0.1/", "not a url"):
        with pytest.raises(FetchError, match=DISABLED_MESSAGE):
            await DisabledFetcher().fetch(url)


async def test_with_url_lookups_off_a_given_fetcher_is_never_asked(tmp_path: Path) -> None:
    fake = InMemoryFetcher({PAGE_URL: PAGE})
    services = make_services(tmp_path, fetcher=fake)  # url_lookups is off by default
    try:
        with pytest.raises(FetchError, match=DISABLED_MESSAGE):
            await services.fetcher.fetch(PAGE_URL)
    finally:
        services.close()
    assert fake.fetched == []
    services = make_services(tmp_path, fetcher=fake, url_lookups=True)
    try:
        assert await services.fetcher.fetch(PAGE_URL) == PAGE
    finally:
        services.close()
