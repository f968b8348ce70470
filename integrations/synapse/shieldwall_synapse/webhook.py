"""The endpoint Shieldwall's webhooks reach on Synapse's listener (`webhook_path`): a
signed event naming confirmed media of this server's lookups takes them down.

- `lookup.verdict` / `review.decided` with decision `confirm`: the upload a review
  verdict let through was confirmed (its `content_ref` is the mxc:// URI).
- `sweep.copies`: a later confirmation (a report, a likeness finding) found copies among
  the uploads this server screened; each is taken down and its outcome reported back.

The answer is 200 once the work is done; an error answers 500 so Shieldwall retries."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from synapse.module_api import run_in_background
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from shieldwall_synapse.refs import media_of
from shieldwall_synapse.signing import HEADER, verified

if TYPE_CHECKING:
    from twisted.web.server import Request

    from shieldwall_synapse.config import ModuleConfig
    from shieldwall_synapse.shieldwall_api import ShieldwallApi
    from shieldwall_synapse.takedown import Takedown

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


class WebhookResource(Resource):
    isLeaf = True  # noqa: N815 - Twisted's name

    def __init__(self, config: ModuleConfig, takedown: Takedown, api: ShieldwallApi) -> None:
        super().__init__()
        self._config = config
        self._takedown = takedown
        self._api = api

    def render_POST(self, request: Request) -> int:  # noqa: N802 - Twisted's name
        run_in_background(self._answer, request)
        return int(NOT_DONE_YET)

    def render_GET(self, request: Request) -> bytes:  # noqa: N802 - Twisted's name
        request.setResponseCode(405)
        request.setHeader(b"Allow", b"POST")
        return b""

    async def _answer(self, request: Request) -> None:
        try:
            status, answer = await self._handle(request)
        except Exception:
            logger.exception("Shieldwall webhook failed")
            status, answer = 500, {"error": "the takedown failed; retry later"}
        request.setResponseCode(status)
        request.setHeader(b"Content-Type", b"application/json")
        request.write(json.dumps(answer).encode())
        request.finish()

    async def _handle(self, request: Request) -> tuple[int, dict[str, Any]]:
        assert request.content is not None
        assert self._config.webhook_secret is not None
        body = request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return 413, {"error": "body too large"}
        header = (request.getHeader(HEADER) or "").strip()
        secret = self._config.webhook_secret.read()
        if not verified(header, secret, body, self._config.webhook_tolerance):
            return 401, {"error": "bad or stale signature"}
        try:
            event = json.loads(body)
            name, data = event["event"], event["data"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "not a Shieldwall event"}
        if name in ("lookup.verdict", "review.decided"):
            return 200, await self._decided(data)
        if name == "sweep.copies":
            return 200, await self._copies(data)
        return 200, {"ignored": name}

    async def _decided(self, data: dict[str, Any]) -> dict[str, Any]:
        media = media_of(str(data.get("content_ref") or ""))
        if data.get("decision") != "confirm" or media is None:
            return {"ignored": "not a confirmed upload of this server"}
        outcome = await self._takedown.take_down(media)
        return {
            "media": media.mxc,
            "redacted": outcome.redacted,
            "failed": outcome.failed,
            "quarantined": outcome.quarantined,
        }

    async def _copies(self, data: dict[str, Any]) -> dict[str, Any]:
        done = []
        for copy in data.get("copies") or []:
            media = media_of(str(copy.get("content_ref") or ""))
            if media is None:
                continue
            outcome = await self._takedown.take_down(media)
            result = "removed" if outcome.removed else "not_found"
            await self._api.report_copy(int(copy["id"]), result)
            done.append(
                {
                    "id": copy["id"],
                    "media": media.mxc,
                    "outcome": result,
                    "redacted": outcome.redacted,
                }
            )
        return {"copies": done}
