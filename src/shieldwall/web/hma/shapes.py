"""Hasher-Matcher-Actioner (HMA 1.1) compatibility: names, signal types, bodies and errors.

Shieldwall presents itself as an HMA deployment whose photo content type has three
signal types enabled: `pdq`, `md5` and `sha256` (Shieldwall's own names). HMA bank names
are Shieldwall bank names in upper case (`MY_BANK` is Shieldwall's `my_bank`); HMA content
ids are Shieldwall entry ids. HMA's errors are `{"message": ...}` with HMA's status codes;
authentication, role and rate-limit refusals stay Shieldwall's problem+json (HMA has none),
and so does HMA's one 403 (bank name taken), which also carries HMA's `message`.

docs/hma.md lists the endpoints, the name mapping and every deliberate difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Final, NoReturn

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldwall import errors
from shieldwall.access.models import Capability
from shieldwall.banks.models import MAX_BANK_NAME, Bank, Entry, EntryState, validate_bank_name
from shieldwall.signals.models import ORIGINAL, SIGNAL_TYPES, signal_kind
from shieldwall.web.problems import problem
from shieldwall.web.security import GuardedRoute, guarded
from shieldwall.web.uploads import check_declared_length

PHOTO: Final = "photo"
CONTENT_TYPES: Final = (PHOTO,)
"""HMA content types Shieldwall can hash (the multipart field is named after one)."""
SIGNAL_TYPE_NAMES: Final = tuple(SIGNAL_TYPES)
"""HMA signal types: Shieldwall's registry, all enabled for photos."""
NO_DISTANCE: Final = "-"
"""HMA's distance string for exact-match signal types (its `NO_DISTANCE_STR`)."""
ENABLED_TS: Final = 1
DISABLED_TS: Final = 0
"""HMA's magic `disable_until_ts` values: 1 matches, 0 does not."""

# HMA also allows a leading '_'; Shieldwall bank names start with a letter or digit.
_HMA_BANK_NAME: Final = re.compile(r"[A-Z][A-Z0-9_]*")
BANK_NAME_MESSAGE: Final = "Bank names must be UPPER_WITH_UNDERSCORE, starting with a letter"


