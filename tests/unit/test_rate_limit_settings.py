"""Rate limits are parsed once, when settings load, into typed values the service uses as is."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.access import rate_limit
from shieldwall.access.models import Role
from shieldwall.access.rate_limit import (
    DEFAULT_RATE_LIMITS,
    RateLimit,
    RateLimiter,
    RoleRateLimits,
)
from shieldwall.config import Settings, load_settings
from shieldwall.errors import InvalidInputError


def _load(tmp_path: Path, text: str = "", **environ: str) -> Settings:
    config = tmp_path / "shieldwall.toml"
    config.write_text(text)
    return load_settings(config_file=config, environ=environ)


def test_defaults_are_typed_limits() -> None:
    settings = Settings()
    assert settings.rate_limits.as_dict() == dict(DEFAULT_RATE_LIMITS)
    assert settings.protect_file_limit == RateLimit(0.0028, 5)
    assert settings.protect_read_limit == RateLimit(0.0167, 20)


def test_the_environment_overrides_the_file_per_role(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        '[shieldwall]\nrate_screener = "300/600"\nprotect_file_limit = "1/2"\n',
        SHIELDWALL_RATE_SCREENER="400/800",
        SHIELDWALL_PROTECT_READ_LIMIT=" 3 / 4 ",
    )
    assert settings.rate_limits[Role.SCREENER] == RateLimit(400.0, 800)
    assert settings.rate_limits.overrides == ((Role.SCREENER, RateLimit(400.0, 800)),)
    assert settings.protect_file_limit == RateLimit(1.0, 2)
    assert settings.protect_read_limit == RateLimit(3.0, 4)


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ('[shieldwall]\nprotect_file_limit = "often"\n', {}, "protect_file_limit: .*RATE/BURST"),
        ("[shieldwall]\nprotect_read_limit = 5\n", {}, "setting protect_read_limit must be text"),
        ("", {"SHIELDWALL_PROTECT_FILE_LIMIT": "0/5"}, "protect_file_limit: rate per second"),
        ("", {"SHIELDWALL_RATE_ADMIN": "10/0"}, "setting rate_admin: burst"),
    ],
)  # fmt: skip
def test_a_bad_value_fails_at_load_naming_the_setting(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        _load(tmp_path, text, **environ)


def test_the_limiter_uses_the_loaded_limits_without_parsing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _load(tmp_path, SHIELDWALL_RATE_REVIEWER="7/9")

    def refuse(text: str) -> RateLimit:
        raise AssertionError(f"parsed again: {text!r}")

    monkeypatch.setattr(rate_limit, "parse_rate_limit", refuse)
    limiter = RateLimiter(settings.rate_limits)
    assert limiter.limit_for(Role.REVIEWER) == RateLimit(7.0, 9)
    assert limiter.limit_for(Role.SCREENER) == DEFAULT_RATE_LIMITS[Role.SCREENER]


def test_role_limits_are_one_per_role_in_role_order() -> None:
    limits = RoleRateLimits(
        ((Role.MONITOR, RateLimit(1.0, 1)), (Role.ADMIN, RateLimit(2.0, 2)))
    ).with_limit(Role.MONITOR, RateLimit(3.0, 3))
    assert limits.overrides == ((Role.ADMIN, RateLimit(2.0, 2)), (Role.MONITOR, RateLimit(3.0, 3)))
    assert limits == RoleRateLimits(
        ((Role.ADMIN, RateLimit(2.0, 2)), (Role.MONITOR, RateLimit(3.0, 3)))
    )
    assert hash(limits) == hash(Settings(rate_limits=limits).rate_limits)
    with pytest.raises(InvalidInputError):
        RoleRateLimits((("admin", "1/1"),))  # type: ignore[arg-type]
