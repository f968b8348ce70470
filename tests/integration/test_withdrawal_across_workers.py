"""A withdrawal through one worker stops matches in every worker at once."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.cli import Cli
from tests.support.factories import REPORT_PDQ, report_fields
from tests.support.polling import eventually
from tests.support.server import ServerProcess


def _verdicts(url: str, admin: dict[str, str], count: int) -> list[str]:
    """Lookups on fresh connections, so the kernel spreads them over the workers."""
    verdicts = []
    for _ in range(count):
        with httpx.Client(timeout=10) as client:
            answer = client.post(
                f"{url}/api/v1/lookup/signals", json={"pdq": REPORT_PDQ}, headers=admin
            )
        verdicts.append(answer.json().get("verdict", str(answer.status_code)))
    return verdicts


def test_withdrawal_stops_matching_in_every_worker_at_once(tmp_path: Path) -> None:
    server = ServerProcess(Cli(tmp_path / "home").env, workers=2)
    try:
        admin = {"X-API-Key": server.admin_key()}
        filed = httpx.post(
            f"{server.url}/protect/api/cases", json=report_fields(), timeout=10
        ).json()
        eventually(  # both workers hold it
            lambda: _verdicts(server.url, admin, 8) == ["review"] * 8,
            timeout=30,
            interval=0.2,
            message="the filed hashes never matched everywhere",
        )
        key = {"case_number": filed["case_number"], "secret": filed["secret"]}
        withdrawn = httpx.post(f"{server.url}/protect/api/withdraw", json=key, timeout=10)
        assert withdrawn.json()["state"] == "withdrawn"
        assert _verdicts(server.url, admin, 12) == ["allow"] * 12
    finally:
        server.stop()
