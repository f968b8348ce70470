"""Request paths as HMA clients send them, rewritten before routing.

Two things real HMA clients do that plain routing refuses:

- A base URL with a trailing slash (ROOST Coop's default) makes every path start with
  `//` (`//c/banks`), which would answer 404, and Coop reads a 404 as "bank deleted".
  Runs of slashes are collapsed to one, in `path` and `raw_path`.
- Clients that can only set a base URL (Coop, atproto-hma) cannot send a key header.
  They reach the HMA routes under `/hma/<key>/` (`/hma/<key>/c/banks`): the key moves into
  the `x-api-key` header and the prefix is removed, so the same guarded routes answer.
  Only HMA paths are reachable that way; the key never reaches the routes' `request.url`,
  and web/logs.py scrubs it from the access log (which logs the path as received).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Receive, Scope, Send

KEY_PREFIX: Final = "hma"
"""First path segment of the key-carrying base path: `/hma/<key>/...`."""
_SLASHES: Final = re.compile(r"/{2,}")
_RAW_SLASHES: Final = re.compile(rb"/{2,}")
_KEYED: Final = re.compile(rf"/{KEY_PREFIX}/([^/]+)(/.*)?", re.DOTALL)
_HMA_PREFIXES: Final = ("/h/", "/m/", "/c/")
_HMA_EXACT: Final = frozenset({"/status", "/site-map"})
_KEY_HEADER: Final = b"x-api-key"


def is_hma_path(path: str) -> bool:
    """Whether `path` is one of the HMA-compatible routes (`/h`, `/m`, `/c`, `/status`, ...)."""
    return path in _HMA_EXACT or path.startswith(_HMA_PREFIXES)


def collapse_slashes(scope: Scope) -> Scope:
    """The scope with runs of `/` in its path collapsed to one (the same scope if none)."""
    path: str = scope["path"]
    if "//" not in path:
        return scope
    changed = dict(scope, path=_SLASHES.sub("/", path))
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        changed["raw_path"] = _RAW_SLASHES.sub(b"/", raw)
    return changed


def _strip_raw(raw: bytes) -> bytes:
    """`raw_path` without its first two segments (`/hma/<key>`), percent-encoding kept."""
    parts = raw.split(b"/", 3)  # b"", b"hma", b"<key>", b"rest..."
    return b"/" + parts[3] if len(parts) == 4 else b"/"


def move_key_to_header(scope: Scope) -> Scope:
    """For `/hma/<key>/<HMA path>`: the HMA path, with the key as the `x-api-key` header.

    Any other path is left as it is (so `/hma/<key>/api/v1/...` is simply not found).
    """
    match = _KEYED.fullmatch(scope["path"])
    if match is None:
        return scope
    key, rest = match.group(1), match.group(2) or ""
    if not is_hma_path(rest):
        return scope
    # The path's key replaces any key header: one request, one credential.
    headers = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != _KEY_HEADER]
    headers.append((_KEY_HEADER, key.encode("utf-8")))
    changed = dict(scope, path=rest, headers=headers)
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        stripped = _strip_raw(raw)
        # An encoded '/' in the key would shift the raw segments: then re-encode the path.
        if unquote(stripped.decode("latin-1")) != rest:
            stripped = quote(rest).encode("ascii")
        changed["raw_path"] = stripped
    return changed


class HmaPathMiddleware:
    """ASGI middleware: collapse duplicate slashes, then map `/hma/<key>/...` to a key header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite an HTTP request's path before any routing or guard sees it."""
        if scope["type"] == "http":
            scope = move_key_to_header(collapse_slashes(scope))
        await self.app(scope, receive, send)
