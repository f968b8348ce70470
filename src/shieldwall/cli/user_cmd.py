"""`shieldwall user ...`: console accounts (reviewers, leads, admins) for the `/review` pages.

Passwords are typed at a hidden prompt (twice) or read from the first line of stdin with
`--password-stdin`; they never appear on the command line or in the output.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from shieldwall.access.account_service import CLI_ACTOR, AccountService
from shieldwall.access.accounts import Account, ConsoleRole
from shieldwall.cli.context import CliContext, pass_context
from shieldwall.cli.options import json_option
from shieldwall.cli.output import Output
from shieldwall.errors import InvalidInputError

ROLES = click.Choice([role.value for role in ConsoleRole])


def account_json(account: Account) -> dict[str, Any]:
    """An account as printed with --json (never its password hash or TOTP secret)."""
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role.value,
        "disabled": account.disabled,
        "totp_enabled": account.totp_enabled,
        "failed_logins": account.failed_logins,
        "locked_until": account.locked_until.isoformat() if account.locked_until else None,
        "blur": account.blur,
        "created_at": account.created_at.isoformat(),
    }


def _accounts(context: CliContext) -> AccountService:
    return context.services.accounts


def _password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InvalidInputError("--password-stdin: stdin held no password")
        return line
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _report(as_json: bool, account: Account, message: str) -> None:
    Output(as_json).record(account_json(account))
    click.echo(message, err=True)


password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@click.group("user")
def user_group() -> None:
    """Console accounts for the review pages."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=ROLES, required=True, help="What the account may do.")
@password_stdin
@json_option
@pass_context
def create(
    context: CliContext, username: str, role: str, password_stdin: bool, as_json: bool
) -> None:
    """Create an account (a password of at least 12 characters)."""
    accounts = _accounts(context)
    account = accounts.create(username, role, _password(password_stdin), actor=CLI_ACTOR)
    note = ""
    if accounts.needs_totp_setup(account):
        note = "; TOTP is required for this role: it is set up at the first sign-in"
    _report(as_json, account, f"created {account.role.value} {account.username}{note}")


@user_group.command("list")
@json_option
@pass_context
def list_users(context: CliContext, as_json: bool) -> None:
    """List accounts (never their secrets)."""
    out = Output(as_json)
    rows = []
    for account in _accounts(context).list():
        out.record(account_json(account))
        locked = account.locked_until.isoformat(timespec="seconds") if account.locked_until else ""
        rows.append(
            (
                account.username,
                account.role.value,
                "disabled" if account.disabled else "enabled",
                "yes" if account.totp_enabled else "no",
                locked,
                account.created_at.isoformat(timespec="seconds"),
            )
        )
    out.table(["username", "role", "state", "totp", "locked until", "created"], rows)


@user_group.command("disable")
@click.argument("username")
@json_option
@pass_context
def disable(context: CliContext, username: str, as_json: bool) -> None:
    """Disable an account: its sessions end at once and it can no longer sign in."""
    accounts = _accounts(context)
    account = accounts.set_disabled(accounts.account(username), True, actor=CLI_ACTOR)
    _report(as_json, account, f"disabled {account.username}")


@user_group.command("enable")
@click.argument("username")
@json_option
@pass_context
def enable(context: CliContext, username: str, as_json: bool) -> None:
    """Enable a disabled account again."""
    accounts = _accounts(context)
    account = accounts.set_disabled(accounts.account(username), False, actor=CLI_ACTOR)
    _report(as_json, account, f"enabled {account.username}")


@user_group.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLES)
@json_option
@pass_context
def set_role(context: CliContext, username: str, role: str, as_json: bool) -> None:
    """Change an account's role."""
    accounts = _accounts(context)
    account = accounts.set_role(accounts.account(username), role, actor=CLI_ACTOR)
    _report(as_json, account, f"{account.username} is now {account.role.value}")


@user_group.command("reset-password")
@click.argument("username")
@password_stdin
@json_option
@pass_context
def reset_password(context: CliContext, username: str, password_stdin: bool, as_json: bool) -> None:
    """Set a new password; the account is unlocked and its sessions end."""
    accounts = _accounts(context)
    account = accounts.account(username)
    accounts.reset_password(account, _password(password_stdin), actor=CLI_ACTOR)
    _report(as_json, accounts.account(username), f"password reset for {account.username}")


@user_group.command("reset-totp")
@click.argument("username")
@json_option
@pass_context
def reset_totp(context: CliContext, username: str, as_json: bool) -> None:
    """Remove an account's second factor (a lost phone); its sessions end."""
    accounts = _accounts(context)
    account = accounts.reset_totp(accounts.account(username), actor=CLI_ACTOR)
    _report(
        as_json,
        account,
        f"TOTP removed for {account.username}; it can be set up again at the next sign-in",
    )
