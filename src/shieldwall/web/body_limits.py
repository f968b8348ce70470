"""Request body limits for every route, enforced on the raw ASGI byte stream.

A limit checked by a handler comes too late: FastAPI parses JSON bodies, and Starlette
spools multipart uploads to temporary files, before any handler runs. This middleware
sits outside all of that. It refuses a declared `Content-Length` over the route's limit
before reading a byte, and counts the bytes of every body (chunked ones too) as the app
receives them: past the limit the receive call fails, whatever the app answers is
replaced by 413, and nothing more is read. Routes that take small JSON get small limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shieldwall.config import MediaLimits
from shieldwall.errors import MediaTooLargeError
from shieldwall.web.problems import MEDIA_TYPE, PROBLEM_TYPE_PREFIX

KIB: Final = 1024
MIB: Final = 1024 * KIB
MULTIPART_OVERHEAD: Final = MIB
"""Room for multipart boundaries and form fields beside an upload's own bytes."""
DEFAULT_LIMIT: Final = 64 * KIB
"""Any route not listed below: bank and key settings, HMA curation JSON and the like."""
MAX_IMPORT_BYTES: Final = 512 * MIB
"""Hash-file imports of a whole bank (curators only)."""
MAX_ENTRIES_BYTES: Final = 16 * MIB
"""CSV or JSON entries added in one request."""
MAX_FILES_PER_ADD: Final = 4
"""`POST /banks/{name}/files` takes several files: up to this many times the media limit."""


def human_size(size: int) -> str:
    """`512 KiB`, `50 MiB`, `300 bytes`: a limit as people read it (never `0 MiB`)."""
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= KIB:
        return f"{size // KIB} KiB" if size % KIB == 0 else f"{size / KIB:.1f} KiB"
    return f"{size} bytes"


class BodyTooLargeError(MediaTooLargeError):
    """The request body passed its route's limit while it was being received."""

    code = "body-too-large"


@dataclass(frozen=True)
class BodyRule:
    """Bodies of requests whose method and path match get at most `limit` bytes."""

    methods: frozenset[str]
    path: re.Pattern[str]
    limit: int


def _rule(methods: str, pattern: str, limit: int) -> BodyRule:
    return BodyRule(frozenset(methods.split()), re.compile(pattern + r"/?\Z"), limit)


def body_rules(media: MediaLimits) -> tuple[BodyRule, ...]:
    """The limits per route; the first rule that matches decides."""
    upload = media.max_bytes + MULTIPART_OVERHEAD
    return (
        _rule("POST", r"/protect/api/(status|withdraw)", 4 * KIB),
        _rule("POST", r"/protect/api/cases", 1024 * KIB),
        _rule("POST", r"/api/v1/cases", 1024 * KIB),
        _rule("POST", r"/api/v1/lookup/signals", 4 * KIB),
        _rule("POST", r"/api/v1/lookup/batch", 512 * KIB),
        _rule("POST", r"/api/v1/lookup", upload),
        _rule("POST", r"/api/v1/banks/[^/]+/files", MAX_FILES_PER_ADD * media.max_bytes + MIB),
        _rule("POST", r"/api/v1/banks/[^/]+/import", MAX_IMPORT_BYTES),
        _rule("POST", r"/api/v1/banks/[^/]+/entries", MAX_ENTRIES_BYTES),
        _rule("POST", r"/h/hash", upload),
        _rule("POST", r"/m/lookup", upload),
        _rule("POST", r"/c/bank/[^/]+/content", upload),
        _rule("POST PUT", r"/(m|c)/.*", MIB),
    )


def limit_for(rules: tuple[BodyRule, ...], method: str, path: str) -> int:
    """The body limit of a request: its route's rule, else DEFAULT_LIMIT."""
    for rule in rules:
        if method in rule.methods and rule.path.match(path):
            return rule.limit
    return DEFAULT_LIMIT


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 for any body over its route's limit, chunked or not."""

    def __init__(
        self,
        app: ASGIApp,
        media: MediaLimits,
        on_refused: Callable[[str, int], None] | None = None,
    ) -> None:
        self._app = app
        self._rules = body_rules(media)
        self._on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its body counted against its route's limit."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = limit_for(self._rules, scope["method"], scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self.refuse(scope, send, limit)
            return
        await _LimitedRequest(self, scope, receive, send, limit).run()

    async def refuse(self, scope: Scope, send: Send, limit: int) -> None:
        """Answer 413 for a body over `limit` (counted in metrics by `on_refused`)."""
        if self._on_refused is not None:
            self._on_refused(scope["method"], limit)
        await send_problem(send, 413, BodyTooLargeError.code, _too_large_text(limit))

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the wrapped app (for _LimitedRequest)."""
        await self._app(scope, receive, send)


def _too_large_text(limit: int) -> str:
    return f"the request body is over this route's limit of {human_size(limit)}"


class _LimitedRequest:
    """One request: counts received bytes, and swaps the answer for 413 once over."""

    def __init__(
        self, owner: BodyLimitMiddleware, scope: Scope, receive: Receive, send: Send, limit: int
    ) -> None:
        self._owner, self._scope, self._receive, self._send = owner, scope, receive, send
        self._limit = limit
        self._received = 0
        self._exceeded = False
        self._started = False

    async def run(self) -> None:
        try:
            await self._owner.serve(self._scope, self.receive, self.send)
        except* BodyTooLargeError:
            # Bare, or inside the ExceptionGroup of a BaseHTTPMiddleware's task group.
            if self._started:
                raise
        if self._exceeded and not self._started:
            await self._owner.refuse(self._scope, self._send, self._limit)

    async def receive(self) -> Message:
        if self._exceeded:
            raise BodyTooLargeError(_too_large_text(self._limit))
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                self._exceeded = True
                raise BodyTooLargeError(_too_large_text(self._limit))
        return message

    async def send(self, message: Message) -> None:
        # Once over the limit, whatever the app made of the failed read (400, 413, 422...)
        # is dropped: run() sends the one 413 answer.
        if self._exceeded and not self._started:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)


async def send_problem(send: Send, status: int, code: str, detail: str) -> None:
    """Send a problem+json answer straight on the ASGI channel (closing the connection)."""
    body = json.dumps(
        {
            "type": f"{PROBLEM_TYPE_PREFIX}{code}",
            "title": code.replace("-", " "),
            "status": status,
            "detail": detail,
        }
    ).encode()
    headers: list[Any] = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is never read: the client must not reuse the connection.
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
