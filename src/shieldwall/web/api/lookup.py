"""Lookups: by uploaded file (multipart or raw body), by signals, in batches, by URL."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import Capability, LookupKind
from shieldwall.errors import InvalidInputError
from shieldwall.review.models import MAX_CONTENT_REF, ReviewItem
from shieldwall.screening.models import ScreeningResult
from shieldwall.screening.service import signals_from_mapping
from shieldwall.signals.models import Signal
from shieldwall.web.body_docs import BINARY, guarded_with_body, multipart_files
from shieldwall.web.detection import check_enabled, content_signals, detect, detection_out
from shieldwall.web.review_schemas import ItemOutcomeOut, ItemRef
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.schemas import BatchLookup, BatchLookupOut, LookupOut, SignalLookup
from shieldwall.web.security import Caller, GuardedRoute, guarded
from shieldwall.web.uploads import is_multipart, read_body, read_form

router = APIRouter(prefix="/api/v1/lookup", tags=["lookup"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Threshold = Annotated[
    int | None,
    Query(
        ge=0,
        le=63,
        description=(
            "Tighten every bank's PDQ threshold to at most this. Only for keys that may see "
            "details (distances); ignored for others, so that yes/no answers at chosen "
            "thresholds cannot measure a distance."
        ),
    ),
]
Banks = Annotated[list[str] | None, Query(alias="bank", description="Only these banks.")]
QueueFlag = Annotated[
    bool,
    Query(
        description="Open a review item if the verdict is `review` (the content is kept "
        "sealed for the reviewer until the decision)."
    ),
]
DetectFlag = Annotated[
    bool,
    Query(
        description="Also run likeness protection's detectors (off unless the server enables "
        "them): explicit content showing an enrolled person opens a review item and answers "
        "`review`, never `block`."
    ),
]
ContentRef = Annotated[
    str | None,
    Query(max_length=MAX_CONTENT_REF, description="Your own id or URL of the upload."),
]

_UPLOAD_BODY: Final = {
    **multipart_files("file"),
    "application/octet-stream": BINARY,
    "image/*": BINARY,
}


def allowed_threshold(caller: Caller, threshold: int | None) -> int | None:
    """The caller's threshold if it may see distances; otherwise None (the banks' own).

    Bisecting `threshold` with yes/no answers gives a distance in five requests.
    """
    return threshold if caller.sees_details else None


def watch_for_probing(runtime: Runtime, caller: Caller, sets: list[dict[str, object]]) -> None:
    """Feed the key's PDQ hashes to the probe detector (alerts go to the log and metrics)."""
    hashes = [value for item in sets if isinstance(value := item.get("pdq"), str)]
    if hashes:
        runtime.probes.observe(caller.id, hashes)


def present(result: ScreeningResult, caller: Caller, item: ReviewItem | None = None) -> LookupOut:
    """The answer a key may see (screeners without see_details: no distances or entry ids)."""
    answer = LookupOut.model_validate(result.as_json(caller.sees_details))
    if item is not None:
        answer.review_item = ItemRef.of(item)
    return answer


def queue_for_review(
    runtime: Runtime,
    result: ScreeningResult,
    caller: Caller,
    signals: Sequence[Signal],
    content_ref: str | None,
    content: bytes | None = None,
) -> ReviewItem | None:
    """Open (or find) the review item of a lookup that answered `review` and asked for it."""
    return runtime.services.reviews.queue_lookup(
        result, signals, content_ref=content_ref or "", key_id=caller.id, content=content
    )


async def _content(request: Request, limit: int) -> bytes:
    if not is_multipart(request):
        return await read_body(request, limit)
    form = await read_form(request, limit, max_files=1, max_fields=4)
    if len(form.files) != 1:
        raise InvalidInputError("send exactly one file (multipart field `file`)")
    return form.files[0].data


@router.post(
    "",
    summary="Look up an image (multipart field `file`, or the raw bytes as the body)",
    response_model=LookupOut,
    responses={
        413: {"description": "too large"},
        415: {"description": "unsupported"},
        422: {"description": "corrupt or invalid"},
    },
    **guarded_with_body(Capability.LOOKUP, _UPLOAD_BODY),
)
async def lookup_file(
    request: Request,
    runtime: RuntimeDep,
    caller: Caller,
    threshold: Threshold = None,
    banks: Banks = None,
    queue: QueueFlag = False,
    content_ref: ContentRef = None,
    detect: DetectFlag = False,
) -> LookupOut:
    """Hash the content and match it and its mirror/rotation variants.

    The content is not stored, unless `queue=true` and the verdict is `review`, or
    `detect=true` and the detectors ask for a review: then it is kept sealed in the
    quarantine for the reviewer, and deleted at the decision."""
    if detect:
        check_enabled(runtime)
    data = await _content(request, runtime.services.settings.media.max_bytes)
    if detect:
        return await run_in_threadpool(
            _detected_answer, runtime, data, caller, threshold, banks, queue, content_ref
        )
    result = await run_in_threadpool(
        functools.partial(
            runtime.screening.screen_content,
            data,
            caller.id,
            allowed_threshold(caller, threshold),
            banks,
            content_ref=content_ref or "",
        )
    )
    runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    item = None
    if queue:
        item = await run_in_threadpool(
            queue_for_review, runtime, result, caller, content_signals(result), content_ref, data
        )
    return present(result, caller, item)


