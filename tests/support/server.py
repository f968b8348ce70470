"""A real `shieldwall serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.support.polling import eventually


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerExitedError(AssertionError):
    """The server process ended while the test waited for it to answer."""


class ServerProcess:
    """Starts `python -m shieldwall serve` and stops it with SIGTERM (graceful shutdown)."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 1,
        start_timeout: float = 60,
        log_level: str = "warning",
    ) -> None:
        self.home = Path(env["SHIELDWALL_HOME"])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = Path(tempfile.mkstemp(prefix="shieldwall-serve-", suffix=".log")[1])
        self._stream = self._log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shieldwall",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                log_level,
            ],
            env=env,
            stdout=self._stream,
            stderr=subprocess.STDOUT,
        )
        self._start_timeout = start_timeout

    def stderr(self) -> str:
        """What the server has printed so far."""
        return self._log.read_text(errors="replace")

    def wait_live(self) -> None:
        """Poll /status/live until the server answers (bounded)."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise ServerExitedError(f"server exited early:\n{self.stderr()}")
            try:
                return httpx.get(f"{self.url}/status/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            eventually(ready, timeout=self._start_timeout, interval=0.1)
        except ServerExitedError:
            raise
        except AssertionError:
            raise AssertionError(f"server not ready in time:\n{self.stderr()}") from None

    @property
    def admin_key_file(self) -> Path:
        """Where `serve` writes the first admin key when stderr is not a terminal."""
        return self.home / "admin-key.txt"

    def admin_key(self) -> str:
        """The one-time admin key written on first start (stderr is a file here)."""
        self.wait_live()
        assert self.admin_key_file.is_file(), self.stderr()
        token = self.admin_key_file.read_text(encoding="utf-8").strip()
        assert re.fullmatch(r"sw_\S+", token), token
        return token

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stream.close()
        return self.process.returncode

    def remove_log(self) -> None:
        """Delete the captured output (call after the test has read what it needs)."""
        self._log.unlink(missing_ok=True)
