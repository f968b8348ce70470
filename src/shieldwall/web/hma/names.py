"""HMA's names for Shieldwall's things: content types, signal types and banks.

Shieldwall presents itself as an HMA deployment whose photo content type has three
signal types enabled: `pdq`, `md5` and `sha256` (Shieldwall's own names). HMA bank names
are Shieldwall bank names in upper case (`MY_BANK` is Shieldwall's `my_bank`); HMA content
ids are Shieldwall entry ids. docs/hma.md lists the whole mapping.
"""

from __future__ import annotations

import re
from typing import Final

from shieldwall import errors
from shieldwall.banks.models import MAX_BANK_NAME, validate_bank_name
from shieldwall.signals.models import SIGNAL_TYPES, signal_kind
from shieldwall.web.hma.errors import abort

PHOTO: Final = "photo"
CONTENT_TYPES: Final = (PHOTO,)
"""HMA content types Shieldwall can hash (the multipart field is named after one)."""
SIGNAL_TYPE_NAMES: Final = tuple(SIGNAL_TYPES)
"""HMA signal types: Shieldwall's registry, all enabled for photos."""

# HMA also allows a leading '_'; Shieldwall bank names start with a letter or digit.
_HMA_BANK_NAME: Final = re.compile(r"[A-Z][A-Z0-9_]*")
BANK_NAME_MESSAGE: Final = "Bank names must be UPPER_WITH_UNDERSCORE, starting with a letter"


def known_signal_type(name: str) -> str:
    """A signal type HMA callers may name, or HMA's 400 for one this server lacks."""
    if name not in SIGNAL_TYPES:
        abort(400, f"No such SignalType '{name}'")
    return signal_kind(name).name


def hma_bank_name(name: str) -> str:
    """The HMA name of a Shieldwall bank: its name in upper case."""
    return name.upper()


def shieldwall_bank_name(hma_name: str) -> str | None:
    """The Shieldwall bank an HMA name refers to, or None if it cannot name one.

    Only the upper-case spelling names a bank, as in HMA (names are case-sensitive there),
    so `my_bank` is not an alias of `MY_BANK`.
    """
    if hma_name != hma_name.upper():
        return None
    candidate = hma_name.lower()
    try:
        return validate_bank_name(candidate)
    except errors.InvalidInputError:
        return None


def bank_name_or_404(hma_name: str) -> str:
    """The Shieldwall name for a bank in a path, or HMA's 404."""
    name = shieldwall_bank_name(hma_name)
    if name is None:
        abort(404, f"bank '{hma_name}' not found")
    return name


def new_bank_name(hma_name: object) -> str:
    """The Shieldwall name for a bank being created or renamed; HMA's 400 if not allowed."""
    if not isinstance(hma_name, str) or not _HMA_BANK_NAME.fullmatch(hma_name):
        abort(400, BANK_NAME_MESSAGE)
    if len(hma_name) > MAX_BANK_NAME:
        abort(400, f"{BANK_NAME_MESSAGE} and at most {MAX_BANK_NAME} characters long")
    return hma_name.lower()


def bank_filter(banks: str | None) -> set[str] | None:
    """HMA's comma-separated `banks` parameter as Shieldwall names (unknown names match none)."""
    if banks is None or banks == "":
        return None
    names = (shieldwall_bank_name(part.strip()) for part in banks.split(","))
    return {name for name in names if name is not None}
