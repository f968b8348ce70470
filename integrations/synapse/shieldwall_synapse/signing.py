"""Checks Shieldwall's webhook signatures (docs/webhooks.md in Shieldwall):
`Shieldwall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, refused when
the timestamp is further than the tolerance from this server's clock."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Shieldwall-Signature"


def verified(
    header: str, secret: str, body: bytes, tolerance: int, now: float | None = None
) -> bool:
    """Whether `header` signs `body` under `secret` within `tolerance` seconds."""
    parts = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    stamp = next((value for key, value in parts if key == "t"), "")
    clock = time.time() if now is None else now
    if not stamp.isdigit() or abs(clock - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")
