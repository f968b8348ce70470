"""The lookup fast lane: the hot lookup routes' well-formed requests answered in plain ASGI.

Platforms call the hash lookups on every upload. Through FastAPI, such a request spends
three quarters of its time outside the lookup: solving a dozen dependencies (the key, the
runtime, query parameters, the body model), validating the answer model twice and
encoding it. This middleware, the innermost one (so body limits, trusted hosts, the HMA
key-in-path rewrite, response headers and request metrics all still apply), answers
exactly the common case of three routes itself:

- `POST /api/v1/lookup/signals` and `POST /api/v1/lookup/batch` without query parameters,
- `GET /m/lookup?signal_type=...&signal=...` (HMA's hash lookup),

with a valid key in `X-API-Key` or `Authorization: Bearer`. It calls the same code the
routes do (the same body models, `ScreeningService`, the same answer shapes), so verdicts,
matches, audit records, probe detection, rate limits and metrics are the same; a test
compares its answers with the routes' byte for byte.

Anything else falls through to the FastAPI route unchanged, before any side effect: a
missing, invalid, revoked or under-privileged key, a key over its rate (the refused take
costs nothing, and the route refuses it again with the usual answer), a malformed body or
signal, any other query parameter, a chunked or large body, an index still loading. So
every error answer still comes from one place, the routes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shieldwall.access.models import ApiKey, Capability, LookupKind
from shieldwall.errors import RateLimitedError, ShieldwallError
from shieldwall.screening.service import signals_from_mapping
from shieldwall.web.api.lookup import present, watch_for_probing
from shieldwall.web.hma.errors import HmaError
from shieldwall.web.hma.matching import lookup_signal, query_signal
from shieldwall.web.hma.sampling import sampled_banks
from shieldwall.web.runtime import Runtime
from shieldwall.web.schemas import BatchLookup, BatchLookupOut, SignalSet

MAX_FAST_BODY: Final = 512 * 1024
"""Bodies above this (or without a Content-Length) take the ordinary route."""
_HMA_QUERY: Final = frozenset({"signal", "signal_type"})

Handler = Callable[[Runtime, ApiKey, "Incoming"], "bytes | None"]


@dataclass(frozen=True)
class Incoming:
    """What a fast-lane handler sees of a request."""

    query: dict[str, str]
    body: bytes


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return dict(scope["headers"])


def _token(headers: dict[bytes, bytes]) -> str | None:
    """The key as the routes read it: `X-API-Key` first, else `Authorization: Bearer`."""
    if header := headers.get(b"x-api-key"):
        return header.decode("latin-1")
    scheme, _, credentials = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def _json(content: Any) -> bytes:
    """Encoded as Starlette's JSONResponse encodes it."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def _model_json(model: BaseModel) -> bytes:
    return _json(model.model_dump(mode="json"))


def _parsed(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None


# Handlers: None means "take the ordinary route" (only before any side effect) ------------


def native_signals(runtime: Runtime, key: ApiKey, incoming: Incoming) -> bytes | None:
    """POST /api/v1/lookup/signals, as `web.api.lookup.lookup_signals` answers it."""
    body = _parsed(SignalSet, incoming.body)
    if incoming.query or body is None:
        return None
    values = body.values()
    try:
        signals = signals_from_mapping(values)  # the route's 422s, before the rate is charged
    except ShieldwallError:
        return None
    if not _within_rate(runtime, key):
        return None
    watch_for_probing(runtime, key, [values])
    result = runtime.screening.screen_queries(signals, key.id, LookupKind.SIGNALS)
    runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    return _model_json(present(result, key))


def native_batch(runtime: Runtime, key: ApiKey, incoming: Incoming) -> bytes | None:
    """POST /api/v1/lookup/batch, as `web.api.lookup.lookup_batch` answers it."""
    body = _parsed(BatchLookup, incoming.body)
    if incoming.query or body is None or not _within_rate(runtime, key):
        return None
    sets = [item.values() for item in body.items]
    if len(sets) > 1:
        runtime.services.rate_limiter.charge(key, len(sets) - 1)
    watch_for_probing(runtime, key, sets)
    results = runtime.screening.screen_batch(sets, key.id)
    for result in results:
        runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    return _model_json(BatchLookupOut(results=[present(r, key) for r in results]))


def hma_lookup(runtime: Runtime, key: ApiKey, incoming: Incoming) -> bytes | None:
    """GET /m/lookup by signal, as `web.hma.matching.lookup_get` answers it."""
    if set(incoming.query) != _HMA_QUERY or not key.sees_details:
        return None
    try:
        query = query_signal(incoming.query["signal_type"], incoming.query["signal"])
    except HmaError:
        return None
    if not _within_rate(runtime, key):
        return None
    banks = sampled_banks(runtime.matcher().banks, None, None, None)  # as the route draws
    return _json(lookup_signal(runtime, key, query, banks))


def _within_rate(runtime: Runtime, key: ApiKey) -> bool:
    try:
        runtime.services.rate_limiter.check(key)
    except RateLimitedError:
        return False
    return True


ROUTES: Final[dict[tuple[str, str], tuple[Handler, Capability]]] = {
    ("POST", "/api/v1/lookup/signals"): (native_signals, Capability.LOOKUP),
    ("POST", "/api/v1/lookup/batch"): (native_batch, Capability.LOOKUP),
    ("GET", "/m/lookup"): (hma_lookup, Capability.LOOKUP),
}


# The middleware ---------------------------------------------------------------------------


class LookupFastLane:
    """Pure ASGI middleware answering the hot lookup routes' common case (see above)."""

    def __init__(
        self, app: ASGIApp, runtime: Runtime, routes: dict[tuple[str, str], BaseRoute]
    ) -> None:
        self._app = app
        self._runtime = runtime
        # The FastAPI route objects, so request metrics label fast answers the same way.
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a hot lookup here if it is the common case; otherwise pass it on."""
        lane = (
            ROUTES.get((scope.get("method", ""), scope.get("path", "")))
            if scope["type"] == "http"
            else None
        )
        if lane is None:
            await self._app(scope, receive, send)
            return
        headers = _headers(scope)
        body = b""
        if scope["method"] == "POST":
            declared = headers.get(b"content-length", b"")
            if not declared.isdigit() or int(declared) > MAX_FAST_BODY:
                await self._app(scope, receive, send)
                return
            body, complete = await _read_body(receive)
            if not complete:  # the client went away, or the body-limit middleware cut it
                await self._app(scope, _replay(body, receive, complete), send)
                return
        answer = self._answer(scope, headers, body, lane)
        if answer is None:
            await self._app(scope, _replay(body, receive, True), send)
            return
        scope["route"] = self._routes.get((scope["method"], scope["path"]))
        self._runtime.metrics.fast_lane.labels(route=scope["path"]).inc()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(answer)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _answer(
        self,
        scope: Scope,
        headers: dict[bytes, bytes],
        body: bytes,
        lane: tuple[Handler, Capability],
    ) -> bytes | None:
        handler, capability = lane
        if b"json" not in headers.get(b"content-type", b"application/json"):
            return None
        runtime = self._runtime
        if not runtime.ready():
            return None
        try:
            key = runtime.services.access.authenticate(_token(headers))
        except ShieldwallError:
            return None
        if not key.can(capability):
            return None
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        names = [name for name, _ in query]
        if len(set(names)) != len(names):  # repeated parameters: the route decides
            return None
        return handler(runtime, key, Incoming(dict(query), body))


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, and whether it arrived complete."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Receive, complete: bool) -> Receive:
    """A receive that hands on the body already read, then the client's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
