"""A local stand-in for the EU DSA Transparency Database's API, on a real HTTP server.

It speaks the documented wire format (../shared/reference/review.md): a Bearer token (401
without it), `POST /api/v1/statements` with `{"statements": [...]}` (1 to 100; 422 when any
statement is invalid or any puid is known or repeated, and then nothing of the batch is
stored), `POST /api/v1/statement`, and `GET /api/v1/statement/existing-puid/{puid}` (302
known, 404 not). Only 201 stores. Every statement is checked against the schema table
(tests/support/tdb_rules.py); a refusal lists its errors per field, as the real API does.
`fail_next(n)` makes the next n requests answer 500, as a database in trouble would.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import unquote

from tests.support.tdb_rules import Errors, statement_errors

TOKEN: Final = "tdb-test-token-7f3a9c"
BULK_LIMIT: Final = 100
EXISTING: Final = "/api/v1/statement/existing-puid/"
NOT_UNIQUE: Final = "The identifier given is not unique within this platform."

Reply = tuple[int, dict[str, str], dict[str, Any]]


@dataclass(frozen=True)
class SeenRequest:
    """One request the stand-in answered: what was asked, with how many statements, the
    answer's status, and the headers that matter."""

    method: str
    path: str
    statements: int
    status: int
    authorization: str
    accept: str


@dataclass
class TdbStandIn:
    """The database's state (statements by puid), what it saw, and its scripted failures."""

    token: str = TOKEN
    url: str = ""
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[SeenRequest] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` requests with `status` (a server error), storing nothing."""
        with self._lock:
            self._failures.extend([status] * count)

    def posts(self, path: str) -> list[SeenRequest]:
        """The POST requests seen to `path`."""
        with self._lock:
            return [r for r in self.seen if r.method == "POST" and r.path == path]

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """The reply to one request (the HTTP handler's whole logic)."""
        with self._lock:
            reply, count = self._answer(method, path, headers, body)
            self.seen.append(
                SeenRequest(
                    method,
                    path,
                    count,
                    reply[0],
                    headers.get("authorization", ""),
                    headers.get("accept", ""),
                )
            )
            return reply

    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[Reply, int]:
        parsed = _json(body) if method == "POST" else None
        count = _count(path, parsed)
        if self._failures:
            return (self._failures.pop(0), {}, {"message": "Server Error"}), count
        if headers.get("authorization", "") != f"Bearer {self.token}":
            return (401, {}, {"message": "Unauthenticated."}), count
        if method == "POST" and path == "/api/v1/statements":
            return self._store_many(parsed), count
        if method == "POST" and path == "/api/v1/statement":
            return self._store_one(parsed), count
        if method == "GET" and path.startswith(EXISTING):
            return self._existing(unquote(path.removeprefix(EXISTING))), count
        return (404, {}, {"message": "Not Found"}), count

    def _store_many(self, body: object) -> Reply:
        batch = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(batch, list) or not 1 <= len(batch) <= BULK_LIMIT:
            message = f"The statements field must have between 1 and {BULK_LIMIT} items."
            return _refused({"statements": [message]})
        errors: Errors = {}
        puids: set[str] = set()
        for index, statement in enumerate(batch):
            problems = statement_errors(statement)
            puid = statement.get("puid") if isinstance(statement, dict) else None
            if isinstance(puid, str) and (puid in self.statements or puid in puids):
                problems.setdefault("puid", []).append(NOT_UNIQUE)
            if isinstance(puid, str):
                puids.add(puid)
            for name, messages in problems.items():
                errors[f"statements.{index}.{name}"] = messages
        if errors:
            return _refused(errors)
        return 201, {}, {"statements": [self._store(statement) for statement in batch]}

    def _store_one(self, statement: object) -> Reply:
        errors = statement_errors(statement)
        puid = statement.get("puid") if isinstance(statement, dict) else None
        if isinstance(puid, str) and puid in self.statements:
            errors.setdefault("puid", []).append(NOT_UNIQUE)
        if errors:
            return _refused(errors)
        assert isinstance(statement, dict)
        return 201, {}, self._store(statement)

    def _store(self, statement: dict[str, Any]) -> dict[str, Any]:
        stored = {**statement, "uuid": str(uuid.uuid4())}
        self.statements[statement["puid"]] = stored
        return stored

    def _existing(self, puid: str) -> Reply:
        known = self.statements.get(puid)
        if known is None:
            return 404, {}, {"message": "statement of reason not found"}
        location = f"{self.url}/api/v1/statement/{known['uuid']}"
        return 302, {"Location": location}, {"message": "statement of reason found"}


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _count(path: str, body: object) -> int:
    if path == "/api/v1/statements" and isinstance(body, dict):
        batch = body.get("statements")
        return len(batch) if isinstance(batch, list) else 0
    return 1 if path == "/api/v1/statement" else 0


def _refused(errors: Errors) -> Reply:
    first = next(iter(errors.values()))[0]
    more = sum(len(m) for m in errors.values()) - 1
    message = f"{first} (and {more} more error{'s' * (more != 1)})" if more else first
    return 422, {}, {"message": message, "errors": errors}


class _Handler(BaseHTTPRequestHandler):
    standin: TdbStandIn

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self._reply()

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, payload = self.standin.answer(self.command, self.path, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `seen` instead."""


@contextmanager
def running_standin(token: str = TOKEN) -> Iterator[TdbStandIn]:
    """The stand-in on a free loopback port (its `url`), stopped afterwards."""
    standin = TdbStandIn(token)
    handler = type("Handler", (_Handler,), {"standin": standin})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    standin.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
