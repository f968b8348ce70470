"""The one mapping from errors to HTTP answers: application/problem+json (RFC 9457)."""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldwall import errors
from shieldwall.web.body_docs import add_body_schemas
from shieldwall.web.error_statuses import status_of

PROBLEM_TYPE_PREFIX: Final = "urn:shieldwall:problem:"
MEDIA_TYPE: Final = "application/problem+json"
log = logging.getLogger("shieldwall.web")


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
    code = {
        400: "bad-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "media-too-large",
    }.get(exc.status_code, "http-error")
    return problem(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "internal-error", "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error through problem+json, and say so in the OpenAPI document."""
    app.add_exception_handler(errors.ShieldwallError, _shieldwall_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_problems(add_body_schemas(generate()))

    setattr(app, "openapi", openapi)  # noqa: B010 (mypy refuses assigning to a method)


PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "title": "Problem",
    "description": "An error (RFC 9457); `type` is stable per error code.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": f"{PROBLEM_TYPE_PREFIX}not-found"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "What was wrong with the request (422 invalid-request only).",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
_REFUSALS: Final[dict[str, dict[str, Any]]] = {
    "401": {
        "description": "missing, unknown or revoked API key",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "403": {"description": "the key's role may not do this"},
    "429": {
        "description": "the key's rate limit is exceeded",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}
_FASTAPI_VALIDATION: Final = "#/components/schemas/HTTPValidationError"
NATIVE_PREFIX: Final = "/api/"
"""Under this prefix every error answer is problem+json (HMA's routes have their own shape)."""


def _problem_content() -> dict[str, Any]:
    return {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _is_problem_response(path: str, status: str, response: dict[str, Any]) -> bool:
    if not status.isdigit() or int(status) < 400:
        return False
    json_schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if json_schema.get("$ref") == _FASTAPI_VALIDATION:
        return True  # FastAPI's default 422 body: ours is a problem
    return path.startswith(NATIVE_PREFIX) and not response.get("content")


def document_problems(doc: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with its error answers described as they are sent: problem+json.

    Guarded operations (those with `x-capability`) also list the 401, 403 and 429
    refusals. Changes `doc` in place (FastAPI caches it) and returns it; idempotent.
    """
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    if schemas.get("Problem") is PROBLEM_SCHEMA:
        return doc
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if "x-capability" in operation:
                for status, refusal in _REFUSALS.items():
                    responses[status] = {**refusal, **responses.get(status, {})}
                    responses[status]["content"] = _problem_content()
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "the body could not be parsed"})
                # web/body_limits.py answers this for every route with a body.
                responses.setdefault("413", {"description": "the body is over the route's limit"})
            for status, response in responses.items():
                if _is_problem_response(path, status, response):
                    response["content"] = _problem_content()
    for name in ("HTTPValidationError", "ValidationError"):  # now unused, unless elsewhere
        if f"#/components/schemas/{name}" not in json.dumps(doc):
            schemas.pop(name, None)
    return doc
