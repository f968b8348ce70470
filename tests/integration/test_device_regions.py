"""Region hashes made on the victim's device: the report and the submission file carry
them, filed and imported entries hold them like `bank add` entries, and cropped copies of
a reported picture then match."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import hash_content
from shieldwall.normalise.views import MIN_SIDE, WORKING_LONG_SIDE
from shieldwall.signals.device_table import device_table
from shieldwall.signals.pairs import MAX_PAIRS
from shieldwall.signals.regions import MAX_REGIONS, REGION_NAMES
from shieldwall.web.app import create_app
from tests.support.cli import Cli
from tests.support.factories import jpeg, report_fields, report_item
from tests.support.images import scene
from tests.support.services import make_services, wait_until_ready

SEED = 61


def cropped(seed: int, share: float) -> bytes:
    image = scene(seed)
    width, height = image.size
    buffer = io.BytesIO()
    image.crop((int(width * share), 0, width, height)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def device_item(content: bytes) -> dict[str, Any]:
    """What a device sends for a photo: whole-image hashes and its region hashes."""
    return report_item(content, regions=True)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    services = make_services(tmp_path, "d.db")
    key = {"X-API-Key": services.access.issue_key("platform", Role.ADMIN).token}
    with TestClient(create_app(services)) as test_client:
        wait_until_ready(test_client)
        yield test_client, key


def lookup(client: TestClient, key: dict[str, str], content: bytes) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/lookup", content=content, headers={**key, "content-type": "image/jpeg"}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_page_loads_the_banks_own_region_table(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    table = c.get("/protect/regions.json").json()
    assert table == json.loads(json.dumps(device_table(MIN_SIDE, WORKING_LONG_SIDE, 512)))
    assert table["pairs"]["max_pairs"] == MAX_PAIRS
    names = {r["name"] for r in (*table["windows"], *table["bands"])}
    assert names < REGION_NAMES
    assert table["max_regions"] == MAX_REGIONS


def test_a_report_with_region_hashes_catches_cropped_copies(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, key = client
    plain = {k: v for k, v in device_item(jpeg(62)).items() if k != "regions"}
    filed = c.post("/protect/api/cases", json=report_fields(hashes=[plain]))
    assert filed.status_code == 201
    assert lookup(c, key, jpeg(62))["verdict"] == "review"
    assert lookup(c, key, cropped(62, 0.12))["verdict"] == "allow"  # whole hash only
    with_regions = c.post(
        "/protect/api/cases", json=report_fields(hashes=[device_item(jpeg(SEED))])
    )
    assert with_regions.status_code == 201, with_regions.text
    found = lookup(c, key, cropped(SEED, 0.12))
    assert found["verdict"] == "review"
    assert any(m["variant"] != "original" for m in found["matches"])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda regions: [*regions, {**regions[0], "variant": "crop55:x00:y00"}], "unknown"),
        (lambda regions: [*regions, dict(regions[0])], "twice"),
        (lambda regions: [{**r, "extra": 1} for r in regions], "extra field"),
        (lambda regions: [{**regions[0], "quality": "high"}], "quality"),
        (lambda regions: regions * 2, "too many"),
        (lambda regions: [*regions, {**regions[0], "variant": "pair:1-2-3"}], "malformed pair"),
        (
            lambda regions: [
                *regions,
                *({**regions[0], "variant": f"pair:{i}-0-500-0"} for i in range(MAX_PAIRS + 1)),
            ],
            "too many pairs",
        ),
    ],
)
def test_bad_region_hashes_are_refused(
    client: tuple[TestClient, dict[str, str]], change: Any, why: str
) -> None:
    c, _ = client
    item = device_item(jpeg(SEED))
    item["regions"] = change(item["regions"])
    answer = c.post("/protect/api/cases", json=report_fields(hashes=[item]))
    assert answer.status_code == 422, why
    assert {(p["field"], p["code"]) for p in answer.json()["problems"]} == {("hashes", "invalid")}


def test_regions_below_the_quality_floor_are_not_kept(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, key = client
    item = device_item(jpeg(SEED))
    item["regions"] = [{**r, "quality": 10} for r in item["regions"]]
    assert c.post("/protect/api/cases", json=report_fields(hashes=[item])).status_code == 201
    assert lookup(c, key, cropped(SEED, 0.12))["verdict"] == "allow"


def test_protect_keeps_the_files_order_and_import_names_each_item(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    files = []
    for name, seed in (("c.jpg", 63), ("a.jpg", 61), ("b.jpg", 62)):
        path = tmp_path / name
        path.write_bytes(jpeg(seed))
        files.append(path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    files.insert(1, broken)
    out = tmp_path / "submission.json"
    proc = cli.run("protect", *map(str, files), "--out", str(out), ok=False)
    assert proc.returncode == 1  # the broken file is named; the others are written
    items = json.loads(out.read_text())["hashes"]
    assert [item["position"] for item in items] == [0, 2, 3]
    digests = [hash_content(files[i].read_bytes(), MediaLimits()).sha256.value for i in (0, 2, 3)]
    assert [item["sha256"] for item in items] == digests
    assert all(len(item["regions"]) > 40 for item in items)

    cli.run("bank", "create", "eval")
    lines = cli.run("bank", "import", "eval", str(out), "--json").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["item"], r["created"]) for r in records] == [(0, True), (2, True), (3, True)]
    crop = tmp_path / "crop.jpg"
    crop.write_bytes(cropped(61, 0.12))
    matched = json.loads(cli.run("match", str(crop), "--bank", "eval", "--json").stdout)
    assert {m["entry_id"] for m in matched["matches"]} == {records[1]["entry_id"]}
    again = cli.run("bank", "import", "eval", str(out), "--json").stdout.splitlines()
    assert [json.loads(line)["created"] for line in again] == [False, False, False]
    assert cli.run("bank", "import", "nope", str(out), ok=False).returncode == 1
