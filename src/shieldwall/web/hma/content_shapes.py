"""HMA's banked-content bodies, and the note and metadata HMA clients send with content.

HMA content is a Shieldwall entry: its id is the entry id, `disable_until_ts` 1/0 is the
active/disabled state. The note and metadata are kept in the entry's provenance.
"""

from __future__ import annotations

import json
from typing import Any, Final

from shieldwall.banks.models import MAX_METADATA, Bank, Entry, EntryState
from shieldwall.signals.models import ORIGINAL
from shieldwall.web.hma.bank_shapes import bank_json
from shieldwall.web.hma.errors import abort

ENABLED_TS: Final = 1
DISABLED_TS: Final = 0
"""HMA's magic `disable_until_ts` values: 1 matches, 0 does not."""
MAX_NOTE: Final = 255
_METADATA_KEYS: Final = {"content_id": str, "content_uri": str, "json": dict}
"""HMA's BankedContentMetadata fields a client sets, and their JSON types."""


def disable_until_ts(entry: Entry) -> int:
    """HMA's `disable_until_ts` for an entry: 1 while it matches, 0 otherwise."""
    return ENABLED_TS if entry.state is EntryState.ACTIVE else DISABLED_TS


def entry_signals(entry: Entry) -> dict[str, str]:
    """An entry's signals as HMA's `{signal_type: value}` (the untransformed ones)."""
    return {s.type: s.value for s in entry.signals if s.variant == ORIGINAL}


def stored_metadata(entry: Entry) -> dict[str, Any] | None:
    """The metadata the client sent with the content (HMA's `user_metadata`), if any."""
    if not entry.provenance.metadata:
        return None
    value = json.loads(entry.provenance.metadata)
    return value if isinstance(value, dict) else None


def _metadata_json(stored: dict[str, Any]) -> dict[str, Any]:
    """HMA's BankedContentMetadata as its GET writes it: every field, unset ones null."""
    return {
        "content_id": stored.get("content_id"),
        "content_uri": stored.get("content_uri"),
        "json": stored.get("json"),
        "collab": None,  # exchange provenance: Shieldwall has no exchanges yet
    }


def content_json(
    entry: Entry, bank: Bank, include_signals: bool, include_metadata: bool = True
) -> dict[str, Any]:
    """HMA's BankContentResponse (GET content): signals, metadata and note only when present."""
    body: dict[str, Any] = {
        "id": entry.id,
        "disable_until_ts": disable_until_ts(entry),
        "original_media_uri": None,
        "bank": bank_json(bank),
    }
    if include_signals:
        body["signals"] = entry_signals(entry)
    metadata = stored_metadata(entry)
    if include_metadata and metadata is not None:
        body["metadata"] = _metadata_json(metadata)
    if entry.provenance.note:
        body["note"] = entry.provenance.note
    return body


def content_config_json(entry: Entry, bank: Bank) -> dict[str, Any]:
    """HMA's BankContentConfig dataclass as Flask's jsonify writes it (PUT content)."""
    return {
        "id": entry.id,
        "disable_until_ts": disable_until_ts(entry),
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": bank_json(bank),
        "user_metadata": stored_metadata(entry),
        "note": entry.provenance.note or None,
    }


def content_note(value: Any) -> str:
    """HMA's optional note on banked content: text of at most 255 characters ("" if none)."""
    if not value:
        return ""
    if not isinstance(value, str):
        abort(400, "note should be a string")
    if len(value) > MAX_NOTE:
        abort(400, f"note must be at most {MAX_NOTE} characters")
    return value


def content_metadata(value: Any) -> str:
    """HMA's optional metadata, checked as HMA checks it, as JSON text to store ("" if none).

    Fields left null are dropped and `collab` (exchange provenance) is ignored, as in HMA.
    """
    if value is None:
        return ""
    if not isinstance(value, dict):
        abort(400, "metadata should be a json object")
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if key == "collab":
            continue
        if key not in _METADATA_KEYS:
            abort(400, f"Invalid metadata: unexpected field '{key}'")
        if item is not None and not isinstance(item, _METADATA_KEYS[key]):
            abort(400, f"Invalid metadata: field '{key}' has the wrong type")
        if item is not None:
            kept[key] = item
    if not kept:
        return ""
    text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_METADATA:
        abort(400, f"metadata must be at most {MAX_METADATA} characters as JSON")
    return text
