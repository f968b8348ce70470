"""HMA hashing: `GET /h/hash?url=` and `POST /h/hash` (multipart field named after the
content type, e.g. `photo`), plus the content readers the matching and curation routes share.

The content is hashed in memory and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import Capability
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.screening.ports import ContentFetcher
from shieldwall.signals.models import Signal
from shieldwall.signals.regions import RegionHasher
from shieldwall.web.body_docs import body_schema, multipart_files
from shieldwall.web.hma.errors import abort
from shieldwall.web.hma.names import CONTENT_TYPES, PHOTO, SIGNAL_TYPE_NAMES
from shieldwall.web.hma.routing import HmaRoute, hma_route
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.uploads import is_multipart, read_form

router = APIRouter(prefix="/h", tags=["hma"], route_class=HmaRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Types = Annotated[
    str | None, Query(description="Comma-separated signal types to compute (default: all).")
]
ContentTypeHint = Annotated[
    str | None, Query(description="HMA content type of the URL's content (only `photo`).")
]
MAX_FORM_FIELDS: Final = 8

UPLOAD_BODY: Final = body_schema(
    multipart_files(PHOTO, description="One file, in a field named after its HMA content type.")
)
"""An HMA upload: `--form photo=@file.jpg`."""


@dataclass(frozen=True)
class Upload:
    """The one file of an HMA multipart upload, and the form's text fields."""

    data: bytes
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hashed:
    """Signals of a piece of content as HMA reports them, and the ones to match with."""

    values: dict[str, str]
    """`{signal_type: hex}` for the chosen signal types."""
    queries: tuple[Signal, ...]
    """What to look up: the PDQ hash with its mirrors, rotations and edit-undoing views, and
    the digests."""
    variants: tuple[Signal, ...] = ()
    """Region variants a bank stores with the PDQ hash (when hashed for a bank)."""
    primary: dict[str, Signal] = field(default_factory=dict)
    """The chosen signal types' signals as computed (the PDQ hash carries its quality)."""
    pixels: RegionHasher | None = None
    """For a PDQ lookup: the reduced picture the second stage's aligned search reads."""


def lookup_content_type(name: str) -> str:
    """An HMA content type this server hashes, or HMA's 400."""
    if name in CONTENT_TYPES:
        return name
    if name == "video":
        abort(400, f"content_type {name} is disabled")
    abort(400, f"no such content_type: '{name}'")


def signal_selection(types: str | None) -> tuple[str, ...]:
    """HMA's `types` parameter: the chosen signal types (all when it is absent)."""
    if types is None:
        return SIGNAL_TYPE_NAMES
    chosen: list[str] = []
    for raw in types.split(","):
        name = raw.strip()
        if not name:
            continue
        if name not in SIGNAL_TYPE_NAMES:
            abort(400, f"signal type '{name}' doesn't exist or is disabled")
        chosen.append(name)
    if not chosen:
        abort(400, "empty signal type selection")
    return tuple(dict.fromkeys(chosen))


def hash_photo(
    data: bytes,
    limits: MediaLimits,
    selection: tuple[str, ...],
    dihedral: bool = True,
    purpose: Purpose | None = None,
    pair_windows: bool = True,
) -> Hashed:
    """Hash an image (MediaError if it will not decode) into the chosen signal types.

    For a lookup (`dihedral`), the PDQ queries include the mirrors, rotations and the views
    that undo edits (and the pair windows are begun ahead if `pair_windows`); with
    Purpose.BANK, `variants` holds the region variants to store.
    """
    if purpose is None:
        purpose = Purpose.LOOKUP if dihedral else Purpose.PLAIN
    hashed = hash_content(data, limits, purpose=purpose, pair_windows=pair_windows)
    primary = {"pdq": hashed.pdq, "md5": hashed.md5, "sha256": hashed.sha256}
    queries: list[Signal] = []
    variants: tuple[Signal, ...] = ()
    if "pdq" in selection:
        queries.extend(hashed.pdq_variants or (hashed.pdq,))
        if purpose is Purpose.LOOKUP:
            queries.extend(hashed.views)
        else:
            variants = hashed.views
    queries.extend(s for s in (hashed.md5, hashed.sha256) if s.type in selection)
    chosen = {name: primary[name] for name in selection}
    values = {name: signal.value for name, signal in chosen.items()}
    pixels = hashed.pixels if "pdq" in selection else None
    return Hashed(values, tuple(queries), variants, chosen, pixels)


