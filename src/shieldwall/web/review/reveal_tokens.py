"""One-time tokens that let the browser fetch one item's original after an audited reveal.

A token names the item, the session (by the SHA-256 of its CSRF token, which the browser
cannot turn back into a token for another session) and an expiry two minutes on, signed
with HMAC-SHA256 under a key derived from the deployment's data key, so every serving
worker checks it alike. Within a worker a token works once; across workers a token is still
bound to one item, one session, the claim's holder and two minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Final

REVEAL_TTL: Final = timedelta(minutes=2)
"""How long a reveal's token opens the original."""
_USED_KEPT: Final = 4096


class RevealTokens:
    """Makes and checks reveal tokens (see the module's docstring)."""

    def __init__(self, data_key: bytes) -> None:
        self._key = hmac.new(data_key, b"shieldwall review reveal token v1", "sha256").digest()
        self._used: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, item_id: int, csrf_token: str, now: datetime) -> str:
        """A token for this item and session, valid for REVEAL_TTL from `now`."""
        expires = int((now + REVEAL_TTL).timestamp())
        nonce = secrets.token_urlsafe(12)
        body = f"{item_id}.{expires}.{nonce}"
        return f"{body}.{self._sign(body, csrf_token)}"

    def valid(self, token: str, item_id: int, csrf_token: str, now: datetime) -> bool:
        """Whether the token is this session's for this item and not expired (not spent)."""
        parts = token.split(".")
        if len(parts) != 4 or len(token) > 200:
            return False
        item, expires, nonce, signature = parts
        body = f"{item}.{expires}.{nonce}"
        if not hmac.compare_digest(signature, self._sign(body, csrf_token)):
            return False
        if item != str(item_id) or not expires.isdigit():
            return False
        return now.timestamp() < int(expires)

    def spend(self, token: str, item_id: int, csrf_token: str, now: datetime) -> bool:
        """Check the token and mark it used (in this worker); False if invalid or spent."""
        if not self.valid(token, item_id, csrf_token, now):
            return False
        with self._lock:
            if token in self._used:
                return False
            self._used[token] = now
            while len(self._used) > _USED_KEPT:
                self._used.popitem(last=False)
        return True

    def _sign(self, body: str, csrf_token: str) -> str:
        session = hashlib.sha256(csrf_token.encode()).hexdigest()
        mac = hmac.new(self._key, f"{body}|{session}".encode(), "sha256").digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")
