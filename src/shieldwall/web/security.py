"""API-key authentication, the role matrix check and per-key rate limits, for every route.

Every route declares exactly one Capability with `guarded(...)`; whether a key's role has
it is decided only by `access.models.ROLE_CAPABILITIES`.

Routers are built with `route_class=GuardedRoute`, which checks the key before FastAPI
reads or parses the request body: otherwise a caller without a (valid) key would get 422
for a malformed JSON body instead of 401/403, and could make the server buffer a body
it is not allowed to send. The `guarded` dependency stays as the fail-closed fallback
(and documents the security schemes in OpenAPI); after the early check it only hands
the already accepted key on, so rate limits are charged once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shieldwall.access.models import ApiKey, Capability
from shieldwall.errors import PermissionDeniedError, RateLimitedError
from shieldwall.web.runtime import Runtime, runtime_for

API_KEY_HEADER: Final = "X-API-Key"
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="The API key")
_CHECKED: Final = "shieldwall_checked_capability"
"""request.state attribute: the capability the early check already enforced."""
_CAPABILITY_OF: dict[Callable[..., Any], Capability] = {}
"""Each `require(...)` dependency and the capability it enforces."""


async def _token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> str | None:
    if header:
        return header
    return bearer.credentials if bearer is not None else None


def _authorize(runtime: Runtime, token: str | None, capability: Capability) -> ApiKey:
    """The key behind `token` if it is valid, has `capability` and is within its rate."""
    key = runtime.services.access.authenticate(token)
    _check_key(runtime, key, capability)
    return key


def _check_key(runtime: Runtime, key: ApiKey, capability: Capability) -> None:
    if not key.can(capability):
        raise PermissionDeniedError(f"a {key.role.value} key may not do this")
    try:
        runtime.services.rate_limiter.check(key)
    except RateLimitedError:
        runtime.metrics.rate_limited.labels(role=key.role.value).inc()
        raise


def accept_without_token(request: Request, key: ApiKey, capability: Capability) -> None:
    """Accept `key`, known without a token (a trusted network's: web/hma/trusted.py), for
    this request, as a token's key is: it needs `capability` and is charged its rate."""
    runtime: Runtime = request.app.state.runtime
    _check_key(runtime, key, capability)
    request.state.api_key = key
    setattr(request.state, _CHECKED, capability)


async def _accept(request: Request, token: str | None, capability: Capability) -> ApiKey:
    # On the event loop: keys are checked against the process's in-memory key table and
    # rate buckets (a database read only for a prefix the table lacks, at most a few a
    # second), so a hop to the thread pool would cost more than the check itself.
    key = _authorize(runtime_for(request), token, capability)
    request.state.api_key = key
    setattr(request.state, _CHECKED, capability)
    return key


@cache
def require(capability: Capability) -> Any:
    """Dependency: the caller's key, if it is valid, has `capability` and is within its rate."""

    async def check(request: Request, token: Annotated[str | None, Depends(_token)]) -> ApiKey:
        if getattr(request.state, _CHECKED, None) is capability:
            key: ApiKey = request.state.api_key
            return key
        return await _accept(request, token, capability)

    _CAPABILITY_OF[check] = capability
    return check


def capability_of(route: APIRoute) -> Capability | None:
    """The capability a route's `guarded` dependency enforces (None: a public route)."""
    for dependency in route.dependencies:
        if dependency.dependency is not None and dependency.dependency in _CAPABILITY_OF:
            return _CAPABILITY_OF[dependency.dependency]
    return None


class GuardedRoute(APIRoute):
    """A route that checks its capability before the request body is read or validated."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, preceded by the key check for guarded routes."""
        handler = super().get_route_handler()
        capability = capability_of(self)
        if capability is None:
            return handler

        async def checked_first(request: Request) -> Response:
            if getattr(request.state, _CHECKED, None) is not capability:  # not accepted yet
                token = await _token(await _bearer(request), await _header(request))
                await _accept(request, token, capability)
            return await handler(request)

        return checked_first


def guarded(capability: Capability) -> dict[str, Any]:
    """Route keyword arguments: enforce `capability` and show it in the OpenAPI document."""
    dependency: DependsParam = Depends(require(capability))
    return {
        "dependencies": [dependency],
        "openapi_extra": {"x-capability": capability.value},
    }


async def caller_key(request: Request) -> ApiKey:
    """The key that `guarded` accepted for this request."""
    key: ApiKey = request.state.api_key
    return key


Caller = Annotated[ApiKey, Depends(caller_key)]
"""Handler parameter for the authenticated key (routes must be `guarded`)."""
