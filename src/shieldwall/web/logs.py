"""Structured JSON logs for the service (never media bytes, contacts, full hashes or keys)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

_STANDARD = set(vars(logging.makeLogRecord({})))
# HMA clients that can only set a base URL carry their API key in it (`/hma/<key>/c/banks`,
# web/paths.py); uvicorn's access log writes the path as received, slashes and all.
_KEYED_PATH: Final = re.compile(r"/+hma/+[^/\s\"?#]+", re.IGNORECASE)
REDACTED_KEY_PATH: Final = "/hma/<redacted>"


def scrub(text: str) -> str:
    """`text` with the key of every `/hma/<key>` base path replaced by `<redacted>`."""
    return _KEYED_PATH.sub(REDACTED_KEY_PATH, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any extra fields.

    `secrets` (a bot token, an API key a command holds) are replaced by `<redacted>`
    wherever they appear in the line, tracebacks included."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # The whole line, so a key is also scrubbed from extra fields and tracebacks.
        line = scrub(json.dumps(entry, default=str))
        for secret in self._secrets:
            line = line.replace(secret, "<redacted>")
        return line


def log_config(level: str = "info") -> dict[str, Any]:
    """A logging.config dict for uvicorn and Shieldwall: JSON lines on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shieldwall.web.logs.JsonFormatter"}},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "shieldwall")
        },
    }
