"""One way for tests to build services over a fresh SQLite file in a temporary home."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shieldwall.app import Services, build_services
from shieldwall.config import load_settings
from shieldwall.screening.ports import ContentFetcher
from tests.support.polling import eventually


def make_services(
    home: Path,
    database: str = "shieldwall.db",
    *,
    fetcher: ContentFetcher | None = None,
    **overrides: Any,
) -> Services:
    """Services over `home` (no shieldwall.toml, no SHIELDWALL_* variables) and settings;
    `fetcher` (e.g. an InMemoryFetcher) answers URL lookups instead of the network."""
    settings = load_settings(
        config_file=home / "absent.toml",
        environ={},
        overrides={"home": str(home), "database_url": f"sqlite:///{home / database}", **overrides},
    )
    return build_services(settings, fetcher=fetcher)


def wait_until_ready(client: TestClient, timeout: float = 30) -> None:
    """Poll /status/ready until the index has loaded (HMA lookups answer 503 before)."""
    eventually(
        lambda: client.get("/status/ready").status_code == 200,
        timeout=timeout,
        message="the index did not load",
    )
