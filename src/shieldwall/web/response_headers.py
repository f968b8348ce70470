"""Headers every answer carries, and redirects that never name a host.

JSON answers must not be sniffed into HTML, and nothing the service sends may load
scripts or be framed unless a page says otherwise: the home page and everything under
/protect get the victims' pages' headers (pages.PAGE_HEADERS), and /docs sets its own.
Starlette builds redirects (`/protect/` to `/protect`) from the request's Host header,
so a forged Host would send people elsewhere: every `Location` is cut to its path and
query.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shieldwall.web.pages import page_headers

DEFAULT_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""Added to every response that does not already set them."""


def _is_page(path: str) -> bool:
    """The home page, everything under /protect (pages, scripts, the victims' API) and
    under /review (the console: its media above all must never be cached)."""
    return path in ("/", "/protect", "/review") or path.startswith(("/protect/", "/review/"))


def relative_location(location: str) -> str:
    """A redirect target without scheme and host: `http://evil.example/protect` -> `/protect`."""
    parts = urlsplit(location)
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    # `//host/...` would still be read as another host by browsers: collapse leading slashes.
    path = "/" + path.lstrip("/")
    return urlunsplit(("", "", path, parts.query, ""))


class ResponseHeadersMiddleware:
    """Pure ASGI middleware: default security headers, relative redirects."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, amending the response's headers as they are sent."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def amended(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if _is_page(scope["path"]):
                    for name, value in page_headers(scope["path"]).items():
                        headers[name] = value
                for name, value in DEFAULT_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "location" in headers:
                    headers["location"] = relative_location(headers["location"])
            await send(message)

        await self._app(scope, receive, amended)
