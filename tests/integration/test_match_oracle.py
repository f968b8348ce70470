"""No match oracle (red line 5): keys that may not see distances cannot measure them."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.web.app import create_app
from tests.support.services import make_services


def _balanced_hash(rng: random.Random) -> int:
    """A PDQ-like hash: 128 of 256 bits set, as PDQ's median threshold gives."""
    bits = rng.sample(range(256), 128)
    return sum(1 << bit for bit in bits)


def _hex(value: int) -> str:
    return f"{value:064x}"


def _near(value: int, distance: int, rng: random.Random) -> int:
    for bit in rng.sample(range(256), distance):
        value ^= 1 << bit
    return value


class Oracle:
    """A service with one banked hash, and keys of a screener with and without details."""

    def __init__(self, client: TestClient, tokens: dict[str, str], stored: int) -> None:
        self.client = client
        self.tokens = tokens
        self.stored = stored

    def lookup(self, who: str, pdq: int, threshold: int | None = None) -> dict[str, object]:
        params = {} if threshold is None else {"threshold": threshold}
        answer = self.client.post(
            "/api/v1/lookup/signals",
            json={"pdq": _hex(pdq)},
            params=params,
            headers={"x-api-key": self.tokens[who]},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[Oracle]:
    services = make_services(tmp_path, "oracle.db", rate_screener="1/10")
    access = services.access
    tokens = {
        "admin": access.issue_key("admin", Role.ADMIN).token,
        "screener": access.issue_key("platform", Role.SCREENER).token,
        "detail": access.issue_key("trusted", Role.SCREENER, see_details=True).token,
        "monitor": access.issue_key("prometheus", Role.MONITOR).token,
    }
    stored = _balanced_hash(random.Random(9))
    admin = {"x-api-key": tokens["admin"]}
    with TestClient(create_app(services)) as client:
        assert client.post("/api/v1/banks", json={"name": "known"}, headers=admin).is_success
        entries = {"entries": [{"signals": [{"type": "pdq", "value": _hex(stored)}]}]}
        added = client.post("/api/v1/banks/known/entries", json=entries, headers=admin)
        assert added.status_code == 201, added.text
        yield Oracle(client, tokens, stored)


def test_threshold_is_ignored_for_keys_that_may_not_see_distances(oracle: Oracle) -> None:
    near = _near(oracle.stored, 20, random.Random(1))
    # Bisecting `threshold` would give the distance in five requests: every answer is the same.
    verdicts = {oracle.lookup("screener", near, t)["verdict"] for t in (0, 10, 15, 19, 20, 31)}
    assert verdicts == {"block"}
    # A key allowed to see distances may tighten the threshold.
    assert oracle.lookup("detail", near, 10)["verdict"] == "allow"
    assert oracle.lookup("detail", near, 20)["verdict"] == "block"


def test_a_batch_costs_one_request_per_signal_set(oracle: Oracle) -> None:
    rng = random.Random(2)
    items = [{"pdq": _hex(_balanced_hash(rng))} for _ in range(10)]
    headers = {"x-api-key": oracle.tokens["screener"]}
    batch = oracle.client.post("/api/v1/lookup/batch", json={"items": items}, headers=headers)
    assert batch.status_code == 200, batch.text
    # The limit is 1 per second in bursts of 10: the batch used the whole burst.
    single = oracle.client.post(
        "/api/v1/lookup/signals", json={"pdq": items[0]["pdq"]}, headers=headers
    )
    assert single.status_code == 429
    assert int(single.headers["retry-after"]) >= 1


def test_a_batch_of_one_bit_flips_is_flagged_in_the_log_and_metrics(
    oracle: Oracle, caplog: pytest.LogCaptureFixture
) -> None:
    near = _near(oracle.stored, 3, random.Random(3))
    items = [{"pdq": _hex(near ^ (1 << bit))} for bit in range(256)]
    headers = {"x-api-key": oracle.tokens["detail"]}  # even trusted keys are watched
    with caplog.at_level(logging.WARNING, logger="shieldwall.web"):
        answer = oracle.client.post("/api/v1/lookup/batch", json={"items": items}, headers=headers)
    assert answer.status_code == 200
    assert any("near-identical" in record.getMessage() for record in caplog.records)
    metrics = oracle.client.get("/metrics", headers={"x-api-key": oracle.tokens["monitor"]}).text
    found = re.search(r'shieldwall_probe_alerts_total\{key_id="(\d+)"\} (\d+)', metrics)
    assert found is not None, metrics
    assert int(float(found.group(2))) >= 1
