"""The `content_ref` the module gives Shieldwall for an upload, and the media it names.

A local upload is `mxc://<server>/<media id>#sender=<user id>` (Matrix media belong to no
room when they are uploaded: the rooms are learnt later, from the events that post them);
remote media are `mxc://<origin>/<media id>`, the id read from the download request."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

_MXC = re.compile(r"mxc://([A-Za-z0-9.:\[\]-]+)/([A-Za-z0-9_-]+)")
# /_matrix/media/v3/download/<origin>/<id>, /_matrix/client/v1/media/thumbnail/<origin>/<id>, ...
_MEDIA_PATH = re.compile(r"/media/(?:v\d+/|r0/)?(?:download|thumbnail)/([^/?#]+)/([^/?#]+)")


@dataclass(frozen=True)
class Media:
    """One piece of Matrix media: its origin server and id."""

    server: str
    media_id: str

    @property
    def mxc(self) -> str:
        return f"mxc://{self.server}/{self.media_id}"


def content_ref(media: Media, sender: str | None = None) -> str:
    """The reference Shieldwall keeps for the upload (and sends back in its webhooks)."""
    return f"{media.mxc}#sender={quote(sender, safe='@:')}" if sender else media.mxc


def media_of(ref: str) -> Media | None:
    """The media a content_ref (or a bare mxc:// URI) names, or None for anything else."""
    match = _MXC.match(ref.strip())
    return Media(match.group(1), match.group(2)) if match else None


def sender_of(ref: str) -> str | None:
    """The uploader a content_ref names, if it names one."""
    _, _, fragment = ref.partition("#")
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "sender" and value:
            return unquote(value)
    return None


def remote_media_of(request_path: str | None) -> tuple[str, str] | None:
    """(origin, media id) from the URL of the download that fetched remote media."""
    if not request_path:
        return None
    match = _MEDIA_PATH.search(request_path)
    return (unquote(match.group(1)), unquote(match.group(2))) if match else None


def media_in_event(content: object) -> list[str]:
    """The mxc:// URIs a message's content posts: the file and its thumbnail (Synapse
    hands the content over as an immutable mapping, not a dict)."""
    if not isinstance(content, Mapping):
        return []
    found = [content.get("url")]
    info = content.get("info")
    if isinstance(info, Mapping):
        found.append(info.get("thumbnail_url"))
    return [uri for uri in found if isinstance(uri, str) and media_of(uri) is not None]
