"""PlatformRepository in memory (tests)."""

from __future__ import annotations

import threading

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.takedown.platforms import Platform


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
