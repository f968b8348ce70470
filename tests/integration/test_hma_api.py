"""The HMA-compatible API (`/h`, `/m`, `/c`, `/status`) over a real SQLite database.

Expected bodies follow HMA 1.1's own tests and docs (facebook/ThreatExchange,
hasher-matcher-actioner/src/OpenMediaMatch/tests/ and docs/api.md); the differences that
Shieldwall makes on purpose are asserted as such.
"""

from __future__ import annotations

import io
import json
import os
import random
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.config import MediaLimits
from shieldwall.hashing.service import hash_content
from shieldwall.screening.memory import InMemoryFetcher
from shieldwall.web.app import create_app
from tests.support.factories import jpeg, tokens_by_role
from tests.support.images import scene
from tests.support.server import ServerProcess
from tests.support.services import make_services, wait_until_ready

# HMA's own /m/compare specimens (test_api.py): 9 bits apart.
SPECIMEN_1 = "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318"
SPECIMEN_2 = "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318"
# PDQ-like hashes (about 128 bits set, full rank): degenerate ones such as all zeros are
# refused at intake and never matched.
STORED = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"
NEAR = f"{int(STORED, 16) ^ (0b111 << 253):064x}"  # 3 bits from STORED
OTHER = f"{int(STORED, 16) ^ ((1 << 256) - 1):064x}"  # every bit differs


def photo(data: bytes, field: str = "photo") -> dict[str, Any]:
    """An HMA multipart upload: the field is named after the content type."""
    return {field: ("example.jpg", data, "image/jpeg")}


class Hma:
    """A test client with one key per role; `h()` are the headers for a role's key."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.c = client
        self.services = services
        self.tokens = tokens_by_role(services.access)
        self.detail_token = services.access.issue_key("detail", Role.SCREENER, True).token

    def h(self, role: Role = Role.CURATOR) -> dict[str, str]:
        return {"X-API-Key": self.tokens[role]}

    def create_bank(self, name: str) -> None:
        created = self.c.post("/c/banks", json={"name": name}, headers=self.h())
        assert created.status_code == 201, created.text
        assert created.json() == {"matching_enabled_ratio": 1.0, "name": name}
        # In-process bank changes reach the live matcher before the answer: a client may
        # bank content and look it up at once (HMA would make it wait for an index build).
        runtime = self.c.app.state.runtime  # type: ignore[attr-defined]
        assert name.lower() in {bank.name for bank in runtime.matcher().banks}

    def add_signal(self, bank: str, **signals: str) -> int:
        added = self.c.post(f"/c/bank/{bank}/signal", json=signals, headers=self.h())
        assert added.status_code == 200, added.text
        content_id: int = added.json()["id"]
        assert added.json() == {"id": content_id, "signals": signals}
        return content_id


def _services(tmp_path: Path, **overrides: Any) -> Services:
    return make_services(tmp_path, "hma.db", **overrides)


@pytest.fixture
def hma(tmp_path: Path) -> Iterator[Hma]:
    services = _services(tmp_path)
    with TestClient(create_app(services)) as client:
        wait_until_ready(client)
        yield Hma(client, services)


def assert_hma_error(response: Any, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"message"}
    if message is not None:
        assert response.json()["message"] == message


def assert_name_taken(response: Any, message: str) -> None:
    """HMA's 403 for a taken name, as problem+json (like every Shieldwall 403) + `message`."""
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["message"] == message
    assert response.json()["type"] == "urn:shieldwall:problem:bank-name-taken"


# Access ----------------------------------------------------------------------------------

HMA_ROUTES = [
    ("get", "/h/hash?url=https://example.org/a.png"),
    ("post", "/h/hash"),
    ("get", f"/m/raw_lookup?signal_type=pdq&signal={STORED}"),
    ("get", f"/m/lookup?signal_type=pdq&signal={STORED}"),
    ("post", "/m/lookup"),
    ("post", "/m/compare"),
    ("get", "/m/index/status"),
    ("get", "/c/banks"),
    ("post", "/c/banks"),
    ("get", "/c/bank/TEST_BANK"),
    ("put", "/c/bank/TEST_BANK"),
    ("delete", "/c/bank/TEST_BANK"),
    ("post", "/c/bank/TEST_BANK/content"),
    ("post", "/c/bank/TEST_BANK/signal"),
    ("get", "/c/bank/TEST_BANK/content/1"),
    ("put", "/c/bank/TEST_BANK/content/1"),
    ("delete", "/c/bank/TEST_BANK/content/1"),
]


@pytest.mark.parametrize(("method", "path"), HMA_ROUTES)
def test_every_hma_route_needs_an_api_key(hma: Hma, method: str, path: str) -> None:
    response = hma.c.request(method, path, content=b"{not json")
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_status_answers_i_am_alive_without_a_key_as_hma_does(hma: Hma) -> None:
    for headers in ({}, hma.h(Role.SCREENER), {"X-API-Key": "sw_not_a_key"}):
        response = hma.c.get("/status", headers=headers)
        assert (response.status_code, response.text) == (200, "I-AM-ALIVE")
        assert response.headers["content-type"].startswith("text/plain")


