"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, in one header.

    Shieldwall-Signature: t=1733312400,v1=5257a869e7ecebed...

`v1` is the hex HMAC-SHA256, under the endpoint's secret, of `"{t}.{body}"` (the body as
sent, bytes). A receiver recomputes it, compares in constant time, and refuses a timestamp
further than its tolerance from its own clock (5 minutes is usual): a captured delivery
cannot be replayed later. While a secret is being rotated the header carries one `v1` per
secret. No I/O here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

HEADER: Final = "Shieldwall-Signature"
DEFAULT_TOLERANCE: Final = 300
"""Seconds a receiver should accept between the timestamp and its own clock."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header's value: the timestamp and one `v1` per secret."""
    parts = [f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)]
    return ",".join(parts)


def verify(
    header: str, secret: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """Whether the header signs `body` under `secret` at a time within `tolerance` of `now`
    (what a receiver runs; Shieldwall's own tests run it too)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
