"""HMA's error answers: `{"message": ...}` with HMA's status codes.

Authentication, role and rate-limit refusals stay Shieldwall's problem+json (HMA has none),
and so does HMA's one 403 (bank name taken), which also carries HMA's `message`.
"""

from __future__ import annotations

from typing import Final, NoReturn

from fastapi.responses import JSONResponse

from shieldwall import errors
from shieldwall.web.error_statuses import HMA_OVERRIDES
from shieldwall.web.error_statuses import status_of as error_status


class HmaError(Exception):
    """An answer in HMA's error shape: `{"message": ...}` with an HTTP status."""

    def __init__(self, status: int, message: str, problem_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problem_code = problem_code


def abort(status: int, message: str) -> NoReturn:
    """Stop the request with HMA's error body (Flask's `abort`, as HMA uses it)."""
    raise HmaError(status, message)


def abort_name_taken(message: str) -> NoReturn:
    """HMA's 403 for a bank name in use.

    Shieldwall's own 403 (a key's role may not do this) is problem+json, so this one is
    too, and it also carries HMA's `message`: one shape per status for every client.
    """
    raise HmaError(403, message, problem_code="bank-name-taken")


def hma_error(status: int, message: str) -> JSONResponse:
    """HMA's error body."""
    return JSONResponse({"message": message}, status_code=status)


PASS_THROUGH: Final = (
    errors.AuthenticationError,
    errors.PermissionDeniedError,
    errors.RateLimitedError,
)
"""Shieldwall's own refusals: they keep their problem+json answers."""


def status_of(error: errors.ShieldwallError) -> int:
    """HMA's status for a domain error: the one table with HMA's overrides (400 for invalid
    input and unsupported content; web/error_statuses.py)."""
    return error_status(error, HMA_OVERRIDES)
