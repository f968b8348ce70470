"""The lookup fast lane answers exactly as the routes do, and steps aside for the rest.

Two apps over one database, one with the fast lane (the default) and one without, get
the same requests; every answer must be the same, byte for byte, and the audit log must
hold the same records. The fast lane must have answered the common cases itself, and
left every error to the routes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.banks.models import NewEntry
from shieldwall.signals.models import Signal
from shieldwall.web.app import create_app
from shieldwall.web.runtime import Runtime
from tests.support.services import make_services, wait_until_ready

STORED = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"
NEAR = f"{int(STORED, 16) ^ (0b111 << 253):064x}"
FAR = f"{int(STORED, 16) ^ ((1 << 256) - 1):064x}"
MD5 = "5d41402abc4b2a76b9719d911017c592"


@dataclass
class Pair:
    fast: TestClient
    plain: TestClient
    fast_services: Services
    detail: str
    verdicts_only: str
    curator: str

    def both(self, method: str, path: str, **kwargs: object) -> tuple[int, bytes]:
        fast = self.fast.request(method, path, **kwargs)  # type: ignore[arg-type]
        plain = self.plain.request(method, path, **kwargs)  # type: ignore[arg-type]
        assert (fast.status_code, fast.content) == (plain.status_code, plain.content), path
        assert fast.headers.get("content-type") == plain.headers.get("content-type")
        return fast.status_code, fast.content

    def fast_answers(self, route: str) -> float:
        runtime: Runtime = self.fast.app.state.runtime  # type: ignore[attr-defined]
        value = runtime.metrics.registry.get_sample_value(
            "shieldwall_lookup_fast_lane_total", {"route": route}
        )
        return value or 0.0


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    fast_services = make_services(tmp_path)
    plain_services = make_services(tmp_path)
    fast_services.banks.create_bank("known")
    fast_services.banks.add_entries(
        "known",
        [
            NewEntry((Signal.of("pdq", STORED, quality=90),)),
            NewEntry((Signal.of("md5", MD5),)),
        ],
    )
    keys = fast_services.access
    detail = keys.issue_key("detail", Role.SCREENER, see_details=True).token
    verdicts_only = keys.issue_key("plain", Role.SCREENER).token
    curator = keys.issue_key("curator", Role.REPORTER).token
    with (
        TestClient(create_app(fast_services)) as fast,
        TestClient(create_app(plain_services, fast_lane=False)) as plain,
    ):
        wait_until_ready(fast)
        wait_until_ready(plain)
        yield Pair(fast, plain, fast_services, detail, verdicts_only, curator)


def test_native_lookups_answer_the_same_and_take_the_fast_lane(pair: Pair) -> None:
    for token in (pair.detail, pair.verdicts_only):
        key = {"X-API-Key": token}
        for body in ({"pdq": NEAR}, {"pdq": FAR}, {"md5": MD5}, {"pdq": STORED, "md5": MD5}):
            status, _ = pair.both("POST", "/api/v1/lookup/signals", json=body, headers=key)
            assert status == 200
        status, content = pair.both(
            "POST",
            "/api/v1/lookup/batch",
            json={"items": [{"pdq": NEAR}, {"pdq": FAR}, {"pdq": "zz"}, {"md5": MD5}]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert status == 200
        assert [r["verdict"] for r in json.loads(content)["results"]] == [
            "block",
            "allow",
            "allow",
            "block",
        ]
    assert pair.fast_answers("/api/v1/lookup/signals") == 8
    assert pair.fast_answers("/api/v1/lookup/batch") == 2


def test_hma_lookups_answer_the_same_and_take_the_fast_lane(pair: Pair) -> None:
    key = {"X-API-Key": pair.detail}
    for value in (NEAR, FAR):
        status, _ = pair.both("GET", f"/m/lookup?signal_type=pdq&signal={value}", headers=key)
        assert status == 200
    assert json.loads(pair.both("GET", f"/m/lookup?signal_type=md5&signal={MD5}", headers=key)[1])
    assert pair.fast_answers("/m/lookup") == 3


@pytest.mark.parametrize(
    ("method", "path", "body", "who"),
    [
        ("POST", "/api/v1/lookup/signals", {"pdq": "not hex"}, "detail"),
        ("POST", "/api/v1/lookup/signals", {"pdq": NEAR, "extra": 1}, "detail"),
        ("POST", "/api/v1/lookup/signals", {}, "detail"),
        ("POST", "/api/v1/lookup/signals", {"pdq": NEAR}, "nobody"),
        ("POST", "/api/v1/lookup/signals", {"pdq": NEAR}, "malformed"),
        ("POST", "/api/v1/lookup/signals", {"pdq": NEAR}, "curator"),
        ("POST", "/api/v1/lookup/signals?threshold=70", {"pdq": NEAR}, "detail"),
        ("POST", "/api/v1/lookup/batch", {"items": "no"}, "detail"),
        ("GET", f"/m/lookup?signal_type=pdq&signal={NEAR}", None, "plain"),
        ("GET", f"/m/lookup?signal_type=nope&signal={NEAR}", None, "detail"),
        ("GET", "/m/lookup?signal_type=pdq&signal=abc", None, "detail"),
        ("GET", "/m/lookup?signal_type=pdq", None, "detail"),
        ("GET", f"/m/lookup?signal_type=pdq&signal={NEAR}", None, "nobody"),
    ],
)
def test_errors_come_from_the_routes(
    pair: Pair, method: str, path: str, body: object, who: str
) -> None:
    tokens = {
        "detail": pair.detail,
        "plain": pair.verdicts_only,
        "curator": pair.curator,
        "malformed": "sw_" + "x" * 10,
    }
    headers = {"X-API-Key": tokens[who]} if who in tokens else {}
    status, _ = pair.both(method, path, json=body, headers=headers)
    assert status >= 400
    route = path.split("?", maxsplit=1)[0]
    assert pair.fast_answers(route) == 0


def test_repeated_parameters_are_left_to_the_route(pair: Pair) -> None:
    path = f"/m/lookup?signal_type=pdq&signal={FAR}&signal={NEAR}"
    status, _ = pair.both("GET", path, headers={"X-API-Key": pair.detail})
    assert status == 200  # FastAPI takes the last value
    assert pair.fast_answers("/m/lookup") == 0


def test_a_key_over_its_rate_gets_the_routes_429(tmp_path: Path) -> None:
    services = make_services(tmp_path, rate_screener="1/1")
    token = services.access.issue_key("slow", Role.SCREENER).token
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)
        key = {"X-API-Key": token}
        first = client.post("/api/v1/lookup/signals", json={"pdq": NEAR}, headers=key)
        second = client.post("/api/v1/lookup/signals", json={"pdq": NEAR}, headers=key)
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["content-type"] == "application/problem+json"
    assert "retry-after" in second.headers
