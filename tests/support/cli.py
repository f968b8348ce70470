"""Running the real command line (`python -m shieldwall`) on its own SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


class Cli:
    """Runs `python -m shieldwall` with its own data directory and database."""

    def __init__(self, home: Path) -> None:
        self.env = {
            **os.environ,
            "SHIELDWALL_HOME": str(home),
            "SHIELDWALL_DATABASE_URL": f"sqlite:///{home / 'cli.db'}",
        }

    def run(
        self, *args: str, ok: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "shieldwall", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            input=stdin,
        )
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    def json(self, *args: str, ok: bool = True) -> list[dict[str, Any]]:
        proc = self.run(*args, "--json", ok=ok)
        return [json.loads(line) for line in proc.stdout.splitlines()]
