"""Receipt numbers and secrets people keep for what they filed (a case, an enrolment).

A number is a prefix and 40 random bits in Crockford base32 (`SW-7K3M-Q9TD`): easy to read
out and type, with no I, L, O or U. A separate secret, shown once, is stored only as its
SHA-256 hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_NUMBER_GROUPS, _GROUP = 2, 4
SECRET_BYTES: Final = 18
"""Random bytes of a secret (24 URL-safe characters)."""


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a secret: the only form in which it is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


_DUMMY_HASH: Final = hashlib.sha256(b"shieldwall: no such receipt").hexdigest()


def secret_matches(stored: str | None, secret: object) -> bool:
    """Whether `secret` is the one whose hash is `stored` (None: no such receipt). The same
    work either way, one SHA-256 and one constant-time comparison (against a dummy when
    there is nothing stored), so a wrong secret and an unknown number cost alike."""
    given = hash_secret(secret) if isinstance(secret, str) else ""
    same = hmac.compare_digest(stored if stored is not None else _DUMMY_HASH, given)
    return same and stored is not None


def new_secret() -> str:
    """A new secret (show it once)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_number(prefix: str) -> str:
    """`<prefix>-XXXX-XXXX` with 40 random bits."""
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP)) for _ in range(_NUMBER_GROUPS)
    )
    return f"{prefix}-" + "-".join(groups)


def normalise_number(value: str, prefix: str) -> str:
    """A number as typed (any case, spaces, O for 0...) in its canonical form."""
    text = value.strip().upper().replace(" ", "").translate(str.maketrans("OIL", "011"))
    bare = text.replace("-", "")
    if len(bare) == len(prefix) + _NUMBER_GROUPS * _GROUP and bare.startswith(prefix):
        # Typed without its hyphens (SWABCD1234): put them back where they belong.
        digits = bare[len(prefix) :]
        groups = [digits[i : i + _GROUP] for i in range(0, len(digits), _GROUP)]
        return f"{prefix}-" + "-".join(groups)
    return text
