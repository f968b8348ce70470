"""`shieldwall platforms add|list|edit`: the platform directory of takedown notices."""

from __future__ import annotations

from typing import Any

import click

from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.takedown.platforms import LegalBasis, Platform

_FIELDS = {
    "display_name": "display_name",
    "email": "abuse_email",
    "form": "abuse_form",
    "jurisdiction": "jurisdiction",
    "basis": "bases",
    "deadline_hours": "deadline_hours",
    "host": "hosts",
    "language": "language",
}


def _platform_options(command: Any) -> Any:
    options = [
        click.option("--display-name", help="How people know it (default: the name)."),
        click.option("--email", help="Its abuse contact's email address."),
        click.option("--form", help="Its abuse web form (https://...)."),
        click.option("--jurisdiction", help="The country whose law binds it (US, ES, KR)."),
        click.option(
            "--basis",
            multiple=True,
            type=click.Choice([b.value for b in LegalBasis]),
            help="A legal basis it accepts notices under (repeat for several).",
        ),
        click.option("--deadline-hours", type=int, help="The deadline it is bound by (48)."),
        click.option("--host", multiple=True, help="A host name it serves (repeat)."),
        click.option("--language", help="The language of its notices (en, es, ko; en)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The options given, under the directory's field names (repeatable ones as lists)."""
    return {
        _FIELDS[key]: list(value) if isinstance(value, tuple) else value
        for key, value in options.items()
        if key in _FIELDS and value not in (None, ())
    }


def _show(out: Output, platforms: list[Platform]) -> None:
    for platform in platforms:
        out.record(platform.as_json())
    out.table(
        ["name", "jurisdiction", "bases", "deadline", "contact", "hosts", "language"],
        [
            [
                p.name,
                p.jurisdiction,
                ", ".join(p.bases),
                f"{p.deadline_hours} h",
                p.abuse_email or p.abuse_form,
                ", ".join(p.hosts),
                p.language,
            ]
            for p in platforms
        ],
    )


@click.group("platforms")
def platforms_group() -> None:
    """The platforms takedown notices go to: contact, law, deadline, host names."""


@platforms_group.command("add")
@click.argument("name")
@_platform_options
@json_option
@pass_context
def add_command(context: CliContext, /, name: str, as_json: bool, **options: Any) -> int:
    """Add a platform; every missing or wrong field is named at once."""
    platform = context.services.platforms.add({"name": name, **_given(options)})
    _show(Output(as_json), [platform])
    return 0


@platforms_group.command("edit")
@click.argument("name")
@_platform_options
@json_option
@pass_context
def edit_command(context: CliContext, /, name: str, as_json: bool, **options: Any) -> int:
    """Change a platform's fields (those given; --basis and --host replace the lists)."""
    platform = context.services.platforms.edit(name, _given(options))
    _show(Output(as_json), [platform])
    return 0


@platforms_group.command("list")
@json_option
@pass_context
def list_command(context: CliContext, as_json: bool) -> int:
    """List the platforms, by name."""
    _show(Output(as_json), context.services.platforms.all())
    return 0
