"""`shieldwall cases check-deadlines`: the takedown clocks of waiting work, and the leads'
escalations (for deployments that run it from cron; every serving worker also runs it
each minute, and an alert is sent once whoever finds it first)."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.deadlines import ClockState


@click.group("cases")
def cases_group() -> None:
    """Cases across the service: their takedown clocks."""


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