class HmaError(Exception):
    """An answer in HMA's error shape: `{"message": ...}` with an HTTP status."""

    def __init__(self, status: int, message: str, problem_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problem_code = problem_code


def abort(status: int, message: str) -> NoReturn:
    """Stop the request with HMA's error body (Flask's `abort`, as HMA uses it)."""
    raise HmaError(status, message)


def abort_name_taken(message: str) -> NoReturn:
    """HMA's 403 for a bank name in use.

    Shieldwall's own 403 (a key's role may not do this) is problem+json, so this one is
    too, and it also carries HMA's `message`: one shape per status for every client.
    """
    raise HmaError(403, message, problem_code="bank-name-taken")


HMA_ERROR_SCHEMA: Final[dict[str, Any]] = {
    "title": "HmaError",
    "description": "HMA's error body.",
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
_ERROR_DESCRIPTIONS: Final = {
    400: "invalid request (HMA's message says why)",
    404: "no such bank or content",
    409: "the content was deleted from this bank; deletion is final",
    413: "content too large",
    503: "index not yet ready",
}


def hma_route(
    capability: Capability, statuses: Iterable[int] = (), body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Route keyword arguments: guarded by `capability`, HMA's error answers documented.

    HMA's bodies are read by hand (to answer with HMA's own 400 messages), so FastAPI
    cannot derive their schema: `body` is the OpenAPI requestBody to show instead.
    """
    kwargs = guarded(capability)
    extra = dict(kwargs["openapi_extra"])
    if body is not None:
        extra["requestBody"] = body
    kwargs["openapi_extra"] = extra
    kwargs["responses"] = {
        code: {
            "description": _ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": HMA_ERROR_SCHEMA}},
        }
        for code in statuses
    }
    return kwargs


def json_body_doc(example: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI requestBody: a JSON object like `example`."""
    return {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
    }


def hma_error(status: int, message: str) -> JSONResponse:
    """HMA's error body."""
    return JSONResponse({"message": message}, status_code=status)


# Shieldwall's own refusals keep their problem+json answers (HMA has no auth to mimic).
_PASS_THROUGH: Final = (
    errors.AuthenticationError,
    errors.PermissionDeniedError,
    errors.RateLimitedError,
)
_STATUS: Final[tuple[tuple[type[errors.ShieldwallError], int], ...]] = (
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.MediaTooLargeError, 413),
    (errors.StorageError, 503),
)


def _status_of(error: errors.ShieldwallError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def _validation_message(error: RequestValidationError) -> str:
    issues = error.errors()
    if not issues:
        return "invalid request"
    first = issues[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in {"query", "body"})
    message = str(first.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


class HmaRoute(GuardedRoute):
    """A guarded route (key checked before the body is read) with HMA's error bodies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler to turn HMA and domain errors into HMA error bodies."""
        handler = super().get_route_handler()

        async def hma_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HmaError as exc:
                if exc.problem_code is not None:
                    return problem(exc.status, exc.problem_code, exc.message, message=exc.message)
                return hma_error(exc.status, exc.message)
            except RequestValidationError as exc:
                return hma_error(400, _validation_message(exc))
            except StarletteHTTPException as exc:  # e.g. a malformed multipart body
                return hma_error(exc.status_code, str(exc.detail))
            except errors.ShieldwallError as exc:
                if isinstance(exc, _PASS_THROUGH):
                    raise
                return hma_error(_status_of(exc), str(exc))

        return hma_handler


# Bank names ------------------------------------------------------------------------------


def hma_bank_name(name: str) -> str:
    """The HMA name of a Shieldwall bank: its name in upper case."""
    return name.upper()


def shieldwall_bank_name(hma_name: str) -> str | None:
    """The Shieldwall bank an HMA name refers to, or None if it cannot name one.

    Only the upper-case spelling names a bank, as in HMA (names are case-sensitive there),
    so `my_bank` is not an alias of `MY_BANK`.
    """
    if hma_name != hma_name.upper():
        return None
    candidate = hma_name.lower()
    try:
        return validate_bank_name(candidate)
    except errors.InvalidInputError:
        return None


def bank_name_or_404(hma_name: str) -> str:
    """The Shieldwall name for a bank in a path, or HMA's 404."""
    name = shieldwall_bank_name(hma_name)
    if name is None:
        abort(404, f"bank '{hma_name}' not found")
    return name


def new_bank_name(hma_name: object) -> str:
    """The Shieldwall name for a bank being created or renamed; HMA's 400 if not allowed."""
    if not isinstance(hma_name, str) or not _HMA_BANK_NAME.fullmatch(hma_name):
        abort(400, BANK_NAME_MESSAGE)
    if len(hma_name) > MAX_BANK_NAME:
        abort(400, f"{BANK_NAME_MESSAGE} and at most {MAX_BANK_NAME} characters long")
    return hma_name.lower()


def bank_filter(banks: str | None) -> set[str] | None:
    """HMA's comma-separated `banks` parameter as Shieldwall names (unknown names match none)."""
    if banks is None or banks == "":
        return None
    names = (shieldwall_bank_name(part.strip()) for part in banks.split(","))
    return {name for name in names if name is not None}


# Bodies ----------------------------------------------------------------------------------


def enabled_ratio(bank: Bank) -> float:
    """HMA's `matching_enabled_ratio`: Shieldwall banks are all (1.0) or nothing (0.0)."""
    return 1.0 if bank.enabled else 0.0


def bank_json(bank: Bank) -> dict[str, Any]:
    """HMA's BankConfig."""
    return {"name": hma_bank_name(bank.name), "matching_enabled_ratio": enabled_ratio(bank)}


def disable_until_ts(entry: Entry) -> int:
    """HMA's `disable_until_ts` for an entry: 1 while it matches, 0 otherwise."""
    return ENABLED_TS if entry.state is EntryState.ACTIVE else DISABLED_TS


def entry_signals(entry: Entry) -> dict[str, str]:
    """An entry's signals as HMA's `{signal_type: value}` (the untransformed ones)."""
    return {s.type: s.value for s in entry.signals if s.variant == ORIGINAL}


def content_json(entry: Entry, bank: Bank, include_signals: bool) -> dict[str, Any]:
    """HMA's BankContentResponse (GET content): signals and note only when present."""
    body: dict[str, Any] = {
        "id": entry.id,
        "disable_until_ts": disable_until_ts(entry),
        "original_media_uri": None,
        "bank": bank_json(bank),
    }
    if include_signals:
        body["signals"] = entry_signals(entry)
    if entry.provenance.note:
        body["note"] = entry.provenance.note
    return body


def content_config_json(entry: Entry, bank: Bank) -> dict[str, Any]:
    """HMA's BankContentConfig dataclass as Flask's jsonify writes it (PUT content)."""
    return {
        "id": entry.id,
        "disable_until_ts": disable_until_ts(entry),
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": bank_json(bank),
        "user_metadata": None,
        "note": entry.provenance.note or None,
    }


def distance_text(signal_type: str, distance: int) -> str:
    """HMA's distance string: the number for PDQ, "-" for exact-match signal types."""
    return str(distance) if SIGNAL_TYPES[signal_type].distance_based else NO_DISTANCE


# Parameters ------------------------------------------------------------------------------


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


def known_signal_type(name: str) -> str:
    """A signal type HMA callers may name, or HMA's 400 for one this server lacks."""
    if name not in SIGNAL_TYPES:
        abort(400, f"No such SignalType '{name}'")
    return signal_kind(name).name


MAX_NOTE: Final = 255
_METADATA_KEYS: Final = {"content_id": str, "content_uri": str, "json": dict}


def content_note(value: Any) -> str:
    """HMA's optional note on banked content: text of at most 255 characters ("" if none)."""
    if not value:
        return ""
    if not isinstance(value, str):
        abort(400, "note should be a string")
    if len(value) > MAX_NOTE:
        abort(400, f"note must be at most {MAX_NOTE} characters")
    return value


def check_metadata(value: Any) -> None:
    """HMA's metadata is validated as HMA does; Shieldwall does not store it."""
    if value is None:
        return
    if not isinstance(value, dict):
        abort(400, "metadata should be a json object")
    for key, item in value.items():
        if key == "collab":
            continue
        if key not in _METADATA_KEYS:
            abort(400, f"Invalid metadata: unexpected field '{key}'")
        if item is not None and not isinstance(item, _METADATA_KEYS[key]):
            abort(400, f"Invalid metadata: field '{key}' has the wrong type")


MAX_JSON_BYTES: Final = 1024 * 1024


async def json_body(request: Request) -> Any:
    """The request's JSON body (None when there is none); HMA's 400 when it is not JSON."""
    check_declared_length(request, MAX_JSON_BYTES)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            abort(413, "Content too large")
        parts.append(chunk)
    raw = b"".join(parts)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep, huge numbers
        abort(400, "The request body is not valid JSON")
