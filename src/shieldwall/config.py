"""Typed settings: defaults < shieldwall.toml < SHIELDWALL_* environment < command-line flags."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from shieldwall import telegram_settings as tg
from shieldwall.access.models import Role
from shieldwall.access.networks import TrustedNetwork, parse_trusted_networks
from shieldwall.access.rate_limit import (
    RateLimit,
    RoleRateLimits,
    parse_rate_limit,
    rate_limit_role,
)
from shieldwall.deadlines import DeadlinePolicy, clock_hours, country_hours
from shieldwall.errors import InvalidInputError
from shieldwall.media.limits import MediaLimits
from shieldwall.setting_values import bounded, http_url

__all__ = ["MediaLimits", "Settings", "load_settings"]


PROTECT_FILE_LIMIT: Final = RateLimit(0.0028, 5)
PROTECT_READ_LIMIT: Final = RateLimit(0.0167, 20)


@dataclass(frozen=True)
class Settings:
    """Everything Shieldwall can be configured with."""

    home: Path = Path("var")
    database_url: str = ""
    media: MediaLimits = field(default_factory=MediaLimits)
    default_pdq_threshold: int = 31
    jobs: int = 1
    # Lookups by URL fetch content from the internet on a caller's behalf: off by default.
    url_lookups: bool = False
    url_allow_hosts: tuple[str, ...] = ()
    # Internal hosts and networks URL lookups may reach (e.g. "10.1.2.0/24", "media.internal");
    # loopback, link-local and metadata addresses only when listed as that exact address.
    url_allow_private: tuple[str, ...] = ()
    # Internal networks whose keyless clients act as a role on the HMA routes only, for
    # clients that can only set a base URL: "10.0.0.0/8=curator,10.2.0.0/16=screener+details"
    # (loopback only where named; access/networks.py), parsed on load.
    hma_trusted_networks: tuple[TrustedNetwork, ...] = ()
    # Each role's limit: access.rate_limit.DEFAULT_RATE_LIMITS with overrides from
    # `rate_<role>` keys as RATE/BURST (SHIELDWALL_RATE_SCREENER=200/400), parsed on load.
    rate_limits: RoleRateLimits = field(default_factory=RoleRateLimits)
    # Acknowledgement emails to people who file a report: off unless an SMTP server is set,
    # e.g. smtp://mail.example:25, smtp+starttls://user:password@mail.example:587.
    smtp_url: str = ""
    # The EU DSA Transparency Database's API, where `shieldwall decisions submit` sends
    # statements of reasons: its base URL (https://transparency.dsa.ec.europa.eu; empty:
    # off) and the platform's API token (a secret: never logged or printed).
    tdb_url: str = ""
    tdb_token: str = field(default="", repr=False)
    # Key that seals reporters' contact details at rest (storage/sealing.py): base64 of 32
    # bytes; empty: a key file made once in `home`. Every worker and host must share it.
    data_key: str = ""
    # Content kept for review (the quarantine, storage/quarantine_files.py): deleted when
    # decided or after this many days at the latest; sealed with `quarantine_key` (base64
    # of 32 bytes), or when empty with a key derived from the data key.
    quarantine_retention_days: int = 14
    quarantine_key: str = ""
    # Victims' API limits per client address (and per case for status and withdrawal), as
    # RATE/BURST with RATE per second: 10 reports an hour after 5; 60 reads an hour after 20.
    protect_file_limit: RateLimit = PROTECT_FILE_LIMIT
    protect_read_limit: RateLimit = PROTECT_READ_LIMIT
    mail_from: str = "Shieldwall <no-reply@localhost>"
    # Host names the service answers to (the Host header); "*" takes any. Set them in
    # production so that a forged Host header is refused with 400.
    trusted_hosts: tuple[str, ...] = ("*",)
    # Likeness protection on the lookup API: `POST /api/v1/lookup?detect=true` runs the
    # detectors (nudity, faces against enrolments, provenance) after the banks. Off by
    # default: a deployment turns it on once its detectors work (`shieldwall doctor`).
    likeness_detection: bool = False
    # The API documentation page /docs (its assets served by the service itself).
    api_docs: bool = True
    # The npm package onnxruntime-web's `dist` folder, which the enrolment page runs the
    # face models with (served by the service under /assets). Empty: where `make install`
    # puts it, <venv>/onnxruntime-web/node_modules/onnxruntime-web/dist.
    onnxruntime_web_dir: str = ""
    # A rate-limit table shared by the worker processes of one host (storage/
    # shared_buckets.py); `serve` makes one in `home` and sets this for its workers.
    rate_limit_table: str = ""
    # Re-check every matching lookup's entries against the database (a withdrawal stops
    # matching at once). Off: only while this host's change beacon says the index may lag
    # (storage/change_beacon.py). Turn on where several hosts write to one database.
    match_recheck_always: bool = False
    # The review console: originals one reviewer may reveal per day (exposure cap), the
    # break prompt's interval in minutes, whether leads and admins must use TOTP, and
    # whether accepting a trusted flagger's case blocks its hashes at once.
    # Takedown clocks: hours from receipt by default (the TAKE IT DOWN Act's 48), by the
    # report's country where a jurisdiction differs (`DE=24,FR=24` or a TOML table), and
    # the margin at which a clock is "at risk". Leads at `lead_emails` are told by email
    # when a case turns at risk and when it is overdue.
    deadline_hours: int = 48
    deadline_hours_by_country: Mapping[str, timedelta] = field(default_factory=dict)
    deadline_at_risk_hours: int = 12
    lead_emails: tuple[str, ...] = ()
    review_daily_reveals: int = 20
    review_break_minutes: int = 60
    review_totp_required: bool = False
    trusted_flaggers_confirm: bool = True
    # Complaints about decisions (DSA Art. 20): how many days after a decision one may be
    # lodged (183: six months), and a complaint item's clock in hours (0: `deadline_hours`).
    complaint_window_days: int = 183
    complaint_deadline_hours: int = 0
    # The screened record: platforms' lookups kept as signals only (with their key, their
    # `content_ref` and the time) for `screened_retention_days`, so that a confirm decision
    # can sweep it for known copies within `sweep_threshold` PDQ bits.
    screened_record: bool = True
    screened_retention_days: int = 180
    sweep_threshold: int = 31
    # The Telegram group guard (`shieldwall telegram-guard`): `[shieldwall.telegram]`.
    telegram: tg.TelegramSettings = field(default_factory=tg.TelegramSettings)

    @property
    def deadline_policy(self) -> DeadlinePolicy:
        """The takedown clocks these settings give."""
        return DeadlinePolicy(
            timedelta(hours=self.deadline_hours),
            dict(self.deadline_hours_by_country),
            timedelta(hours=self.deadline_at_risk_hours),
        )

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'shieldwall.db').resolve()}"


_INT_MEDIA_KEYS = {f.name for f in fields(MediaLimits)}
_RATE_KEYS = {f"rate_{role.value}": role.value for role in Role}
_ENV_KEYS = {
    "home",
    "database_url",
    "default_pdq_threshold",
    "jobs",
    "url_lookups",
    "url_allow_hosts",
    "url_allow_private",
    "hma_trusted_networks",
    "trusted_hosts",
    "api_docs",
    "likeness_detection",
    "onnxruntime_web_dir",
    "rate_limit_table",
    "match_recheck_always",
    "smtp_url",
    "tdb_url",
    "tdb_token",
    "mail_from",
    "data_key",
    "quarantine_retention_days",
    "quarantine_key",
    "deadline_hours",
    "deadline_hours_by_country",
    "deadline_at_risk_hours",
    "lead_emails",
    "review_daily_reveals",
    "review_break_minutes",
    "review_totp_required",
    "trusted_flaggers_confirm",
    "complaint_window_days",
    "complaint_deadline_hours",
    "screened_record",
    "screened_retention_days",
    "sweep_threshold",
    "protect_file_limit",
    "protect_read_limit",
    *_INT_MEDIA_KEYS,
    *_RATE_KEYS,
    *(f"telegram_{key}" for key in tg.TELEGRAM_KEYS),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise InvalidInputError(f"setting {name} must be true or false, got {value!r}")


def _coerce_hosts(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(item).strip().lower() for item in items if str(item).strip())


def _coerce_emails(name: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    emails = tuple(str(item).strip() for item in items if str(item).strip())
    for email in emails:
        local, at, domain = email.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() or c in "<>," for c in email):
            raise InvalidInputError(f"{name}: {email!r} is not an email address")
    return emails


def _coerce_networks(name: str, value: Any) -> tuple[str, ...]:
    """Host names, addresses and networks; a mistyped network fails here, not silently later."""
    entries = _coerce_hosts(value)
    for entry in entries:
        if "/" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise InvalidInputError(f"setting {name}: {entry!r} is not a network") from exc
    return entries


def _coerce_int(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: TOML's inf
        raise InvalidInputError(f"setting {name} must be an integer, got {value!r}") from exc
    if number <= 0:
        raise InvalidInputError(f"setting {name} must be positive, got {number}")
    return number


def _trusted_networks(name: str, value: Any) -> tuple[TrustedNetwork, ...]:
    """`NETWORK=ROLE` entries (text or a TOML list), or an error naming the setting."""
    if not isinstance(value, str | list | tuple):
        raise InvalidInputError(f'setting {name} must be like "10.0.0.0/8=curator", got {value!r}')
    try:
        return parse_trusted_networks(value)
    except InvalidInputError as exc:
        raise InvalidInputError(f"setting {name}: {exc}") from None


_NETWORK_SETTINGS: Final[dict[str, Callable[[str, Any], tuple[Any, ...]]]] = {
    "url_allow_private": _coerce_networks,
    "hma_trusted_networks": _trusted_networks,
}


def _rate_limit(name: str, value: Any) -> RateLimit:
    """A `RATE/BURST` setting parsed, or an error naming the setting and the value."""
    if isinstance(value, RateLimit):
        return value
    if not isinstance(value, str):  # e.g. TOML's `rate_screener = 5`
        raise InvalidInputError(f'setting {name} must be text like "200/400", got {value!r}')
    try:
        return parse_rate_limit(value.strip())
    except InvalidInputError as exc:
        raise InvalidInputError(f"setting {name}: {exc}") from None


def _text_setting(_name: str, value: Any) -> str:
    return str(value)


def _coerce_hosts_setting(_name: str, value: Any) -> tuple[str, ...]:
    return _coerce_hosts(value)


_COERCE: Final[dict[str, Callable[[str, Any], Any]]] = {
    "home": lambda _name, value: Path(str(value)),
    **dict.fromkeys(
        (
            "database_url",
            "smtp_url",
            "tdb_token",
            "mail_from",
            "data_key",
            "quarantine_key",
            "rate_limit_table",
            "onnxruntime_web_dir",
        ),
        _text_setting,
    ),
    **dict.fromkeys(("protect_file_limit", "protect_read_limit"), _rate_limit),
    **dict.fromkeys(
        (
            "default_pdq_threshold",
            "jobs",
            "quarantine_retention_days",
            "review_daily_reveals",
            "review_break_minutes",
            "screened_retention_days",
            "complaint_window_days",
        ),
        _coerce_int,
    ),
    **dict.fromkeys(
        (
            "url_lookups",
            "api_docs",
            "likeness_detection",
            "match_recheck_always",
            "review_totp_required",
            "trusted_flaggers_confirm",
            "screened_record",
        ),
        _coerce_bool,
    ),
    **dict.fromkeys(("url_allow_hosts", "trusted_hosts"), _coerce_hosts_setting),
    **dict.fromkeys(
        ("deadline_hours", "deadline_at_risk_hours"),
        lambda name, value: clock_hours(value, name),
    ),
    "deadline_hours_by_country": lambda name, value: country_hours(value, name),
    "lead_emails": _coerce_emails,
    "tdb_url": http_url,
    "sweep_threshold": bounded(0, 63),
    "complaint_deadline_hours": bounded(0, 24 * 366),
}
"""How each plain setting is read from TOML, the environment or a flag."""


def _apply(settings: Settings, values: Mapping[str, Any], origin: str) -> Settings:
    media = settings.media
    rates = settings.rate_limits
    telegram = settings.telegram
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = key.lower()
        if name in _COERCE:
            changes[name] = _COERCE[name](name, value)
        elif name in _NETWORK_SETTINGS:
            changes[name] = _NETWORK_SETTINGS[name](name, value)
        elif name in _INT_MEDIA_KEYS:
            media = replace(media, **{name: _coerce_int(name, value)})
        elif name in _RATE_KEYS:
            rates = rates.with_limit(rate_limit_role(name), _rate_limit(name, value))
        elif name == "media" and isinstance(value, Mapping):
            nested = _apply(replace(settings, media=media), value, origin)
            media = nested.media
        elif tg.is_telegram_setting(name, value):
            telegram = tg.apply_telegram(telegram, name, value, origin)
        else:
            raise InvalidInputError(f"unknown setting {key!r} in {origin}")
    return replace(settings, media=media, rate_limits=rates, telegram=telegram, **changes)


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, then the TOML file, then SHIELDWALL_* variables, then flags."""
    env = os.environ if environ is None else environ
    settings = Settings(home=Path(env.get("SHIELDWALL_HOME", "var")))
    path = config_file or Path(env.get("SHIELDWALL_CONFIG", "shieldwall.toml"))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        # ValueError covers TOMLDecodeError, bad UTF-8 and integers of over 4,300 digits.
        except (ValueError, RecursionError) as exc:
            raise InvalidInputError(f"cannot read {path}: {exc}") from exc
        section = data.get("shieldwall", data)
        if not isinstance(section, Mapping):
            raise InvalidInputError(f"cannot read {path}: [shieldwall] must be a table")
        settings = _apply(settings, section, str(path))
    # Only the variables that name a setting: others (SHIELDWALL_CONFIG, test helpers) are ignored.
    from_env = {
        key.removeprefix("SHIELDWALL_"): value
        for key, value in env.items()
        if key.startswith("SHIELDWALL_") and key.removeprefix("SHIELDWALL_").lower() in _ENV_KEYS
    }
    settings = _apply(settings, from_env, "the environment")
    if overrides:
        settings = _apply(settings, {k: v for k, v in overrides.items() if v is not None}, "flags")
    return settings
