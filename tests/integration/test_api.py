"""The native HTTP API over a real SQLite database, through FastAPI's test client."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from shieldwall.access.models import Role
from shieldwall.app import Services
from shieldwall.signals.pairs import MAX_PAIRS, is_pair_name
from shieldwall.web.app import create_app
from tests.support.edits import captioned, chat_screenshot, jpeg_bytes
from tests.support.factories import jpeg, report_fields, tokens_by_role
from tests.support.images import scene
from tests.support.services import make_services

# A PDQ-like hash (128 bits set, full rank): degenerate ones (all zeros, near-constant) are
# refused at intake and never matched, so fixtures start from this and flip bits.
BASE_PDQ = "3e2bf2a5f781f425f0b5a3b02e7a0adf8f87b78bc8d77fee94dfccf3243591c6"


def flipped(value: str, bits: int) -> str:
    """`value` with its first `bits` bits flipped (that many bits away)."""
    return f"{int(value, 16) ^ (((1 << bits) - 1) << (256 - bits)):064x}"


def spread_pdq(i: int) -> str:
    """A distinct, PDQ-like hash per i (a power hash of i: about 128 bits set)."""
    return f"{(i * 0x9E3779B97F4A7C15) ** 5 % (1 << 256):064x}"


class Api:
    """A test client plus one key per role."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.client = client
        self.services = services
        self.tokens = tokens_by_role(services.access)
        self.tokens_detail = services.access.issue_key("detail", Role.SCREENER, True).token

    def headers(self, role: Role | None = Role.ADMIN) -> dict[str, str]:
        return {} if role is None else {"X-API-Key": self.tokens[role]}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    services = make_services(tmp_path, "api.db")
    with TestClient(create_app(services)) as client:
        yield Api(client, services)


