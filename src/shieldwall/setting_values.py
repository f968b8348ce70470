"""Coercion of one setting's value, shared by the settings of the service and of the
Telegram guard: a clear error names the setting and what it takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shieldwall.errors import InvalidInputError


def coerce_bounded(name: str, value: Any, low: int, high: int) -> int:
    """`value` as an integer from `low` to `high`, or InvalidInputError naming `name`."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"setting {name} must be an integer, got {value!r}") from exc
    if not low <= number <= high:
        raise InvalidInputError(f"setting {name} must be {low} to {high}, got {number}")
    return number


def bounded(low: int, high: int) -> Callable[[str, Any], int]:
    """A coercer of integers from `low` to `high`."""
    return lambda name, value: coerce_bounded(name, value, low, high)
