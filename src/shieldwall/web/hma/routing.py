"""HMA routes: guarded by a capability, with HMA's error bodies and documented answers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shieldwall import errors
from shieldwall.access.models import Capability
from shieldwall.web.hma.errors import PASS_THROUGH, HmaError, hma_error, status_of
from shieldwall.web.hma.trusted import accept_trusted_network
from shieldwall.web.problems import problem
from shieldwall.web.security import GuardedRoute, capability_of, guarded

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
    409: "the content was deleted from this bank and added again too many times",
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
        """Wrap FastAPI's handler to turn HMA and domain errors into HMA error bodies.

        A keyless caller from a trusted network is accepted as its network's key first."""
        handler = super().get_route_handler()
        capability = capability_of(self)

        async def hma_handler(request: Request) -> Response:
            try:
                if capability is not None:
                    accept_trusted_network(request, capability)
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
                if isinstance(exc, PASS_THROUGH):
                    raise
                return hma_error(status_of(exc), str(exc))

        return hma_handler
