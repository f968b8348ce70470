"""`shieldwall doctor`: which optional detectors are installed and working."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.detection.doctor import check_detectors, check_enrolment_page
from shieldwall.detection.models import DetectorCheck
from shieldwall.integrations.notice_pdf import cjk_font


@click.command("doctor")
@json_option
@pass_context
def doctor_command(context: CliContext, as_json: bool) -> int:
    """List the detectors (nudity score, faces, provenance), the enrolment page's face
    models and the font of Korean PDF notices, and whether each works.

    Each is optional: without it, screening runs without that check (and the page says
    enrolment is unavailable). Exits 1 if any is missing or broken."""
    out = Output(as_json)
    checks = [
        *check_detectors(),
        check_enrolment_page(context.settings.onnxruntime_web_dir),
        _notice_fonts(),
    ]
    for check in checks:
        out.record({"detector": check.name, "working": check.working, "detail": check.detail})
    out.table(
        ["detector", "state", "detail"],
        [[c.name, "working" if c.working else "NOT WORKING", c.detail] for c in checks],
    )
    return 0 if all(check.working for check in checks) else 1


def _notice_fonts() -> DetectorCheck:
    """Whether Korean notices can be exported as PDF (a CJK font is installed)."""
    font = cjk_font()
    if font is None:
        return DetectorCheck(
            "notice PDF (Korean)", False, "no CJK font: install fonts-noto-cjk (text still works)"
        )
    return DetectorCheck("notice PDF (Korean)", True, str(font.path))
