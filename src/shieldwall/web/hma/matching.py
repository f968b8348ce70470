"""HMA matching: `/m/raw_lookup`, `/m/lookup` (GET and POST), `/m/compare`, `/m/index/status`.

HMA's lookup answers carry content (entry) ids and distances, so they answer only keys
allowed to see details; other keys get 403 (no match oracle for low-trust callers).
`/m/compare` compares two hashes the caller sends and touches no bank, so any key with
the lookup capability may use it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import ApiKey, Capability, LookupKind
from shieldwall.banks.models import EntryState
from shieldwall.errors import InvalidSignalError, NotFoundError, PermissionDeniedError
from shieldwall.matching.models import Match
from shieldwall.signals.models import SIGNAL_TYPES, Signal
from shieldwall.signals.pdq import pdq_distance
from shieldwall.signals.regions import RegionHasher
from shieldwall.web.hma.errors import abort
from shieldwall.web.hma.hashing import UPLOAD_BODY, Hashed, hash_upload, hash_url
from shieldwall.web.hma.lookup_shapes import (
    TMatchByBank,
    match_json,
    matches_by_bank,
)
from shieldwall.web.hma.names import bank_filter, known_signal_type
from shieldwall.web.hma.params import json_body, parse_bool, require_param
from shieldwall.web.hma.routing import HmaRoute, hma_route
from shieldwall.web.hma.sampling import sampled_banks
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller

router = APIRouter(prefix="/m", tags=["hma"], route_class=HmaRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Banks = Annotated[str | None, Query(description="Comma-separated HMA bank names to search.")]
Types = Annotated[str | None, Query(description="Signal types to hash a URL's content with.")]
Seed = Annotated[
    str | None,
    Query(description="Makes the draw against banks' enabled_ratio repeatable (a content id)."),
]
Bypass = Annotated[
    str | None, Query(description="`true`: search every enabled bank, whatever its ratio.")
]
_DETAILS_REFUSED = (
    "HMA lookups answer with content ids and distances; this key may not see them "
    "(use a key created with see_details, or /api/v1/lookup for a yes/no answer)"
)
HMA_KIND = LookupKind.HMA
"""The audit record's kind for lookups through the HMA routes."""


def _require_details(caller: ApiKey) -> None:
    if not caller.sees_details:
        raise PermissionDeniedError(_DETAILS_REFUSED)


def query_signal(signal_type: str, value: str) -> Signal:
    """The signal a lookup names; HMA's 400 for an unknown type or a malformed value."""
    name = known_signal_type(signal_type)
    try:
        return Signal.of(name, value)
    except InvalidSignalError as exc:
        abort(400, f"invalid signal: {exc}")


def screen(
    runtime: Runtime,
    caller: ApiKey,
    queries: Sequence[Signal],
    banks: set[str] | None,
    pixels: RegionHasher | None = None,
) -> list[Match]:
    """One content's (or signal's) matches through the one screening path, which audits it."""
    if not runtime.ready():
        abort(503, "index not yet ready")
    # HMA lookups take no threshold (each bank's own applies), and need see_details anyway.
    result = runtime.screening.screen_queries(
        queries, caller.id, HMA_KIND, banks=banks, pixels=pixels
    )
    runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    return result.matches


def _content_lookup(
    runtime: Runtime, caller: ApiKey, hashed: Hashed, banks: set[str] | None
) -> dict[str, TMatchByBank]:
    matches = screen(runtime, caller, hashed.queries, banks, hashed.pixels)
    return {signal_type: matches_by_bank(matches, signal_type) for signal_type in hashed.values}


@router.get(
    "/raw_lookup",
    summary="HMA: content ids (and distances) matching one signal",
    **hma_route(Capability.LOOKUP, (400, 503)),
)
def raw_lookup(
    runtime: RuntimeDep,
    caller: Caller,
    signal: str | None = None,
    signal_type: str | None = None,
    banks: Banks = None,
    include_distance: str | None = None,
) -> dict[str, Any]:
    """`{"matches": [id, ...]}`, or `[{"bank_content_id", "distance"}]` with include_distance."""
    _require_details(caller)
    value = require_param("signal", signal)
    type_name = require_param("signal_type", signal_type)
    with_distance = parse_bool(include_distance)
    query = query_signal(type_name, value)
    matches = screen(runtime, caller, [query], bank_filter(banks))
    if with_distance:
        return {"matches": [match_json(m) for m in matches]}
    return {"matches": [m.entry_id for m in matches]}


