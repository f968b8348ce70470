"""The module's configuration, as the `config:` block of Synapse's `modules:` list gives it.

Checked once when Synapse starts: a mistake stops Synapse with a clear message instead of
screening nothing. Secrets may be given inline or as a path to a file holding them (a file
is read again when it is used, so a rotated token needs no restart)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_REASON = "Removed: this image matches material reported as shared without consent."
MIB = 1024 * 1024


class ConfigError(ValueError):
    """The module's configuration is wrong; the message says which option and why."""


@dataclass(frozen=True)
class Secret:
    """A secret given inline (`name`) or in a file (`name_path`), read when used."""

    option: str
    value: str | None = None
    path: Path | None = None

    def read(self) -> str:
        """The secret now; a missing or empty file is a clear error."""
        if self.value is not None:
            return self.value
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{self.option}_path: cannot read {self.path}: {exc}") from exc
        if not text:
            raise ConfigError(f"{self.option}_path: {self.path} is empty")
        return text


@dataclass(frozen=True)
class ModuleConfig:
    """What the module does; `parse` explains each option."""

    shieldwall_url: str
    api_key: Secret
    timeout: float = 3.0
    fail_open: bool = True
    max_bytes: int = 20 * MIB
    queue_reviews: bool = True
    screen_remote_media: bool = True
    screen_url_previews: bool = True
    webhook_path: str = "/_shieldwall/webhook"
    webhook_secret: Secret | None = None
    webhook_tolerance: int = 300
    synapse_url: str | None = None
    admin_token: Secret | None = None
    redact_as: str | None = None
    redaction_reason: str = DEFAULT_REASON
    quarantine: bool = True

    @property
    def takes_down(self) -> bool:
        """Whether Shieldwall's webhooks are heard (a webhook secret is configured)."""
        return self.webhook_secret is not None


_KNOWN = frozenset(
    {
        "shieldwall_url",
        "api_key",
        "api_key_path",
        "timeout",
        "failure_mode",
        "max_bytes",
        "queue_reviews",
        "screen_remote_media",
        "screen_url_previews",
        "webhook_path",
        "webhook_secret",
        "webhook_secret_path",
        "webhook_tolerance",
        "synapse_url",
        "admin_access_token",
        "admin_access_token_path",
        "redact_as",
        "redaction_reason",
        "quarantine",
    }
)


def parse(raw: dict[str, Any] | None) -> ModuleConfig:
    """The configuration from Synapse's `config:` block, or a ConfigError naming the
    option at fault."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(unknown)}")
    failure_mode = raw.get("failure_mode", "open")
    if failure_mode not in ("open", "closed"):
        raise ConfigError("failure_mode: 'open' (let uploads through) or 'closed' (refuse them)")
    webhook_path = str(raw.get("webhook_path", "/_shieldwall/webhook"))
    if not webhook_path.startswith("/") or webhook_path.startswith("/_matrix"):
        raise ConfigError("webhook_path: an absolute path outside /_matrix")
    redact_as = raw.get("redact_as")
    if redact_as is not None and not (isinstance(redact_as, str) and redact_as.startswith("@")):
        raise ConfigError("redact_as: a Matrix user id such as @moderator:example.org")
    return ModuleConfig(
        shieldwall_url=_url(raw.get("shieldwall_url"), "shieldwall_url"),
        api_key=_required_secret(raw, "api_key"),
        timeout=_number(raw, "timeout", 3.0, low=0.1, high=60.0),
        fail_open=failure_mode == "open",
        max_bytes=int(_number(raw, "max_bytes", 20 * MIB, low=1, high=2**31)),
        queue_reviews=_flag(raw, "queue_reviews", True),
        screen_remote_media=_flag(raw, "screen_remote_media", True),
        screen_url_previews=_flag(raw, "screen_url_previews", True),
        webhook_path=webhook_path.rstrip("/") or "/",
        webhook_secret=_secret(raw, "webhook_secret"),
        webhook_tolerance=int(_number(raw, "webhook_tolerance", 300, low=10, high=3600)),
        synapse_url=_url(raw["synapse_url"], "synapse_url") if raw.get("synapse_url") else None,
        admin_token=_secret(raw, "admin_access_token"),
        redact_as=redact_as,
        redaction_reason=str(raw.get("redaction_reason", DEFAULT_REASON))[:500],
        quarantine=_flag(raw, "quarantine", True),
    )


def _url(value: Any, option: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{option}: required, e.g. https://shieldwall.example.org")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{option}: an http(s) URL, not {value!r}")
    return value.rstrip("/")


def _secret(raw: dict[str, Any], option: str) -> Secret | None:
    inline, path = raw.get(option), raw.get(f"{option}_path")
    if inline is not None and path is not None:
        raise ConfigError(f"{option}: give it inline or as {option}_path, not both")
    if inline is not None:
        if not isinstance(inline, str) or not inline.strip():
            raise ConfigError(f"{option}: a non-empty string")
        return Secret(option, value=inline.strip())
    if path is not None:
        return Secret(option, path=Path(str(path)))
    return None


def _required_secret(raw: dict[str, Any], option: str) -> Secret:
    secret = _secret(raw, option)
    if secret is None:
        raise ConfigError(f"{option} (or {option}_path): required")
    return secret


def _number(raw: dict[str, Any], option: str, default: float, *, low: float, high: float) -> float:
    value = raw.get(option, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{option}: a number from {low:g} to {high:g}")
    return float(value)


def _flag(raw: dict[str, Any], option: str, default: bool) -> bool:
    value = raw.get(option, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{option}: true or false")
    return value
