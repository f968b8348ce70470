"""URL fetching for lookups: address policy, URL checks, DNS pinning, redirects, limits.

Everything here runs in memory: a fake resolver and httpx.MockTransport stand in for DNS
and the network, so the requests the fetcher would send can be inspected exactly.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

import anyio
import httpx
import pytest

from shieldwall.config import MediaLimits, Settings
from shieldwall.errors import FetchError, InvalidInputError, MediaTooLargeError
from shieldwall.integrations.fetch import (
    DISABLED_MESSAGE,
    FetchTimeouts,
    UrlFetcher,
    address_refusal_reason,
    fetch_url,
    system_resolver,
)

pytestmark = pytest.mark.anyio

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
ON = Settings(url_lookups=True)
DEFAULT_TIMEOUTS = FetchTimeouts()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeDns:
    """A resolver with fixed answers that records every question."""

    def __init__(self, answers: dict[str, Sequence[str]] | None = None) -> None:
        self.answers = answers or {}
        self.questions: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.questions.append((host, port))
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that keeps every request it is sent."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)


def ok(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"image bytes")


async def fetch(
    url: str,
    *,
    settings: Settings = ON,
    dns: FakeDns | None = None,
    handler: Handler = ok,
    timeouts: FetchTimeouts = DEFAULT_TIMEOUTS,
) -> tuple[bytes, Recorder, FakeDns]:
    dns = dns or FakeDns({"example.com": [PUBLIC_V4]})
    recorder = Recorder(handler)
    fetcher = UrlFetcher(settings, resolver=dns, transport=recorder.transport, timeouts=timeouts)
    return await fetcher.fetch(url), recorder, dns


async def refused(url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(url, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


# --- the address policy -------------------------------------------------------------------

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),
    ("192.0.2.1", "private"),
    ("198.18.0.1", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fd00:ec2::254", "cloud metadata"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped cloud metadata"),
    ("::ffff:100.64.0.1", "IPv4-mapped shared"),
    ("2002:a00:1::1", "6to4 private"),
    ("2002:7f00:1::1", "6to4 loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 cloud metadata"),
    ("::127.0.0.1", "reserved"),
    ("2001:db8::1", "private"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED_ADDRESSES)
def test_refused_address_classes(address: str, reason: str) -> None:
    found = address_refusal_reason(address)
    assert found is not None
    assert found.startswith(reason)
    assert address_refusal_reason(ipaddress.ip_address(address)) == found


@pytest.mark.parametrize(
    "address",
    [
        PUBLIC_V4,
        "8.8.8.8",
        "1.1.1.1",
        PUBLIC_V6,
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        "64:ff9b::808:808",
        "100.63.255.255",
        "100.128.0.1",
        "172.32.0.1",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal_reason(address) is None


# --- switched off, and URLs refused before any DNS or connection --------------------------


async def test_disabled_by_default_touches_nothing() -> None:
    dns = FakeDns({"example.com": [PUBLIC_V4]})
    recorder = Recorder(ok)
    with pytest.raises(FetchError, match=f"^{DISABLED_MESSAGE}$"):
        await fetch_url(
            "https://example.com/a.jpg", Settings(), resolver=dns, transport=recorder.transport
        )
    assert dns.questions == []
    assert recorder.requests == []


def test_fetch_errors_are_invalid_input_and_the_size_cap_is_its_own() -> None:
    assert issubclass(FetchError, InvalidInputError)
    assert not issubclass(MediaTooLargeError, FetchError)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.jpg",
        "gopher://example.com/",
        "ws://example.com/",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "example.com/a.jpg",
        "//example.com/a",
    ],
)
async def test_only_http_and_https(url: str) -> None:
    error = await refused(url)
    assert "only http and https" in str(error)


@pytest.mark.parametrize(
    "url",
    ["https://user@example.com/", "https://user:secret@example.com/", "http://:pw@example.com/"],
)
async def test_userinfo_is_refused(url: str) -> None:
    error = await refused(url)
    assert "user name or password" in str(error)
    assert "secret" not in str(error)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com:0/", "port 0"),
        ("http://example.com:99999/", "port 99999"),
        ("http:///a.jpg", "no valid host"),
        ("http://exa mple.com/", "no valid host"),
        ("http://2130706433/", "no valid host"),
        ("http://0x7f.1/", "no valid host"),
        ("http://127.1/", "no valid host"),
        ("http://-bad-.com/", "no valid host"),
        ("not a url at all", "only http and https"),
    ],
)
async def test_malformed_hosts_and_ports(url: str, message: str) -> None:
    error = await refused(url)
    assert message in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.Google.Internal./x",
        "http://metadata.goog/",
        "http://metadata/",
        "http://instance-data.ec2.internal/",
    ],
)
async def test_metadata_names_are_refused_without_resolving(url: str) -> None:
    dns = FakeDns({"metadata.google.internal": [PUBLIC_V4]})
    error = await refused(url, dns=dns)
    assert "metadata" in str(error)
    assert dns.questions == []


@pytest.mark.parametrize(
    "url", ["http://localhost/", "http://LocalHost.:8080/", "http://a.localhost/"]
)
async def test_localhost_names_are_refused(url: str) -> None:
    error = await refused(url)
    assert "loopback name" in str(error)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://10.0.0.8:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:192.168.0.1]/", "IPv4-mapped private"),
        ("http://[fd00:ec2::254]/latest/", "cloud metadata"),
        ("http://[fe80::1]/", "link-local"),
    ],
)
async def test_literal_addresses_are_checked_without_dns(url: str, reason: str) -> None:
    dns = FakeDns()
    error = await refused(url, dns=dns)
    assert f"({reason}): refused" in str(error)
    assert dns.questions == []


@pytest.mark.parametrize(
    ("answers", "bad"),
    [
        ([PUBLIC_V4, "10.0.0.7"], "10.0.0.7"),
        (["10.0.0.7", PUBLIC_V4], "10.0.0.7"),
        ([PUBLIC_V6, "::1"], "::1"),
        ([PUBLIC_V4, "::ffff:127.0.0.1"], "::ffff:127.0.0.1"),
        ([PUBLIC_V4, "169.254.169.254"], "169.254.169.254"),
    ],
)
async def test_any_refused_address_in_the_answer_refuses_the_host(
    answers: list[str], bad: str
) -> None:
    dns = FakeDns({"example.com": answers})
    recorder = Recorder(ok)
    fetcher = UrlFetcher(ON, resolver=dns, transport=recorder.transport)
    with pytest.raises(
        FetchError, match=re.escape(f"example.com resolves to {ipaddress.ip_address(bad)} (")
    ):
        await fetcher.fetch("https://example.com/a.jpg")
    assert recorder.requests == []


@pytest.mark.parametrize("answers", [[], ["not-an-ip"]])
async def test_useless_dns_answers(answers: list[str]) -> None:
    await refused("https://example.com/", dns=FakeDns({"example.com": answers}))


async def test_unresolvable_host() -> None:
    error = await refused("https://nowhere.example/", dns=FakeDns())
    assert str(error) == "cannot resolve nowhere.example"


# --- DNS pinning: connect to the checked address, name the host in Host and SNI -----------


async def test_request_goes_to_the_resolved_address_with_the_original_host() -> None:
    body, recorder, dns = await fetch("https://Example.COM:8443/photos/a.jpg?size=big#frag")
    assert body == b"image bytes"
    assert dns.questions == [("example.com", 8443)]
    (request,) = recorder.requests
    assert str(request.url) == f"https://{PUBLIC_V4}:8443/photos/a.jpg?size=big"
    assert request.headers["host"] == "example.com:8443"
    assert request.extensions["sni_hostname"] == "example.com"
    assert request.headers["accept-encoding"] == "identity"
    assert "authorization" not in request.headers
    assert "cookie" not in request.headers
    assert request.extensions["timeout"] == {
        "connect": 5.0,
        "read": 10.0,
        "write": 10.0,
        "pool": 5.0,
    }


async def test_ipv6_answers_are_bracketed_and_default_ports_left_out_of_host() -> None:
    dns = FakeDns({"example.com": [PUBLIC_V6]})
    _, recorder, _ = await fetch("http://example.com/a.jpg", dns=dns)
    (request,) = recorder.requests
    assert request.url.netloc == f"[{PUBLIC_V6}]".encode()
    assert request.headers["host"] == "example.com"


async def test_public_literal_address_sends_no_sni() -> None:
    _, recorder, dns = await fetch(f"https://{PUBLIC_V4}/a.jpg")
    (request,) = recorder.requests
    assert dns.questions == []
    assert "sni_hostname" not in request.extensions
    assert request.headers["host"] == PUBLIC_V4


async def test_next_checked_address_is_tried_when_one_cannot_connect() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC_V6:
            raise httpx.ConnectError("network unreachable", request=request)
        return httpx.Response(200, content=b"via v4")

    dns = FakeDns({"example.com": [PUBLIC_V6, PUBLIC_V4]})
    body, recorder, _ = await fetch("https://example.com/", dns=dns, handler=handler)
    assert body == b"via v4"
    assert [r.url.host for r in recorder.requests] == [PUBLIC_V6, PUBLIC_V4]
    assert len(dns.questions) == 1


async def test_connection_failure_is_one_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused\nsecond line", request=request)

    error = await refused("https://example.com/", handler=handler)
    assert str(error) == "cannot connect to example.com: connection refused second line"


# --- redirects ---------------------------------------------------------------------------


def redirecting(locations: dict[str, str], status: int = 302) -> Handler:
    """Redirect from each path in `locations`; answer 200 elsewhere."""

    def handler(request: httpx.Request) -> httpx.Response:
        target = locations.get(request.url.path)
        if target is None:
            return httpx.Response(200, content=request.headers["host"].encode())
        return httpx.Response(status, headers={"Location": target}, content=b"moved")

    return handler


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_followed_and_each_hop_is_resolved_and_pinned(status: int) -> None:
    dns = FakeDns({"example.com": [PUBLIC_V4], "cdn.example.net": ["1.1.1.1"]})
    handler = redirecting({"/a": "/b", "/b": "https://cdn.example.net/c"}, status)
    body, recorder, _ = await fetch("https://example.com/a", dns=dns, handler=handler)
    assert body == b"cdn.example.net"
    hops = [(str(r.url), r.headers["host"], r.method) for r in recorder.requests]
    assert hops == [
        (f"https://{PUBLIC_V4}/a", "example.com", "GET"),
        (f"https://{PUBLIC_V4}/b", "example.com", "GET"),
        ("https://1.1.1.1/c", "cdn.example.net", "GET"),
    ]
    assert recorder.requests[2].extensions["sni_hostname"] == "cdn.example.net"
    assert [host for host, _ in dns.questions] == ["example.com", "example.com", "cdn.example.net"]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://internal.example/", "internal.example resolves to 10.0.0.5 (private): refused"),
        ("http://169.254.169.254/latest/meta-data/", "(cloud metadata): refused"),
        ("http://[::1]:8080/", "(loopback): refused"),
        ("http://metadata.google.internal/", "cloud metadata service"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/a.jpg", "only http and https"),
        ("https://user:pw@example.com/", "user name or password"),
    ],
)
async def test_redirects_are_checked_like_the_first_url(location: str, message: str) -> None:
    dns = FakeDns({"example.com": [PUBLIC_V4], "internal.example": ["10.0.0.5"]})
    recorder = Recorder(redirecting({"/a": location}))
    fetcher = UrlFetcher(ON, resolver=dns, transport=recorder.transport)
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch("https://example.com/a")
    assert str(caught.value).startswith("redirect refused: ")
    assert message in str(caught.value)
    assert len(recorder.requests) == 1


async def test_three_redirects_are_followed_and_a_fourth_is_refused() -> None:
    three = redirecting({"/0": "/1", "/1": "/2", "/2": "/3"})
    body, recorder, _ = await fetch("https://example.com/0", handler=three)
    assert body == b"example.com"
    assert len(recorder.requests) == 4
    four = redirecting({"/0": "/1", "/1": "/2", "/2": "/3", "/3": "/4"})
    error = await refused("https://example.com/0", handler=four)
    assert str(error) == "the URL redirected more than 3 times"


async def test_redirect_without_location() -> None:
    error = await refused("https://example.com/", handler=lambda _: httpx.Response(302))
    assert str(error) == "example.com sent a redirect without a location"


# --- allow-list --------------------------------------------------------------------------

ALLOW = replace(ON, url_allow_hosts=("Example.com", "images.partner.org", "bücher.de"))


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.com",
        "cdn.example.com",
        "a.b.example.com.",
        "images.partner.org",
        "xn--bcher-kva.de",
        "BÜCHER.de",
        "www.bücher.de",
    ],
)
async def test_allow_list_admits_hosts_and_their_subdomains(host: str) -> None:
    ascii_host = httpx.URL(f"https://{host}/").raw_host.decode().rstrip(".")
    dns = FakeDns({ascii_host: [PUBLIC_V4]})
    body, recorder, _ = await fetch(f"https://{host}/a.jpg", settings=ALLOW, dns=dns)
    assert body == b"image bytes"
    assert recorder.requests[0].extensions["sni_hostname"] == ascii_host


@pytest.mark.parametrize(
    "host",
    [
        "evilexample.com",
        "example.com.evil.net",
        "partner.org",
        "other.images.partner.org.x",
        PUBLIC_V4,
    ],
)
async def test_allow_list_refuses_other_hosts_before_resolving(host: str) -> None:
    dns = FakeDns({host: [PUBLIC_V4]})
    error = await refused(f"https://{host}/a.jpg", settings=ALLOW, dns=dns)
    assert "not on this server's list of allowed hosts" in str(error)
    assert dns.questions == []


async def test_allow_list_applies_to_redirects() -> None:
    handler = redirecting({"/a": "https://elsewhere.net/b"})
    dns = FakeDns({"example.com": [PUBLIC_V4], "elsewhere.net": ["1.1.1.1"]})
    error = await refused("https://example.com/a", settings=ALLOW, dns=dns, handler=handler)
    assert (
        str(error)
        == "redirect refused: elsewhere.net is not on this server's list of allowed hosts"
    )


# --- status, size cap, timeouts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        (404, "Not Found"),
        (500, "Internal Server Error"),
        (304, "Not Modified"),
        (418, "I'm a teapot"),
    ],
)
async def test_non_2xx_final_status_names_the_status_never_the_body(
    status: int, phrase: str
) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=b"SECRET BODY <html>stack trace</html>")

    error = await refused("https://example.com/", handler=handler)
    assert str(error) == f"example.com answered HTTP {status} {phrase}"


SMALL = replace(ON, media=MediaLimits(max_bytes=100))


class Body:
    """A streamed body that records how much of it was read."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk


async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    body = Body([b"x" * 1000])

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "1000"}, content=body)

    with pytest.raises(
        MediaTooLargeError, match=r"^content is 1000 bytes, over the limit of 100 bytes$"
    ):
        await fetch("https://example.com/", settings=SMALL, handler=handler)
    assert body.sent == 0


async def test_stream_over_the_cap_is_cut_off_while_reading() -> None:
    body = Body([b"x" * 60] * 1000)

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)  # no Content-Length: streamed

    with pytest.raises(MediaTooLargeError, match=r"^content is over the limit of 100 bytes$"):
        await fetch("https://example.com/", settings=SMALL, handler=handler)
    assert body.sent == 2


async def test_content_exactly_at_the_cap_is_accepted() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=Body([b"x" * 50, b"y" * 50]))

    data, _, _ = await fetch("https://example.com/", settings=SMALL, handler=handler)
    assert data == b"x" * 50 + b"y" * 50


async def test_read_timeout_is_one_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    error = await refused("https://example.com/", handler=handler)
    assert str(error) == "example.com did not answer in time"


async def test_overall_deadline() -> None:
    class Stalling(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await anyio.sleep_forever()
            raise AssertionError  # pragma: no cover

    fetcher = UrlFetcher(
        ON,
        resolver=FakeDns({"example.com": [PUBLIC_V4]}),
        transport=Stalling(),
        timeouts=FetchTimeouts(total=0.05),
    )
    with pytest.raises(FetchError, match=r"^fetching the URL took longer than 0\.05 s$"):
        await fetcher.fetch("https://example.com/")


async def test_slow_dns_counts_against_the_deadline() -> None:
    async def stalling_dns(host: str, port: int) -> Sequence[str]:
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    fetcher = UrlFetcher(
        ON,
        resolver=stalling_dns,
        transport=Recorder(ok).transport,
        timeouts=FetchTimeouts(total=0.05),
    )
    with pytest.raises(FetchError, match="took longer than"):
        await fetcher.fetch("https://example.com/")


async def test_system_resolver_answers_literal_addresses_without_dns() -> None:
    assert await system_resolver("127.0.0.1", 80) == ["127.0.0.1"]
