"""URL fetching against real HTTP and HTTPS servers on 127.0.0.1, started by the tests.

Loopback is refused by design, so these tests inject an address policy that admits
127.0.0.1 alone (everything else still goes through the real policy) and a resolver that
maps made-up names to it. Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from shieldwall.config import MediaLimits, Settings
from shieldwall.errors import FetchError, MediaTooLargeError
from shieldwall.integrations.fetch import (
    FetchTimeouts,
    IPAddress,
    UrlFetcher,
    address_refusal_reason,
    fetch_url,
)

pytestmark = pytest.mark.anyio

LOOPBACK = ipaddress.ip_address("127.0.0.1")
CAP = 1000
SETTINGS = Settings(url_lookups=True, media=MediaLimits(max_bytes=CAP))
QUICK = FetchTimeouts(connect=2.0, read=2.0, total=10.0)
TLS_NAME = "shieldwall-test.example"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def loopback_only(address: IPAddress) -> str | None:
    """The real policy, except that 127.0.0.1 (the test server) is admitted."""
    return None if address == LOOPBACK else address_refusal_reason(address)


ANSWERS = {
    "site.test": ["127.0.0.1"],
    TLS_NAME: ["127.0.0.1"],
    "internal.test": ["10.0.0.5"],
    "mixed.test": ["127.0.0.1", "192.168.0.9"],
}


class Dns:
    """site.test and shieldwall-test.example are the local server; internal.test is private."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.questions.append(host)
        if host not in ANSWERS:
            raise OSError(host)
        return ANSWERS[host]


@dataclass
class Seen:
    """What the server saw: one (path, Host header, peer address) per request, SNI names."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers each path with one scripted behaviour (see ROUTES)."""

    protocol_version = "HTTP/1.1"
    seen: Seen

    def do_GET(self) -> None:
        self.seen.requests.append((self.path, self.headers["Host"], self.client_address[0]))
        path = urlsplit(self.path).path
        route = ROUTES.get(path.rstrip("0123456789"), _not_found)
        # The client hangs up on purpose at the size cap or a timeout.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            route(self, path)

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


Route = Callable[[ScriptedHandler, str], None]


