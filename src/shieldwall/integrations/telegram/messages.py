"""What the guard reads from an update (https://core.telegram.org/bots/api#update): the
image a group message carries, and the `content_ref` that names the message to Shieldwall.

Updates come from Telegram, but their shapes are checked like any input: a field of the
wrong type makes the message "no image", never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

WATCHED_UPDATES: Final = ("message", "edited_message")
"""The update types the guard asks for: new messages, and edits (a photo can be replaced)."""
GROUP_CHATS: Final = frozenset({"group", "supergroup"})
_REF: Final = re.compile(r"tg:(-?[0-9]{1,20})/([0-9]{1,20})")


@dataclass(frozen=True)
class MessageRef:
    """One message in one chat: what Shieldwall knows the upload as (`tg:<chat>/<message>`)."""

    chat_id: int
    message_id: int

    @property
    def content_ref(self) -> str:
        """The lookup's `content_ref`."""
        return f"tg:{self.chat_id}/{self.message_id}"

    @classmethod
    def parse(cls, content_ref: str) -> MessageRef | None:
        """The message a `content_ref` names, or None if it is not one of the guard's."""
        match = _REF.fullmatch(content_ref)
        return cls(int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class PostedImage:
    """An image posted in a group: the largest size of a photo, or an image document."""

    ref: MessageRef
    file_id: str
    file_size: int | None
    kind: Literal["photo", "document"]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _largest_photo(sizes: Any) -> Mapping[str, Any] | None:
    """The biggest of a photo's sizes (Telegram sends a thumbnail or two beside it)."""
    if not isinstance(sizes, list):
        return None
    usable = [s for s in sizes if isinstance(s, Mapping) and isinstance(s.get("file_id"), str)]

    def area(size: Mapping[str, Any]) -> tuple[int, int]:
        pixels = (_int(size.get("width")) or 0) * (_int(size.get("height")) or 0)
        return pixels, _int(size.get("file_size")) or 0

    return max(usable, key=area, default=None)


def _image_document(document: Any) -> Mapping[str, Any] | None:
    if not isinstance(document, Mapping) or not isinstance(document.get("file_id"), str):
        return None
    mime = document.get("mime_type")
    return document if isinstance(mime, str) and mime.lower().startswith("image/") else None


def posted_image(update: Mapping[str, Any]) -> PostedImage | None:
    """The image a group message (new or edited) carries, or None."""
    message = next((update[k] for k in WATCHED_UPDATES if k in update), None)
    if not isinstance(message, Mapping):
        return None
    chat = message.get("chat")
    if not isinstance(chat, Mapping) or chat.get("type") not in GROUP_CHATS:
        return None
    chat_id, message_id = _int(chat.get("id")), _int(message.get("message_id"))
    if chat_id is None or message_id is None:
        return None
    ref = MessageRef(chat_id, message_id)
    if (photo := _largest_photo(message.get("photo"))) is not None:
        return PostedImage(ref, photo["file_id"], _int(photo.get("file_size")), "photo")
    if (document := _image_document(message.get("document"))) is not None:
        return PostedImage(ref, document["file_id"], _int(document.get("file_size")), "document")
    return None


def update_id(update: Mapping[str, Any]) -> int | None:
    """The update's id (the offset to confirm it is this plus one)."""
    return _int(update.get("update_id"))
