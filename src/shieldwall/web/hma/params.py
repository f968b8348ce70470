"""HMA's request parameters and JSON bodies, read with HMA's 400 messages."""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import Request

from shieldwall.web.hma.errors import abort
from shieldwall.web.uploads import read_body

MAX_JSON_BYTES: Final = 1024 * 1024


def require_param(name: str, value: str | None) -> str:
    """HMA's `require_request_param`: 400 `{name} is required` when missing."""
    if value is None:
        abort(400, f"{name} is required")
    return value


def parse_bool(value: str | None, default: bool = False) -> bool:
    """HMA's `str_to_bool`: true/1 or false/0, else 400."""
    if value is None:
        return default
    if value.lower() in {"true", "1"}:
        return True
    if value.lower() in {"false", "0"}:
        return False
    abort(400, "invalid boolean parameter - prefer true/false")


def json_object(body: Any) -> dict[str, Any]:
    """A JSON body that must be an object ({} when there was none); HMA's 400 otherwise."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        abort(400, "this endpoint expects a json object payload")
    return body


async def json_body(request: Request) -> Any:
    """The request's JSON body (None when there is none); HMA's 400 when it is not JSON."""
    raw = await read_body(request, MAX_JSON_BYTES, empty=None)  # 413 past the limit
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep, huge numbers
        abort(400, "The request body is not valid JSON")
