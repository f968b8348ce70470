"""`shieldwall sweeps run ITEM` and `shieldwall sweeps show ITEM`: sweep the screened record
again for the copies of a confirmed upload or an accepted case (a sweep lost when its
worker stopped before running it, or one wanted again later), and list an item's sweeps."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.review.sweeps import Sweep
from shieldwall.webhooks.events import WebhookEvents


@click.group("sweeps")
def sweeps_group() -> None:
    """Sweeps of known copies after confirm decisions."""


def _show(out: Output, sweeps: list[Sweep]) -> None:
    rows = []
    for sweep in sweeps:
        for hit in sweep.hits:
            record = {
                "sweep": sweep.id,
                "ran_at": sweep.sweep.ran_at.isoformat(),
                "copy": hit.id,
                "key_id": hit.hit.key_id,
                "content_ref": hit.hit.content_ref,
                "matched_by": hit.hit.matched_by,
                "distance": hit.hit.distance,
                "outcome": hit.outcome.value,
            }
            out.record(record)
            rows.append(["" if v is None else str(v) for v in record.values()])
    out.table(
        ["sweep", "ran", "copy", "key", "content_ref", "matched by", "distance", "outcome"], rows
    )


@sweeps_group.command("run")
@click.argument("item_id", type=int)
@json_option
@pass_context
def run_command(context: CliContext, item_id: int, as_json: bool) -> int:
    """Sweep again for the copies of a confirmed or accepted review item; the platforms
    whose lookups brought copies are told (webhooks)."""
    services = context.services
    item, queries = services.reviews.sweep_again(item_id)
    sweep = services.sweeps.sweep(item.id, item.case_number, queries)
    WebhookEvents(services.webhooks).swept(sweep)
    out = Output(as_json)
    _show(out, [sweep])
    out.note(f"sweep {sweep.id}: {len(sweep.hits)} copies, {sweep.sweep.queries} signals searched")
    return 0


@sweeps_group.command("show")
@click.argument("item_id", type=int)
@json_option
@pass_context
def show_command(context: CliContext, item_id: int, as_json: bool) -> int:
    """The item's sweeps and their copies, with each platform's answer."""
    _show(Output(as_json), context.services.sweeps.of_item(item_id))
    return 0
