"""The one table from domain errors to HTTP statuses, and HMA's differences from it.

An error's status is that of the most specific class in the table that it is an instance
of (its class, else the nearest base class listed), so a subclass listed anywhere wins over
its base: `MediaTooLargeError` is 413 although it is also an `InvalidInputError` (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from shieldwall import errors

StatusTable = Mapping[type[errors.ShieldwallError], int]

ERROR_STATUSES: Final[StatusTable] = MappingProxyType(
    {
        errors.ShieldwallError: 400,
        errors.InvalidInputError: 422,
        errors.AuthenticationError: 401,
        errors.PermissionDeniedError: 403,
        errors.NotFoundError: 404,
        errors.ConflictError: 409,
        errors.MediaTooLargeError: 413,
        errors.UnsupportedMediaError: 415,
        errors.RateLimitedError: 429,
        errors.StorageError: 503,
        errors.UnavailableError: 503,
    }
)
"""Shieldwall's statuses (native API, victims' API, pages)."""

HMA_OVERRIDES: Final[StatusTable] = MappingProxyType(
    {
        # HMA answers every request it cannot use with 400, content it cannot hash too.
        errors.InvalidInputError: 400,
        errors.UnsupportedMediaError: 400,
    }
)
"""Where the HMA-compatible routes answer differently from ERROR_STATUSES."""


def status_of(error: errors.ShieldwallError, overrides: StatusTable | None = None) -> int:
    """The HTTP status for `error`: ERROR_STATUSES with `overrides` applied."""
    for kind in type(error).__mro__:
        if not issubclass(kind, errors.ShieldwallError):
            break
        if overrides is not None and kind in overrides:
            return overrides[kind]
        if kind in ERROR_STATUSES:
            return ERROR_STATUSES[kind]
    return ERROR_STATUSES[errors.ShieldwallError]
