"""Sealing sensitive fields at rest: AES-256-GCM with a data key kept outside the database.

Reports hold the reporter's contact details (name, email, signature, statement of
authority). A copy of the database alone (a backup, a replica, a leaked dump) must not
reveal them, so they are stored sealed: `v1:` + base64(nonce + ciphertext), bound to the
row they belong to (the case number is the associated data, so a sealed report cannot be
moved to another case). The key comes from `data_key` (base64 of 32 bytes, e.g. from a
secrets manager) or, on a single machine, from `data.key` in the data directory, created
on first use with owner-only permissions. Losing the key loses the sealed fields.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.storage.engine import tighten_mode

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
PREFIX: Final = "v1:"
KEY_FILE: Final = "data.key"


class Sealer:
    """Seals and opens text with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise InvalidInputError(f"the data key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def seal(self, text: str, context: str) -> str:
        """`text` sealed for `context` (the row it belongs to)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), context.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def seal_bytes(self, data: bytes, context: str) -> bytes:
        """`data` sealed for `context`: nonce + ciphertext (for binary columns)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, context.encode("utf-8"))

    def open_bytes(self, sealed: bytes, context: str) -> bytes:
        """The data `seal_bytes` sealed for `context`; StorageError if the key or row is
        wrong, or the data was altered."""
        try:
            return self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode("utf-8")
            )
        except (InvalidTag, ValueError):
            raise StorageError("sealed data cannot be opened with this data key") from None

    def open(self, value: str, context: str) -> str:
        """The text `seal` sealed for `context`; StorageError if the key or row is wrong."""
        if not value.startswith(PREFIX):
            raise StorageError("a sealed field is not in a known format")
        try:
            raw = base64.b64decode(value[len(PREFIX) :], validate=True)
            opened = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8")
            )
        except (InvalidTag, ValueError, binascii.Error):
            raise StorageError("a sealed field cannot be opened with this data key") from None
        return opened.decode("utf-8")


def load_data_key(configured: str, home: Path) -> bytes:
    """The data key: `configured` (base64) if set, else the key file under `home` (made once)."""
    if configured:
        try:
            key = base64.b64decode(configured, validate=True)
        except (ValueError, binascii.Error):
            raise InvalidInputError("data_key must be base64 of 32 random bytes") from None
        if len(key) != KEY_BYTES:
            raise InvalidInputError("data_key must be base64 of 32 random bytes")
        return key
    path = home / KEY_FILE
    if not path.exists():
        _make_key_file(path)
    tighten_mode(path)  # a key file copied in (or restored) with looser permissions
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise StorageError(f"{path} is not a {KEY_BYTES}-byte data key")
    return key


def _make_key_file(path: Path) -> None:
    """Write a new key beside `path`, then link it into place: a process starting at the same
    moment sees either no key file or a whole one, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(secrets.token_bytes(KEY_BYTES))
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: keep theirs
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
