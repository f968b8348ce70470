"""One table from domain errors to HTTP statuses; the HMA routes differ only by overrides."""

from __future__ import annotations

import pytest

from shieldwall import errors
from shieldwall.web.body_limits import BodyTooLargeError
from shieldwall.web.error_statuses import HMA_OVERRIDES, status_of
from shieldwall.web.hma.errors import status_of as hma_status_of

NATIVE = [
    (errors.ShieldwallError("x"), 400),
    (errors.InvalidInputError("x"), 422),
    (errors.InvalidSignalError("x"), 422),
    (errors.CorruptMediaError("x"), 422),
    (errors.DecompressionBombError("x"), 422),
    (errors.MediaTooLargeError("x"), 413),
    (BodyTooLargeError("x"), 413),
    (errors.UnsupportedMediaError("x"), 415),
    (errors.NotFoundError("x"), 404),
    (errors.ConflictError("x"), 409),
    (errors.StorageError("x"), 503),
    (errors.AuthenticationError("x"), 401),
    (errors.PermissionDeniedError("x"), 403),
    (errors.RateLimitedError("x", 1.0), 429),
]
"""Written out by hand: what each error answers on the native API."""
HMA_DIFFERENCES: dict[type[errors.ShieldwallError], int] = {
    errors.InvalidInputError: 400,
    errors.InvalidSignalError: 400,
    errors.CorruptMediaError: 400,
    errors.DecompressionBombError: 400,
    errors.UnsupportedMediaError: 400,
}
"""HMA answers 400 for whatever it cannot use; everything else as natively."""


@pytest.mark.parametrize(("error", "status"), NATIVE, ids=lambda v: type(v).__name__)
def test_native_statuses(error: errors.ShieldwallError, status: int) -> None:
    assert status_of(error) == status


@pytest.mark.parametrize(("error", "status"), NATIVE, ids=lambda v: type(v).__name__)
def test_hma_statuses_are_the_native_ones_but_for_the_overrides(
    error: errors.ShieldwallError, status: int
) -> None:
    assert hma_status_of(error) == HMA_DIFFERENCES.get(type(error), status)
    assert status_of(error, HMA_OVERRIDES) == hma_status_of(error)


def test_a_subclass_listed_wins_over_its_overridden_base() -> None:
    # InvalidInputError is 400 for HMA, but MediaTooLargeError (one of them) stays 413.
    assert hma_status_of(errors.MediaTooLargeError("x")) == 413
