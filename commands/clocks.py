"""`shema` commands: an outside body's clock (`shema project extend`).

Importing this module adds `extend` under the `project` group (cli.py imports it)."""

from __future__ import annotations

import datetime as dt

import click

from commands.base import Settings, expect_option, json_option, now, pass_settings, print_outcome
from commands.projects import project


@project.command("extend")
@click.argument("code")
@click.option("--reason", required=True, help="Why the outside body extended its period.")
@expect_option
@json_option
@pass_settings
def project_extend(
    s: Settings, code: str, reason: str, expect_version: int | None, as_json: bool
) -> None:
    """Record that the outside body the stage waits on (CFLA …) extended its period: the
    clock's due date moves by the scheme's extension, once (a project event)."""
    from engine.clocks import extend
    from render import formats
    from render.catalogue import words
    from render.projects import RIGA

    out = extend(s.engine(), code, reason, actor=s.who(), now=now(), expect_version=expect_version)
    due = dt.datetime.fromisoformat(out.data["to"]).astimezone(RIGA).date()
    said = words(s.lang)["clk_extended"].format(
        code=out.code,
        body=out.data["body"].get(s.lang, out.code),
        date=formats.day(due, s.lang),
        version=out.version,
    )
    print_outcome(out, as_json, said)