async def read_form_upload(request: Request, limit: int) -> Upload | None:
    """The file of a multipart body (None when there is no file or no multipart body).

    As in HMA, exactly one file is allowed and its field name is its content type.
    """
    if not is_multipart(request):
        return None
    form = await read_form(request, limit, max_files=2, max_fields=MAX_FORM_FIELDS)
    if not form.files:
        return None
    if len(form.files) > 1:
        abort(400, "Only one file allowed per request")
    lookup_content_type(form.files[0].field)
    return Upload(form.files[0].data, dict(form.fields))


async def require_form_upload(request: Request, limit: int) -> Upload:
    """The file of a multipart body, or HMA's 400 when there is none."""
    upload = await read_form_upload(request, limit)
    if upload is None:
        abort(400, "Missing multipart/form-data file upload")
    return upload


async def fetch_content(url: str, content_type: str | None, fetcher: ContentFetcher) -> bytes:
    """The content at `url` (through the SSRF-safe fetcher; off unless url_lookups is on).

    HMA picks the content type from the response's Content-Type; Shieldwall hashes images
    only, so the content is treated as a photo unless `content_type` says otherwise.
    """
    if content_type:
        lookup_content_type(content_type)
    return await fetcher.fetch(url)


async def hash_upload(
    request: Request, runtime: Runtime, types: str | None, dihedral: bool = True
) -> Hashed:
    """Read and hash the multipart upload of an HMA request."""
    selection = signal_selection(types)
    limits = runtime.services.settings.media
    upload = await require_form_upload(request, limits.max_bytes)
    pairs = dihedral and runtime.ready() and runtime.matcher().searches_pairs
    return await run_in_threadpool(
        hash_photo, upload.data, limits, selection, dihedral, None, pairs
    )


async def hash_url(
    url: str, content_type: str | None, types: str | None, runtime: Runtime, dihedral: bool = True
) -> Hashed:
    """Fetch and hash the content at an HMA request's `url`."""
    selection = signal_selection(types)
    settings = runtime.services.settings
    data = await fetch_content(url, content_type, runtime.services.fetcher)
    pairs = dihedral and runtime.ready() and runtime.matcher().searches_pairs
    return await run_in_threadpool(
        hash_photo, data, settings.media, selection, dihedral, None, pairs
    )


@router.get(
    "/hash",
    summary="HMA: hash the content at a URL",
    **hma_route(Capability.LOOKUP, (400, 413)),
)
async def hash_by_url(
    runtime: RuntimeDep,
    url: str | None = None,
    content_type: ContentTypeHint = None,
    types: Types = None,
) -> dict[str, str]:
    """`{signal_type: hash}`; fetching is refused unless the server enables URL lookups."""
    if url is None:
        abort(400, "url is required")
    return (await hash_url(url, content_type, types, runtime, dihedral=False)).values


@router.post(
    "/hash",
    summary="HMA: hash an uploaded file (multipart field named after its content type)",
    **hma_route(Capability.LOOKUP, (400, 413), UPLOAD_BODY),
)
async def hash_by_upload(
    request: Request, runtime: RuntimeDep, types: Types = None
) -> dict[str, str]:
    """`{signal_type: hash}` for the one uploaded file (e.g. `--form photo=@x.jpg`)."""
    return (await hash_upload(request, runtime, types, dihedral=False)).values
