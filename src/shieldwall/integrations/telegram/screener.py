"""Shieldwall's HTTP API as the guard uses it, with a screener key: file lookups that name
the message (`queue=true`, so a `review` verdict opens a review item), the known copies
that confirm decisions found among its lookups and what it did with them, and the outcome
of the items it queued. The key never appears in an error or a log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal

import httpx

from shieldwall.errors import AuthenticationError
from shieldwall.integrations.telegram.messages import MessageRef

log = logging.getLogger("shieldwall.telegram")

MAX_RATE_WAITS: Final = 5
_TIMEOUT: Final = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
_REMOVES: Final = frozenset({"remove", "restrict"})  # in a chat, restricting is deleting


class Verdict(StrEnum):
    """A lookup's verdict."""

    BLOCK = "block"
    REVIEW = "review"
    ALLOW = "allow"


@dataclass(frozen=True)
class Screening:
    """What Shieldwall said of an image: the verdict, and the review item it opened."""

    verdict: Verdict
    review_item: int | None = None


@dataclass(frozen=True)
class KnownCopy:
    """A copy of confirmed content among the guard's lookups: a message to remove."""

    id: int
    content_ref: str


@dataclass(frozen=True)
class ItemOutcome:
    """What became of a queued image: decided yet, and whether the message must go."""

    decided: bool
    remove: bool


class ShieldwallUnavailable(Exception):  # noqa: N818 (a state, not a failure of ours)
    """Shieldwall could not be reached, answered 5xx, or kept answering 429."""


class NotScreenableError(Exception):
    """Shieldwall cannot hash the content (not an image it decodes, corrupt, too large)."""


class ShieldwallKeyError(AuthenticationError):
    """Shieldwall refused the guard's key (401 or 403)."""


def _retry_after(answer: httpx.Response) -> float:
    text = answer.headers.get("retry-after", "")
    try:
        return min(max(float(text), 0.0), 300.0)
    except ValueError:
        return 1.0


class ShieldwallClient:
    """The guard's calls to Shieldwall over one HTTP client."""

    def __init__(
        self,
        url: str,
        key: str,
        client: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url.rstrip("/")
        self._headers = {"X-API-Key": key}
        self._client = client
        self._sleep = sleep

    def lookup(self, content: bytes, ref: MessageRef) -> Screening:
        """Screen an image posted as the message `ref`; review verdicts are queued."""
        answer = self._request(
            "POST",
            "/api/v1/lookup",
            params={"queue": "true", "content_ref": ref.content_ref},
            content=content,
            headers={"content-type": "application/octet-stream"},
        )
        if answer.status_code in (413, 415, 422):
            raise NotScreenableError(f"lookup: HTTP {answer.status_code}")
        body = _json(answer, "lookup")
        try:
            verdict = Verdict(body["verdict"])
        except (KeyError, ValueError):
            raise ShieldwallUnavailable("Shieldwall lookup: no verdict in the answer") from None
        item = body.get("review_item")
        item_id = item.get("id") if isinstance(item, dict) else None
        return Screening(verdict, item_id if isinstance(item_id, int) else None)

    def known_copies(self) -> list[KnownCopy]:
        """The copies confirm decisions found among the guard's lookups, not yet answered."""
        body = _json(self._request("GET", "/api/v1/sweeps/copies"), "copies")
        copies = body.get("copies")
        return [
            KnownCopy(copy["id"], copy["content_ref"])
            for copy in (copies if isinstance(copies, list) else [])
            if isinstance(copy, dict)
            and isinstance(copy.get("id"), int)
            and isinstance(copy.get("content_ref"), str)
        ]

    def report_copy(self, copy_id: int, outcome: Literal["removed", "not_found"]) -> None:
        """Say what became of a copy (a copy no longer the guard's to answer is skipped)."""
        answer = self._request(
            "POST", f"/api/v1/sweeps/copies/{copy_id}", json={"outcome": outcome}
        )
        if answer.status_code != 200:
            log.warning(
                "copy outcome not recorded", extra={"copy": copy_id, "status": answer.status_code}
            )

    def item_outcome(self, item_id: int) -> ItemOutcome | None:
        """The outcome of an item the guard's lookup queued; None if Shieldwall has no such
        item for this key (it will never be decided for the guard)."""
        answer = self._request("GET", f"/api/v1/lookup/items/{item_id}")
        if answer.status_code == 404:
            return None
        body = _json(answer, "item")
        outcome = body.get("outcome")
        return ItemOutcome(
            decided=outcome is not None,
            remove=outcome == "confirmed" and body.get("action") in _REMOVES,
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, waiting out 429s as Shieldwall asks; Unavailable for 5xx or no answer."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        for _ in range(MAX_RATE_WAITS + 1):
            try:
                answer = self._client.request(
                    method, f"{self._url}{path}", headers=headers, timeout=_TIMEOUT, **kwargs
                )
            except httpx.TransportError as exc:
                raise ShieldwallUnavailable(f"Shieldwall {path}: {type(exc).__name__}") from None
            if answer.status_code == 429:
                wait = _retry_after(answer)
                log.warning("shieldwall rate limit", extra={"path": path, "retry_after": wait})
                self._sleep(wait)
                continue
            if answer.status_code in (401, 403):
                raise ShieldwallKeyError(
                    f"Shieldwall refused the guard's key ({answer.status_code}): check "
                    "telegram_shieldwall_key (a screener key: "
                    "shieldwall key create --role screener)"
                )
            if answer.status_code >= 500:
                raise ShieldwallUnavailable(f"Shieldwall {path}: HTTP {answer.status_code}")
            return answer
        raise ShieldwallUnavailable(f"Shieldwall {path}: rate-limited {MAX_RATE_WAITS} times")


def _json(answer: httpx.Response, what: str) -> dict[str, Any]:
    if answer.status_code != 200:
        raise ShieldwallUnavailable(f"Shieldwall {what}: HTTP {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ShieldwallUnavailable(f"Shieldwall {what}: the answer is not a JSON object")
    return body
