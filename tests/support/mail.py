"""A local SMTP server for the email tests: every message it is given, kept in an inbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.polling import eventually
from tests.support.server import free_port


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"

    def wait(self, count: int, seconds: float = 10.0) -> list[Message]:
        """The messages, once at least `count` have arrived (fails after `seconds`)."""
        eventually(lambda: len(self.messages) >= count, timeout=seconds, message="no mail")
        return self.messages


@contextmanager
def local_smtp() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on a free loopback port: its inbox and the port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
