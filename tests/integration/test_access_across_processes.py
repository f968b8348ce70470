"""Real servers: audit rows written behind the request, keys checked in every worker's memory."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from shieldwall.access.audit_buffer import FLUSH_ROWS
from tests.support.cli import Cli
from tests.support.factories import REPORT_PDQ
from tests.support.polling import eventually
from tests.support.server import ServerProcess

CLIENTS = 4
REVOCATION_BOUND = 1.0
"""The issue's bound: a key revoked anywhere is refused by every worker within 1 s."""


def _env(home: Path) -> dict[str, str]:
    # Lifts the admin key's rate limit: the load below should be answered, not refused.
    return {**Cli(home).env, "SHIELDWALL_RATE_ADMIN": "100000/100000"}


def _audit_rows(env: dict[str, str]) -> int:
    engine = create_engine(env["SHIELDWALL_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows: int = connection.execute(text("SELECT count(*) FROM lookup_events")).scalar_one()
    finally:
        engine.dispose()
    return rows


class Load:
    """`CLIENTS` threads sending signal lookups; counts the lookups answered with 200."""

    def __init__(self, url: str, token: str) -> None:
        self._url = f"{url}/api/v1/lookup/signals"
        self._headers = {"X-API-Key": token}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answered = 0
        self._threads = [threading.Thread(target=self._client) for _ in range(CLIENTS)]
        for thread in self._threads:
            thread.start()

    def _client(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    answer = client.post(self._url, json={"pdq": REPORT_PDQ}, headers=self._headers)
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 200:
                    with self._lock:
                        self.answered += 1

    def wait_for(self, answered: int, within: float = 60) -> None:
        """Until at least `answered` lookups were answered (bounded)."""
        eventually(
            lambda: self.answered >= answered,
            timeout=within,
            message=f"fewer than {answered} lookups answered",
        )

    def stop(self) -> int:
        """Stop the clients; the number of lookups answered."""
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        return self.answered


def test_a_crash_loses_at_most_the_last_flush_window(tmp_path: Path) -> None:
    env = _env(tmp_path / "home")
    server = ServerProcess(env)
    try:
        load = Load(server.url, server.admin_key())
        load.wait_for(1500)
        server.process.kill()  # SIGKILL: no shutdown, no final flush
        server.process.wait(30)
        answered = load.stop()
    finally:
        server.stop()
    rows = _audit_rows(env)
    # A lookup is recorded before it is answered, so up to one per client can be
    # written yet unanswered when the kill lands.
    assert rows <= answered + CLIENTS
    # Unwritten rows: at most what accumulates between flushes (a flush starts when
    # FLUSH_ROWS wait, or every 250 ms), plus what arrives while one is being written.
    assert answered - rows <= 2 * FLUSH_ROWS + CLIENTS, (answered, rows)
    assert rows >= answered - 2 * FLUSH_ROWS - CLIENTS > 0


def test_a_graceful_stop_writes_every_answered_lookup(tmp_path: Path) -> None:
    env = _env(tmp_path / "home")
    server = ServerProcess(env)
    try:
        token = server.admin_key()
        load = Load(server.url, token)
        load.wait_for(300)
        metrics = httpx.get(f"{server.url}/metrics", headers={"X-API-Key": token}, timeout=10)
        answered = load.stop()
    finally:
        server.stop()  # SIGTERM at once (graceful): the last rows are still buffered
    assert _audit_rows(env) == answered
    gauges = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.text.splitlines()
        if line.startswith("shieldwall_audit_")
    }
    assert 0 <= gauges["shieldwall_audit_buffer_rows"] <= FLUSH_ROWS + CLIENTS
    assert 0 < gauges["shieldwall_audit_flush_seconds"] < 10
    assert gauges["shieldwall_audit_dropped_rows_total"] == 0


def _refused(url: str, token: str, count: int) -> list[bool]:
    """Whether each of `count` lookups on fresh connections (spread over the workers) got 401."""
    refused = []
    for _ in range(count):
        with httpx.Client(timeout=10) as client:
            answer = client.post(
                f"{url}/api/v1/lookup/signals",
                json={"pdq": REPORT_PDQ},
                headers={"X-API-Key": token},
            )
        refused.append(answer.status_code == 401)
    return refused


def _accepted_everywhere(url: str, token: str) -> bool:
    return not any(_refused(url, token, 10))


def _assert_refused_everywhere_within_bound(url: str, token: str, revoked_at: float) -> None:
    """Every request sent once the bound has passed is refused, on whichever worker."""
    late: list[bool] = []
    while len(late) < 40:
        for refused in _refused(url, token, 4):
            if time.monotonic() > revoked_at + REVOCATION_BOUND:
                late.append(refused)
    assert all(late), f"{late.count(False)} of {len(late)} requests accepted after 1 s"


def test_a_revoked_key_is_refused_by_every_worker_within_a_second(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env, cli = _env(home), Cli(home)
    server = ServerProcess(env, workers=2)
    try:
        admin = {"X-API-Key": server.admin_key()}
        created = [
            httpx.post(
                f"{server.url}/api/v1/keys",
                json={"name": name, "role": "screener"},
                headers=admin,
                timeout=10,
            ).json()
            for name in ("by cli", "by api")
        ]
        for key in created:  # accepted by every worker (a new key: fallback or refresh)
            eventually(
                functools.partial(_accepted_everywhere, server.url, key["token"]),
                timeout=5,
                interval=0,
                message="a new key was never accepted everywhere",
            )

        cli.run("key", "revoke", str(created[0]["id"]))  # another process
        _assert_refused_everywhere_within_bound(server.url, created[0]["token"], time.monotonic())

        revoked = httpx.delete(f"{server.url}/api/v1/keys/{created[1]['id']}", headers=admin)
        revoked_at = time.monotonic()
        assert revoked.json()["revoked_at"] is not None
        _assert_refused_everywhere_within_bound(server.url, created[1]["token"], revoked_at)
        assert _refused(server.url, admin["X-API-Key"], 4) == [False] * 4
    finally:
        server.stop()
