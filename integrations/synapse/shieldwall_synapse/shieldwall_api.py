"""Shieldwall's HTTP API as the module uses it, through Synapse's own HTTP client: screen
an upload, and say what became of a copy a sweep found. Every call is bounded by the
configured time budget."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from twisted.internet import defer

from shieldwall_synapse.outbound import bounded_request

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi

    from shieldwall_synapse.config import ModuleConfig

logger = logging.getLogger(__name__)


class Verdict(StrEnum):
    """What Shieldwall answered, or why it could not."""

    BLOCK = "block"
    REVIEW = "review"
    ALLOW = "allow"
    UNSCREENABLE = "unscreenable"  # not an image Shieldwall can read (415/422), or too big (413)
    UNAVAILABLE = "unavailable"  # down, too slow, refused the key, or answered 5xx


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    detail: str = ""
    review_item: int | None = None


class ShieldwallApi:
    """Calls Shieldwall with the module's screener key."""

    def __init__(self, api: ModuleApi, config: ModuleConfig) -> None:
        self._api = api
        self._config = config

    async def screen(self, content: bytes, content_ref: str) -> Screened:
        """POST /api/v1/lookup with the bytes; `queue=true` opens a review item for a
        `review` verdict (Shieldwall keeps the content sealed for the reviewer)."""
        query = {"content_ref": content_ref[:2000]}
        if self._config.queue_reviews:
            query["queue"] = "true"
        try:
            status, body = await self._bounded(
                "POST", f"/api/v1/lookup?{urlencode(query)}", content, "application/octet-stream"
            )
        except Exception as exc:
            return Screened(Verdict.UNAVAILABLE, _reason(exc))
        if status in (413, 415, 422):
            return Screened(Verdict.UNSCREENABLE, f"HTTP {status}")
        if status != 200:
            return Screened(Verdict.UNAVAILABLE, f"HTTP {status}")
        verdict = body.get("verdict")
        if verdict not in ("block", "review", "allow"):
            return Screened(Verdict.UNAVAILABLE, "an answer without a verdict")
        item = body.get("review_item") or {}
        return Screened(Verdict(verdict), review_item=item.get("id"))

    async def report_copy(self, copy_id: int, outcome: str) -> bool:
        """POST /api/v1/sweeps/copies/{id}: what became of a copy a sweep found."""
        payload = json.dumps({"outcome": outcome}).encode()
        try:
            status, _ = await self._bounded(
                "POST", f"/api/v1/sweeps/copies/{int(copy_id)}", payload, "application/json"
            )
        except Exception as exc:
            logger.warning("Shieldwall: could not report copy %s: %s", copy_id, _reason(exc))
            return False
        return status == 200

    async def _bounded(
        self, method: str, path: str, body: bytes, content_type: str
    ) -> tuple[int, dict[str, Any]]:
        """One request to Shieldwall and its JSON answer, within the time budget."""
        headers = {
            "X-API-Key": self._config.api_key.read(),
            "Content-Type": content_type,
            "User-Agent": "shieldwall-synapse/0.1",
        }
        status, raw = await bounded_request(
            self._api,
            method,
            self._config.shieldwall_url + path,
            body,
            headers,
            self._config.timeout,
        )
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        return status, answer if isinstance(answer, dict) else {}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, defer.TimeoutError | defer.CancelledError):
        return "no answer within the time budget"
    return f"{type(exc).__name__}: {exc}"[:300]
