"""`shieldwall key ...`: create, list and revoke API keys (secrets are shown once)."""

from __future__ import annotations

import click

from shieldwall.access.models import ApiKey, Role
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output

ROLES = click.Choice([role.value for role in Role])
SHOWN_ONCE = "warning: store this API key now; it cannot be shown again"


def key_json(key: ApiKey) -> dict[str, object]:
    """A key as printed with --json (never its secret or secret hash)."""
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role.value,
        "see_details": key.see_details,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@click.group()
def key() -> None:
    """Create, list and revoke API keys."""


@key.command("create")
@click.option("--role", type=ROLES, required=True, help="What the key may do.")
@click.option("--name", required=True, help="Who or what the key is for (1-100 characters).")
@click.option(
    "--see-details",
    is_flag=True,
    help="Answer this key's lookups with distances and entry ids (screeners, reviewers).",
)
@json_option
@pass_context
def create(context: CliContext, role: str, name: str, see_details: bool, as_json: bool) -> None:
    """Create a key and print its token once."""
    issued = context.services.access.issue_key(name, Role(role), see_details)
    if as_json:
        Output(as_json).record({**key_json(issued.key), "token": issued.token})
    else:
        click.echo(issued.token)
    click.echo(
        f"created key {issued.key.id} ({issued.key.role.value}, {issued.key.name})", err=True
    )
    click.echo(SHOWN_ONCE, err=True)


@key.command("list")
@json_option
@pass_context
def list_keys(context: CliContext, as_json: bool) -> None:
    """List keys (never their secrets)."""
    out = Output(as_json)
    rows = []
    for item in context.services.access.list_keys():
        out.record(key_json(item))
        rows.append(
            (
                item.id,
                item.name,
                item.role.value,
                "yes" if item.see_details else "no",
                item.prefix,
                item.created_at.isoformat(timespec="seconds"),
                item.revoked_at.isoformat(timespec="seconds") if item.revoked_at else "",
            )
        )
    out.table(["id", "name", "role", "see details", "prefix", "created", "revoked"], rows)


@key.command("revoke")
@click.argument("key_id", metavar="ID", type=click.IntRange(min=1))
@json_option
@pass_context
def revoke(context: CliContext, key_id: int, as_json: bool) -> None:
    """Revoke a key: it stops working at once."""
    revoked = context.services.access.revoke(key_id)
    Output(as_json).record(key_json(revoked))
    click.echo(f"revoked key {revoked.id} ({revoked.name})", err=True)
