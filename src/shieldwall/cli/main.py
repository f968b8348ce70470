"""`shieldwall`: the command line. Errors print one clear line and exit non-zero."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shieldwall import __version__
from shieldwall.cli.audit_cmd import audit_group
from shieldwall.cli.bank_cmd import bank
from shieldwall.cli.case_cmd import case_group, protect_command
from shieldwall.cli.cases_cmd import cases_group
from shieldwall.cli.context import make_context
from shieldwall.cli.db_cmd import db
from shieldwall.cli.decisions_cmd import decisions_group
from shieldwall.cli.doctor_cmd import doctor_command
from shieldwall.cli.enrolment_cmd import enrol_command, enrolments_group
from shieldwall.cli.hash_cmd import hash_command
from shieldwall.cli.key_cmd import key
from shieldwall.cli.match_cmd import match_command
from shieldwall.cli.platforms_cmd import platforms_group
from shieldwall.cli.quarantine_cmd import quarantine
from shieldwall.cli.report_cmd import report_group
from shieldwall.cli.scan_cmd import scan_command
from shieldwall.cli.serve_cmd import serve
from shieldwall.cli.sweeps_cmd import sweeps_group
from shieldwall.cli.telegram_cmd import telegram_guard_command
from shieldwall.cli.user_cmd import user_group
from shieldwall.cli.webhooks_cmd import webhooks_group
from shieldwall.errors import ShieldwallError

EXIT_FAILURE = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="SHIELDWALL_DATABASE_URL",
    help="Database URL (default: SQLite file under the data directory).",
)
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Data directory (SHIELDWALL_HOME, default ./var).",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Settings file (default ./shieldwall.toml if present).",
)
@click.version_option(__version__, prog_name="shieldwall")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, home: Path | None, config: Path | None) -> None:
    """Shieldwall: hash banks and edit-robust matching against intimate image abuse."""
    context = make_context(db_url, home, config)
    ctx.obj = context
    ctx.call_on_close(context.close)


cli.add_command(hash_command)
cli.add_command(bank)
cli.add_command(match_command)
cli.add_command(db)
cli.add_command(key)
cli.add_command(serve)
cli.add_command(protect_command)
cli.add_command(case_group)
cli.add_command(cases_group)
cli.add_command(quarantine)
cli.add_command(audit_group)
cli.add_command(user_group)
cli.add_command(decisions_group)
cli.add_command(doctor_command)
cli.add_command(enrolments_group)
cli.add_command(enrol_command)
cli.add_command(scan_command)
cli.add_command(platforms_group)
cli.add_command(report_group)
cli.add_command(webhooks_group)
cli.add_command(sweeps_group)
cli.add_command(telegram_guard_command)


def main() -> None:
    """Entry point: run the CLI, turning Shieldwall errors into one line on stderr."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILURE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ShieldwallError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    except BrokenPipeError:
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
