"""`shieldwall cases check-deadlines`: the takedown clocks of waiting work, and the leads'
escalations (for deployments that run it from cron; every serving worker also runs it
each minute, and an alert is sent once whoever finds it first)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from shieldwall.cases.service import normalise_case_number
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.deadlines import ClockState
from shieldwall.errors import UnavailableError
from shieldwall.integrations.notice_pdf import notice_pdf
from shieldwall.takedown.tracking import NoticeMethod, NoticeState


@click.group("cases")
def cases_group() -> None:
    """Cases across the service: their takedown clocks and notices to platforms."""


@cases_group.command("check-deadlines")
@click.option("--all", "show_all", is_flag=True, help="List clocks on time too.")
@json_option
@pass_context
def check_deadlines_command(context: CliContext, show_all: bool, as_json: bool) -> int:
    """List every waiting case at risk or overdue and email the leads (`lead_emails`) about
    each that turned so since the last check. Exits 0; 3 if any case is overdue."""
    out = Output(as_json)
    services = context.services
    checked = services.deadlines.check()
    now = services.reviews.now()
    sent = dict(checked.sent)
    rows = []
    for clock in checked.clocks:
        if clock.state is ClockState.ON_TIME and not show_all:
            continue
        record = {
            "subject": clock.subject,
            "state": clock.state.value,
            "deadline": clock.deadline.isoformat(),
            "hours_left": round(clock.left(now) / 3600, 1),
            "minor": clock.minor,
            "items": list(clock.items),
            "alerted": clock.subject in sent,
        }
        out.record(record)
        rows.append([str(v) for v in record.values()])
    out.table(["subject", "state", "deadline", "hours left", "minor", "items", "alerted"], rows)
    if not as_json:
        out.note(
            f"overdue {checked.count(ClockState.OVERDUE)}, at risk "
            f"{checked.count(ClockState.AT_RISK)}, on time {checked.count(ClockState.ON_TIME)};"
            f" alerts sent {len(checked.sent)}"
        )
    return 3 if checked.count(ClockState.OVERDUE) else 0


@cases_group.command("notices")
@click.argument("number")
@click.option("--send", is_flag=True, help="Email the notices to platforms with an address.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the notices for web forms (platforms without an address) here, as text and PDF.",
)
@click.option("--synthetic", is_flag=True, help="Say the image is a digital forgery (AI).")
@json_option
@pass_context
def notices_command(
    context: CliContext,
    /,
    number: str,
    send: bool,
    out_dir: Path | None,
    synthetic: bool,
    as_json: bool,
) -> int:
    """A case's takedown notices: which platform each link is on and under which law;
    with --send, email them; with --out, write the others for the platforms' web forms.
    Then the notices sent so far and their states."""
    out = Output(as_json)
    notices = context.services.notices
    canonical = normalise_case_number(number)
    prepared = notices.prepared(canonical, synthetic=synthetic)
    if send:
        notices.send(canonical, synthetic=synthetic)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for position, notice in enumerate(prepared, 1):
            if notice.method is not NoticeMethod.EXPORT:
                continue
            stem = out_dir / f"{canonical}-{notice.platform.name}-{position}"
            text_path = stem.with_suffix(".txt")
            text_path.write_text(f"{notice.subject}\n\n{notice.body}", encoding="utf-8")
            out.note(f"written: {text_path}")
            try:
                stem.with_suffix(".pdf").write_bytes(notice_pdf(notice.subject, notice.body))
                out.note(f"written: {stem.with_suffix('.pdf')}")
            except UnavailableError as exc:
                out.note(f"no PDF: {exc}")
            notices.exported(canonical, notice)
    now = notices.now()
    rows = []
    for sent in notices.notices(canonical):
        record = {
            "notice": sent.id,
            "locator": sent.locator,
            "platform": sent.platform,
            "basis": sent.basis.value,
            "method": sent.method.value,
            "notified_at": sent.notified_at.isoformat(),
            "deadline": sent.deadline.isoformat(),
            "state": sent.state(now).value,
        }
        out.record(record)
        rows.append([str(v) for v in record.values()])
    out.table(
        ["notice", "locator", "platform", "basis", "method", "notified", "deadline", "state"],
        rows,
    )
    if not as_json:
        waiting = [p for p in prepared if p.method is NoticeMethod.EXPORT and out_dir is None]
        out.note(f"notices possible: {len(prepared)}; for web forms (use --out): {len(waiting)}")
    return 0


@cases_group.command("answer")
@click.argument("notice_id", type=int)
@click.option(
    "--state",
    required=True,
    type=click.Choice(["acknowledged", "removed", "refused"]),
    help="What the platform answered.",
)
@click.option("--note", default="", help="What it said (its reference, its reasons).")
@click.option("--by", "by", required=True, help="Who records it (a reviewer's name).")
@click.option(
    "--recheck",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="When to look at the link again (UTC, YYYY-MM-DD[THH:MM]); leads are told then.",
)
@json_option
@pass_context
def answer_command(
    context: CliContext,
    /,
    notice_id: int,
    state: str,
    note: str,
    by: str,
    recheck: datetime | None,
    as_json: bool,
) -> int:
    """Record a platform's answer to a notice."""
    notices = context.services.notices
    recheck_at = recheck.replace(tzinfo=UTC) if recheck is not None else None
    answered = notices.answer(notice_id, NoticeState(state), note, by, recheck_at)
    record: dict[str, object] = {
        "notice": answered.id,
        "state": answered.state(notices.now()).value,
    }
    if answered.recheck_at is not None:
        record["recheck_at"] = answered.recheck_at.isoformat()
    Output(as_json).record(record)
    return 0
