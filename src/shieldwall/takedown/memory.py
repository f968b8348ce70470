"""PlatformRepository in memory (tests)."""

from __future__ import annotations

import threading
from dataclasses import replace

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.takedown.platforms import Platform
from shieldwall.takedown.tracking import LocatorNotice, NewNotice, NoticeAnswer


class InMemoryPlatformRepository:
    """Platforms in a dict."""

    def __init__(self) -> None:
        self._platforms: dict[str, Platform] = {}
        self._lock = threading.Lock()

    def add(self, platform: Platform) -> None:
        """Store a new platform."""
        with self._lock:
            if platform.name in self._platforms:
                raise ConflictError(f"platform {platform.name} exists")
            self._platforms[platform.name] = platform

    def replace(self, platform: Platform) -> None:
        """Store a platform's new fields."""
        with self._lock:
            if platform.name not in self._platforms:
                raise NotFoundError(f"no platform {platform.name}")
            self._platforms[platform.name] = platform

    def get(self, name: str) -> Platform:
        """A platform by name."""
        with self._lock:
            if name not in self._platforms:
                raise NotFoundError(f"no platform {name}")
            return self._platforms[name]

    def all(self) -> list[Platform]:
        """Every platform, by name."""
        with self._lock:
            return [self._platforms[name] for name in sorted(self._platforms)]


class InMemoryNoticeRepository:
    """Notices in a list."""

    def __init__(self) -> None:
        self._notices: list[LocatorNotice] = []
        self._lock = threading.Lock()

    def add(self, notice: NewNotice) -> LocatorNotice:
        """Record a notice as sent."""
        with self._lock:
            stored = LocatorNotice(len(self._notices) + 1, **vars(notice))
            self._notices.append(stored)
            return stored

    def of_case(self, case_number: str) -> list[LocatorNotice]:
        """A case's notices, oldest first."""
        with self._lock:
            return [n for n in self._notices if n.case_number == case_number]

    def get(self, notice_id: int) -> LocatorNotice:
        """A notice by id."""
        with self._lock:
            if not 1 <= notice_id <= len(self._notices):
                raise NotFoundError(f"no notice {notice_id}")
            return self._notices[notice_id - 1]

    def all(self) -> list[LocatorNotice]:
        """Every notice, oldest first."""
        with self._lock:
            return list(self._notices)

    def answer(self, notice_id: int, answer: NoticeAnswer) -> LocatorNotice:
        """Record a platform's answer."""
        with self._lock:
            if not 1 <= notice_id <= len(self._notices):
                raise NotFoundError(f"no notice {notice_id}")
            notice = self._notices[notice_id - 1]
            updated = replace(notice, answers=(*notice.answers, answer))
            self._notices[notice_id - 1] = updated
            return updated
