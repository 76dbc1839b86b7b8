"""The `shema` command: parse, read the environment once, call the engine, print.

The environment is read once, into an `engine.config.Config`. No business logic lives
here. The command groups live in commands/, one module each;
heavy modules are imported inside the commands that need them, so a read command
starts quickly.
"""

from __future__ import annotations

import dataclasses
import os

import click

import commands.clocks  # adds `project extend`
import commands.financing  # adds `project financing` and `report forecast`
import commands.migration  # noqa: F401  (adds `project migrate`)

# `planning` adds the risk and cba groups under `project` when imported.
from commands import admin, details, ideas, jobs, planning, portfolio, projects, schemes, web  # noqa: F401
from commands import pictures as _pictures  # noqa: F401  (adds `report pdf`)
from commands.absence import absence
from commands.base import Settings, ShemaGroup
from engine import failpoints
from engine.config import Config


@click.group(cls=ShemaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="SHEMA_DB",
    default="sqlite:///shema.db",
    show_default=True,
    help="Database URL (SHEMA_DB).",
)
@click.option(
    "--as", "actor", envvar="SHEMA_USER", default=None, help="Act as this person id (SHEMA_USER)."
)
@click.option(
    "--lang",
    type=click.Choice(["lv", "en"]),
    envvar="SHEMA_LANG",
    default="lv",
    show_default=True,
    help="Language of labels (SHEMA_LANG).",
)
@click.version_option(package_name="shema")
@click.pass_context
def main(ctx: click.Context, db_url: str, actor: str | None, lang: str) -> None:
    """Shēma: the unified project organisation scheme, executable."""
    # The environment is read here, once (click has read --db, --as and --lang, with their
    # SHEMA_* fall-backs); everything below gets what it needs from `config`.
    config = dataclasses.replace(
        Config.from_environ(os.environ), db_url=db_url, user=actor or None, lang=lang
    )
    failpoints.enable(config.failpoints)
    ctx.obj = Settings(db_url, actor or None, lang, config=config)


for _command in (
    admin.init,
    admin.status,
    admin.audit,
    admin.demo,
    schemes.scheme,
    schemes.org,
    projects.project,
    ideas.idea,
    portfolio.report,
    portfolio.calendar,
    jobs.jobs,
    jobs.outbox,
    web.web,
    web.user,
    absence,
):
    main.add_command(_command)


def run() -> None:  # pragma: no cover - console entry for `python cli.py`
    main()


if __name__ == "__main__":  # pragma: no cover
    run()


__all__ = ["main", "planning"]
