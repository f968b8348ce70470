"""Deep-sample images over HTTP: decoded within the budget, refused with 422 beyond it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.media.limits import MIB
from shieldwall.web.app import create_app
from tests.support.deep_images import deep_png, float_tiff
from tests.support.services import make_services


@pytest.fixture
def lookup(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client on a server whose decodes may use 64 MiB, and a screener's headers."""
    services = make_services(tmp_path, "api.db", max_decode_bytes=64 * MIB)
    token = services.access.issue_key("screener", Role.SCREENER).token
    with TestClient(create_app(services)) as client:
        yield client, {"X-API-Key": token}


@pytest.mark.parametrize(
    "data",
    [deep_png(6000, 6000), float_tiff(4500, 4500)],
    ids=["png-16-bit-36-megapixels", "tiff-float-20-megapixels"],
)
def test_images_over_the_decode_budget_answer_422(
    lookup: tuple[TestClient, dict[str, str]], data: bytes
) -> None:
    client, headers = lookup
    answer = client.post("/api/v1/lookup", content=data, headers=headers)
    assert answer.status_code == 422, answer.text
    assert "over the limit of 64 MiB" in answer.json()["detail"]
    assert client.get("/status/live").status_code == 200


@pytest.mark.parametrize(
    "data",
    [deep_png(3000, 3000), float_tiff(3000, 3000)],
    ids=["png-16-bit-9-megapixels", "tiff-float-9-megapixels"],
)
def test_images_within_the_decode_budget_are_looked_up(
    lookup: tuple[TestClient, dict[str, str]], data: bytes
) -> None:
    client, headers = lookup
    answer = client.post("/api/v1/lookup", content=data, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == "allow"
