"""The quarantine store in sealed files: one file per content address under `<home>/quarantine/`.

Each file is `header + nonce + AES-256-GCM(content)`. The header (`SWQ`, a version byte,
the retain-until time as microseconds since 1970 UTC, big-endian) is in the clear so that
`sweep` and `usage` read no content; the header and the address are the associated data,
so a file cannot be moved to another address nor its retention edited without `get`
refusing it. A random 96-bit nonce per file. The folder is 0700 and the files 0600;
files are written beside their place, fsynced, then renamed into it, so a reader sees a
whole file or none. Deletion unlinks the file (no overwriting: the content is encrypted
at rest, and the key is what protects it).

The key is `quarantine_key` (base64 of 32 bytes) if set, else derived from the data key
(storage/sealing.py) with HKDF-SHA256 and a context of its own, so one data key serves
both and neither key opens the other's data.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import logging
import os
import secrets
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shieldwall.clock import Clock, utc_now
from shieldwall.errors import InvalidInputError, StorageError
from shieldwall.review.quarantine import (
    QuarantineUsage,
    check_address,
    check_retention,
    content_address,
    not_found,
)
from shieldwall.storage.engine import tighten_mode
from shieldwall.storage.sealing import KEY_BYTES, NONCE_BYTES, load_data_key

log = logging.getLogger(__name__)

FOLDER: Final = "quarantine"
MAGIC: Final = b"SWQ"
VERSION: Final = 1
_HEADER = struct.Struct(">3sBq")  # magic, version, retain-until (microseconds since 1970 UTC)
HEADER_BYTES: Final = _HEADER.size
_LOCK_FILE: Final = ".lock"
_HKDF_CONTEXT: Final = b"shieldwall quarantine key v1"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def quarantine_key(configured: str, data_key: bytes) -> bytes:
    """The quarantine key: `configured` (base64 of 32 bytes) if set, else one derived from
    `data_key` with HKDF-SHA256 and the quarantine's own context."""
    if configured:
        try:
            key = base64.b64decode(configured, validate=True)
        except (ValueError, binascii.Error):
            key = b""
        if len(key) != KEY_BYTES:
            raise InvalidInputError("quarantine_key must be base64 of 32 random bytes")
        return key
    derive = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_HKDF_CONTEXT)
    return derive.derive(data_key)


def load_quarantine_key(configured: str, data_key: str, home: Path) -> bytes:
    """The quarantine key from the settings: its own, or derived from the data key."""
    if configured:
        return quarantine_key(configured, b"")
    return quarantine_key("", load_data_key(data_key, home))


class FileQuarantine:
    """A QuarantineStore of sealed files in one folder (see the module's docstring)."""

    def __init__(self, folder: Path, key: bytes, clock: Clock = utc_now) -> None:
        if len(key) != KEY_BYTES:
            raise InvalidInputError(f"the quarantine key must be {KEY_BYTES} bytes")
        self._folder = folder
        self._aead = AESGCM(key)
        self._clock = clock

    @classmethod
    def in_home(cls, home: Path, key: bytes, clock: Clock = utc_now) -> FileQuarantine:
        """The store under `home/quarantine` (the folder is made on first write)."""
        return cls(home / FOLDER, key, clock)

    @property
    def folder(self) -> Path:
        return self._folder

    def put(self, content: bytes, retain_until: datetime) -> str:
        check_retention(retain_until, self._clock())
        address = content_address(content)
        with self._locked():
            kept = self._retain_until(self._path(address))
            if kept is None or kept < retain_until:
                self._write(address, content, retain_until)
        return address

    def get(self, address: str) -> bytes:
        path = self._path(check_address(address))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise not_found(address) from None
        header = data[:HEADER_BYTES]
        retain_until = _parse_header(header)
        if retain_until is None:
            raise StorageError(f"quarantined content {address} is not in a known format")
        if retain_until <= self._clock():
            raise not_found(address)
        sealed = data[HEADER_BYTES:]
        try:
            content = self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], header + address.encode("ascii")
            )
        except (InvalidTag, ValueError):
            raise StorageError(
                f"quarantined content {address} cannot be opened: altered, or another key"
            ) from None
        if content_address(content) != address:  # sealed under this address by someone else
            raise StorageError(f"quarantined content {address} does not match its address")
        return content

    def delete(self, address: str) -> None:
        path = self._path(check_address(address))
        if not self._folder.is_dir():  # nothing ever kept: make no folder
            return
        with self._locked():
            path.unlink(missing_ok=True)

    def sweep(self, now: datetime) -> int:
        removed = 0
        if not self._folder.is_dir():
            return removed
        with self._locked():
            self._remove_drafts()
            for path in self._items():
                retain_until = self._retain_until(path)
                if retain_until is None:
                    # Unreadable header: no one can open it; it must not linger forever.
                    log.warning("removing quarantined file %s: not in a known format", path.name)
                elif retain_until > now:
                    continue
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def usage(self) -> QuarantineUsage:
        count = size = 0
        for path in self._items():
            with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                size += path.stat().st_size
                count += 1
        return QuarantineUsage(count=count, bytes=size)

    def _remove_drafts(self) -> None:
        """Drafts left by a writer that died mid-write (call with the lock held: a live
        writer holds it from its draft to the rename, so every draft seen here is dead)."""
        for name in os.listdir(self._folder):
            if name.startswith(".") and name != _LOCK_FILE:
                (self._folder / name).unlink(missing_ok=True)

    def _path(self, address: str) -> Path:
        return self._folder / address

    def _items(self) -> Iterator[Path]:
        """Every item's file (drafts and the lock file have names starting with a dot)."""
        try:
            names = sorted(os.listdir(self._folder))
        except FileNotFoundError:
            return
        for name in names:
            if not name.startswith("."):
                yield self._folder / name

    def _retain_until(self, path: Path) -> datetime | None:
        """The retain-until time in `path`'s header; None if absent or not readable."""
        try:
            with path.open("rb") as stream:
                return _parse_header(stream.read(HEADER_BYTES))
        except FileNotFoundError:
            return None

    def _write(self, address: str, content: bytes, retain_until: datetime) -> None:
        header = _HEADER.pack(MAGIC, VERSION, _microseconds(retain_until))
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, content, header + address.encode("ascii"))
        draft = self._folder / f".{address}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(header + nonce + sealed)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(draft, self._path(address))
        finally:
            draft.unlink(missing_ok=True)
        _fsync_folder(self._folder)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Writers one at a time, across threads and processes (reads need no lock: files
        are replaced whole)."""
        self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tighten_mode(self._folder)
        descriptor = os.open(self._folder / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _parse_header(header: bytes) -> datetime | None:
    if len(header) != HEADER_BYTES:
        return None
    magic, version, micros = _HEADER.unpack(header)
    if magic != MAGIC or version != VERSION:
        return None
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
