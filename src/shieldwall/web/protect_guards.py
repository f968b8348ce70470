"""The guards of the victims' JSON APIs (cases, enrolments): JSON bodies only, same site
only, rate limits per address and per receipt number. No account and no API key: a
receipt's number and secret are the only credentials, so every route is limited before
its body is read."""

from __future__ import annotations

from typing import Final

from fastapi import Request

from shieldwall.access.rate_limit import RateLimit
from shieldwall.errors import InvalidInputError, PermissionDeniedError
from shieldwall.web.runtime import Runtime

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
