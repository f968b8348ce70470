"""Settings precedence: defaults < shieldwall.toml < SHIELDWALL_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.config import load_settings
from shieldwall.errors import InvalidInputError


def test_defaults_put_sqlite_under_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(config_file=tmp_path / "absent.toml", environ={})
    assert settings.home == Path("var")
    assert settings.effective_database_url.endswith("/var/shieldwall.db")
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.media.max_bytes == 50 * 1024 * 1024
    assert settings.media.max_pixels == 100_000_000


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text(
        '[shieldwall]\nhome = "/srv/sw"\ndatabase_url = "sqlite:///file.db"\n'
        "[shieldwall.media]\nmax_bytes = 1000\nmax_pixels = 2000\n"
    )
    from_file = load_settings(config_file=config, environ={})
    assert (from_file.home, from_file.database_url) == (Path("/srv/sw"), "sqlite:///file.db")
    assert (from_file.media.max_bytes, from_file.media.max_pixels) == (1000, 2000)
    env = {
        "SHIELDWALL_DATABASE_URL": "sqlite:///env.db",
        "SHIELDWALL_MAX_BYTES": "3000",
        "SHIELDWALL_UNRELATED": "ignored",
    }
    from_env = load_settings(config_file=config, environ=env)
    assert (from_env.database_url, from_env.media.max_bytes) == ("sqlite:///env.db", 3000)
    assert from_env.media.max_pixels == 2000
    flagged = load_settings(
        config_file=config,
        environ=env,
        overrides={"database_url": "sqlite:///flag.db", "home": None},
    )
    assert flagged.database_url == "sqlite:///flag.db"
    assert flagged.home == Path("/srv/sw")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[shieldwall]\nunknown = 1\n", "unknown setting"),
        ("[shieldwall.media]\nmax_bytes = -5\n", "must be positive"),
        ("[shieldwall.media]\nmax_bytes = 'lots'\n", "must be an integer"),
        ("not toml = = =\n", "cannot read"),
    ],
)
def test_bad_settings_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        load_settings(config_file=config, environ={})


def test_url_lookup_settings(tmp_path: Path) -> None:
    default = load_settings(config_file=tmp_path / "absent.toml", environ={})
    assert (default.url_lookups, default.url_allow_hosts) == (False, ())
    env = {"SHIELDWALL_URL_LOOKUPS": "yes", "SHIELDWALL_URL_ALLOW_HOSTS": "cdn.example, A.example"}
    chosen = load_settings(config_file=tmp_path / "absent.toml", environ=env)
    assert (chosen.url_lookups, chosen.url_allow_hosts) == (True, ("cdn.example", "a.example"))
    with pytest.raises(InvalidInputError, match="true or false"):
        load_settings(config_file=tmp_path / "absent.toml", environ={"SHIELDWALL_URL_LOOKUPS": "?"})


def test_review_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text("[shieldwall]\nreview_daily_reveals = 5\nreview_totp_required = true\n")
    env = {"SHIELDWALL_REVIEW_BREAK_MINUTES": "45", "SHIELDWALL_TRUSTED_FLAGGERS_CONFIRM": "off"}
    settings = load_settings(config_file=config, environ=env)
    assert settings.review_daily_reveals == 5
    assert settings.review_totp_required is True
    assert settings.review_break_minutes == 45
    assert settings.trusted_flaggers_confirm is False
    defaults = load_settings(config_file=tmp_path / "absent.toml", environ={})
    assert (defaults.review_daily_reveals, defaults.review_break_minutes) == (20, 60)
    with pytest.raises(InvalidInputError, match="review_daily_reveals"):
        load_settings(
            config_file=tmp_path / "absent.toml", environ={"SHIELDWALL_REVIEW_DAILY_REVEALS": "0"}
        )
