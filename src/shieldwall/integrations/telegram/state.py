"""The guard's memory between runs, in one small JSON file: the next update to ask Telegram
for (so no update is handled twice after a restart), the review items its lookups opened
(to remove the message if a reviewer confirms it) and the messages Telegram refused to
delete (not asked again every round).

A file, not the service's database: the guard is a client of Shieldwall's HTTP API with a
screener key, often on another machine than the service, and needs no database credentials.
Each save writes a new file and renames it over the old one, so a crash leaves the old state
or the new, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from shieldwall.errors import InvalidInputError

VERSION: Final = 1
MAX_OPEN_ITEMS: Final = 10_000  # the oldest are let go first (sweeps still find them)
MAX_REMEMBERED: Final = 10_000  # removed and refused messages kept in mind, newest


@dataclass
class GuardState:
    """What one bot's guard remembers."""

    bot_id: int
    offset: int | None = None  # the next update_id to ask for; None before the first
    open_items: dict[int, str] = field(default_factory=dict)  # review item -> content_ref
    removed: list[str] = field(default_factory=list)  # content_refs the guard deleted
    refused: list[str] = field(default_factory=list)  # content_refs Telegram would not delete

    def remember_item(self, item_id: int, content_ref: str) -> None:
        """Follow a review item until it is decided."""
        self.open_items[item_id] = content_ref
        while len(self.open_items) > MAX_OPEN_ITEMS:
            del self.open_items[next(iter(self.open_items))]

    def remember_removed(self, content_ref: str) -> None:
        """Note a message the guard deleted."""
        _remember(self.removed, content_ref)

    def remember_refused(self, content_ref: str) -> None:
        """Stop asking Telegram to delete a message it refused to delete."""
        _remember(self.refused, content_ref)

    def as_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "version": VERSION,
            "bot_id": self.bot_id,
            "offset": self.offset,
            "open_items": {str(k): v for k, v in self.open_items.items()},
            "removed": self.removed,
            "refused": self.refused,
        }


def _remember(refs: list[str], content_ref: str) -> None:
    if content_ref not in refs:
        refs.append(content_ref)
        del refs[:-MAX_REMEMBERED]


def _parsed(data: Any) -> GuardState:
    """The state in a file's JSON; ValueError or TypeError when it is not one."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("not a guard state of this version")
    offset = data["offset"]
    if offset is not None and not isinstance(offset, int):
        raise TypeError("offset")
    items = {int(k): str(v) for k, v in dict(data["open_items"]).items()}
    removed, refused = ([str(r) for r in data[k]] for k in ("removed", "refused"))
    return GuardState(int(data["bot_id"]), offset, items, removed, refused)


class StateFile:
    """The guard's state file (owner-only, replaced atomically at each save)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, bot_id: int) -> GuardState:
        """The saved state of this bot; a fresh one if there is none, or it was another bot's
        (its offsets mean nothing for this one)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return GuardState(bot_id)
        except OSError as exc:
            raise InvalidInputError(f"cannot read the guard's state {self.path}: {exc}") from exc
        try:
            state = _parsed(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInputError(
                f"the guard's state {self.path} is damaged ({exc}); remove it to start afresh "
                "(Telegram still remembers which updates were confirmed)"
            ) from None
        return state if state.bot_id == bot_id else GuardState(bot_id)

    def save(self, state: GuardState) -> None:
        """Write the state: a new file, flushed to disk, renamed over the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(prefix=".telegram-guard-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state.as_json(), out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)  # mkstemp made it 0600
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)
