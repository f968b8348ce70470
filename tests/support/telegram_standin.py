"""A local stand-in for the Telegram Bot API, for the guard's tests: the real servers cannot
be reached from the test machines. It is small and follows the documented wire format
(https://core.telegram.org/bots/api) for what the guard uses, and nothing else:

- requests to `/bot<token>/<method>` (GET or POST; parameters in the query string, a form or
  a JSON body; method names case-insensitive), answered `{"ok": true, "result": ...}` or
  `{"ok": false, "error_code": N, "description": "..."}` with that HTTP status, 429s with
  `"parameters": {"retry_after": N}`; a wrong token gets 401 "Unauthorized", an unknown path
  or method 404 "Not Found";
- `getMe`; `getUpdates` with `offset` (updates below it are confirmed and forgotten; a
  negative one keeps the last -offset), `limit`, `timeout` (a long poll that answers as soon
  as an update arrives) and `allowed_updates` (kept for later calls; updates of other types
  created afterwards are not stored); `getFile` (`file_id`, `file_unique_id`, `file_size`,
  `file_path`; "file is too big" past 20 MB); downloads at `/file/bot<token>/<file_path>`;
  `deleteMessage` ("message to delete not found", "message can't be deleted");
  `sendMessage`, answering the sent Message;
- `setWebhook` (`url`, `secret_token`, `allowed_updates`), `deleteWebhook`,
  `getWebhookInfo` (`url`, `pending_update_count`); while a webhook is set, `getUpdates`
  answers 409 and each update is POSTed as JSON to the URL, one at a time, with the secret
  in `X-Telegram-Bot-Api-Secret-Token`, and posted again (after `redelivery` seconds) until
  the answer is a 2xx.

The test plays the group members with `post_photo`, `post_document`, `edit_photo`, ...
"""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from PIL import Image

from tests.support.telegram_standin_webhook import WebhookMethods

BOT_ID: Final = 7_000_001
TOKEN: Final = f"{BOT_ID}:AAHstandInTokenForTests-only_0123456789ab"
DOWNLOAD_LIMIT: Final = 20 * 1024 * 1024
MEMBER: Final = {"id": 4242, "is_bot": False, "first_name": "Sam", "language_code": "en"}


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered: the method, its parameters, when."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class _Planned:
    status: int
    description: str
    retry_after: int | None
    times: int


@dataclass
class _File:
    file_id: str
    unique_id: str
    path: str
    content: bytes


@dataclass
class _World:
    webhook: dict[str, str] = field(default_factory=dict)  # url and secret_token, if set
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update: int = 100
    allowed: list[str] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    next_message: dict[int, int] = field(default_factory=dict)
    undeletable: set[tuple[int, int]] = field(default_factory=set)
    files: dict[str, _File] = field(default_factory=dict)
    planned: dict[str, list[_Planned]] = field(default_factory=dict)


def _number(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name, default)
    return None if value is None else int(value)


