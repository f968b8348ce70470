"""`shieldwall report transparency`: the transparency report of a period as JSON, CSV or a
self-contained HTML page (charts embedded as PNG), and the charts as PNG files."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Final

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.errors import InvalidInputError
from shieldwall.integrations.transparency_charts import CHARTS, chart_png
from shieldwall.review.transparency import bounds, public_report, report_csv
from shieldwall.web.pages import environment

_DAY: Final = click.DateTime(formats=["%Y-%m-%d"])


@click.group("report")
def report_group() -> None:
    """Reports for regulators and the public."""


@report_group.command("transparency")
@click.option("--from", "first_day", type=_DAY, required=True, help="First day (UTC), YYYY-MM-DD.")
@click.option("--to", "last_day", type=_DAY, required=True, help="Last day (UTC), included.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the charts as PNG files into DIR.",
)
@click.option("--lang", default="en", type=click.Choice(["en", "es", "ko"]), help="HTML language.")
@pass_context
def transparency_command(
    context: CliContext,
    first_day: datetime,
    last_day: datetime,
    fmt: str,
    out_path: Path | None,
    charts_dir: Path | None,
    lang: str,
) -> int:
    """The period's notices, decisions (by action, ground, category and automation), time
    to action (median, 90th percentile, share within 48 hours), complaints, sweeps,
    likeness findings and statements of reasons."""
    if last_day < first_day:
        raise InvalidInputError("--to is before --from")
    start, end = bounds(first_day.date(), last_day.date())
    report = context.services.transparency.report(start, end)
    charts = (
        {name: chart_png(name, report) for name in CHARTS} if fmt == "html" or charts_dir else {}
    )
    if fmt == "json":
        text = json.dumps(public_report(report), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = report_csv(report)
    else:
        sources = {
            name: "data:image/png;base64," + base64.b64encode(png).decode()
            for name, png in charts.items()
        }
        text = (
            environment(lang)
            .get_template("review/transparency_export.html")
            .render(
                lang=lang,
                report=report,
                charts=sources,
                first=first_day.date(),
                last=last_day.date(),
            )
        )
    if out_path is None:
        click.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
    if charts_dir is not None:
        charts_dir.mkdir(parents=True, exist_ok=True)
        for name, png in charts.items():
            (charts_dir / f"{name}.png").write_bytes(png)
    click.echo(
        f"transparency report {first_day.date()} to {last_day.date()}: "
        f"{report['notices']['total']} received, {report['decisions']['total']} decided",
        err=True,
    )
    return 0