def _image(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Content-Length": "11", "Content-Type": "image/jpeg"})
    h.wfile.write(b"image bytes")


def _redirect(h: ScriptedHandler, path: str) -> None:
    """/redirect/N redirects N more times (alternating absolute and relative) then serves."""
    left = int(path.rsplit("/", 1)[1])
    if left == 0:
        _image(h, path)
        return
    location = f"http://site.test:{h.seen.port}/redirect/{left - 1}" if left % 2 else f"{left - 1}"
    h.head(302, {"Location": location, "Content-Length": "0"})


def _to_private(h: ScriptedHandler, _: str) -> None:
    h.head(302, {"Location": f"http://internal.test:{h.seen.port}/image"})


def _to_loopback_name(h: ScriptedHandler, _: str) -> None:
    h.head(307, {"Location": "http://localhost/image", "Content-Length": "0"})


def _huge_declared(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Content-Length": str(10**9)})
    h.seen.stop.wait(10)  # never sends the body: only the header can end this quickly


def _endless_chunked(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Transfer-Encoding": "chunked"})
    chunk = b"x" * 256
    while not h.seen.stop.is_set():
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def _close_delimited(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Connection": "close"})  # no length at all: the body ends when we close
    h.wfile.write(b"y" * (CAP * 5))
    h.close_connection = True


def _claims_less(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Content-Length": "10"})
    h.wfile.write(b"z" * (CAP * 5))  # the rest is not part of this response
    h.close_connection = True


def _truncated(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Content-Length": "100"})
    h.wfile.write(b"SECRET" * 5)
    h.close_connection = True


def _stall_headers(h: ScriptedHandler, _: str) -> None:
    h.seen.stop.wait(10)


def _stall_body(h: ScriptedHandler, _: str) -> None:
    h.head(200, {"Content-Length": "100"})
    h.wfile.write(b"a" * 10)
    h.wfile.flush()
    h.seen.stop.wait(10)


def _trickle(h: ScriptedHandler, _: str) -> None:
    """One byte every 50 ms: each read is quick, the whole never ends in time."""
    h.head(200, {"Content-Length": str(CAP)})
    for _sent in range(CAP):
        h.wfile.write(b"t")
        h.wfile.flush()
        if h.seen.stop.wait(0.05):
            return


def _forbidden(h: ScriptedHandler, _: str) -> None:
    body = b"SECRET internal detail"
    h.head(403, {"Content-Length": str(len(body))})
    h.wfile.write(body)


def _not_found(h: ScriptedHandler, _: str) -> None:
    h.head(404, {"Content-Length": "0"})


ROUTES: dict[str, Route] = {
    "/image": _image,
    "/redirect/": _redirect,
    "/to-private": _to_private,
    "/to-loopback-name": _to_loopback_name,
    "/huge-declared": _huge_declared,
    "/endless-chunked": _endless_chunked,
    "/close-delimited": _close_delimited,
    "/claims-less": _claims_less,
    "/truncated": _truncated,
    "/stall-headers": _stall_headers,
    "/stall-body": _stall_body,
    "/trickle": _trickle,
    "/forbidden": _forbidden,
}


@dataclass
class Server:
    """A running local server and what it saw."""

    port: int
    seen: Seen

    def url(self, path: str, host: str = "site.test", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


@contextmanager
def _serve(context: ssl.SSLContext | None = None) -> Iterator[Server]:
    seen = Seen()
    handler = type("Handler", (ScriptedHandler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    seen.port = httpd.server_address[1]
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Server(seen.port, seen)
    finally:
        seen.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    with _serve() as running:
        yield running


def fetcher(
    settings: Settings = SETTINGS,
    timeouts: FetchTimeouts = QUICK,
    *,
    dns: Dns | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> UrlFetcher:
    """A fetcher for the local server: real transport unless given, loopback admitted."""
    return UrlFetcher(
        settings,
        resolver=dns or Dns(),
        transport=transport,
        timeouts=timeouts,
        address_policy=loopback_only,
    )


# --- over a real socket ------------------------------------------------------------------


async def test_fetch_connects_to_the_pinned_address_and_names_the_host(server: Server) -> None:
    dns = Dns()
    assert await fetcher(dns=dns).fetch(server.url("/image")) == b"image bytes"
    assert server.seen.requests == [("/image", f"site.test:{server.port}", "127.0.0.1")]
    assert dns.questions == ["site.test"]  # a name no real DNS knows: only ours was asked


async def test_the_real_policy_refuses_the_local_server(server: Server) -> None:
    with pytest.raises(FetchError, match=r"127\.0\.0\.1 \(loopback\): refused"):
        await fetch_url(f"http://127.0.0.1:{server.port}/image", SETTINGS)
    with pytest.raises(FetchError, match="loopback name"):
        await fetch_url(f"http://localhost:{server.port}/image", SETTINGS)
    with pytest.raises(FetchError, match="disabled"):
        await fetch_url(f"http://127.0.0.1:{server.port}/image", Settings())
    assert server.seen.requests == []


async def test_one_private_address_among_the_answers_refuses_the_host(server: Server) -> None:
    with pytest.raises(FetchError, match=r"mixed\.test resolves to 192\.168\.0\.9 \(private\)"):
        await fetcher().fetch(server.url("/image", host="mixed.test"))
    assert server.seen.requests == []


async def test_three_redirects_are_followed(server: Server) -> None:
    assert await fetcher().fetch(server.url("/redirect/3")) == b"image bytes"
    paths = [path for path, _, _ in server.seen.requests]
    assert paths == ["/redirect/3", "/redirect/2", "/redirect/1", "/redirect/0"]


async def test_a_fourth_redirect_is_refused(server: Server) -> None:
    with pytest.raises(FetchError, match=r"^the URL redirected more than 3 times$"):
        await fetcher().fetch(server.url("/redirect/4"))
    assert len(server.seen.requests) == 4


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/to-private", r"internal\.test resolves to 10\.0\.0\.5 \(private\)"),
        ("/to-loopback-name", "localhost is a loopback name"),
    ],
)
async def test_redirect_to_a_private_address_is_refused(
    server: Server, path: str, message: str
) -> None:
    with pytest.raises(FetchError, match=f"^redirect refused: {message}"):
        await fetcher().fetch(server.url(path))
    assert [p for p, _, _ in server.seen.requests] == [path]


async def test_allow_list_is_enforced_on_the_first_url(server: Server) -> None:
    only_partner = replace(SETTINGS, url_allow_hosts=("partner.example",))
    with pytest.raises(FetchError, match="not on this server's list of allowed hosts"):
        await fetcher(only_partner).fetch(server.url("/image"))
    allow_site = replace(SETTINGS, url_allow_hosts=("SITE.test",))
    assert await fetcher(allow_site).fetch(server.url("/image")) == b"image bytes"


async def test_declared_length_over_the_cap_is_refused_without_waiting(server: Server) -> None:
    with pytest.raises(MediaTooLargeError, match=f"^content is {10**9} bytes, over the limit"):
        await fetcher(timeouts=FetchTimeouts(read=30, total=30)).fetch(server.url("/huge-declared"))


@pytest.mark.parametrize("path", ["/endless-chunked", "/close-delimited"])
async def test_bodies_without_a_length_are_cut_off_at_the_cap(server: Server, path: str) -> None:
    with pytest.raises(MediaTooLargeError, match=f"^content is over the limit of {CAP} bytes$"):
        await fetcher().fetch(server.url(path))


async def test_a_server_that_claims_less_gets_only_what_it_claimed(server: Server) -> None:
    assert await fetcher().fetch(server.url("/claims-less")) == b"z" * 10


async def test_a_truncated_body_is_an_error_without_its_content(server: Server) -> None:
    with pytest.raises(FetchError) as caught:
        await fetcher().fetch(server.url("/truncated"))
    assert str(caught.value).startswith("fetching from site.test failed: ")
    assert "SECRET" not in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("path", ["/stall-headers", "/stall-body"])
async def test_a_silent_server_times_out(server: Server, path: str) -> None:
    with pytest.raises(FetchError, match=r"^site\.test did not answer in time$"):
        await fetcher(timeouts=FetchTimeouts(read=0.2, total=10)).fetch(server.url(path))


async def test_a_trickling_server_hits_the_overall_deadline(server: Server) -> None:
    with pytest.raises(FetchError, match=r"^fetching the URL took longer than 0\.3 s$"):
        await fetcher(timeouts=FetchTimeouts(read=2, total=0.3)).fetch(server.url("/trickle"))


async def test_non_2xx_is_refused_without_the_body(server: Server) -> None:
    with pytest.raises(FetchError, match=r"^site\.test answered HTTP 403 Forbidden$"):
        await fetcher().fetch(server.url("/forbidden"))


async def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
    # The port is free again once closed: nothing listens there now.
    with pytest.raises(FetchError, match=r"^cannot connect to site\.test: "):
        await fetcher().fetch(f"http://site.test:{port}/image")


# --- TLS: the certificate is checked against the URL's name, not the pinned IP ----------


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    return {name: _certificate(directory, name) for name in (TLS_NAME, "other.example")}


@contextmanager
def _tls_server(cert: Path, key: Path) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    sni: list[str | None] = []

    def record_sni(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
        sni.append(name)

    context.sni_callback = record_sni
    with _serve(context) as server:
        server.seen.sni = sni
        yield server


def _trusting(cert: Path) -> httpx.AsyncHTTPTransport:
    context = ssl.create_default_context(cafile=str(cert))
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.AsyncHTTPTransport(verify=context, limits=limits, trust_env=False)


async def test_tls_uses_the_url_host_for_sni_and_certificate(
    certificates: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = certificates[TLS_NAME]
    with _tls_server(cert, key) as server:
        async with _trusting(cert) as transport:
            got = await fetcher(transport=transport).fetch(server.url("/image", TLS_NAME, "https"))
        assert got == b"image bytes"
        assert server.seen.sni == [TLS_NAME]
        assert server.seen.requests == [("/image", f"{TLS_NAME}:{server.port}", "127.0.0.1")]


async def test_tls_refuses_a_certificate_for_another_name(
    certificates: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = certificates["other.example"]
    with _tls_server(cert, key) as server:
        async with _trusting(cert) as transport:
            with pytest.raises(FetchError, match=r"^cannot connect to .*CERTIFICATE_VERIFY_FAILED"):
                await fetcher(transport=transport).fetch(server.url("/image", TLS_NAME, "https"))
        assert server.seen.sni == [TLS_NAME]
        assert server.seen.requests == []
