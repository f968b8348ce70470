"""Reading request bodies and uploads within the byte limit (413 past it)."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from shieldwall.errors import InvalidInputError, MediaTooLargeError
from shieldwall.web.body_limits import human_size

CHUNK = 1024 * 1024


def _too_large(limit: int) -> MediaTooLargeError:
    return MediaTooLargeError(f"content is over the {human_size(limit)} limit")


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse early when Content-Length already says the body is too large."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)


async def read_body(
    request: Request, limit: int, empty: str = "the request body is empty: send the image bytes"
) -> bytes:
    """The raw body, read in chunks and refused as soon as it passes `limit` bytes.

    `empty` is the message for a body with no bytes at all.
    """
    check_declared_length(request, limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    if size == 0:
        raise InvalidInputError(empty)
    return b"".join(parts)


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """An uploaded file's bytes, refused as soon as they pass `limit`."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    if size == 0:
        raise InvalidInputError(f"the uploaded file {upload.filename or ''!r} is empty")
    return b"".join(parts)
