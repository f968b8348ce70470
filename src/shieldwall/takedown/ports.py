"""What the platform directory needs from storage. Adapters: memory, SQL."""

from __future__ import annotations

from typing import Protocol

from shieldwall.takedown.notices import NoticeFields
from shieldwall.takedown.platforms import Platform
from shieldwall.takedown.tracking import LocatorNotice, NewNotice, NoticeAnswer


class PlatformRepository(Protocol):
    """The directory's platforms, by name. Errors are ShieldwallErrors."""

    def add(self, platform: Platform) -> None:
        """Store a new platform; ConflictError if the name is taken."""
        ...

    def replace(self, platform: Platform) -> None:
        """Store a platform's new fields; NotFoundError if there is none by its name."""
        ...

    def get(self, name: str) -> Platform:
        """A platform by name; NotFoundError if none."""
        ...

    def all(self) -> list[Platform]:
        """Every platform, by name."""
        ...


class NoticeRepository(Protocol):
    """Notices sent and the platforms' answers. Errors are ShieldwallErrors."""

    def add(self, notice: NewNotice) -> LocatorNotice:
        """Record a notice as sent."""
        ...

    def of_case(self, case_number: str) -> list[LocatorNotice]:
        """A case's notices, oldest first."""
        ...

    def get(self, notice_id: int) -> LocatorNotice:
        """A notice by id; NotFoundError if none."""
        ...

    def all(self) -> list[LocatorNotice]:
        """Every notice, oldest first."""
        ...

    def answer(self, notice_id: int, answer: NoticeAnswer) -> LocatorNotice:
        """Record a platform's answer; NotFoundError for an unknown notice."""
        ...


class NoticeWriter(Protocol):
    """Writes a notice's text from its fields (integrations/notices.py)."""

    def __call__(self, fields: NoticeFields) -> tuple[str, str]:
        """The subject and the body."""
        ...


class NoticeSender(Protocol):
    """Delivers a notice by email, at once; raises if the mail server refuses it."""

    def send_notice(self, to: str, subject: str, body: str) -> None:
        """Send the notice (no attachment, ever)."""
        ...
