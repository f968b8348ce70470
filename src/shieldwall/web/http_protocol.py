"""uvicorn's httptools protocol with a bound on the size of a request's header section.

llhttp (behind httptools) takes request lines and header sections of any size, and
httptools gathers them in memory: 200 MiB of headers were read and answered 200. This
protocol counts the bytes that arrive while a request's header section is still open
and answers 431 and closes the connection once they pass `MAX_HEADER_BYTES`. The count
starts with the chunk after the one a request begins in, so a request whose headers and
body arrive together is never refused for its body; the bound is therefore the limit
plus one read (at most 256 KiB), which is what matters against exhaustion.
A reverse proxy in front should enforce its own, smaller limits (docs/security.md).
"""

from __future__ import annotations

from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES: Final = 64 * 1024
"""Request line and headers together; browsers and HTTP clients send a few KiB."""

_REFUSAL_TEXT: Final = b"the request's header section is too large\n"
_REFUSAL: Final = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(_REFUSAL_TEXT)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _REFUSAL_TEXT
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that refuses header sections over MAX_HEADER_BYTES with 431."""

    max_header_bytes: int = MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_header_section = True
        self._began_in_this_read = False
        self._header_bytes = 0
        self._refused = False

    def on_message_begin(self) -> None:
        """A new request starts: its header section is open."""
        super().on_message_begin()
        self._in_header_section = True
        self._began_in_this_read = True
        self._header_bytes = 0

    def on_headers_complete(self) -> None:
        """The header section ended within the limit."""
        self._in_header_section = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        """Parse as uvicorn does, then refuse a header section that keeps growing."""
        if self._refused:
            return
        self._began_in_this_read = False
        super().data_received(data)
        if not self._in_header_section or self._began_in_this_read:
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.max_header_bytes:
            self._refused = True
            self.logger.warning("Request header section over %d bytes", self.max_header_bytes)
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(_REFUSAL)
                self.transport.close()
