"""`shema report pdf -o FILE`: the printable report, with the charts.

Importing this module adds `pdf` under the `report` group (cli.py imports it); the group
is commands/financing.py's, whose bare call is still the portfolio report."""

from __future__ import annotations

import click

from commands.base import Settings, now, pass_settings, write_file
from commands.financing import report


@report.command("pdf")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="The PDF file to write."
)
@pass_settings
def report_pdf(s: Settings, output: str) -> None:
    """The printable report: the portfolio's tables, the ideas notebook and the charts
    (timeline, projects per stage, time in stages and at handoffs, money per year)."""
    from web.app import templates
    from web.pictures import printable

    env = templates().env
    data = printable(s.engine(), env, actor=s.who(), now=now(), lang=s.lang)
    write_file(output, data)
    click.echo(f"wrote {output}")
