"""The item's media for the console: blurred greyscale by default, the original only after
an audited reveal, and never in a page's HTML or any cache.

- `GET /review/items/{id}/media`: the blurred greyscale rendition, made on the server at the
  account's blur strength, for the reviewer holding the item's claim;
- `POST /review/items/{id}/reveal` (CSRF): the review service's reveal (claim, daily cap,
  audit record), then back to the item page with a one-time token (reveal_tokens.py);
- `GET /review/items/{id}/original?r=<token>`: the re-encoded original (no metadata), for
  the claim's holder with a fresh token of this session for this item; 403 otherwise.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from shieldwall.access.accounts import Account
from shieldwall.errors import MediaError, NotFoundError, PermissionDeniedError
from shieldwall.review.renditions import blurred_rendition, original_rendition
from shieldwall.web.review.auth import Reviewer, require_csrf
from shieldwall.web.review.items import ItemId, item_page
from shieldwall.web.review.render import page_headers, see_other
from shieldwall.web.review.reveal_tokens import RevealTokens
from shieldwall.web.review.views import as_reviewer, reviews_of

router = APIRouter(include_in_schema=False)
_IMAGE_HEADERS = {"Content-Disposition": "inline", "Cross-Origin-Resource-Policy": "same-origin"}


def reveal_tokens(request: Request) -> RevealTokens:
    """The app's reveal tokens (install_review_console made them)."""
    tokens: RevealTokens = request.app.state.review_reveal_tokens
    return tokens


def _refused(status: int = 403) -> Response:
    return Response(status_code=status, headers=page_headers())


def _holds(request: Request, account: Account, item_id: int) -> bool:
    """Whether the account holds the item's claim now."""
    reviews = reviews_of(request)
    return reviews.item(item_id).claimed_by(reviews.now()) == account.username


def _image(data: bytes, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers=page_headers(_IMAGE_HEADERS))


@router.get("/review/items/{item_id}/media")
async def blurred_media(request: Request, item_id: ItemId, reviewer: Reviewer) -> Response:
    """The blurred greyscale rendition (403 without the item's claim, 404 without media)."""
    account = reviewer[0]
    reviews = reviews_of(request)
    try:
        if not _holds(request, account, item_id):
            return _refused()
        data = reviews.content_for_rendition(item_id)
        limits = request.app.state.runtime.services.settings.media
        blurred = await run_in_threadpool(blurred_rendition, data, limits, account.blur)
    except NotFoundError:
        return _refused(404)
    except MediaError:
        return _refused(415)
    return _image(blurred, "image/jpeg")


@router.post("/review/items/{item_id}/reveal")
async def reveal(request: Request, item_id: ItemId, reviewer: Reviewer) -> Response:
    """Reveal the original of this one item (audited, within the daily cap)."""
    account, session = reviewer
    await require_csrf(request, session)
    reviews = reviews_of(request)
    try:
        await run_in_threadpool(reviews.reveal, item_id, as_reviewer(account))
    except PermissionDeniedError:
        holds = _holds(request, account, item_id)
        code = (
            "reveal-cap"
            if holds and not reviews.reveals_left(as_reviewer(account))
            else "not-yours"
        )
        return item_page(request, reviewer, item_id, error=code, status_code=403)
    except NotFoundError:
        return item_page(request, reviewer, item_id, error="no-media", status_code=404)
    token = reveal_tokens(request).issue(item_id, session.csrf_token, reviews.now())
    return see_other(f"/review/items/{item_id}?r={token}#media")


@router.get("/review/items/{item_id}/original")
async def original(request: Request, item_id: ItemId, reviewer: Reviewer) -> Response:
    """The original, once, for a fresh reveal of this item by the claim's holder."""
    account, session = reviewer
    reviews = reviews_of(request)
    token = request.query_params.get("r", "")
    try:
        if not _holds(request, account, item_id):
            return _refused()
        if not reveal_tokens(request).spend(token, item_id, session.csrf_token, reviews.now()):
            return _refused()
        data = reviews.content_for_rendition(item_id)
        limits = request.app.state.runtime.services.settings.media
        pixels, media_type = await run_in_threadpool(original_rendition, data, limits)
    except NotFoundError:
        return _refused(404)
    except MediaError:
        return _refused(415)
    return _image(pixels, media_type)
