"""`shieldwall scan` as a real process: benign photos stop at the nudity gate (the real
model), a banked picture stops at the banks, a corrupt file is named and the rest still run."""

from __future__ import annotations

import json
from pathlib import Path

import skimage.data
from PIL import Image

from tests.support.cli import Cli
from tests.support.edits import jpeg_bytes
from tests.support.images import scene


def test_scan_reports_where_each_file_stopped(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a-person.jpg").write_bytes(jpeg_bytes(Image.fromarray(skimage.data.astronaut())))
    (photos / "b-scene.jpg").write_bytes(jpeg_bytes(scene(7)))
    (photos / "c-broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    banked = tmp_path / "banked.jpg"
    banked.write_bytes(jpeg_bytes(scene(8)))
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    cli.run("bank", "create", "known")
    cli.run("bank", "add", "known", str(banked))
    proc = cli.run("scan", str(photos), str(banked), "--json", ok=False)
    assert proc.returncode == 1  # the broken file
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    found = {Path(r["path"]).name: r for r in map(json.loads, lines)}
    assert "error" in found["c-broken.jpg"]
    for name in ("a-person.jpg", "b-scene.jpg"):
        assert found[name]["verdict"] == "allow"
        assert found[name]["stop"] == "not_explicit"
        assert 0.0 <= found[name]["nudity"] < 0.5
        assert found[name]["likeness"] == []
        assert found[name]["needs_review"] is False
        assert set(found[name]["ms"]) == {"banks", "decode", "nudity"}
    assert found["banked.jpg"]["stop"] == "blocked"
    assert found["banked.jpg"]["nudity"] is None
    table = cli.run("scan", str(photos / "b-scene.jpg")).stdout
    assert "not_explicit" in table
