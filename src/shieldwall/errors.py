"""Domain errors. No HTTP or CLI types here: adapters map these to their own answers."""

from __future__ import annotations


class ShieldwallError(Exception):
    """Base of every error Shieldwall raises on purpose; `code` is stable for clients."""

    code = "shieldwall-error"


class InvalidInputError(ShieldwallError):
    """Input that can never succeed as given (malformed hash, bad name, bad field)."""

    code = "invalid-input"


class MediaError(InvalidInputError):
    """Content that cannot be decoded safely."""

    code = "media-error"


class MediaTooLargeError(MediaError):
    """Content over the byte limit."""

    code = "media-too-large"


class DecompressionBombError(MediaError):
    """Image whose declared pixel count is over the pixel limit."""

    code = "decompression-bomb"


class UnsupportedMediaError(MediaError):
    """Content in a format Shieldwall does not decode."""

    code = "unsupported-media"


class CorruptMediaError(MediaError):
    """Content that claims a supported format but cannot be decoded (truncated, damaged)."""

    code = "corrupt-media"


class InvalidSignalError(InvalidInputError):
    """A signal value that does not fit its type (wrong length, not hex, unknown type)."""

    code = "invalid-signal"


class InvalidFormatError(InvalidInputError):
    """A malformed line or record in an import file."""

    code = "invalid-format"


class NotFoundError(ShieldwallError):
    """A bank or entry that does not exist."""

    code = "not-found"


class ConflictError(ShieldwallError):
    """A request that clashes with the current state (duplicate bank name, withdrawn entry)."""

    code = "conflict"


class StorageError(ShieldwallError):
    """The database could not be reached or is not at the expected schema revision."""

    code = "storage-error"


class UnavailableError(ShieldwallError):
    """A part this deployment has not installed or cannot load (a detector, a model, the
    browser runtime of the enrolment page)."""

    code = "unavailable"


class AuthenticationError(ShieldwallError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthenticated"


class PermissionDeniedError(ShieldwallError):
    """A valid key whose role may not do this."""

    code = "forbidden"


class RateLimitedError(ShieldwallError):
    """Too many requests for this key; try again after `retry_after` seconds."""

    code = "rate-limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchError(InvalidInputError):
    """A URL that may not or could not be fetched (scheme, private address, size, timeout)."""

    code = "fetch-refused"
