"""HMA routes for keyless clients on a trusted network (`hma_trusted_networks`).

A request that carries no key (no `X-API-Key`, no `Authorization`) from an address the
operator listed acts as that network's key (access/networks.py): the route still checks
the role's capability and charges the network's own rate bucket. Only HMA routes do this
(HmaRoute calls it); every other route asks for a key whatever the address.
"""

from __future__ import annotations

from fastapi import Request

from shieldwall.access.models import Capability
from shieldwall.access.networks import trusted_key
from shieldwall.web.runtime import Runtime
from shieldwall.web.security import API_KEY_HEADER, accept_without_token


def accept_trusted_network(request: Request, capability: Capability) -> None:
    """Accept the caller as its network's key if it sent none and its network is listed."""
    runtime: Runtime = request.app.state.runtime
    networks = runtime.services.settings.hma_trusted_networks
    if not networks or API_KEY_HEADER in request.headers or "authorization" in request.headers:
        return
    key = trusted_key(networks, request.client.host if request.client else None)
    if key is not None:
        accept_without_token(request, key, capability)
