"""The one mapping from errors to HTTP answers: application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldwall import errors

PROBLEM_TYPE_PREFIX: Final = "urn:shieldwall:problem:"
MEDIA_TYPE: Final = "application/problem+json"
log = logging.getLogger("shieldwall.web")

# Most specific first: the first class an error is an instance of decides its status.
_STATUS: Final[tuple[tuple[type[errors.ShieldwallError], int], ...]] = (
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.MediaTooLargeError, 413),
    (errors.UnsupportedMediaError, 415),
    (errors.RateLimitedError, 429),
    (errors.StorageError, 503),
    (errors.InvalidInputError, 422),
)


def status_of(error: errors.ShieldwallError) -> int:
    """HTTP status for a Shieldwall error."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response with a stable `type` per error code."""
    body = {
        "type": f"{PROBLEM_TYPE_PREFIX}{code}",
        "title": code.replace("-", " "),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _shieldwall_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.ShieldwallError)
    headers = None
    if isinstance(exc, errors.RateLimitedError):
        headers = {"Retry-After": str(max(1, round(exc.retry_after + 0.499)))}
    if isinstance(exc, errors.AuthenticationError):
        headers = {"WWW-Authenticate": 'Bearer realm="shieldwall"'}
    return problem(status_of(exc), exc.code, str(exc), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", ""))}
        for item in exc.errors()
    ]
    return problem(422, "invalid-request", "the request is not valid", errors=issues)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed", 413: "media-too-large"}.get(
        exc.status_code, "http-error"
    )
    return problem(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "internal-error", "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error through problem+json."""
    app.add_exception_handler(errors.ShieldwallError, _shieldwall_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
