"""The guards of the victims' JSON APIs (cases, enrolments): JSON bodies only, same site
only, rate limits per address and per receipt number. No account and no API key: a
receipt's number and secret are the only credentials, so every route is limited before
its body is read."""

from __future__ import annotations

import json
from typing import Any, Final, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from shieldwall.access.rate_limit import RateLimit
from shieldwall.errors import InvalidInputError, PermissionDeniedError
from shieldwall.web.runtime import Runtime
from shieldwall.web.uploads import read_body

Key = TypeVar("Key", bound=BaseModel)

MAX_KEY_BYTES: Final = 4 * 1024
"""A receipt's number and secret take well under 300 bytes: nothing larger is read."""

EMPTY_BODY: Final = "the request body is empty: send a JSON object"


def require_json(request: Request) -> None:
    """Only `application/json` is taken: a form on another site cannot send it, so no
    cross-site request can file, read or withdraw anything."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidInputError("send the body as application/json")


def client_address(request: Request) -> str:
    """The client's address (the rate limits' key)."""
    return request.client.host if request.client else "unknown"


def same_site(request: Request) -> None:
    """Refuse requests a browser marks as sent from another site (defence in depth beside
    the JSON-only bodies: no other site's page may file, read or withdraw anything)."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    foreign_origin = origin is not None and origin.split("://", 1)[-1] != host
    if site == "cross-site" or foreign_origin:
        raise PermissionDeniedError("requests from other sites are refused")


def take_token(runtime: Runtime, bucket: str, limit: RateLimit) -> None:
    """Take a token from a bucket limited by a `protect_*_limit` setting."""
    runtime.services.rate_limiter.check_bucket(("protect", bucket), limit)


async def json_object(request: Request, limit: int, what: str) -> dict[str, Any]:
    """The body as a JSON object (`application/json` only), read within `limit` bytes;
    `what` names it in the error for any other JSON value."""
    require_json(request)
    raw = await read_body(request, limit, EMPTY_BODY)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInputError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"send the {what} as a JSON object")
    return data


async def receipt_key(
    request: Request,
    runtime: Runtime,
    model: type[Key],
    bucket: str,
    max_bytes: int = MAX_KEY_BYTES,
) -> Key:
    """A receipt's number and secret as `model` (no other fields but what it adds): same
    site only and within the per-address read limit (bucket `<bucket>:<address>`), both
    before a byte of the body is read; then at most `max_bytes` of it."""
    same_site(request)
    limit = runtime.services.settings.protect_read_limit
    take_token(runtime, f"{bucket}:{client_address(request)}", limit)
    require_json(request)
    raw = await read_body(request, max_bytes, EMPTY_BODY)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
