"""Every lookup path (native, HMA, CLI; by file, URL or signal) gives the same verdict,
matches and audit record.

They all go through `Services.screening`; these tests hold them to it for the same input
(URL lookups fetch through an in-memory ContentFetcher: no network),
show that an entry withdrawn by another worker stops matching on every path at once, and
that every path counts a victim's copies found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from shieldwall.access.models import LookupEvent, Role
from shieldwall.app import Services, build_services
from shieldwall.banks.models import EntryState, NewEntry
from shieldwall.cli.main import cli
from shieldwall.config import Settings
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.screening.memory import InMemoryFetcher
from shieldwall.signals.models import Signal
from shieldwall.web.app import create_app
from tests.support.edits import jpeg_bytes
from tests.support.factories import report_fields as fields
from tests.support.images import scene
from tests.support.services import make_services, wait_until_ready

STORED = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"
NEAR = f"{int(STORED, 16) ^ (0b111 << 253):064x}"  # 3 bits from STORED
PHOTO_URL = "https://media.example.org/uploads/photo.jpg"

MatchKey = tuple[str, int, str, int]  # bank, entry id, signal type, distance
Answer = tuple[str, frozenset[MatchKey]]  # verdict, matches


@dataclass
class World:
    """A served database with one photo and one hash-only entry, and a detail-seeing key."""

    settings: Settings
    services: Services
    client: TestClient
    headers: dict[str, str]
    key_id: int
    photo: bytes
    photo_path: Path
    photo_entry: int
    hash_entry: int
    fetcher: InMemoryFetcher

    def last_event(self) -> LookupEvent:
        return self.services.access.recent_lookups(limit=1)[0]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    photo = jpeg_bytes(scene(7))
    fetcher = InMemoryFetcher({PHOTO_URL: photo})
    services = make_services(tmp_path, "one.db", fetcher=fetcher, url_lookups=True)
    settings = services.settings
    path = tmp_path / "photo.jpg"
    path.write_bytes(photo)
    services.banks.create_bank("known")
    banked = hash_content(photo, settings.media, purpose=Purpose.BANK).entry_signals()
    [by_photo, by_hash] = services.banks.add_entries(
        "known", [NewEntry(banked), NewEntry((Signal.of("pdq", STORED, quality=90),))]
    )
    issued = services.access.issue_key("detail", Role.SCREENER, see_details=True)
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)  # HMA's lookups answer 503 until the index has loaded
        yield World(
            settings,
            services,
            client,
            {"X-API-Key": issued.token},
            issued.key.id,
            photo,
            path,
            by_photo.entry_id,
            by_hash.entry_id,
            fetcher,
        )


def _native(body: dict[str, Any]) -> Answer:
    keys = {(m["bank"], m["entry_id"], m["signal_type"], m["distance"]) for m in body["matches"]}
    return body["verdict"], frozenset(keys)


def _hma_keys(signal_type: str, by_bank: dict[str, list[dict[str, Any]]]) -> set[MatchKey]:
    # HMA names banks in upper case and gives "-" as the distance of exact signal types.
    return {
        (bank.lower(), m["bank_content_id"], signal_type, int(m["distance"].replace("-", "0")))
        for bank, found in by_bank.items()
        for m in found
    }


def _hma(world: World, keys: set[MatchKey]) -> Answer:
    # HMA's answers carry no verdict: the audit record says which it was.
    return world.last_event().verdict, frozenset(keys)


def native_file(world: World) -> Answer:
    files = {"file": ("photo.jpg", world.photo, "image/jpeg")}
    answer = world.client.post("/api/v1/lookup", files=files, headers=world.headers)
    assert answer.status_code == 200, answer.text
    return _native(answer.json())


def hma_post(world: World) -> Answer:
    files = {"photo": ("photo.jpg", world.photo, "image/jpeg")}
    answer = world.client.post("/m/lookup", files=files, headers=world.headers)
    assert answer.status_code == 200, answer.text
    keys = {key for name, by in answer.json().items() for key in _hma_keys(name, by)}
    return _hma(world, keys)


def native_url(world: World) -> Answer:
    params = {"url": PHOTO_URL}
    answer = world.client.get("/api/v1/lookup/url", params=params, headers=world.headers)
    assert answer.status_code == 200, answer.text
    return _native(answer.json())


def hma_url(world: World) -> Answer:
    answer = world.client.get("/m/lookup", params={"url": PHOTO_URL}, headers=world.headers)
    assert answer.status_code == 200, answer.text
    keys = {key for name, by in answer.json().items() for key in _hma_keys(name, by)}
    return _hma(world, keys)


def cli_match(world: World) -> Answer:
    url = world.settings.effective_database_url
    home = str(world.settings.home)
    args = ["--db", url, "--home", home, "match", str(world.photo_path), "--json"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    [record] = [json.loads(line) for line in run.stdout.splitlines()]
    return _native(record)


def native_signals(world: World, signal_type: str, value: str) -> Answer:
    body = {signal_type: value}
    answer = world.client.post("/api/v1/lookup/signals", json=body, headers=world.headers)
    assert answer.status_code == 200, answer.text
    return _native(answer.json())


def native_batch(world: World, signal_type: str, value: str) -> Answer:
    body = {"items": [{signal_type: value}]}
    answer = world.client.post("/api/v1/lookup/batch", json=body, headers=world.headers)
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    return _native(result)


def hma_get(world: World, signal_type: str, value: str) -> Answer:
    params = {"signal_type": signal_type, "signal": value}
    answer = world.client.get("/m/lookup", params=params, headers=world.headers)
    assert answer.status_code == 200, answer.text
    return _hma(world, _hma_keys(signal_type, answer.json()))


def hma_raw(world: World, signal_type: str, value: str) -> Answer:
    params = {"signal_type": signal_type, "signal": value, "include_distance": "true"}
    answer = world.client.get("/m/raw_lookup", params=params, headers=world.headers)
    assert answer.status_code == 200, answer.text
    # raw_lookup names no bank: every entry here is in "known".
    return _hma(world, _hma_keys(signal_type, {"KNOWN": answer.json()["matches"]}))


CONTENT_PATHS: dict[str, Callable[[World], Answer]] = {
    "native file": native_file,
    "hma post": hma_post,
    "native url": native_url,
    "hma url": hma_url,
    "cli match": cli_match,
}
SIGNAL_PATHS: dict[str, Callable[[World, str, str], Answer]] = {
    "native signals": native_signals,
    "native batch": native_batch,
    "hma get": hma_get,
    "hma raw": hma_raw,
}


def _audit_of(world: World, name: str) -> tuple[int, int, str]:
    event = world.last_event()
    expected_key = None if name.startswith("cli") else world.key_id
    assert event.key_id == expected_key, name
    return event.queries, event.matches, event.verdict


def test_content_paths_agree(world: World) -> None:
    found = {}
    for name, path in CONTENT_PATHS.items():
        found[name] = (path(world), _audit_of(world, name))
    wanted = frozenset(("known", world.photo_entry, kind, 0) for kind in ("pdq", "md5", "sha256"))
    assert found["native file"] == (("block", wanted), (1, 3, "block"))
    assert found["hma post"] == found["native file"]
    assert found["native url"] == found["native file"]
    assert found["hma url"] == found["native file"]
    assert found["cli match"] == found["native file"]
    # Only the URL paths fetched, once each, through the services' fetcher.
    assert world.fetcher.fetched == [PHOTO_URL, PHOTO_URL]


@pytest.mark.parametrize(
    ("signal_type", "value", "distance"),
    [("pdq", NEAR, 3), ("md5", "photo", 0), ("sha256", "photo", 0)],
)
def test_signal_paths_agree(world: World, signal_type: str, value: str, distance: int) -> None:
    if value == "photo":
        digests = hash_content(world.photo, world.settings.media)
        value = {"md5": digests.md5, "sha256": digests.sha256}[signal_type].value
    entry = world.hash_entry if signal_type == "pdq" else world.photo_entry
    found = {}
    for name, path in SIGNAL_PATHS.items():
        found[name] = (path(world, signal_type, value), _audit_of(world, name))
    wanted = frozenset({("known", entry, signal_type, distance)})
    assert set(found.values()) == {(("block", wanted), (1, 1, "block"))}, found


def test_a_withdrawal_by_another_worker_stops_matches_on_every_path(world: World) -> None:
    assert native_signals(world, "pdq", NEAR)[1]  # the index holds it
    # Another worker withdraws both entries: this worker's index hears of it only through
    # the change log (within about a second); the re-check of the bank of record in the
    # screening path stops the matches at once, on every path.
    other = build_services(world.settings)
    try:
        for entry in (world.photo_entry, world.hash_entry):
            other.banks.set_entry_state(entry, EntryState.WITHDRAWN)
    finally:
        other.close()
    nothing: Answer = ("allow", frozenset())
    for name, content_path in CONTENT_PATHS.items():
        assert content_path(world) == nothing, name
        assert _audit_of(world, name) == (1, 0, "allow"), name
    for name, signal_path in SIGNAL_PATHS.items():
        assert signal_path(world, "pdq", NEAR) == nothing, name
        assert _audit_of(world, name) == (1, 0, "allow"), name


def test_unknown_hma_banks_match_nothing_and_are_still_audited(world: World) -> None:
    params = {"signal_type": "pdq", "signal": NEAR, "banks": "NO_SUCH_BANK"}
    answer = world.client.get("/m/lookup", params=params, headers=world.headers)
    assert answer.json() == {}
    assert _audit_of(world, "hma get") == (1, 0, "allow")
    answer = world.client.get(
        "/m/lookup", params={**params, "banks": "KNOWN"}, headers=world.headers
    )
    assert _hma_keys("pdq", answer.json()) == {("known", world.hash_entry, "pdq", 3)}


def test_every_path_counts_a_copy_found_for_the_victims_case(world: World) -> None:
    signals = hash_content(world.photo, world.settings.media)
    hashes = {
        "pdq": signals.pdq.value,
        "pdq_quality": signals.pdq.quality,
        "md5": signals.md5.value,
        "sha256": signals.sha256.value,
    }
    filed = world.client.post("/protect/api/cases", json=fields(hashes=[hashes]))
    assert filed.status_code == 201, filed.text
    case = {"case_number": filed.json()["case_number"], "secret": filed.json()["secret"]}

    def copies_found() -> int:
        found: int = world.client.post("/protect/api/status", json=case).json()["copies_found"]
        return found

    assert copies_found() == 0
    looked_up = 0
    for content_path in CONTENT_PATHS.values():
        content_path(world)
        looked_up += 1
        assert copies_found() == looked_up
    for signal_path in SIGNAL_PATHS.values():
        signal_path(world, "md5", signals.md5.value)
        looked_up += 1
        assert copies_found() == looked_up