def test_roles_decide_who_curates(hma: Hma) -> None:
    assert (
        hma.c.post("/c/banks", json={"name": "X"}, headers=hma.h(Role.SCREENER)).status_code == 403
    )
    assert hma.c.get("/c/banks", headers=hma.h(Role.SCREENER)).status_code == 403
    assert hma.c.get("/c/banks", headers=hma.h(Role.REVIEWER)).status_code == 200
    refused = hma.c.post("/c/banks", json={"name": "X"}, headers=hma.h(Role.REVIEWER))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_lookups_with_ids_and_distances_need_a_detail_key(hma: Hma) -> None:
    hma.create_bank("TEST_BANK")
    hma.add_signal("TEST_BANK", pdq=STORED)
    screener = hma.h(Role.SCREENER)
    for response in (
        hma.c.get(f"/m/lookup?signal_type=pdq&signal={STORED}", headers=screener),
        hma.c.get(f"/m/raw_lookup?signal_type=pdq&signal={STORED}", headers=screener),
        hma.c.post("/m/lookup", files=photo(jpeg(1)), headers=screener),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "see_details" in response.json()["detail"]
    detail = {"X-API-Key": hma.detail_token}
    allowed = hma.c.get(f"/m/lookup?signal_type=pdq&signal={STORED}", headers=detail)
    assert allowed.status_code == 200
    assert list(allowed.json()) == ["TEST_BANK"]
    compared = hma.c.post("/m/compare", json={"pdq": [STORED, NEAR]}, headers=screener)
    assert compared.json() == {"pdq": [True, {"distance": 3}]}  # no bank is touched


# Banks -----------------------------------------------------------------------------------


def test_banks_create_list_and_show(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    assert c.get("/c/banks", headers=h).json() == []
    for bad in ("01_TEST_BANK", "my_test_bank", "MY-BANK", "A" * 256):
        assert_hma_error(c.post("/c/banks", json={"name": bad}, headers=h), 400)
    assert_hma_error(c.post("/c/banks", json={}, headers=h), 400, "name is required")
    created = c.post("/c/banks", json={"name": "MY_TEST_BANK_01"}, headers=h)
    assert created.status_code == 201
    assert created.json() == {"matching_enabled_ratio": 1.0, "name": "MY_TEST_BANK_01"}
    assert c.get("/c/banks", headers=h).json() == [created.json()]
    assert c.get("/c/bank/MY_TEST_BANK_01", headers=h).json() == created.json()
    again = c.post("/c/banks", json={"name": "MY_TEST_BANK_01"}, headers=h)
    assert_name_taken(again, "Bank already exists")
    assert_hma_error(c.get("/c/bank/NOPE", headers=h), 404, "bank 'NOPE' not found")
    # Names are case-sensitive, as in HMA: the Shieldwall spelling is not an alias.
    assert c.get("/c/bank/my_test_bank_01", headers=h).status_code == 404
    disabled = c.post("/c/banks", json={"name": "OFF", "enabled": False}, headers=h)
    assert disabled.json() == {"name": "OFF", "matching_enabled_ratio": 0.0}


def test_bank_names_map_to_shieldwall_lowercase(hma: Hma) -> None:
    hma.create_bank("SCHOOL_LEAKS")
    assert [b.name for b in hma.services.banks.list_banks()] == ["school_leaks"]
    hma.services.banks.create_bank("chat-group-7")  # a native name with a hyphen
    names = [b["name"] for b in hma.c.get("/c/banks", headers=hma.h()).json()]
    assert names == ["CHAT-GROUP-7", "SCHOOL_LEAKS"]
    shown = hma.c.get("/c/bank/CHAT-GROUP-7", headers=hma.h())
    assert shown.json() == {"name": "CHAT-GROUP-7", "matching_enabled_ratio": 1.0}


def test_banks_update(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("MY_TEST_BANK")
    hma.create_bank("TAKEN")
    assert_hma_error(c.put("/c/bank/MY_TEST_BANK", json={"name": "1_invalid_name"}, headers=h), 400)
    taken = c.put("/c/bank/MY_TEST_BANK", json={"name": "TAKEN"}, headers=h)
    assert_name_taken(taken, "Bank name already exists")
    renamed = c.put("/c/bank/MY_TEST_BANK", json={"name": "MY_TEST_BANK_RENAMED"}, headers=h)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "MY_TEST_BANK_RENAMED"
    off = c.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled": False}, headers=h)
    assert off.json()["matching_enabled_ratio"] == 0
    on = c.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": 1.0}, headers=h)
    assert on.json()["matching_enabled_ratio"] == 1.0
    # HMA samples a share of lookups per bank: any ratio in 0..1, numbers or strings.
    half = c.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": "0.5"}, headers=h)
    assert half.json()["matching_enabled_ratio"] == 0.5
    for wrong in (1.5, -0.1, "half", True):
        bad = c.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": wrong}, headers=h)
        assert_hma_error(bad, 400)
    assert c.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled": True}, headers=h).json() == {
        "name": "MY_TEST_BANK_RENAMED",
        "matching_enabled_ratio": 1.0,
    }
    assert_hma_error(
        c.put("/c/bank/GONE", json={"enabled": True}, headers=h), 404, "Bank not found"
    )
    assert c.get("/c/banks", headers=h).json() == [
        {"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 1.0},
        {"name": "TAKEN", "matching_enabled_ratio": 1.0},
    ]


def test_hma_bank_changes_keep_the_second_stage_switch(hma: Hma) -> None:
    """HMA has no such field: its bank calls neither show nor change the stored switch."""
    c, h = hma.c, hma.h()
    hma.create_bank("EXACT_ONLY")
    hma.services.banks.update_policy("exact_only", second_stage=False)
    bodies = [{"enabled_ratio": 0.5}, {"enabled": False}, {"enabled_ratio": "1"}]
    for body in bodies:
        changed = c.put("/c/bank/EXACT_ONLY", json=body, headers=h)
        assert changed.status_code == 200, changed.text
        assert set(changed.json()) == {"name", "matching_enabled_ratio"}
        assert hma.services.banks.get_bank("exact_only").policy.second_stage is False
    renamed = c.put("/c/bank/EXACT_ONLY", json={"name": "EXACT", "enabled": True}, headers=h)
    assert renamed.json() == {"name": "EXACT", "matching_enabled_ratio": 1.0}
    bank = hma.services.banks.get_bank("exact")
    assert (bank.enabled, bank.policy.matching_ratio, bank.policy.second_stage) == (
        True,
        1.0,
        False,
    )


def test_banks_delete(hma: Hma) -> None:
    hma.create_bank("MY_TEST_BANK")
    content_id = hma.add_signal("MY_TEST_BANK", pdq=STORED)
    for _ in range(2):  # deleting a bank that is not there succeeds too, as in HMA
        deleted = hma.c.delete("/c/bank/MY_TEST_BANK", headers=hma.h())
        assert (deleted.status_code, deleted.json()) == (200, {"message": "Done"})
    assert hma.c.get("/c/banks", headers=hma.h()).json() == []
    gone = hma.c.get(f"/c/bank/MY_TEST_BANK/content/{content_id}", headers=hma.h())
    assert gone.status_code == 404


# Content ---------------------------------------------------------------------------------


def test_add_content_by_upload_in_a_field_named_after_the_content_type(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("NEW_BANK")
    data = jpeg(1)
    expected = hash_content(data, hma.services.settings.media)
    added = c.post("/c/bank/NEW_BANK/content", files=photo(data), headers=h)
    assert added.status_code == 200, added.text
    assert added.json() == {
        "id": added.json()["id"],
        "signals": {
            "pdq": expected.pdq.value,
            "md5": expected.md5.value,
            "sha256": expected.sha256.value,
        },
    }
    stored = hma.services.banks.get_entry(added.json()["id"])
    assert len([s for s in stored.signals if s.type == "pdq"]) > 20  # with region variants
    only_pdq = c.post("/c/bank/NEW_BANK/content?types=pdq", files=photo(jpeg(2)), headers=h)
    assert list(only_pdq.json()["signals"]) == ["pdq"]
    errors = {
        "file": "no such content_type: 'file'",
        "video": "content_type video is disabled",
    }
    for field, message in errors.items():
        refused = c.post("/c/bank/NEW_BANK/content", files=photo(data, field), headers=h)
        assert_hma_error(refused, 400, message)
    two = {"photo": ("a.jpg", data), "video": ("b.jpg", data)}
    assert_hma_error(c.post("/c/bank/NEW_BANK/content", files=two, headers=h), 400)
    none = c.post("/c/bank/NEW_BANK/content", headers=h)
    assert_hma_error(none, 400, "Neither `url` nor multipart file upload was received")
    broken = c.post("/c/bank/NEW_BANK/content", files=photo(b"\xff\xd8 broken"), headers=h)
    assert_hma_error(broken, 400)
    missing = c.post("/c/bank/NO_BANK/content", files=photo(data), headers=h)
    assert_hma_error(missing, 404, "bank 'NO_BANK' not found")


def test_add_content_with_metadata_and_note(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("NEW_BANK")
    bad = c.post(
        "/c/bank/NEW_BANK/content",
        files=photo(jpeg(1)),
        data={"metadata": '{"invalid_metadata": 5}'},
        headers=h,
    )
    assert_hma_error(bad, 400)
    good = c.post(
        "/c/bank/NEW_BANK/content",
        files=photo(jpeg(1)),
        data={"metadata": '{"content_id": "1197433091", "json": {"asdf": {}}}', "note": "fake"},
        headers=h,
    )
    assert good.status_code == 200, good.text
    path = f"/c/bank/NEW_BANK/content/{good.json()['id']}"
    shown = c.get(path, headers=h).json()
    assert shown["note"] == "fake"
    # Stored and shown as HMA's GET writes it: every field, the unset ones null.
    assert shown["metadata"] == {
        "content_id": "1197433091",
        "content_uri": None,
        "json": {"asdf": {}},
        "collab": None,
    }
    assert "metadata" not in c.get(f"{path}?include_metadata=false", headers=h).json()
    # HMA's PUT answers its content config: the note changes, the metadata is as stored.
    changed = c.put(path, json={"note": "reviewed"}, headers=h).json()
    assert changed["note"] == "reviewed"
    assert changed["user_metadata"] == {"content_id": "1197433091", "json": {"asdf": {}}}
    assert c.get(path, headers=h).json()["note"] == "reviewed"
    assert_hma_error(c.put(path, json={"note": "x" * 256}, headers=h), 400)
    assert_hma_error(c.put(path, json={"note": 5}, headers=h), 400)
    assert c.get(path, headers=h).json()["note"] == "reviewed"
    assert c.put(path, json={"note": None}, headers=h).json()["note"] is None
    # By signal (HMA's takes the note only; Shieldwall keeps metadata there too).
    by_signal = c.post(
        "/c/bank/NEW_BANK/signal",
        json={"pdq": STORED, "note": "n", "metadata": {"content_uri": "https://x.test/1"}},
        headers=h,
    )
    assert by_signal.status_code == 200, by_signal.text
    shown = c.get(f"/c/bank/NEW_BANK/content/{by_signal.json()['id']}", headers=h).json()
    assert (shown["note"], shown["metadata"]["content_uri"]) == ("n", "https://x.test/1")
    long_note = c.post(
        "/c/bank/NEW_BANK/content", files=photo(jpeg(2)), data={"note": "x" * 256}, headers=h
    )
    assert_hma_error(long_note, 400)


def test_add_by_signal_and_get_content(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("TEST_BANK")
    content_id = hma.add_signal("TEST_BANK", pdq=STORED)
    both = hma.add_signal("TEST_BANK", pdq=OTHER, md5="cab08b36195edb1a1231d2d09fa450e0")
    shown = c.get(f"/c/bank/TEST_BANK/content/{content_id}", headers=h)
    assert shown.status_code == 200
    assert shown.json() == {
        "id": content_id,
        "disable_until_ts": 1,
        "original_media_uri": None,
        "bank": {"name": "TEST_BANK", "matching_enabled_ratio": 1.0},
    }
    with_signals = c.get(f"/c/bank/TEST_BANK/content/{both}?include_signals=true", headers=h)
    assert with_signals.json()["signals"] == {
        "pdq": OTHER,
        "md5": "cab08b36195edb1a1231d2d09fa450e0",
    }
    unknown = c.post("/c/bank/TEST_BANK/signal", json={"video_md5": "0" * 32}, headers=h)
    assert_hma_error(unknown, 400, "No such signal type video_md5")
    assert_hma_error(c.post("/c/bank/TEST_BANK/signal", json={"pdq": "banana"}, headers=h), 400)
    assert_hma_error(
        c.post("/c/bank/TEST_BANK/signal", json={}, headers=h), 400, "No signals given"
    )
    hma.create_bank("OTHER_BANK")
    for path in (
        f"OTHER_BANK/content/{content_id}",
        "TEST_BANK/content/99999",
        "TEST_BANK/content/x",
    ):
        assert c.get(f"/c/bank/{path}", headers=h).status_code == 404
    upper = c.post(
        "/c/bank/TEST_BANK/signal", json={"md5": "CAB08B36195EDB1A1231D2D09FA450E1"}, headers=h
    )
    assert upper.json()["signals"] == {"md5": "cab08b36195edb1a1231d2d09fa450e1"}


def test_update_and_delete_content(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("TEST_BANK")
    content_id = hma.add_signal("TEST_BANK", pdq=STORED)
    path = f"/c/bank/TEST_BANK/content/{content_id}"
    lookup = f"/m/lookup?signal_type=pdq&signal={STORED}"
    off = c.put(path, json={"disable_until_ts": 0}, headers=h)
    assert off.status_code == 200
    assert off.json() == {
        "id": content_id,
        "disable_until_ts": 0,
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": {"name": "TEST_BANK", "matching_enabled_ratio": 1.0},
        "user_metadata": None,
        "note": None,
    }
    assert c.get(lookup, headers=h).json() == {}
    assert c.put(path, json={"disable_until_ts": 1}, headers=h).json()["disable_until_ts"] == 1
    assert list(c.get(lookup, headers=h).json()) == ["TEST_BANK"]
    in_a_year = int((datetime.now() + timedelta(days=365)).timestamp())
    assert_hma_error(c.put(path, json={"disable_until_ts": in_a_year}, headers=h), 400)
    assert_hma_error(c.put(path, json={"disable_until_ts": 9999999999}, headers=h), 400)
    assert_hma_error(c.put(path, json={"disable_until_ts": -1}, headers=h), 400)
    deleted = c.delete(path, headers=h)
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": 1})
    assert c.delete(path, headers=h).json() == {"deleted": 0}
    assert c.get(path, headers=h).status_code == 404
    assert c.get(lookup, headers=h).json() == {}
    # As in HMA, the same hash can be added again: a new content id, matching again; the
    # deleted one stays deleted (Shieldwall keeps it as a tombstone).
    again = c.post("/c/bank/TEST_BANK/signal", json={"pdq": STORED}, headers=h)
    assert again.status_code == 200, again.text
    new_id = again.json()["id"]
    assert new_id != content_id
    assert c.get(path, headers=h).status_code == 404
    assert c.get(lookup, headers=h).json() == {
        "TEST_BANK": [{"bank_content_id": new_id, "distance": "0"}]
    }
    same = c.post("/c/bank/TEST_BANK/signal", json={"pdq": STORED}, headers=h)
    assert same.json()["id"] == new_id  # added once: the bank holds it now
    assert c.delete(f"/c/bank/TEST_BANK/content/{new_id}", headers=h).json() == {"deleted": 1}
    third = c.post("/c/bank/TEST_BANK/signal", json={"pdq": STORED}, headers=h)
    assert third.json()["id"] not in (content_id, new_id)


# Matching --------------------------------------------------------------------------------


def test_lookup_and_raw_lookup_by_signal(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("BANK_A")
    hma.create_bank("BANK_B")
    in_a = hma.add_signal("BANK_A", pdq=STORED)
    in_b = hma.add_signal("BANK_B", pdq=STORED, md5="cab08b36195edb1a1231d2d09fa450e0")
    near = c.get(f"/m/lookup?signal_type=pdq&signal={NEAR}", headers=h)
    assert near.status_code == 200
    assert near.json() == {
        "BANK_A": [{"bank_content_id": in_a, "distance": "3"}],
        "BANK_B": [{"bank_content_id": in_b, "distance": "3"}],
    }
    only_b = c.get(f"/m/lookup?signal_type=pdq&signal={NEAR}&banks=BANK_B", headers=h)
    assert list(only_b.json()) == ["BANK_B"]
    exact = c.get("/m/lookup?signal_type=md5&signal=cab08b36195edb1a1231d2d09fa450e0", headers=h)
    assert exact.json() == {"BANK_B": [{"bank_content_id": in_b, "distance": "-"}]}
    raw = c.get(f"/m/raw_lookup?signal_type=pdq&signal={NEAR}", headers=h)
    assert sorted(raw.json()["matches"]) == sorted([in_a, in_b])
    raw_a = c.get(
        f"/m/raw_lookup?signal_type=pdq&signal={NEAR}&include_distance=true&banks=BANK_A,NOPE",
        headers=h,
    )
    assert raw_a.json() == {"matches": [{"bank_content_id": in_a, "distance": "3"}]}
    none = c.get(f"/m/raw_lookup?signal_type=pdq&signal={STORED}&banks=NON_EXISTENT", headers=h)
    assert none.json() == {"matches": []}
    assert c.get(f"/m/lookup?signal_type=pdq&signal={OTHER}", headers=h).json() == {}


def _seed_drawing(below: bool, ratio: float) -> str:
    """A `seed` whose draw (HMA's: random.Random(seed)) falls below or above `ratio`."""
    return next(
        seed
        for seed in (f"content-{n}" for n in range(1000))
        if (random.Random(seed).random() < ratio) == below
    )


def test_enabled_ratio_samples_lookups_as_hma_does(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("ALWAYS")
    hma.create_bank("QUARTER")
    hma.add_signal("ALWAYS", pdq=STORED)
    hma.add_signal("QUARTER", pdq=STORED)
    put = c.put("/c/bank/QUARTER", json={"enabled_ratio": 0.25}, headers=h)
    assert put.json()["matching_enabled_ratio"] == 0.25
    lookup = f"/m/lookup?signal_type=pdq&signal={STORED}"

    def banks(query: str = "") -> list[str]:
        return sorted(c.get(lookup + query, headers=h).json())

    # A seed (the content id, in HMA's clients) gives the same answer every time.
    inside, outside = _seed_drawing(True, 0.25), _seed_drawing(False, 0.25)
    assert [banks(f"&seed={inside}") for _ in range(3)] == [["ALWAYS", "QUARTER"]] * 3
    assert [banks(f"&seed={outside}") for _ in range(3)] == [["ALWAYS"]] * 3
    assert banks(f"&seed={outside}&bypass_coinflip=true") == ["ALWAYS", "QUARTER"]
    raw = c.get(f"/m/raw_lookup?signal_type=pdq&signal={STORED}", headers=h).json()
    assert len(raw["matches"]) == 2  # raw lookups ignore ratios, as in HMA
    # Without a seed, about a quarter of lookups search the bank (25 of 100 expected).
    searched = sum("QUARTER" in banks() for _ in range(100))
    assert 5 <= searched <= 50, searched
    # Ratio 0 disables the bank: no lookup searches it, whatever the draw.
    c.put("/c/bank/QUARTER", json={"enabled_ratio": "0"}, headers=h)
    assert banks(f"&seed={inside}&bypass_coinflip=true") == ["ALWAYS"]
    assert c.get("/c/bank/QUARTER", headers=h).json()["matching_enabled_ratio"] == 0.0


def test_lookup_errors_are_hma_shaped(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    cases = {
        "/m/lookup?signal_type=video_md5&signal=" + "0" * 32: "No such SignalType 'video_md5'",
        "/m/lookup?signal_type=pdq": "Either url or both signal and signal_type are required",
        "/m/raw_lookup?signal_type=pdq": "signal is required",
        f"/m/raw_lookup?signal={STORED}": "signal_type is required",
        f"/m/raw_lookup?signal_type=pdq&signal={STORED}&include_distance=maybe": (
            "invalid boolean parameter - prefer true/false"
        ),
    }
    for path, message in cases.items():
        assert_hma_error(c.get(path, headers=h), 400, message)
    invalid = c.get("/m/lookup?signal_type=pdq&signal=banana", headers=h)
    assert_hma_error(invalid, 400)
    assert invalid.json()["message"].startswith("invalid signal: ")


def test_lookup_by_uploaded_content_matches_edited_copies(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("TEST_BANK")
    added = c.post("/c/bank/TEST_BANK/content", files=photo(jpeg(1)), headers=h).json()
    same = c.post("/m/lookup", files=photo(jpeg(1)), headers=h)
    assert same.status_code == 200, same.text
    hit = [{"bank_content_id": added["id"], "distance": "0"}]
    exact = [{"bank_content_id": added["id"], "distance": "-"}]
    assert same.json() == {
        "pdq": {"TEST_BANK": hit},
        "md5": {"TEST_BANK": exact},
        "sha256": {"TEST_BANK": exact},
    }
    mirrored = c.post(
        "/m/lookup?bypass_coinflip=true&seed=4", files=photo(jpeg(1, mirror=True)), headers=h
    )
    body = mirrored.json()
    assert (body["md5"], body["sha256"]) == ({}, {})
    [match] = body["pdq"]["TEST_BANK"]
    assert match["bank_content_id"] == added["id"]
    assert int(match["distance"]) <= 31
    unrelated = c.post("/m/lookup?types=pdq", files=photo(jpeg(50)), headers=h)
    assert unrelated.json() == {"pdq": {}}
    assert_hma_error(c.post("/m/lookup", headers=h), 400, "Missing multipart/form-data file upload")


def test_bank_changes_apply_to_lookups_at_once(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("TEST_BANK")
    content_id = hma.add_signal("TEST_BANK", pdq=STORED)
    lookup = f"/m/lookup?signal_type=pdq&signal={STORED}"
    c.put("/c/bank/TEST_BANK", json={"name": "RENAMED"}, headers=h)
    assert c.get(lookup, headers=h).json() == {
        "RENAMED": [{"bank_content_id": content_id, "distance": "0"}]
    }
    shown = c.get(f"/c/bank/RENAMED/content/{content_id}", headers=h).json()
    assert shown["bank"] == {"name": "RENAMED", "matching_enabled_ratio": 1.0}
    c.put("/c/bank/RENAMED", json={"enabled_ratio": 0}, headers=h)
    assert c.get(lookup, headers=h).json() == {}
    c.put("/c/bank/RENAMED", json={"enabled": True}, headers=h)
    assert list(c.get(lookup, headers=h).json()) == ["RENAMED"]
    c.delete("/c/bank/RENAMED", headers=h)
    assert c.get(lookup, headers=h).json() == {}


def test_lookups_wait_for_the_index_like_hma(hma: Hma) -> None:
    hma.c.app.state.runtime.ready = lambda: False  # type: ignore[attr-defined]
    lookup = hma.c.get(f"/m/lookup?signal_type=pdq&signal={STORED}", headers=hma.h())
    assert_hma_error(lookup, 503, "index not yet ready")
    status = hma.c.get("/m/index/status?signal_type=pdq", headers=hma.h()).json()
    assert status == {"pdq": {"present": False, "built_to": -1, "size": 0}}


def test_lookups_are_audited(hma: Hma) -> None:
    hma.create_bank("TEST_BANK")
    hma.add_signal("TEST_BANK", pdq=STORED)
    detail = {"X-API-Key": hma.detail_token}
    hma.c.get(f"/m/raw_lookup?signal_type=pdq&signal={STORED}", headers=detail)
    [event] = hma.services.access.recent_lookups()
    assert (event.kind, event.queries, event.matches, event.verdict) == ("hma", 1, 1, "block")


def test_compare(hma: Hma) -> None:
    c, h = hma.c, hma.h(Role.SCREENER)
    happy = c.post("/m/compare", json={"pdq": [SPECIMEN_1, SPECIMEN_2]}, headers=h)
    assert happy.json() == {"pdq": [True, {"distance": 9}]}
    far = c.post("/m/compare", json={"pdq": [STORED, OTHER]}, headers=h)
    assert far.json() == {"pdq": [False, {"distance": 256}]}
    md5 = c.post("/m/compare", json={"md5": ["ab" * 16, "AB" * 16]}, headers=h)
    assert md5.json() == {"md5": [True, {}]}
    bad_inputs: list[Any] = [
        ["banana"],
        {"pdq": "banana"},
        {"pdq": []},
        {"pdq": ["banana", "banana"]},
        {"pdq": [SPECIMEN_1, SPECIMEN_2, SPECIMEN_1]},
        {"video_md5": ["0" * 32, "0" * 32]},
    ]
    for bad in bad_inputs:
        assert_hma_error(c.post("/m/compare", json=bad, headers=h), 400)


def test_index_status(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    hma.create_bank("TEST_BANK")
    hma.add_signal("TEST_BANK", pdq=STORED)
    hma.add_signal("TEST_BANK", pdq=OTHER)
    status = c.get("/m/index/status", headers=h).json()
    assert set(status) == {"pdq", "md5", "sha256"}
    for info in status.values():
        assert set(info) == {"present", "built_to", "size"}
        assert info["present"] is True
        assert isinstance(info["built_to"], int)
    assert status["pdq"]["size"] == 2
    only = c.get("/m/index/status?signal_type=pdq", headers=h).json()
    assert only == {"pdq": status["pdq"]}
    assert_hma_error(c.get("/m/index/status?signal_type=nope", headers=h), 400)


# Hashing and URLs ------------------------------------------------------------------------


def test_hash_uploaded_file(hma: Hma) -> None:
    c, h = hma.c, hma.h(Role.SCREENER)
    data = jpeg(3)
    expected = hash_content(data, hma.services.settings.media)
    hashed = c.post("/h/hash", files=photo(data), headers=h)
    assert hashed.json() == {
        "pdq": expected.pdq.value,
        "md5": expected.md5.value,
        "sha256": expected.sha256.value,
    }
    only = c.post("/h/hash?types=pdq", files=photo(data), headers=h)
    assert only.json() == {"pdq": expected.pdq.value}
    unknown = c.post("/h/hash?types=video_md5", files=photo(data), headers=h)
    assert_hma_error(unknown, 400, "signal type 'video_md5' doesn't exist or is disabled")
    assert_hma_error(c.post("/h/hash", headers=h), 400, "Missing multipart/form-data file upload")


def test_url_fetching_is_off_by_default(hma: Hma) -> None:
    c, h = hma.c, hma.h()
    refused = c.get("/h/hash?url=https://example.org/photo.jpg", headers=h)
    assert_hma_error(refused, 400, "URL lookups are disabled on this server")
    assert_hma_error(c.get("/h/hash", headers=h), 400, "url is required")
    lookup = c.get("/m/lookup?url=https://example.org/photo.jpg", headers=h)
    assert_hma_error(lookup, 400, "URL lookups are disabled on this server")


def test_url_content_is_hashed_banked_and_looked_up(tmp_path: Path) -> None:
    pages = {"https://cdn.example.org/a.jpg": jpeg(7)}
    fetcher = InMemoryFetcher(pages)
    services = _services(tmp_path, url_lookups=True, fetcher=fetcher)
    with TestClient(create_app(services)) as client:
        hma = Hma(client, services)
        c, h = hma.c, hma.h()
        url = "https://cdn.example.org/a.jpg"
        expected = hash_content(pages[url], services.settings.media)
        assert c.get(f"/h/hash?url={url}", headers=h).json()["pdq"] == expected.pdq.value
        hma.create_bank("TEST_BANK")
        add_url = f"/c/bank/TEST_BANK/content?url={url}&content_type=photo"
        bad = c.post(add_url, json={"metadata": {"invalid_metadata": 5}}, headers=h)
        assert_hma_error(bad, 400)
        metadata = {"metadata": {"content_id": "1197433091", "json": {"asdf": {}}}}
        added = c.post(add_url, json=metadata, headers=h)
        assert added.status_code == 200, added.text
        content_id = added.json()["id"]
        found = c.get(f"/m/lookup?url={url}&types=pdq", headers=h)
        assert found.json() == {
            "pdq": {"TEST_BANK": [{"bank_content_id": content_id, "distance": "0"}]}
        }
        one_type = c.get(f"/m/lookup?url={url}&signal_type=md5", headers=h)
        assert one_type.json() == {"TEST_BANK": [{"bank_content_id": content_id, "distance": "-"}]}
        video = c.get(f"/h/hash?url={url}&content_type=video", headers=h)
        assert_hma_error(video, 400, "content_type video is disabled")
    assert fetcher.fetched == [url] * 4


# HMA's documented curl calls, against a real server ---------------------------------------

HMA_BASE_URL = "http://localhost:5100"
# Copied from HMA's docs/api.md (hashing and matching) and its tests' bank set-up calls.
README_CALLS = {
    "create_bank": (
        "curl -s -X POST -H 'Content-Type: application/json' -d '{\"name\": \"TEST_BANK\"}' "
        "http://localhost:5100/c/banks"
    ),
    "add_photo": "curl -s -X POST --form photo='@example.png' http://localhost:5100/c/bank/TEST_BANK/content",
    "add_hash": (
        "curl -s -X POST -H 'Content-Type: application/json' "
        '-d \'{"pdq": "d811ac390bfa6005d08543fe27fd5a11f6b55bdd2603000dc26476fc79fc76b5"}\' '
        "http://localhost:5100/c/bank/TEST_BANK/signal"
    ),
    "hash_url": "curl -s -X GET http://localhost:5100/h/hash?url=https://example.org/path/to/file.png",
    "hash_bytes": "curl -s -X POST --form photo='@example.png' http://localhost:5100/h/hash",
    "hash_and_match": (
        "curl -s -X POST --form photo='@example.png' "
        "http://localhost:5100/m/lookup?bypass_coinflip=false"
    ),
    "lookup_hash": (
        'curl -s -X GET "http://localhost:5100/m/lookup?signal_type=pdq'
        '&signal=d811ac390bfa6005d08543fe27fd5a11f6b55bdd2603000dc26476fc79fc76b5"'
    ),
    "status": "curl -s http://localhost:5100/status",
}


class Curl:
    """Runs HMA's curl lines with only the base URL and an API key header changed."""

    def __init__(self, base_url: str, key: str, cwd: Path) -> None:
        self.base_url = base_url
        self.key = key
        self.cwd = cwd

    def __call__(self, name: str) -> tuple[int, str]:
        args = shlex.split(README_CALLS[name].replace(HMA_BASE_URL, self.base_url))
        command = [args[0], "-H", f"X-API-Key: {self.key}", "-w", "\n%{http_code}", *args[1:]]
        done = subprocess.run(
            command, cwd=self.cwd, capture_output=True, text=True, timeout=60, check=True
        )
        body, _, status = done.stdout.rpartition("\n")
        return int(status), body

    def json(self, name: str, status: int = 200) -> Any:
        code, body = self(name)
        assert code == status, body
        return json.loads(body)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_hma_documented_curl_calls_work_with_base_url_and_key_changed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "SHIELDWALL_HOME": str(home),
        "SHIELDWALL_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
    }
    scene(11).save(tmp_path / "example.png")
    expected = hash_content((tmp_path / "example.png").read_bytes(), MediaLimits())
    server = ServerProcess(env)
    try:
        curl = Curl(server.url, server.admin_key(), tmp_path)
        assert curl("status") == (200, "I-AM-ALIVE")
        assert curl.json("create_bank", 201) == {"matching_enabled_ratio": 1.0, "name": "TEST_BANK"}
        photo_id = curl.json("add_photo")["id"]
        hash_id = curl.json("add_hash")["id"]
        assert curl.json("hash_bytes") == {
            "pdq": expected.pdq.value,
            "md5": expected.md5.value,
            "sha256": expected.sha256.value,
        }
        assert curl.json("hash_and_match") == {
            "pdq": {"TEST_BANK": [{"bank_content_id": photo_id, "distance": "0"}]},
            "md5": {"TEST_BANK": [{"bank_content_id": photo_id, "distance": "-"}]},
            "sha256": {"TEST_BANK": [{"bank_content_id": photo_id, "distance": "-"}]},
        }
        assert curl.json("lookup_hash") == {
            "TEST_BANK": [{"bank_content_id": hash_id, "distance": "0"}]
        }
        # URL fetching is off unless the operator enables it (SSRF): an HMA-shaped refusal.
        assert curl.json("hash_url", 400) == {"message": "URL lookups are disabled on this server"}
    finally:
        server.stop()


def _black_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_blank_content_banks_its_digests_and_blank_signals_are_refused(hma: Hma) -> None:
    """Issue 9 item 6: degenerate PDQ hashes are never banked through the HMA API."""
    c, h = hma.c, hma.h()
    hma.create_bank("TEST_BANK")
    black = _black_png(640, 480)
    added = c.post("/c/bank/TEST_BANK/content", files=photo(black), headers=h)
    assert added.status_code == 200, added.text
    answer = added.json()
    assert sorted(answer["signals"]) == ["md5", "sha256"]
    assert "quality 0 is below 50" in answer["pdq_refused"]
    stored = hma.services.banks.get_entry(answer["id"])
    assert sorted(s.type for s in stored.signals) == ["md5", "sha256"]
    other_black = _black_png(320, 200)
    looked_up = c.post("/m/lookup", files=photo(other_black), headers=h)
    assert looked_up.json()["pdq"] == {}
    for value in ("0" * 64, "f" * 64):
        refused = c.post("/c/bank/TEST_BANK/signal", json={"pdq": value}, headers=h)
        assert_hma_error(refused, 400)
        assert "bits set" in refused.json()["message"]
    with_md5 = c.post(
        "/c/bank/TEST_BANK/signal", json={"pdq": "0" * 64, "md5": "ab" * 16}, headers=h
    )
    assert_hma_error(with_md5, 400)  # given by value: refused whole, like an import line
    normal = c.post("/c/bank/TEST_BANK/content", files=photo(jpeg(3)), headers=h).json()
    assert "pdq" in normal["signals"]
    assert "pdq_refused" not in normal


def test_hma_bank_names_start_with_a_letter(hma: Hma) -> None:
    refused = hma.c.post("/c/banks", json={"name": "_LEAD"}, headers=hma.h())
    assert_hma_error(refused, 400)
    assert "starting with a letter" in refused.json()["message"]