class TelegramStandIn(WebhookMethods):
    """A Bot API server on 127.0.0.1 for one bot, with a few groups in it."""

    def __init__(self, token: str = TOKEN, *, reads_all_group_messages: bool = True) -> None:
        self.token = token
        self.reads_all = reads_all_group_messages
        self.calls: list[Call] = []
        self.downloads: list[str] = []  # file_ids whose content was downloaded
        self.deleted: list[tuple[int, int]] = []  # (chat, message) the bot deleted
        self.sent: list[dict[str, Any]] = []  # messages the bot sent
        self.thumbnails: set[str] = set()  # file_ids of the small sizes of photos
        self._world = _World()
        self._lock = threading.Condition()
        self.redelivery = 0.2  # seconds before an update the webhook refused is posted again
        self.webhook_answers: list[int] = []  # statuses of the webhook deliveries
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in._serve(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                stand_in._serve(self, self.rfile.read(length))

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    # The group members' side -------------------------------------------------------------

    def post_photo(self, chat_id: int, content: bytes, *, chat_type: str = "supergroup") -> int:
        """A member posts a photo (Telegram adds a small thumbnail size); its message id."""
        return self._post(chat_id, chat_type, {"photo": self._photo_sizes(content)})

    def post_document(
        self, chat_id: int, content: bytes, mime_type: str, *, file_name: str = "file"
    ) -> int:
        """A member sends a file as a document; its message id."""
        found = self._add_file(content, "documents", file_name.rsplit(".", 1)[-1])
        document = {
            "file_id": found.file_id,
            "file_unique_id": found.unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(found.content),
        }
        return self._post(chat_id, "supergroup", {"document": document})

    def post_text(self, chat_id: int, text: str) -> int:
        """A member writes a text; its message id."""
        return self._post(chat_id, "supergroup", {"text": text})

    def edit_photo(self, chat_id: int, message_id: int, content: bytes) -> None:
        """A member replaces the photo of an earlier message (an `edited_message` update)."""
        with self._lock:
            message = dict(self._world.messages[(chat_id, message_id)])
            message["photo"] = self._photo_sizes(content)
            message["edit_date"] = int(time.time())
            self._world.messages[(chat_id, message_id)] = message
            self._queue("edited_message", message)

    def delete_as_admin(self, chat_id: int, message_id: int) -> None:
        """A group admin deletes a message by hand."""
        with self._lock:
            del self._world.messages[(chat_id, message_id)]

    def make_undeletable(self, chat_id: int, message_id: int) -> None:
        """Telegram will refuse to delete this message (older than 48 hours, or no right)."""
        with self._lock:
            self._world.undeletable.add((chat_id, message_id))

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with this error."""
        planned = _Planned(status, description, retry_after, times)
        with self._lock:
            self._world.planned.setdefault(method.lower(), []).append(planned)

    def exists(self, chat_id: int, message_id: int) -> bool:
        """Whether the message is still in the chat."""
        with self._lock:
            return (chat_id, message_id) in self._world.messages

    def calls_of(self, method: str) -> list[Call]:
        """The calls of one method so far."""
        with self._lock:
            return [c for c in self.calls if c.method == method.lower()]

    def pending_updates(self) -> list[int]:
        """The ids of the updates not confirmed yet."""
        with self._lock:
            return [u["update_id"] for u in self._world.updates]

    # Building messages and files ---------------------------------------------------------

    def _add_file(self, content: bytes, folder: str, extension: str) -> _File:
        number = len(self._world.files) + 1
        made = _File(
            f"BQACAgIAAx0C{number:08d}",
            f"AgADuniq{number:06d}",
            f"{folder}/file_{number}.{extension}",
            content,
        )
        self._world.files[made.file_id] = made
        return made

    def _photo_sizes(self, content: bytes) -> list[dict[str, Any]]:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            small = image.convert("RGB")
            small.thumbnail((90, 90))
            buffer = io.BytesIO()
            small.save(buffer, "JPEG", quality=80)
        sizes: list[dict[str, Any]] = []
        for data, (w, h) in ((buffer.getvalue(), small.size), (content, (width, height))):
            made = self._add_file(data, "photos", "jpg")
            if not sizes:
                self.thumbnails.add(made.file_id)
            sizes.append(
                {
                    "file_id": made.file_id,
                    "file_unique_id": made.unique_id,
                    "width": w,
                    "height": h,
                    "file_size": len(made.content),
                }
            )
        return sizes

    def _message(
        self, chat_id: int, chat_type: str, sender: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        """A new Message in the chat (call with the lock held)."""
        message_id = self._world.next_message.get(chat_id, 1)
        self._world.next_message[chat_id] = message_id + 1
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": "Sam"} if chat_type == "private" else {"title": "Class 3B"})
        message = {"message_id": message_id, "from": sender, "chat": chat, "date": int(time.time())}
        message.update(content)
        self._world.messages[(chat_id, message_id)] = message
        return message

    def _post(self, chat_id: int, chat_type: str, content: dict[str, Any]) -> int:
        with self._lock:
            message = self._message(chat_id, chat_type, MEMBER, content)
            self._queue("message", message)
            return int(message["message_id"])

    def _queue(self, kind: str, message: dict[str, Any]) -> None:
        """Store an update (unless allowed_updates leaves its type out) and wake long polls."""
        world = self._world
        if world.allowed and kind not in world.allowed:
            return
        world.updates.append({"update_id": world.next_update, kind: message})
        world.next_update += 1
        self._lock.notify_all()

    # The Bot API's side -------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(request.path)
        path = unquote(parts.path)
        if path.startswith("/file/bot"):
            self._download(request, path.removeprefix("/file/bot"))
            return
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or not method:
            _answer(request, 404, _failed(404, "Not Found"))
            return
        if token != self.token:
            _answer(request, 401, _failed(401, "Unauthorized"))
            return
        params = _params(request, parts.query, body)
        with self._lock:
            self.calls.append(Call(method.lower(), params, time.monotonic()))
            planned = self._planned(method.lower())
        if planned is not None:
            failed = _failed(planned.status, planned.description, planned.retry_after)
            _answer(request, planned.status, failed)
            return
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            _answer(request, 404, _failed(404, "Not Found"))
            return
        status, result = handler(params)
        ok = {"ok": True, "result": result}
        _answer(request, status, ok if status == 200 else _failed(status, result))

    def _planned(self, method: str) -> _Planned | None:
        queue = self._world.planned.get(method, [])
        if not queue:
            return None
        planned = queue[0]
        planned.times -= 1
        if planned.times <= 0:
            queue.pop(0)
        return planned

    def _download(self, request: BaseHTTPRequestHandler, rest: str) -> None:
        token, _, file_path = rest.partition("/")
        with self._lock:
            found = next((f for f in self._world.files.values() if f.path == file_path), None)
            if token == self.token and found is not None:
                self.downloads.append(found.file_id)
        if token != self.token or found is None:
            _answer(request, 404, _failed(404, "Not Found"))
            return
        request.send_response(200)
        request.send_header("content-type", "application/octet-stream")
        request.send_header("content-length", str(len(found.content)))
        request.end_headers()
        request.wfile.write(found.content)

    def _m_getme(self, _params: dict[str, Any]) -> tuple[int, Any]:
        return 200, {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Shieldwall guard",
            "username": "shieldwall_guard_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": self.reads_all,
            "supports_inline_queries": False,
        }

    def _m_getupdates(self, params: dict[str, Any]) -> tuple[int, Any]:
        if self._world.webhook:
            return 409, (
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = _number(params, "offset")
        limit = min(max(_number(params, "limit", 100) or 100, 1), 100)
        deadline = time.monotonic() + (_number(params, "timeout", 0) or 0)
        with self._lock:
            world = self._world
            if "allowed_updates" in params:
                allowed = params["allowed_updates"]
                world.allowed = list(json.loads(allowed) if isinstance(allowed, str) else allowed)
            if offset is not None and offset < 0:
                world.updates = world.updates[offset:]
            elif offset is not None:
                world.updates = [u for u in world.updates if u["update_id"] >= offset]
            while not world.updates and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)
            return 200, [dict(u) for u in world.updates[:limit]]

    def _m_getfile(self, params: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            found = self._world.files.get(str(params.get("file_id", "")))
        if found is None:
            return 400, "Bad Request: invalid file_id"
        if len(found.content) > DOWNLOAD_LIMIT:
            return 400, "Bad Request: file is too big"
        return 200, {
            "file_id": found.file_id,
            "file_unique_id": found.unique_id,
            "file_size": len(found.content),
            "file_path": found.path,
        }

    def _m_deletemessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        key = (_number(params, "chat_id") or 0, _number(params, "message_id") or 0)
        with self._lock:
            if key in self._world.undeletable:
                return 400, "Bad Request: message can't be deleted"
            if key not in self._world.messages:
                return 400, "Bad Request: message to delete not found"
            del self._world.messages[key]
            self.deleted.append(key)
        return 200, True

    def _m_sendmessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        chat_id = _number(params, "chat_id") or 0
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Shieldwall guard"}
        with self._lock:
            text = {"text": str(params.get("text", ""))}
            message = self._message(chat_id, "supergroup", bot, text)
            self.sent.append(
                {**message, "disable_notification": params.get("disable_notification")}
            )
        return 200, message


def _params(request: BaseHTTPRequestHandler, query: str, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" and body:
        params.update(json.loads(body))
    elif kind == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode()))
    return params


def _failed(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    """An error answer; with `retry_after`, the ResponseParameters of flood control."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _answer(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("content-type", "application/json")
    request.send_header("content-length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
