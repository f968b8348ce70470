"""What every command shares: settings, and services built on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shieldwall.config import Settings, load_settings

if TYPE_CHECKING:
    from shieldwall.app import Services


@dataclass
class CliContext:
    """Settings from the global options; services opened lazily (hashing needs no database)."""

    settings: Settings
    _services: Services | None = field(default=None, repr=False)

    @property
    def services(self) -> Services:
        """The services, opening the database on first use."""
        if self._services is None:
            # Imported here: `shieldwall hash` needs no database and starts faster without it.
            from shieldwall.app import build_services

            self._services = build_services(self.settings)
        return self._services

    def close(self) -> None:
        """Close the database if it was opened."""
        if self._services is not None:
            self._services.close()


def make_context(db: str | None, home: Path | None, config: Path | None) -> CliContext:
    """Build the context from --db, --home and --config (flags win over everything)."""
    overrides = {"database_url": db, "home": str(home) if home else None}
    return CliContext(load_settings(config_file=config, overrides=overrides))


pass_context = click.make_pass_decorator(CliContext)
