"""SQL adapter of the platform directory's PlatformRepository."""

from __future__ import annotations

import json

from sqlalchemy import insert, select, update

from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.storage.sql_adapter import SqlAdapter
from shieldwall.storage.tables import PlatformRow
from shieldwall.takedown.platforms import Platform, platform_from_mapping


class SqlPlatformRepository(SqlAdapter):
    """PlatformRepository on SQLite or PostgreSQL."""

    def add(self, platform: Platform) -> None:
        """Store a new platform; ConflictError if the name is taken."""
        try:
            with self._write() as connection:
                connection.execute(
                    insert(PlatformRow),
                    {"name": platform.name, "fields": json.dumps(platform.as_json())},
                )
        except ConflictError:
            raise ConflictError(f"platform {platform.name} exists") from None

    def replace(self, platform: Platform) -> None:
        """Store a platform's new fields; NotFoundError if there is none by its name."""
        with self._write() as connection:
            changed = connection.execute(
                update(PlatformRow)
                .where(PlatformRow.name == platform.name)
                .values(fields=json.dumps(platform.as_json()))
            ).rowcount
        if changed != 1:
            raise NotFoundError(f"no platform {platform.name}")

    def get(self, name: str) -> Platform:
        """A platform by name; NotFoundError if none."""
        with self._read() as connection:
            stored = connection.execute(
                select(PlatformRow.fields).where(PlatformRow.name == name)
            ).scalar_one_or_none()
        if stored is None:
            raise NotFoundError(f"no platform {name}")
        return platform_from_mapping(json.loads(stored))

    def all(self) -> list[Platform]:
        """Every platform, by name."""
        with self._read() as connection:
            rows = connection.execute(
                select(PlatformRow.fields).order_by(PlatformRow.name)
            ).scalars()
            return [platform_from_mapping(json.loads(fields)) for fields in rows]