@router.get(
    "/lookup",
    summary="HMA: banks and content matching a signal, or the content at a URL",
    **hma_route(Capability.LOOKUP, (400, 413, 503)),
)
async def lookup_get(
    runtime: RuntimeDep,
    caller: Caller,
    url: str | None = None,
    content_type: str | None = None,
    types: Types = None,
    signal: str | None = None,
    signal_type: str | None = None,
    banks: Banks = None,
    seed: Seed = None,
    bypass_coinflip: Bypass = None,
) -> dict[str, Any]:
    """By signal: `{BANK: [...]}`. By URL: `{signal_type: {BANK: [...]}}` (one type if named)."""
    _require_details(caller)
    wanted = sampled_banks(runtime.matcher().banks, bank_filter(banks), seed, bypass_coinflip)
    if url:
        hashed = await hash_url(url, content_type, types, runtime)
        found = await run_in_threadpool(_content_lookup, runtime, caller, hashed, wanted)
        if signal_type is not None:
            return found.get(signal_type, {})
        return dict(found)
    if not signal or not signal_type:
        abort(400, "Either url or both signal and signal_type are required")
    return dict(lookup_signal(runtime, caller, query_signal(signal_type, signal), wanted))


def lookup_signal(
    runtime: Runtime,
    caller: ApiKey,
    query: Signal,
    banks: set[str] | None,
) -> TMatchByBank:
    """`GET /m/lookup` by signal: `{BANK: [...]}` (the route's and the fast lane's answer).

    On the event loop: a hash lookup is an in-memory index query (tens of microseconds);
    a thread-pool hop would cost more than the lookup. `banks`: the banks drawn for this
    lookup (`sampled_banks`; None: every bank). `query`: from `query_signal`.
    """
    matches = screen(runtime, caller, [query], banks)
    return matches_by_bank(matches, query.type)


@router.post(
    "/lookup",
    summary="HMA: hash an uploaded file and look it up (field named after its content type)",
    **hma_route(Capability.LOOKUP, (400, 413, 503), UPLOAD_BODY),
)
async def lookup_post(
    request: Request,
    runtime: RuntimeDep,
    caller: Caller,
    types: Types = None,
    banks: Banks = None,
    seed: Seed = None,
    bypass_coinflip: Bypass = None,
) -> dict[str, Any]:
    """`{signal_type: {BANK: [{"bank_content_id", "distance"}]}}`; mirrored copies match too."""
    _require_details(caller)
    hashed = await hash_upload(request, runtime, types)
    wanted = sampled_banks(runtime.matcher().banks, bank_filter(banks), seed, bypass_coinflip)
    found = await run_in_threadpool(_content_lookup, runtime, caller, hashed, wanted)
    return dict(found)


def _compare_pair(runtime: Runtime, signal_type: str, pair: object) -> list[Any]:
    if not isinstance(pair, list):
        abort(400, f"Comparison hashes for {signal_type} was not a list")
    if len(pair) != 2:
        abort(400, "Comparison hash list length must be exactly 2")
    name = known_signal_type(signal_type)
    try:
        left, right = (Signal.of(name, value) for value in pair)
    except InvalidSignalError as exc:
        abort(400, f"Invalid {signal_type} hash: {exc}")
    if not SIGNAL_TYPES[name].distance_based:
        return [left.value == right.value, {}]
    distance = pdq_distance(left.value, right.value)
    return [distance <= runtime.services.settings.default_pdq_threshold, {"distance": distance}]


_COMPARE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
            "example": {"pdq": ["facd8bcb" * 8, "facd8bcb" * 8]},
        }
    },
}


@router.post(
    "/compare",
    summary="HMA: compare pairs of hashes",
    **hma_route(Capability.LOOKUP, (400, 413), _COMPARE_BODY),
)
def compare(runtime: RuntimeDep, body: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """`{"pdq": [match, {"distance": d}]}` per signal type (exact types: `[equal, {}]`)."""
    if not isinstance(body, dict):
        abort(400, "Request input was not a dict")
    return {name: _compare_pair(runtime, name, pair) for name, pair in body.items()}


def _active_entries(runtime: Runtime, bank: str) -> int:
    try:
        return runtime.services.banks.count_entries(bank).get(EntryState.ACTIVE, 0)
    except NotFoundError:  # deleted since the matcher was built
        return 0


def _index_sizes(runtime: Runtime) -> dict[str, int]:
    matcher = runtime.matcher()
    pdq = sum(matcher.size().values())
    # Exact-digest indexes do not report their size; an active entry in an enabled bank
    # carries at most one original md5 and sha256, so its count bounds theirs.
    active = sum(_active_entries(runtime, bank.name) for bank in matcher.banks)
    return {"pdq": pdq, **{name: active for name in SIGNAL_TYPES if name != "pdq"}}


@router.get(
    "/index/status",
    summary="HMA: status of the matching indexes",
    **hma_route(Capability.LOOKUP, (400,)),
)
def index_status(runtime: RuntimeDep, signal_type: str | None = None) -> dict[str, Any]:
    """`{signal_type: {"present", "built_to", "size"}}`; indexes are live, so built_to is now."""
    names = list(SIGNAL_TYPES)
    if signal_type is not None:
        if signal_type not in SIGNAL_TYPES:
            abort(400, f"No such signal type '{signal_type}'")
        names = [signal_type]
    if not runtime.ready():
        return {name: {"present": False, "built_to": -1, "size": 0} for name in names}
    sizes = _index_sizes(runtime)
    now = int(time.time())
    return {name: {"present": True, "built_to": now, "size": sizes[name]} for name in names}
