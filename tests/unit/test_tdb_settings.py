"""The Transparency Database settings: off by default, read from the file and the
environment, the URL checked, the token never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError

TOKEN = "tdb-secret-4b1d"


def test_off_by_default(tmp_path: Path) -> None:
    settings = load_settings(config_file=tmp_path / "absent.toml", environ={})
    assert (settings.tdb_url, settings.tdb_token) == ("", "")


def test_from_the_file_then_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    url = "https://transparency.dsa.ec.europa.eu/"
    config.write_text(f'[shieldwall]\ntdb_url = "{url}"\ntdb_token = "{TOKEN}"\n')
    from_file = load_settings(config_file=config, environ={})
    assert from_file.tdb_url == "https://transparency.dsa.ec.europa.eu"
    assert from_file.tdb_token == TOKEN
    env = {"SHIELDWALL_TDB_URL": "http://127.0.0.1:8081/tdb", "SHIELDWALL_TDB_TOKEN": "other"}
    from_env = load_settings(config_file=config, environ=env)
    assert (from_env.tdb_url, from_env.tdb_token) == ("http://127.0.0.1:8081/tdb", "other")


def test_the_token_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load_settings(
        config_file=tmp_path / "absent.toml", environ={"SHIELDWALL_TDB_TOKEN": TOKEN}
    )
    assert settings.tdb_token == TOKEN
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize("url", ["transparency.example", "ftp://tdb.example", "https://", "x y"])
def test_a_url_that_is_not_http_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidInputError, match="tdb_url must be an http"):
        load_settings(config_file=tmp_path / "absent.toml", environ={"SHIELDWALL_TDB_URL": url})
