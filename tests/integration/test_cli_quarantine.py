"""`shieldwall quarantine sweep` as a real process, and the store the services wire up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from shieldwall.app import build_services
from shieldwall.clock import utc_now
from shieldwall.config import Settings, load_settings
from shieldwall.errors import InvalidInputError
from shieldwall.storage.quarantine_files import FileQuarantine, load_quarantine_key
from tests.support.cli import Cli
from tests.support.clock import FakeClock
from tests.support.factories import jpeg

DAY = timedelta(days=1)


def home_store(home: Path, clock: FakeClock) -> FileQuarantine:
    """The store the command line opens on `home` (its derived key), on a fake clock."""
    return FileQuarantine.in_home(home, load_quarantine_key("", "", home), clock)


def test_sweep_removes_only_expired_items_and_says_how_many(tmp_path: Path) -> None:
    past = FakeClock(utc_now() - 30 * DAY)
    store = home_store(tmp_path, past)
    store.put(jpeg(1), past() + DAY)  # ended 29 days ago
    store.put(jpeg(2), past() + 2 * DAY)
    kept = store.put(jpeg(3), utc_now() + DAY)
    cli = Cli(tmp_path)
    assert "removed 2 expired item(s); 1 kept" in cli.run("quarantine", "sweep").stdout
    assert cli.json("quarantine", "sweep")[0]["removed"] == 0
    assert home_store(tmp_path, FakeClock(utc_now())).get(kept) == jpeg(3)


def test_sweep_on_a_new_install_removes_nothing(tmp_path: Path) -> None:
    record = Cli(tmp_path).json("quarantine", "sweep")[0]
    assert record == {"removed": 0, "kept": 0, "kept_bytes": 0}


def test_the_services_quarantine_is_sealed_files_under_home(tmp_path: Path) -> None:
    services = build_services(Settings(home=tmp_path))
    try:
        address = services.quarantine.put(jpeg(4), utc_now() + DAY)
        assert (tmp_path / "quarantine" / address).is_file()
        assert jpeg(4) not in (tmp_path / "quarantine" / address).read_bytes()
        assert services.quarantine.get(address) == jpeg(4)
    finally:
        services.close()


def test_retention_days_and_key_settings(tmp_path: Path) -> None:
    assert Settings().quarantine_retention_days == 14
    assert Settings().quarantine_key == ""
    settings = load_settings(
        tmp_path / "none.toml",
        environ={
            "SHIELDWALL_QUARANTINE_RETENTION_DAYS": "3",
            "SHIELDWALL_QUARANTINE_KEY": "a2V5",
        },
    )
    assert settings.quarantine_retention_days == 3
    assert settings.quarantine_key == "a2V5"


@pytest.mark.parametrize("days", ["0", "-1", "two"])
def test_a_retention_that_is_not_a_positive_integer_is_refused(tmp_path: Path, days: str) -> None:
    with pytest.raises(InvalidInputError, match="quarantine_retention_days"):
        load_settings(
            tmp_path / "none.toml", environ={"SHIELDWALL_QUARANTINE_RETENTION_DAYS": days}
        )