def _detected_answer(
    runtime: Runtime,
    data: bytes,
    caller: Caller,
    threshold: int | None,
    banks: list[str] | None,
    queue: bool,
    content_ref: str | None,
) -> LookupOut:
    """A file lookup with the detectors: the banks' answer, the findings as the key may see
    them, and the review item the banks' `review` (with `queue`) or the detectors opened."""
    found = detect(
        runtime, data, caller, allowed_threshold(caller, threshold), banks, content_ref or ""
    )
    runtime.metrics.lookups.labels(verdict=found.verdict.value).inc()
    item = found.item
    if item is None and queue:
        signals = content_signals(found.result)
        item = queue_for_review(runtime, found.result, caller, signals, content_ref, data)
    answer = present(found.result, caller, item)
    answer.verdict = found.verdict
    answer.detection = detection_out(found.findings, caller)
    return answer


@router.post(
    "/signals", summary="Look up signals", response_model=LookupOut, **guarded(Capability.LOOKUP)
)
async def lookup_signals(
    body: SignalLookup,
    runtime: RuntimeDep,
    caller: Caller,
    threshold: Threshold = None,
    banks: Banks = None,
) -> LookupOut:
    """Match `{"pdq": ..., "md5": ..., "sha256": ...}` (any of them); with `"queue": true`
    a `review` verdict opens a review item (`review_item` in the answer)."""
    values = body.values()
    watch_for_probing(runtime, caller, [values])
    result = runtime.screening.screen_signals(
        values,
        caller.id,
        allowed_threshold(caller, threshold),
        banks,
        content_ref=body.content_ref or "",
    )
    runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    item = None
    if body.queue:
        signals = signals_from_mapping(values)
        item = queue_for_review(runtime, result, caller, signals, body.content_ref)
    return present(result, caller, item)


@router.post(
    "/batch",
    summary="Look up to 1,000 signal sets",
    response_model=BatchLookupOut,
    **guarded(Capability.LOOKUP),
)
async def lookup_batch(
    body: BatchLookup,
    runtime: RuntimeDep,
    caller: Caller,
    threshold: Threshold = None,
    banks: Banks = None,
) -> BatchLookupOut:
    """Each set gets its own answer; a malformed set gets errors, the others still match.

    Each signal set costs one request of the key's rate limit (the request itself paid
    for the first): a batch is no cheaper per lookup than single lookups.
    """
    sets = [item.values() for item in body.items]
    if len(sets) > 1:
        runtime.services.rate_limiter.charge(caller, len(sets) - 1)
    watch_for_probing(runtime, caller, sets)
    results = runtime.screening.screen_batch(
        sets, caller.id, allowed_threshold(caller, threshold), banks
    )
    for result in results:
        runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    return BatchLookupOut(results=[present(r, caller) for r in results])


@router.get(
    "/url",
    summary="Look up an image by URL (off unless the server enables it)",
    response_model=LookupOut,
    responses={413: {"description": "too large"}, 422: {"description": "refused or failed"}},
    **guarded(Capability.LOOKUP),
)
async def lookup_url(
    runtime: RuntimeDep,
    caller: Caller,
    url: Annotated[str, Query(max_length=2048, description="http(s) URL of an image")],
    threshold: Threshold = None,
    banks: Banks = None,
) -> LookupOut:
    """Fetch (public addresses only, size-capped, no more than 3 redirects), hash, match."""
    data = await runtime.services.fetcher.fetch(url)
    result = await run_in_threadpool(
        runtime.screening.screen_content,
        data,
        caller.id,
        allowed_threshold(caller, threshold),
        banks,
        LookupKind.URL,
        url,
    )
    runtime.metrics.lookups.labels(verdict=result.verdict.value).inc()
    return present(result, caller)


@router.get(
    "/items/{item_id}",
    summary="What became of a queued upload (poll until `outcome` is set)",
    response_model=ItemOutcomeOut,
    responses={404: {"description": "no such item opened by this key"}},
    **guarded(Capability.LOOKUP),
)
def queued_item(
    item_id: Annotated[int, Path(ge=1, le=2**63 - 1)], runtime: RuntimeDep, caller: Caller
) -> ItemOutcomeOut:
    """The state and outcome of a review item this key's lookup opened, with the latest
    complaint about its decision and, once confirmed, your other uploads of the picture."""
    services = runtime.services
    item = services.reviews.outcome_for(item_id, caller.id)
    copies = [
        hit
        for sweep in services.sweeps.of_item(item.id)
        for hit in sweep.hits
        if hit.hit.key_id == caller.id and hit.hit.content_ref != item.content_ref
    ]
    return ItemOutcomeOut.of(item, services.complaints.about_item(item.id), copies)
