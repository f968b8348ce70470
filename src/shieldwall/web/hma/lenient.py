"""HMA's lenient reading of JSON values: numbers and booleans may arrive as strings.

HMA validates bodies with pydantic's lax mode, so `"enabled_ratio": "1"` (what ROOST Coop
sends) is 1.0 and `"enabled": "true"` is True. These readers accept the same spellings and
answer HMA's 400 for anything else.
"""

from __future__ import annotations

import math
from typing import Any, Final

from shieldwall.web.hma.errors import abort

_TRUE: Final = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE: Final = frozenset({"0", "false", "f", "no", "n", "off"})
"""pydantic's lax boolean strings, compared case-insensitively."""


def lax_bool(name: str, value: Any) -> bool:
    """A boolean sent as JSON true/false, 0/1 or one of pydantic's strings ("true", "1")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    abort(400, f"{name} must be true or false")


def lax_float(name: str, value: Any) -> float:
    """A finite number sent as a JSON number or a numeric string ("1", "0.5")."""
    if isinstance(value, bool):  # JSON true is not a number, whatever Python thinks
        abort(400, f"{name} must be a number")
    if not isinstance(value, int | float | str):
        abort(400, f"{name} must be a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):  # not numeric, or an integer past float's range
        abort(400, f"{name} must be a number")
    if not math.isfinite(number):
        abort(400, f"{name} must be a number")
    return number
