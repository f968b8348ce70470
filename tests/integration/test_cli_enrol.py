"""`shieldwall enrol` (templates made on this machine, never the photos) and `shieldwall
enrolments import` (a support centre enrols from the file), as real processes."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import skimage.data
from PIL import Image

from shieldwall.detection.faces import FaceAnalyser
from shieldwall.likeness.models import Statement
from tests.support.cli import Cli
from tests.support.edits import jpeg_bytes
from tests.support.images import scene
from tests.support.services import make_services

AGREE = [arg for s in Statement for arg in ("--agree", s.value)]


def photos(tmp_path: Path) -> tuple[Path, Path]:
    person, landscape = tmp_path / "me.jpg", tmp_path / "landscape.jpg"
    person.write_bytes(jpeg_bytes(Image.fromarray(skimage.data.astronaut())))
    landscape.write_bytes(jpeg_bytes(scene(5)))
    return person, landscape


def test_enrol_writes_templates_and_consent_only_and_a_centre_imports_them(
    tmp_path: Path,
) -> None:
    person, _ = photos(tmp_path)
    cli = Cli(tmp_path)
    out = tmp_path / "enrolment.json"
    made = cli.json("enrol", str(person), "--out", str(out), *AGREE, "--term-days", "90")
    assert made == [{"out": str(out), "templates": 1}]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert set(document) == {"format", "version", "made_at", "consent", "templates"}
    assert document["consent"]["term_days"] == 90
    assert len(document["templates"]) == 1
    assert len(document["templates"][0]) == 128
    assert out.stat().st_size < 8_000  # numbers, not a picture
    cli.run("db", "upgrade")
    [receipt] = cli.json("enrolments", "import", str(out))
    assert receipt["enrolment"].startswith("EN-")
    assert len(receipt["secret"]) >= 24
    assert receipt["templates"] == 1
    services = make_services(tmp_path, "cli.db")
    try:
        [face] = FaceAnalyser().faces(skimage.data.astronaut())
        assert [m.number for m in services.enrolments.likeness(face.template)] == [
            receipt["enrolment"]
        ]
        enrolment = services.enrolments.open(receipt["enrolment"], receipt["secret"])
        assert enrolment.consent.term_days == 90
    finally:
        services.close()


def test_enrol_refuses_without_every_consent_or_a_single_face(tmp_path: Path) -> None:
    person, landscape = photos(tmp_path)
    cli = Cli(tmp_path)
    out = tmp_path / "e.json"
    missing = cli.run("enrol", str(person), "--out", str(out), *AGREE[:-2], ok=False)
    assert missing.returncode == 1
    assert "every statement must be agreed to: withdraw" in missing.stderr
    faceless = cli.run("enrol", str(landscape), "--out", str(out), *AGREE, ok=False)
    assert faceless.returncode == 1
    assert "landscape.jpg: no face" in faceless.stderr
    guardian = cli.run(
        "enrol", str(person), "--out", str(out), *AGREE, "--enrollee", "guardian", ok=False
    )
    assert "guardian gives their name" in guardian.stderr
    assert not out.exists()
    cli.run("enrol", str(person), "--out", str(out), *AGREE)
    again = cli.run("enrol", str(person), "--out", str(out), *AGREE, ok=False)
    assert "exists" in again.stderr


def test_import_refuses_old_altered_or_foreign_files(tmp_path: Path) -> None:
    person, _ = photos(tmp_path)
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    out = tmp_path / "e.json"
    cli.run("enrol", str(person), "--out", str(out), *AGREE)
    document = json.loads(out.read_text())
    old = tmp_path / "old.json"
    made = datetime.now(UTC) - timedelta(days=40)
    old.write_text(json.dumps({**document, "made_at": made.isoformat()}))
    assert "within the last 30 days" in cli.run("enrolments", "import", str(old), ok=False).stderr
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**document, "templates": [[1.0] * 12]}))
    assert "128 finite numbers" in cli.run("enrolments", "import", str(broken), ok=False).stderr
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"format": "something-else"}')
    assert (
        "not a shieldwall-enrolment file"
        in cli.run("enrolments", "import", str(foreign), ok=False).stderr
    )
