"""API-key authentication, the role matrix check and per-key rate limits, for every route.

Every route declares exactly one Capability with `guarded(...)`; whether a key's role has
it is decided only by `access.models.ROLE_CAPABILITIES`.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shieldwall.access.models import ApiKey, Capability
from shieldwall.errors import PermissionDeniedError, RateLimitedError
from shieldwall.web.runtime import Runtime, runtime_of

API_KEY_HEADER: Final = "X-API-Key"
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="The API key")


def _token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> str | None:
    if header:
        return header
    return bearer.credentials if bearer is not None else None


@cache
def require(capability: Capability) -> Any:
    """Dependency: the caller's key, if it is valid, has `capability` and is within its rate."""

    def check(
        request: Request,
        token: Annotated[str | None, Depends(_token)],
        runtime: Annotated[Runtime, Depends(runtime_of)],
    ) -> ApiKey:
        key = runtime.services.access.authenticate(token)
        if not key.can(capability):
            raise PermissionDeniedError(f"a {key.role.value} key may not do this")
        try:
            runtime.services.rate_limiter.check(key)
        except RateLimitedError:
            runtime.metrics.rate_limited.labels(role=key.role.value).inc()
            raise
        request.state.api_key = key
        return key

    return check


def guarded(capability: Capability) -> dict[str, Any]:
    """Route keyword arguments: enforce `capability` and show it in the OpenAPI document."""
    dependency: DependsParam = Depends(require(capability))
    return {
        "dependencies": [dependency],
        "openapi_extra": {"x-capability": capability.value},
    }


def caller_key(request: Request) -> ApiKey:
    """The key that `guarded` accepted for this request."""
    key: ApiKey = request.state.api_key
    return key


Caller = Annotated[ApiKey, Depends(caller_key)]
"""Handler parameter for the authenticated key (routes must be `guarded`)."""
