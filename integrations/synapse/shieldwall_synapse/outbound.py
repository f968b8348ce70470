"""One bounded HTTP request through Synapse's own client, shared by the calls to
Shieldwall and to Synapse's admin API: cancelled when its time budget runs out, the
answer read whole up to a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from synapse.module_api import make_deferred_yieldable, run_in_background
from twisted.internet import reactor
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

MAX_ANSWER = 1024 * 1024


async def bounded_request(
    api: ModuleApi,
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> tuple[int, bytes]:
    """(status, body) of one request; twisted's TimeoutError past `timeout` seconds."""
    running = run_in_background(_request, api, method, url, body, headers)
    running.addTimeout(timeout, reactor)
    status, answer = await make_deferred_yieldable(running)
    return status, answer


async def _request(
    api: ModuleApi, method: str, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    response = await api.http_client.request(
        method, url, data=body, headers=Headers({k: [v] for k, v in headers.items()})
    )
    raw = await make_deferred_yieldable(readBody(response))
    if len(raw) > MAX_ANSWER:
        raise ValueError("answer too large")
    return int(response.code), raw
