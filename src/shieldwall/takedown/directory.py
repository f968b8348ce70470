"""The platform directory's use cases: add, edit, list, and find a locator's platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shieldwall.takedown.platforms import Platform, platform_from_mapping, platform_of
from shieldwall.takedown.ports import PlatformRepository


class PlatformDirectory:
    """Platforms as leads and the command line keep them."""

    def __init__(self, repository: PlatformRepository) -> None:
        self._repository = repository

    def add(self, fields: Mapping[str, Any]) -> Platform:
        """A new platform from its fields (every problem named at once)."""
        platform = platform_from_mapping(fields)
        self._repository.add(platform)
        return platform

    def edit(self, name: str, changes: Mapping[str, Any]) -> Platform:
        """A platform with some fields changed (the rest kept), checked as a whole."""
        current = self._repository.get(name).as_json()
        platform = platform_from_mapping({**current, **changes, "name": current["name"]})
        self._repository.replace(platform)
        return platform

    def get(self, name: str) -> Platform:
        """A platform by name."""
        return self._repository.get(name.strip().lower())

    def all(self) -> list[Platform]:
        """Every platform, by name."""
        return self._repository.all()

    def platform_of(self, url: str) -> Platform | None:
        """The platform serving a locator's URL, if the directory knows it."""
        return platform_of(url, self._repository.all())
