"""What the platform directory needs from storage. Adapters: memory, SQL."""

from __future__ import annotations

from typing import Protocol

from shieldwall.takedown.platforms import Platform


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