def test_bank_crud_and_policy(api: Api) -> None:
    c, h = api.client, api.headers()
    created = c.post("/api/v1/banks", json={"name": "known", "pdq_threshold": 20}, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["pdq_threshold"] == 20
    assert c.post("/api/v1/banks", json={"name": "known"}, headers=h).status_code == 409
    bad = c.post("/api/v1/banks", json={"name": "Bad Name"}, headers=h)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    changed = c.patch("/api/v1/banks/known", json={"action": "review", "enabled": False}, headers=h)
    assert (changed.json()["action"], changed.json()["enabled"]) == ("review", False)
    renamed = c.patch("/api/v1/banks/known", json={"name": "fakes"}, headers=h)
    assert renamed.json()["name"] == "fakes"
    assert [b["name"] for b in c.get("/api/v1/banks", headers=h).json()] == ["fakes"]
    assert c.delete("/api/v1/banks/fakes", headers=h).status_code == 204
    missing = c.get("/api/v1/banks/fakes", headers=h)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:shieldwall:problem:not-found"


def test_bank_second_stage_switch(api: Api) -> None:
    c, h = api.client, api.headers()
    plain = c.post("/api/v1/banks", json={"name": "plain"}, headers=h)
    assert plain.json()["second_stage"] is True
    created = c.post("/api/v1/banks", json={"name": "exact", "second_stage": False}, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["second_stage"] is False
    assert c.get("/api/v1/banks/exact", headers=h).json()["second_stage"] is False
    # Other changes keep it; only a real boolean changes it.
    kept = c.patch("/api/v1/banks/exact", json={"pdq_threshold": 12}, headers=h)
    assert (kept.json()["pdq_threshold"], kept.json()["second_stage"]) == (12, False)
    for wrong in ("true", 1, None):
        body = {"second_stage": wrong}
        refused = c.patch("/api/v1/banks/exact", json=body, headers=h)
        assert refused.status_code == (200 if wrong is None else 422), refused.text
    assert (
        c.post("/api/v1/banks", json={"name": "x", "second_stage": "no"}, headers=h).status_code
        == 422
    )
    on = c.patch("/api/v1/banks/exact", json={"second_stage": True}, headers=h)
    assert on.json()["second_stage"] is True
    listed = {b["name"]: b["second_stage"] for b in c.get("/api/v1/banks", headers=h).json()}
    assert listed == {"exact": True, "plain": True}
    assert api.services.banks.get_bank("exact").policy.second_stage is True


def test_files_added_then_edited_copies_match(api: Api) -> None:
    c, h = api.client, api.headers()
    c.post("/api/v1/banks", json={"name": "known"}, headers=h)
    files = [("files", (f"s{i}.jpg", jpeg(i), "image/jpeg")) for i in range(3)]
    files.append(("files", ("bad.jpg", b"\xff\xd8 broken", "image/jpeg")))
    added = c.post("/api/v1/banks/known/files", files=files, headers=h)
    assert added.status_code == 201, added.text
    results = added.json()["results"]
    assert [r["created"] for r in results] == [True, True, True, False]
    assert results[3]["error"]
    target = results[1]["entry_id"]
    multipart = c.post("/api/v1/lookup", files={"file": ("q.jpg", jpeg(1, mirror=True))}, headers=h)
    assert multipart.status_code == 200, multipart.text
    body = multipart.json()
    assert body["verdict"] == "block"
    assert [(m["entry_id"], m["variant"]) for m in body["matches"]] == [(target, "mirror")]
    raw = c.post("/api/v1/lookup", content=jpeg(1), headers={**h, "content-type": "image/jpeg"})
    assert {m["signal_type"] for m in raw.json()["matches"]} == {"pdq", "md5", "sha256"}
    unrelated = c.post("/api/v1/lookup", content=jpeg(50), headers=h).json()
    assert (unrelated["verdict"], unrelated["matches"]) == ("allow", [])
    assert len(unrelated["signals"]["pdq"]) == 64


def test_edited_copies_of_files_added_over_http_match_with_their_view(api: Api) -> None:
    c, h = api.client, api.headers()
    c.post("/api/v1/banks", json={"name": "known"}, headers=h)
    picture = scene(21)
    added = c.post(
        "/api/v1/banks/known/files",
        files=[("files", ("s.jpg", jpeg_bytes(picture), "image/jpeg"))],
        headers=h,
    )
    target = added.json()["results"][0]["entry_id"]
    stored = c.get(f"/api/v1/entries/{target}", headers=h).json()
    variants = {s["variant"] for s in stored["signals"] if s["type"] == "pdq"}
    assert "crop90:x05:y05" in variants
    assert len({v for v in variants if not is_pair_name(v)}) <= 64
    assert len({v for v in variants if is_pair_name(v)}) <= MAX_PAIRS
    screenshot, _ = chat_screenshot(picture)
    for image in (captioned(picture, 48), screenshot, picture.crop((48, 16, 480, 304))):
        body = c.post("/api/v1/lookup", content=jpeg_bytes(image), headers=h).json()
        assert body["verdict"] == "block"
        [match] = [m for m in body["matches"] if m["signal_type"] == "pdq"]
        assert match["entry_id"] == target
        assert match["variant"] != "original"
        assert match["distance"] <= 31


def test_screener_sees_no_distances_unless_allowed(api: Api) -> None:
    c = api.client
    c.post("/api/v1/banks", json={"name": "known"}, headers=api.headers())
    pdq = BASE_PDQ
    c.post(
        "/api/v1/banks/known/entries",
        headers=api.headers(),
        json={"entries": [{"signals": [{"type": "pdq", "value": pdq}]}]},
    )
    plain = c.post("/api/v1/lookup/signals", json={"pdq": pdq}, headers=api.headers(Role.SCREENER))
    assert plain.json()["matches"] == [
        {"bank": "known", "signal_type": "pdq", "entry_id": None, "distance": None, "variant": None}
    ]
    detailed = c.post(
        "/api/v1/lookup/signals", json={"pdq": pdq}, headers={"X-API-Key": api.tokens_detail}
    )
    assert detailed.json()["matches"][0]["distance"] == 0


def test_threshold_only_tightens_and_batch(api: Api) -> None:
    c, h = api.client, api.headers()
    c.post("/api/v1/banks", json={"name": "known", "pdq_threshold": 10}, headers=h)
    stored = BASE_PDQ
    near = flipped(stored, 4)
    far = flipped(stored, 8)
    c.post(
        "/api/v1/banks/known/entries",
        headers=h,
        json={"entries": [{"signals": [{"type": "pdq", "value": stored}]}]},
    )
    assert (
        c.post("/api/v1/lookup/signals?threshold=3", json={"pdq": near}, headers=h).json()[
            "matches"
        ]
        == []
    )
    assert (
        c.post(
            "/api/v1/lookup/signals?threshold=63", json={"pdq": flipped(stored, 16)}, headers=h
        ).json()["matches"]
        == []
    )
    batch = c.post(
        "/api/v1/lookup/batch",
        headers=h,
        json={"items": [{"pdq": near}, {"pdq": far}, {"md5": "xyz"}, {}]},
    )
    results = batch.json()["results"]
    assert [r["verdict"] for r in results] == ["block", "block", "allow", "allow"]
    assert [m["distance"] for m in results[1]["matches"]] == [8]
    assert results[2]["errors"]
    assert results[3]["errors"]
    too_many = c.post("/api/v1/lookup/batch", headers=h, json={"items": [{}] * 1001})
    assert too_many.status_code == 422


def test_entries_json_csv_state_and_paging(api: Api) -> None:
    c, h = api.client, api.headers()
    c.post("/api/v1/banks", json={"name": "known"}, headers=h)
    values = [f"{(i * 0x9E3779B97F4A7C15) ** 5 % (1 << 256):064x}" for i in range(1, 6)]
    csv_body = "signal_type,signal,note\n" + "".join(
        f"pdq,{v},note {i}\n" for i, v in enumerate(values)
    )
    added = c.post(
        "/api/v1/banks/known/entries", content=csv_body, headers={**h, "content-type": "text/csv"}
    )
    assert added.status_code == 201, added.text
    ids = [r["entry_id"] for r in added.json()["results"]]
    page = c.get("/api/v1/banks/known/entries?limit=3", headers=h).json()
    assert [e["id"] for e in page["entries"]] == ids[:3]
    rest = c.get(
        f"/api/v1/banks/known/entries?limit=3&after={page['next_cursor']}", headers=h
    ).json()
    assert [e["id"] for e in rest["entries"]] == ids[3:]
    assert rest["next_cursor"] is None
    withdrawn = c.post(f"/api/v1/entries/{ids[0]}/withdraw", headers=h)
    assert withdrawn.json()["state"] == "withdrawn"
    assert c.post(f"/api/v1/entries/{ids[0]}/enable", headers=h).status_code == 409
    assert (
        c.post("/api/v1/lookup/signals", json={"pdq": values[0]}, headers=h).json()["matches"] == []
    )
    assert c.get("/api/v1/entries/99999999", headers=h).status_code == 404
    bad_csv = c.post(
        "/api/v1/banks/known/entries",
        content="pdq,nothex\n",
        headers={**h, "content-type": "text/csv"},
    )
    assert bad_csv.status_code == 422


def test_import_and_streamed_export_round_trip(api: Api) -> None:
    c, h = api.client, api.headers()
    for name in ("feed", "copy"):
        c.post("/api/v1/banks", json={"name": name}, headers=h)
    lines = "".join(f"pdq {spread_pdq(i)}\n" for i in range(1, 2501)) + "pdq bad\n"
    imported = c.post(
        "/api/v1/banks/feed/import", content=lines, headers={**h, "content-type": "text/plain"}
    )
    assert imported.status_code == 200, imported.text
    summary = imported.json()
    assert (summary["added"], summary["format"], len(summary["problems"])) == (2500, "hashfile", 1)
    exported = c.get("/api/v1/banks/feed/export?format=jsonl", headers=h)
    records = [json.loads(line) for line in exported.text.splitlines()]
    assert len(records) == 2500
    again = c.post(
        "/api/v1/banks/copy/import?format=jsonl",
        content=exported.text,
        headers={**h, "content-type": "application/x-ndjson"},
    )
    assert again.json()["added"] == 2500
    hashfile = c.get("/api/v1/banks/copy/export?format=hashfile", headers=h).text
    assert hashfile.splitlines()[0] == f"pdq {spread_pdq(1)}"


def test_upload_limits_answer_clear_errors(api: Api, tmp_path: Path) -> None:
    c, h = api.client, api.headers()
    limit = api.services.settings.media.max_bytes
    too_big = c.post("/api/v1/lookup", content=b"\0" * (limit + 1), headers=h)
    assert too_big.status_code == 413
    corrupt = c.post("/api/v1/lookup", content=b"\xff\xd8\xff\xe0garbage", headers=h)
    assert corrupt.status_code == 422
    text = c.post("/api/v1/lookup", content=b"just some text here", headers=h)
    assert text.status_code == 415
    bomb = io.BytesIO()
    Image.new("L", (1, 1)).save(bomb, "PNG")
    data = bytearray(bomb.getvalue())
    data[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")
    assert c.post("/api/v1/lookup", content=bytes(data), headers=h).status_code == 422
    assert c.get("/status/live").status_code == 200


def test_keys_api_and_authentication(api: Api) -> None:
    c = api.client
    assert c.get("/api/v1/banks").status_code == 401
    assert c.get("/api/v1/banks", headers={"X-API-Key": "sw_nope_nope"}).status_code == 401
    assert c.get("/api/v1/banks", headers=api.headers(Role.SCREENER)).status_code == 403
    created = c.post(
        "/api/v1/keys", json={"name": "partner", "role": "screener"}, headers=api.headers()
    )
    assert created.status_code == 201
    token = created.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        c.post("/api/v1/lookup/signals", json={"md5": "0" * 32}, headers=bearer).status_code == 200
    )
    assert "token" not in c.get("/api/v1/keys", headers=api.headers()).json()[0]
    c.delete(f"/api/v1/keys/{created.json()['id']}", headers=api.headers())
    assert (
        c.post("/api/v1/lookup/signals", json={"md5": "0" * 32}, headers=bearer).status_code == 401
    )


def test_health_metrics_and_hma_status(api: Api) -> None:
    c = api.client
    # A lookup waits for the background index loader, so readiness is settled after it.
    c.post("/api/v1/lookup/signals", json={"md5": "1" * 32}, headers=api.headers())
    assert c.get("/status/ready").json()["status"] == "ready"
    assert c.get("/status").text == "I-AM-ALIVE"  # without a key, as HMA answers
    assert c.get("/status", headers=api.headers(Role.REPORTER)).text == "I-AM-ALIVE"
    c.post("/api/v1/lookup/signals", json={"md5": "0" * 32}, headers=api.headers())
    assert c.get("/metrics").status_code == 401  # bank sizes are not for anyone
    metrics = c.get("/metrics", headers=api.headers(Role.MONITOR)).text
    assert 'shieldwall_lookups_total{verdict="allow"} 2.0' in metrics
    assert 'route="/api/v1/lookup/signals"' in metrics


def test_case_numbers_reach_only_those_who_work_on_cases(api: Api) -> None:
    c = api.client
    filed = c.post("/protect/api/cases", json=report_fields())
    assert filed.status_code == 201, filed.text
    number = filed.json()["case_number"]
    manual = c.post(
        "/api/v1/banks/reported/entries",
        json={"entries": [{"signals": [{"type": "md5", "value": "ef" * 16}], "case_id": "T-7"}]},
        headers=api.headers(),
    )
    assert manual.status_code == 201, manual.text
    [entry_id, manual_id] = [
        e["id"]
        for e in c.get("/api/v1/banks/reported/entries", headers=api.headers()).json()["entries"]
    ]
    for role, shown in ((Role.ADMIN, number), (Role.REVIEWER, number), (Role.CURATOR, "")):
        listed = c.get("/api/v1/banks/reported/entries", headers=api.headers(role)).json()
        assert [e["case_id"] for e in listed["entries"]] == [shown, "T-7"], role
        read = c.get(f"/api/v1/entries/{entry_id}", headers=api.headers(role)).json()
        assert read["case_id"] == shown, role
    disabled = c.post(f"/api/v1/entries/{entry_id}/disable", headers=api.headers(Role.CURATOR))
    assert disabled.status_code == 200
    assert disabled.json()["case_id"] == ""
    assert (
        c.get(f"/api/v1/entries/{manual_id}", headers=api.headers(Role.CURATOR)).json()["case_id"]
        == "T-7"
    )  # a curator's own reference is not a victim's case number
    for role in (Role.ADMIN, Role.REVIEWER, Role.CURATOR):
        for fmt in ("jsonl", "csv", "hashfile"):
            exported = c.get(
                f"/api/v1/banks/reported/export?format={fmt}&include_inactive=true",
                headers=api.headers(role),
            )
            assert exported.status_code == 200
            assert number not in exported.text, (role, fmt)
        hma = c.get(
            f"/c/bank/REPORTED/content/{entry_id}?include_signals=true", headers=api.headers(role)
        )
        assert hma.status_code == 200
        assert number not in hma.text, role
    lines = c.get(
        "/api/v1/banks/reported/export?include_inactive=true", headers=api.headers()
    ).text.splitlines()
    assert [json.loads(line)["case_id"] for line in lines] == ["", "T-7"]


def _black_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_blank_images_cannot_be_banked_to_match_every_blank_upload(api: Api) -> None:
    """Issue 9 item 6: quality-0 PDQ hashes banked by curators matched every flat image."""
    c, h = api.client, api.headers()
    c.post("/api/v1/banks", json={"name": "known", "action": "review"}, headers=h)
    added = c.post(
        "/api/v1/banks/known/files",
        files=[("files", ("black.png", _black_png(640, 480), "image/png"))],
        headers=h,
    )
    assert added.status_code == 201, added.text
    [result] = added.json()["results"]
    assert "quality 0 is below 50" in result["signals"]["pdq_refused"]
    stored = c.get(f"/api/v1/entries/{result['entry_id']}", headers=h).json()
    assert sorted(s["type"] for s in stored["signals"]) == ["md5", "sha256"]
    # Another black image (other bytes): nothing to match. The same bytes: its SHA-256.
    other = c.post("/api/v1/lookup", content=_black_png(800, 600), headers=h).json()
    assert (other["verdict"], other["matches"]) == ("allow", [])
    same = c.post("/api/v1/lookup", content=_black_png(640, 480), headers=h).json()
    assert {m["signal_type"] for m in same["matches"]} == {"md5", "sha256"}
    photo = c.post(
        "/api/v1/banks/known/files", files=[("files", ("a.jpg", jpeg(3), "image/jpeg"))], headers=h
    )
    assert photo.json()["results"][0]["signals"]["pdq_refused"] is None


def test_hash_only_adds_refuse_degenerate_pdq_hashes_with_the_reason(api: Api) -> None:
    c, h = api.client, api.headers()
    c.post("/api/v1/banks", json={"name": "known"}, headers=h)
    blank = {"entries": [{"signals": [{"type": "pdq", "value": "0" * 64}]}]}
    refused = c.post("/api/v1/banks/known/entries", json=blank, headers=h)
    assert refused.status_code == 422
    assert "0 of 256 bits set" in refused.json()["detail"]
    low = {"entries": [{"signals": [{"type": "pdq", "value": BASE_PDQ, "quality": 12}]}]}
    assert (
        "quality 12 is below 50"
        in (c.post("/api/v1/banks/known/entries", json=low, headers=h).json()["detail"])
    )
    csv_body = f"signal_type,signal\npdq,{spread_pdq(1)}\npdq,{'0' * 64}\n"
    csv = c.post(
        "/api/v1/banks/known/entries", content=csv_body, headers={**h, "content-type": "text/csv"}
    )
    assert csv.status_code == 422
    assert csv.json()["detail"].startswith("line 3: pdq hash has 0 of 256 bits set")
    lines = f"pdq {spread_pdq(2)}\npdq {'f' * 64}\n"
    imported = c.post(
        "/api/v1/banks/known/import", content=lines, headers={**h, "content-type": "text/plain"}
    ).json()
    assert (imported["added"], len(imported["problems"])) == (1, 1)
    assert c.get("/api/v1/banks/known", headers=h).json()["entries"]["active"] == 1
    query = c.post("/api/v1/lookup/signals", json={"pdq": "0" * 64}, headers=h).json()
    assert query["matches"] == []


def test_a_bank_name_must_start_with_a_letter_or_digit(api: Api) -> None:
    c, h = api.client, api.headers()
    for name in ("-lead", "_lead"):
        refused = c.post("/api/v1/banks", json={"name": name}, headers=h)
        assert refused.status_code == 422, name
    assert c.post("/api/v1/banks", json={"name": "lead"}, headers=h).status_code == 201
