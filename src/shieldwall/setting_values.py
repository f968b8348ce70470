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


def http_url(name: str, value: Any) -> str:
    """An http(s) base URL without its trailing slash (paths are appended to it, so no
    query or fragment), or "" (unset)."""
    text = str(value).strip().rstrip("/")
    scheme, _, rest = text.partition("://")
    if text and (
        scheme.lower() not in {"http", "https"}
        or not rest.split("/", 1)[0]
        or any(c.isspace() or c in "?#" for c in text)
    ):
        raise InvalidInputError(f"setting {name} must be an http(s) URL, got {value!r}")
    return text


def text(_name: str, value: Any) -> str:
    """A free text setting, trimmed."""
    return str(value).strip()
