"""`shema` commands: Database set-up and health, the audit, the demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from commands.base import (
    Settings,
    ShemaGroup,
    echo_json,
    json_option,
    mail_from_env,
    now,
    pass_settings,
)

# -- database ----------------------------------------------------------------------


@click.command()
@pass_settings
def init(s: Settings) -> None:
    """Create or upgrade the database."""
    from storage.migrate import upgrade

    engine = s.engine(require_schema=False)
    before, after = upgrade(engine.db)
    if before == after:
        click.echo(f"{engine.db.safe_url}: already at revision {after}")
    else:
        click.echo(f"{engine.db.safe_url}: revision {before or '(empty)'} -> {after}")


@click.command()
@json_option
@pass_settings
def status(s: Settings, as_json: bool) -> None:
    """Health: schema revision, loaded scheme and organisation, projects."""
    from engine.status import status as read_status
    from storage.database import Database

    data = read_status(Database(s.db_url), now(), mail_from_env().describe)
    if as_json:
        echo_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")
    if not data.get("initialised"):
        sys.exit(3)


# -- audit -------------------------------------------------------------------------


@click.group(cls=ShemaGroup)
def audit() -> None:
    """Check the tamper-evident history."""


@audit.command("verify")
@json_option
@pass_settings
def audit_verify(s: Settings, as_json: bool) -> None:
    """Recompute every project's hash chain; exit 1 naming the first broken event."""
    from engine.audit import verify

    report = verify(s.engine().db)
    if as_json:
        echo_json(report.to_json())
    for b in report.broken:
        click.echo(f"BROKEN {b['project']} event #{b['event']}: {b['reason']}", err=True)
    if not as_json:
        click.echo(
            f"{report.projects} projects, {report.events} events: "
            f"{'ok' if report.ok else f'{len(report.broken)} broken'}"
        )
    if not report.ok:
        sys.exit(1)


# -- demo --------------------------------------------------------------------------


@click.command()
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), default="shema-demo", show_default=True
)
def demo(directory: str) -> None:
    """Set up a demo database with the shipped scheme and organisation, and walk projects."""
    from engine.demo import run_demo

    result = run_demo(Path(directory), now=now(), echo=click.echo)
    click.echo("")
    click.echo("Try it:")
    click.echo(f"  export SHEMA_DB={result.db_url}")
    for line in result.hints:
        click.echo(f"  {line}")
