"""`shieldwall bank ...`: create and manage banks and their entries."""

from __future__ import annotations

import click

from shieldwall.banks.models import Bank, EntryState, MatchAction
from shieldwall.cli.bank_entries import add, export, import_command, remove, restore
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output

ACTIONS = click.Choice([a.value for a in MatchAction])
SECOND_STAGE_HELP = (
    "Whether lookups may match this bank through the second stage (panels, keystone, "
    "aligned crop search); off: digests, rotations and mirrors, stage-one views and regions."
)


def bank_json(bank: Bank, counts: dict[EntryState, int] | None = None) -> dict[str, object]:
    """A bank as printed with --json."""
    record: dict[str, object] = {
        "name": bank.name,
        "enabled": bank.enabled,
        "pdq_threshold": bank.policy.pdq_threshold,
        "action": bank.policy.action.value,
        "allow_list_banks": list(bank.policy.allow_list_banks),
        "second_stage": bank.policy.second_stage,
        "created_at": bank.created_at.isoformat(),
    }
    if counts is not None:
        record["entries"] = {state.value: counts.get(state, 0) for state in EntryState}
    return record


@click.group()
def bank() -> None:
    """Create, list and change banks; add, import, export and remove entries."""


def _print_bank(out: Output, bank_obj: Bank, verb: str) -> None:
    out.record(bank_json(bank_obj))
    out.note(
        f"{verb} bank {bank_obj.name} (threshold {bank_obj.policy.pdq_threshold}, "
        f"action {bank_obj.policy.action.value}, "
        f"second stage {'on' if bank_obj.policy.second_stage else 'off'}"
        f"{', enabled' if bank_obj.enabled else ', disabled'})"
    )


@bank.command("create")
@click.argument("name")
@click.option(
    "--threshold",
    type=click.IntRange(0, 63),
    default=None,
    help="PDQ match threshold in bits (default 31).",
)
@click.option("--action", type=ACTIONS, default=MatchAction.BLOCK.value, show_default=True)
@click.option(
    "--allow-list",
    "allow_list",
    multiple=True,
    metavar="BANK",
    help="A bank whose matches suppress this bank's matches (repeatable).",
)
@click.option(
    "--second-stage/--no-second-stage",
    "second_stage",
    default=True,
    show_default=True,
    help=SECOND_STAGE_HELP,
)
@json_option
@pass_context
def create(
    context: CliContext,
    name: str,
    threshold: int | None,
    action: str,
    allow_list: tuple[str, ...],
    second_stage: bool,
    as_json: bool,
) -> None:
    """Create a bank."""
    created = context.services.banks.create_bank(name, threshold, action, allow_list, second_stage)
    _print_bank(Output(as_json), created, "created")


@bank.command("policy")
@click.argument("name")
@click.option("--threshold", type=click.IntRange(0, 63), default=None)
@click.option("--action", type=ACTIONS, default=None)
@click.option("--allow-list", "allow_list", multiple=True, metavar="BANK")
@click.option("--clear-allow-list", is_flag=True, help="Remove every allow-list bank.")
@click.option(
    "--second-stage/--no-second-stage",
    "second_stage",
    default=None,
    help=f"{SECOND_STAGE_HELP} Unchanged if not given.",
)
@json_option
@pass_context
def policy(
    context: CliContext,
    name: str,
    threshold: int | None,
    action: str | None,
    allow_list: tuple[str, ...],
    clear_allow_list: bool,
    second_stage: bool | None,
    as_json: bool,
) -> None:
    """Change a bank's threshold, action, allow-list banks or second stage."""
    banks = allow_list if allow_list else (() if clear_allow_list else None)
    changed = context.services.banks.update_policy(
        name, threshold, action, banks, second_stage=second_stage
    )
    _print_bank(Output(as_json), changed, "updated")


@bank.command("list")
@json_option
@pass_context
def list_banks(context: CliContext, as_json: bool) -> None:
    """List banks with their policy and entry counts."""
    out = Output(as_json)
    banks = context.services.banks
    rows = []
    for item in banks.list_banks():
        counts = banks.count_entries(item.name)
        out.record(bank_json(item, counts))
        rows.append(
            (
                item.name,
                "yes" if item.enabled else "no",
                item.policy.pdq_threshold,
                item.policy.action.value,
                ", ".join(item.policy.allow_list_banks),
                "on" if item.policy.second_stage else "off",
                counts.get(EntryState.ACTIVE, 0),
                counts.get(EntryState.DISABLED, 0),
                counts.get(EntryState.WITHDRAWN, 0),
            )
        )
    out.table(
        [
            "bank",
            "enabled",
            "threshold",
            "action",
            "allow-list",
            "second stage",
            "active",
            "disabled",
            "withdrawn",
        ],
        rows,
    )


@bank.command("rename")
@click.argument("name")
@click.argument("new_name")
@json_option
@pass_context
def rename(context: CliContext, name: str, new_name: str, as_json: bool) -> None:
    """Rename a bank."""
    _print_bank(Output(as_json), context.services.banks.rename_bank(name, new_name), "renamed")


@bank.command("enable")
@click.argument("name")
@json_option
@pass_context
def enable(context: CliContext, name: str, as_json: bool) -> None:
    """Enable a bank: its active entries match again."""
    _print_bank(Output(as_json), context.services.banks.set_bank_enabled(name, True), "enabled")


@bank.command("disable")
@click.argument("name")
@json_option
@pass_context
def disable(context: CliContext, name: str, as_json: bool) -> None:
    """Disable a bank: none of its entries match until it is enabled."""
    _print_bank(Output(as_json), context.services.banks.set_bank_enabled(name, False), "disabled")


@bank.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def delete(context: CliContext, name: str, yes: bool) -> None:
    """Delete a bank and all its entries (tombstones included)."""
    context.services.banks.get_bank(name)
    if not yes:
        click.confirm(f"Delete bank {name} and all its entries?", abort=True, err=True)
    context.services.banks.delete_bank(name)
    click.echo(f"deleted bank {name}", err=True)


for command in (add, remove, restore, import_command, export):
    bank.add_command(command)
