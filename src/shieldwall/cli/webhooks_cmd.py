"""`shieldwall webhooks`: endpoints (add, list, remove), the deliveries and the dead-letter
list (deliveries, replay), and a delivery round (deliver) for deployments that run it
from cron instead of the serving workers' own every-2-seconds round."""

from __future__ import annotations

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.webhooks.models import EVENTS, DeliveryState


@click.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks: signed event deliveries to platforms and integrations."""


@webhooks_group.command("add")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice(sorted(EVENTS)),
    help="An event it hears (repeat for several).",
)
@click.option(
    "--key-id",
    type=int,
    default=None,
    help="The platform's API key it belongs to (its items and copies only); none: all.",
)
@json_option
@pass_context
def add_command(
    context: CliContext, url: str, events: tuple[str, ...], key_id: int | None, as_json: bool
) -> int:
    """Register an endpoint; its signing secret is shown this once."""
    endpoint, secret = context.services.webhooks.add_endpoint(url, list(events), key_id)
    out = Output(as_json)
    out.record({"endpoint": endpoint.id, "url": endpoint.url, "secret": secret})
    out.note(f"endpoint {endpoint.id}: {endpoint.url}")
    out.note(f"signing secret (shown once, keep it with the receiver): {secret}")
    return 0


@webhooks_group.command("list")
@json_option
@pass_context
def list_command(context: CliContext, as_json: bool) -> int:
    """Every endpoint (never its secret)."""
    out = Output(as_json)
    rows = []
    for endpoint in context.services.webhooks.endpoints():
        record = {
            "endpoint": endpoint.id,
            "url": endpoint.url,
            "events": sorted(endpoint.events),
            "key_id": endpoint.key_id,
            "active": endpoint.active,
        }
        out.record(record)
        rows.append([str(v) for v in record.values()])
    out.table(["endpoint", "url", "events", "key", "active"], rows)
    return 0


@webhooks_group.command("remove")
@click.argument("endpoint_id", type=int)
@json_option
@pass_context
def remove_command(context: CliContext, endpoint_id: int, as_json: bool) -> int:
    """Stop an endpoint hearing events (what is queued for it is still delivered)."""
    endpoint = context.services.webhooks.remove_endpoint(endpoint_id)
    Output(as_json).record({"endpoint": endpoint.id, "active": endpoint.active})
    return 0


@webhooks_group.command("deliveries")
@click.option("--state", type=click.Choice([s.value for s in DeliveryState]), default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
@pass_context
def deliveries_command(context: CliContext, state: str | None, limit: int, as_json: bool) -> int:
    """Deliveries, newest first (`--state dead`: the dead-letter list)."""
    out = Output(as_json)
    wanted = DeliveryState(state) if state else None
    rows = []
    for delivery in context.services.webhooks.deliveries(wanted, limit):
        record = {
            "delivery": delivery.id,
            "endpoint": delivery.endpoint_id,
            "event": delivery.event,
            "state": delivery.state.value,
            "attempts": delivery.attempts,
            "created_at": delivery.created_at.isoformat(),
            "next_attempt_at": delivery.next_attempt_at.isoformat()
            if delivery.next_attempt_at
            else None,
            "last_error": delivery.last_error,
        }
        out.record(record)
        rows.append(["" if v is None else str(v) for v in record.values()])
    out.table(
        ["delivery", "endpoint", "event", "state", "attempts", "created", "next", "error"], rows
    )
    return 0


@webhooks_group.command("replay")
@click.argument("delivery_ids", type=int, nargs=-1, required=True)
@json_option
@pass_context
def replay_command(context: CliContext, delivery_ids: tuple[int, ...], as_json: bool) -> int:
    """Queue dead deliveries again, due now."""
    out = Output(as_json)
    for delivery_id in delivery_ids:
        revived = context.services.webhooks.replay(delivery_id)
        out.record({"delivery": revived.id, "state": revived.state.value})
    return 0


@webhooks_group.command("deliver")
@json_option
@pass_context
def deliver_command(context: CliContext, as_json: bool) -> int:
    """Run one delivery round now."""
    done = context.services.webhooks.deliver_due()
    Output(as_json).record(
        {"delivered": done.delivered, "retrying": done.retrying, "dead": done.dead}
    )
    return 0
