"""`shieldwall protect` hashes locally and `shieldwall case submit` files it with a server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tests.support.cli import Cli
from tests.support.images import write_scenes
from tests.support.server import ServerProcess


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


def test_protect_writes_hashes_only_and_submit_files_a_case(cli: Cli, tmp_path: Path) -> None:
    photos = write_scenes(tmp_path / "mine", [4, 5])
    video = tmp_path / "mine" / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real video, just bytes")
    (tmp_path / "mine" / "notes.txt").write_text("not an image")
    out = tmp_path / "submission.json"
    proc = cli.run("protect", str(tmp_path / "mine"), "--out", str(out), ok=False)
    assert proc.returncode == 1  # notes.txt is refused; the rest is written
    submission = json.loads(out.read_text())
    assert submission["format"] == "shieldwall-submission/1"
    kinds = sorted(item["kind"] for item in submission["hashes"])
    assert kinds == ["photo", "photo", "video"]
    text = out.read_text()
    assert "scene-004" not in text
    assert "mine" not in text
    assert hashlib.sha256(video.read_bytes()).hexdigest() in text
    assert hashlib.sha256(photos[0].read_bytes()).hexdigest() in text

    server = ServerProcess(cli.env)
    try:
        server.wait_live()
        proc = cli.run(
            "case",
            "submit",
            str(out),
            "--server",
            server.url,
            "--json",
            "--reporter",
            "depicted",
            "--name",
            "Ana Example",
            "--email",
            "ana@example.org",
            "--signature",
            "Ana Example",
            "--country",
            "ES",
            "--sign",
            "--good-faith",
            "--accurate",
            "--locator",
            "url=https://forum.example/t/1",
        )
        filed = json.loads(proc.stdout)
        assert filed["case_number"].startswith("SW-")
        assert filed["items"] == 3
        key = {"case_number": filed["case_number"], "secret": filed["secret"]}
        status = httpx.post(f"{server.url}/protect/api/status", json=key, timeout=10).json()
        assert status["state"] == "received"
        assert status["locators"][0]["value"] == "https://forum.example/t/1"
        refused = cli.run("case", "submit", str(out), "--server", server.url, ok=False)
        assert refused.returncode == 1
        assert "email: required" in refused.stderr
    finally:
        server.stop()
