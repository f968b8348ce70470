"""The transparency report over the whole app: the leads' page (figures, charts as PNG,
JSON and CSV downloads; reviewers refused), and `shieldwall report transparency` as JSON,
CSV and a self-contained HTML page with its charts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from shieldwall.cli.main import cli
from tests.support.console import Console, every_answer_is_no_store
from tests.support.factories import jpeg

CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The upload is the reported image.",
}


def decided_upload(console: Console) -> str:
    """A case and an upload of its picture, confirmed; the day it happened."""
    item_id = console.queued(jpeg(47), "upload/47")
    alice = console.sign_in("alice")
    alice.post(f"/review/items/{item_id}/claim")
    assert alice.post(f"/review/items/{item_id}/decide", CONFIRM).status_code == 303
    return console.services.reviews.now().date().isoformat()


def test_leads_read_the_report_with_its_charts_and_downloads(console: Console) -> None:
    day = decided_upload(console)
    alice, lena = console.sign_in("alice"), console.sign_in("lena")
    assert alice.get("/review/transparency").status_code == 403
    assert alice.get("/review/transparency/charts/notices.png").status_code == 403
    page = lena.get(f"/review/transparency?from={day}&to={day}")
    assert page.status_code == 200
    assert 'id="received-total">2<' in page.text  # the case and the upload
    assert 'id="decisions-total">1<' in page.text
    assert "STATEMENT_CATEGORY_CYBER_VIOLENCE" in page.text
    for name in ("notices", "decisions", "time_to_action", "follow_up"):
        assert f"/review/transparency/charts/{name}.png?from={day}" in page.text
        png = lena.get(f"/review/transparency/charts/{name}.png?from={day}&to={day}")
        assert png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).size == (792, 374)
    assert lena.get("/review/transparency/charts/other.png").status_code == 404
    exported = lena.get(f"/review/transparency/report.json?from={day}&to={day}")
    body = exported.json()
    assert body["decisions"]["by_kind"] == {"confirm": 1}
    assert "hours" not in body["time_to_action"]
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(
        csv.reader(
            io.StringIO(lena.get(f"/review/transparency/report.csv?from={day}&to={day}").text)
        )
    )
    assert rows[0] == ["section", "figure", "value"]
    assert ["notices", "total", "2"] in rows
    wrong = lena.get("/review/transparency?from=2026-12-10&to=2026-12-01")
    assert wrong.status_code == 422
    assert "ends before it starts" in wrong.text
    every_answer_is_no_store(console)


def test_the_command_line_writes_json_csv_and_html_with_charts(
    console: Console, tmp_path: Path
) -> None:
    day = decided_upload(console)
    settings = console.services.settings
    base = ["--db", settings.effective_database_url, "report", "transparency"]
    env = {"SHIELDWALL_HOME": str(settings.home)}
    period = ["--from", day, "--to", day]
    runner = CliRunner()
    as_json = runner.invoke(cli, [*base, *period], env=env, catch_exceptions=False)
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["notices"]["total"] == 2
    assert report["period"]["from"] == datetime.fromisoformat(day).replace(tzinfo=UTC).isoformat()
    as_csv = runner.invoke(cli, [*base, *period, "--format", "csv"], env=env)
    assert "decisions,by_kind.confirm,1" in as_csv.stdout
    page, charts = tmp_path / "report.html", tmp_path / "charts"
    html = runner.invoke(
        cli,
        [
            *base,
            *period,
            "--format",
            "html",
            "--out",
            str(page),
            "--charts",
            str(charts),
            "--lang",
            "es",
        ],
        env=env,
        catch_exceptions=False,
    )
    assert html.exit_code == 0, html.output
    text = page.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 4
    assert '<html lang="es">' in text
    assert sorted(p.name for p in charts.iterdir()) == [
        "decisions.png",
        "follow_up.png",
        "notices.png",
        "time_to_action.png",
    ]
    backwards = runner.invoke(cli, [*base, "--from", day, "--to", "2001-01-01"], env=env)
    assert backwards.exit_code != 0
    assert "--to is before --from" in str(backwards.exception)
