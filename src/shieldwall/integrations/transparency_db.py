"""The EU DSA Transparency Database's API over HTTP: the review layer's TransparencyDatabase.

`POST /api/v1/statements` ({"statements": [...]}, 1 to 100), `POST /api/v1/statement` and
`GET /api/v1/statement/existing-puid/{puid}` (302 known, 404 unknown: redirects are never
followed), with the platform's Bearer token (../shared/reference/review.md). Only 201 is
stored. A 422 is a refusal (its per-field reasons are kept); no answer, a server error or
anything else is a failure to retry. A refused token (401, 403) stops the run with an
UnavailableError: no statement could be sent. The token is never logged or put in an error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import httpx

from shieldwall.errors import InvalidInputError, UnavailableError
from shieldwall.review.tdb_submissions import Answer, BatchOutcome, Statement

TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)
"""A bulk request of 100 statements may take a while to be validated and stored."""
STATEMENTS_PATH: Final = "/api/v1/statements"
STATEMENT_PATH: Final = "/api/v1/statement"
EXISTING_PUID_PATH: Final = "/api/v1/statement/existing-puid/"
_MAX_DETAIL: Final = 1000
_log = logging.getLogger("shieldwall.tdb")


class HttpTransparencyDatabase:
    """TransparencyDatabase on the real API (or anything that speaks it); close when done."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError("tdb_url must be the database's http(s) base URL")
        if not token.strip():
            raise InvalidInputError("tdb_token is not set: the database needs the API token")
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token.strip()}",
                # Without it, a Laravel API answers a refusal with a redirect, not JSON.
                "Accept": "application/json",
                "User-Agent": "Shieldwall",
            },
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    def submit(self, batch: Sequence[Statement]) -> BatchOutcome:
        """Send 1 to 100 statements in one request."""
        return self._post(STATEMENTS_PATH, {"statements": list(batch)}, len(batch))

    def submit_one(self, statement: Statement) -> BatchOutcome:
        """Send one statement."""
        return self._post(STATEMENT_PATH, dict(statement), 1)

    def exists(self, puid: str) -> bool:
        """Whether the database holds the puid (302) or not (404); UnavailableError else."""
        try:
            response = self._client.get(EXISTING_PUID_PATH + quote(puid, safe=""))
        except httpx.HTTPError as exc:
            raise UnavailableError(_no_answer(exc)) from None
        _refuse_token(response)
        if response.status_code in (302, 404):
            return response.status_code == 302
        raise UnavailableError(f"HTTP {response.status_code}: {_reasons(response)}")

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def __enter__(self) -> HttpTransparencyDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any], count: int) -> BatchOutcome:
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            _log.warning("tdb %s: %d statement(s), no answer (%s)", path, count, type(exc).__name__)
            return BatchOutcome(Answer.FAILED, _no_answer(exc))
        _log.info("tdb %s: %d statement(s), HTTP %d", path, count, response.status_code)
        _refuse_token(response)
        if response.status_code == 201:
            return BatchOutcome(Answer.STORED)
        if response.status_code == 422:
            return BatchOutcome(Answer.REFUSED, f"refused (422): {_reasons(response)}")
        return BatchOutcome(Answer.FAILED, f"HTTP {response.status_code}: {_reasons(response)}")


def _refuse_token(response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise UnavailableError(
            f"the Transparency Database refused the token (HTTP {response.status_code}): "
            "check tdb_token"
        )


def _no_answer(exc: httpx.HTTPError) -> str:
    return f"no answer from the Transparency Database ({type(exc).__name__}: {exc})"


def _reasons(response: httpx.Response) -> str:
    """The answer's per-field errors (`field: message; ...`), else its message, briefly."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text.strip()[:_MAX_DETAIL] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:_MAX_DETAIL]
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        parts = [f"{field}: {_messages(value)}" for field, value in errors.items()]
        return "; ".join(parts)[:_MAX_DETAIL]
    return str(body.get("message") or response.reason_phrase)[:_MAX_DETAIL]


def _messages(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_messages(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_messages(v)}" for k, v in value.items())
    return str(value)
