"""The command-line contract of DESIGN.md, run as a real process on a SQLite database."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageOps

from shieldwall.signals.pairs import MAX_PAIRS
from tests.support.cli import Cli
from tests.support.edits import bordered, captioned, chat_screenshot, overlaid, rotated
from tests.support.images import scene, write_scenes
from tests.support.server import ServerProcess


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


def test_hash_prints_contract_signals(cli: Cli, tmp_path: Path) -> None:
    [path] = write_scenes(tmp_path / "img", [1])
    [record] = cli.json("hash", str(path))
    data = path.read_bytes()
    signals = record["signals"]
    assert record["path"] == str(path)
    assert signals["md5"] == hashlib.md5(data).hexdigest()
    assert signals["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(signals["pdq"]) == 64
    assert int(signals["pdq"], 16) >= 0
    assert 50 <= signals["pdq_quality"] <= 100
    assert signals["pdq_low_quality"] is False


def test_bad_files_get_error_lines_and_the_rest_is_processed(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write_scenes(folder / "nested", [1, 2])
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("hello")
    proc = cli.run("hash", str(folder), str(tmp_path / "missing.png"), "--json", ok=False)
    assert proc.returncode == 1
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    errors = {Path(r["path"]).name for r in records if "error" in r}
    hashed = {Path(r["path"]).name for r in records if "signals" in r}
    assert errors == {"broken.jpg", "notes.txt", "missing.png"}
    assert hashed == {"scene-001.jpg", "scene-002.jpg"}
    assert len(proc.stderr.strip().splitlines()) == 3


def test_bank_add_and_match_edited_copies(cli: Cli, tmp_path: Path) -> None:
    originals = write_scenes(tmp_path / "bank", range(6))
    cli.run("bank", "create", "known")
    added = cli.json("bank", "add", "known", str(tmp_path / "bank"), "--jobs", "2")
    entry_of = {Path(r["path"]).name: r["entry_id"] for r in added}
    assert len(set(entry_of.values())) == 6
    queries = tmp_path / "queries"
    queries.mkdir()
    source = Image.open(originals[3])
    ImageOps.mirror(source).save(queries / "mirror.jpg", quality=85)
    source.rotate(90, expand=True).save(queries / "rot.jpg", quality=85)
    source.resize((240, 160)).save(queries / "small.png")
    scene(99).save(queries / "unrelated.jpg", quality=90)
    results = {Path(r["path"]).name: r for r in cli.json("match", str(queries), "--bank", "known")}
    expected = entry_of["scene-003.jpg"]
    for name, variant in (
        ("mirror.jpg", "mirror"),
        ("rot.jpg", "rotate90"),
        ("small.png", "original"),
    ):
        [match] = results[name]["matches"]
        assert match["entry_id"] == expected
        assert match["bank"] == "known"
        assert match["signal_type"] == "pdq"
        assert match["distance"] <= 31
        assert match["variant"] in {variant, "rotate270"} if name == "rot.jpg" else {variant}
        assert results[name]["verdict"] == "block"
    assert results["unrelated.jpg"]["matches"] == []


def test_edited_copies_match_and_say_which_view_or_variant(cli: Cli, tmp_path: Path) -> None:
    picture = scene(31)
    (tmp_path / "bank").mkdir()
    picture.save(tmp_path / "bank" / "original.jpg", quality=92)
    cli.run("bank", "create", "known")
    [added] = cli.json("bank", "add", "known", str(tmp_path / "bank"))
    assert 40 <= added["pdq_variants"] <= 63 + MAX_PAIRS  # regions and pair windows
    queries = tmp_path / "queries"
    queries.mkdir()
    bordered(picture, 30, 20, 30, 20, (255, 255, 255)).save(queries / "border.jpg", quality=88)
    captioned(picture, 60).save(queries / "caption.jpg", quality=88)
    rotated(picture, 5.0, (0, 0, 0)).save(queries / "tilt.jpg", quality=88)
    chat_screenshot(picture)[0].save(queries / "screenshot.jpg", quality=88)
    picture.crop((24, 16, 456, 304)).save(queries / "crop.jpg", quality=88)
    overlaid(picture).save(queries / "overlay.jpg", quality=88)
    scene(99).save(queries / "unrelated.jpg", quality=88)
    results = {Path(r["path"]).name: r for r in cli.json("match", str(queries), "--bank", "known")}
    assert results.pop("unrelated.jpg")["matches"] == []
    # Text over part of the picture leaves the whole picture's hash within the threshold:
    # the earliest stage that found a copy is the one reported.
    overlay = results.pop("overlay.jpg")["matches"]
    assert [(m["entry_id"], m["stage"], m["variant"]) for m in overlay] == [
        (added["entry_id"], "whole", "original")
    ]
    for name, result in results.items():
        [match] = result["matches"]
        assert match["entry_id"] == added["entry_id"], name
        assert match["distance"] <= 31, name
        assert match["variant"] != "original", name
        assert match["stage"] == "regions", name
    assert results["crop.jpg"]["matches"][0]["variant"] == "crop90:x05:y05"
    assert results["tilt.jpg"]["matches"][0]["variant"].startswith("derotated")


def test_exact_copy_matches_all_signals_and_readd_is_idempotent(cli: Cli, tmp_path: Path) -> None:
    [path] = write_scenes(tmp_path / "one", [5])
    cli.run("bank", "create", "known")
    [first] = cli.json("bank", "add", "known", str(path))
    [again] = cli.json("bank", "add", "known", str(path))
    assert (again["entry_id"], again["created"], first["created"]) == (
        first["entry_id"],
        False,
        True,
    )
    [result] = cli.json("match", str(path))
    assert {(m["signal_type"], m["distance"]) for m in result["matches"]} == {
        ("pdq", 0),
        ("md5", 0),
        ("sha256", 0),
    }


def test_withdrawn_entry_stops_matching(cli: Cli, tmp_path: Path) -> None:
    [path] = write_scenes(tmp_path / "one", [7])
    cli.run("bank", "create", "known")
    [added] = cli.json("bank", "add", "known", str(path))
    [removed] = cli.json("bank", "remove", "known", str(added["entry_id"]))
    assert removed["state"] == "withdrawn"
    [result] = cli.json("match", str(path))
    assert result["matches"] == []
    proc = cli.run("bank", "restore", "known", str(added["entry_id"]), ok=False)
    assert proc.returncode == 1
    assert "withdrawn" in proc.stderr


def test_import_export_round_trip_and_bad_lines(cli: Cli, tmp_path: Path) -> None:
    cli.run("bank", "create", "feed")
    # PDQ-like values (about 128 bits set): near-zero ones such as f"{i:064x}" are refused.
    values = [f"{(i * 0x9E3779B97F4A7C15) ** 5 % (1 << 256):064x}" for i in range(1, 6)]
    hashfile = tmp_path / "feed.txt"
    hashfile.write_text("# from a partner\n" + "".join(f"pdq {v}\n" for v in values) + "pdq xyz\n")
    [summary] = [
        r for r in cli.json("bank", "import", "feed", str(hashfile), ok=False) if "added" in r
    ]
    assert (summary["added"], summary["problems"], summary["format"]) == (5, 1, "hashfile")
    exported = tmp_path / "feed.jsonl"
    cli.run("bank", "export", "feed", "--out", str(exported))
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [line["signals"][0]["value"] for line in lines] == values
    cli.run("bank", "create", "mirror-of-feed")
    [copied] = cli.json("bank", "import", "mirror-of-feed", str(exported))
    assert (copied["added"], copied["problems"]) == (5, 0)
    listing = {b["name"]: b for b in cli.json("bank", "list")}
    assert listing["mirror-of-feed"]["entries"]["active"] == 5


def test_bank_management_errors_are_one_line(cli: Cli) -> None:
    proc = cli.run("bank", "create", "Bad Name", ok=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0
    assert "bank name" in proc.stderr
    cli.run("bank", "create", "dup")
    proc = cli.run("bank", "create", "dup", ok=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    proc = cli.run("match", "nothing.jpg", "--bank", "missing", ok=False)
    assert proc.returncode == 1
    assert "missing" in proc.stderr


def test_bank_policy_and_rename(cli: Cli) -> None:
    cli.run("bank", "create", "benign", "--action", "allow")
    [created] = cli.json("bank", "create", "abuse", "--threshold", "20", "--allow-list", "benign")
    assert created["allow_list_banks"] == ["benign"]
    [renamed] = cli.json("bank", "rename", "abuse", "ncii")
    assert renamed["name"] == "ncii"
    [changed] = cli.json("bank", "policy", "ncii", "--action", "review")
    assert (changed["pdq_threshold"], changed["action"]) == (20, "review")
    [disabled] = cli.json("bank", "disable", "ncii")
    assert disabled["enabled"] is False


def test_bank_second_stage_switch(cli: Cli) -> None:
    [plain] = cli.json("bank", "create", "plain")
    assert plain["second_stage"] is True
    [exact] = cli.json("bank", "create", "exact", "--no-second-stage")
    assert exact["second_stage"] is False
    [kept] = cli.json("bank", "policy", "exact", "--threshold", "12")
    assert (kept["pdq_threshold"], kept["second_stage"]) == (12, False)
    [on] = cli.json("bank", "policy", "exact", "--second-stage")
    assert on["second_stage"] is True
    [off] = cli.json("bank", "policy", "plain", "--no-second-stage")
    assert off["second_stage"] is False
    listing = {b["name"]: b["second_stage"] for b in cli.json("bank", "list")}
    assert listing == {"exact": True, "plain": False}
    table = cli.run("bank", "list").stdout.splitlines()
    assert "second stage" in table[0]
    rows = {line.split()[0]: line.split() for line in table[1:] if line.strip()}
    assert "on" in rows["exact"]
    assert "off" in rows["plain"]
    note = cli.run("bank", "policy", "plain", "--second-stage").stdout
    assert "second stage on" in note


def test_serve_writes_admin_key_once_owner_only_and_stops_cleanly(cli: Cli) -> None:
    first = ServerProcess(cli.env)
    try:
        token = first.admin_key()
        assert token.startswith("sw_")
        # stderr is not a terminal here (logs keep everything): the key goes to a 0600 file.
        assert token not in first.stderr()
        assert str(first.admin_key_file) in first.stderr()
        assert stat.S_IMODE(first.admin_key_file.stat().st_mode) == 0o600
        ready = httpx.get(f"{first.url}/status/ready", timeout=10).json()
        assert ready["database"] is True
        banks = httpx.get(f"{first.url}/api/v1/banks", headers={"X-API-Key": token}, timeout=10)
        assert banks.status_code == 200
    finally:
        # uvicorn finishes in-flight requests, then re-raises SIGTERM: -15 is a clean stop.
        assert first.stop() in {0, -15}
    second = ServerProcess(cli.env)
    try:
        second.wait_live()
    finally:
        second.stop()
    assert "admin key" not in second.stderr()


def test_hash_variants_and_human_tables(cli: Cli, tmp_path: Path) -> None:
    [path] = write_scenes(tmp_path / "img", [3])
    [record] = cli.json("hash", str(path), "--variants")
    variants = record["signals"]["pdq_variants"]
    assert list(variants) == [
        "original",
        "rotate90",
        "rotate180",
        "rotate270",
        "mirror",
        "flip",
        "transpose",
        "transverse",
    ]
    assert variants["original"] == record["signals"]["pdq"]
    human = cli.run("hash", str(path)).stdout
    assert record["signals"]["pdq"] in human
    cli.run("bank", "create", "people-table")
    assert "people-table" in cli.run("bank", "list").stdout


def test_blank_images_and_degenerate_lines_never_bank_a_pdq_hash(cli: Cli, tmp_path: Path) -> None:
    """Issue 9 item 6: `bank add` keeps a blank image's digests only; imports refuse lines."""
    cli.run("bank", "create", "known", "--action", "review")
    images = tmp_path / "images"
    write_scenes(images, [5])
    Image.new("RGB", (640, 480)).save(images / "black.png")
    added = {Path(r["path"]).name: r for r in cli.json("bank", "add", "known", str(images))}
    assert "quality 0 is below 50" in added["black.png"]["pdq_refused"]
    assert added["black.png"]["pdq_variants"] == 0
    assert added["scene-005.jpg"]["pdq_refused"] is None
    Image.new("RGB", (300, 200)).save(tmp_path / "other-black.png")
    [other] = cli.json("match", str(tmp_path / "other-black.png"))
    assert other["matches"] == []
    feed = tmp_path / "feed.txt"
    feed.write_text(f"pdq {'0' * 64}\npdq {(7 * 0x9E3779B97F4A7C15) ** 5 % (1 << 256):064x}\n")
    proc = cli.run("bank", "import", "known", str(feed), "--json", ok=False)
    assert proc.returncode == 1
    assert f"{feed}:1: pdq hash has 0 of 256 bits set" in proc.stderr
    [summary] = [r for r in map(json.loads, proc.stdout.splitlines()) if "added" in r]
    assert (summary["added"], summary["problems"]) == (1, 1)
