"""`shema` commands: editing a project's details (`shema project edit`).

Importing this module adds `edit` under the `project` group (cli.py imports it)."""

from __future__ import annotations

import json
from typing import Any

import click

from commands.base import Settings, expect_option, json_option, now, pass_settings, print_outcome
from commands.projects import project
from workflow.errors import UsageError


def _dates(items: tuple[str, ...]) -> dict[str, str]:
    """--date NAME=YYYY-MM-DD options as name → ISO text (an empty value removes the
    date); the engine checks the names and the dates."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"--date {item[:60]!r}: expected NAME=YYYY-MM-DD",
                code="details.bad_date",
                date=name.strip()[:63] or "?",
                value=value[:20],
            )
        out[name.strip()] = value.strip()
    return out


def _shown(value: Any) -> str:
    """One side of a change as a line shows it."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def changed_lines(changes: dict[str, list[Any]]) -> list[str]:
    """Each changed column as `name: old → new`."""
    return [f"  {name}: {_shown(old)} → {_shown(new)}" for name, (old, new) in changes.items()]


@project.command("edit")
@click.argument("code")
@click.option("--title", default=None)
@click.option("--budget", default=None, help="Estimated cost, e.g. 125000.00 ('' clears it).")
@click.option("--currency", default=None, help="EUR, or LVL for old figures.")
@click.option("--instrument", "funding_instrument", default=None, help="'' clears it.")
@click.option("--partner", "partners", multiple=True, help="Replaces the partners; repeatable.")
@click.option("--no-partners", is_flag=True, help="Remove every partner.")
@click.option(
    "--date",
    "dates",
    multiple=True,
    metavar="NAME=YYYY-MM-DD",
    help="A project date the scheme declares (NAME= removes it); repeatable.",
)
@expect_option
@json_option
@pass_settings
def project_edit(
    s: Settings,
    code: str,
    title: str | None,
    budget: str | None,
    currency: str | None,
    funding_instrument: str | None,
    partners: tuple[str, ...],
    no_partners: bool,
    dates: tuple[str, ...],
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Change the project's title, budget, currency, instrument, partners or dates; prints
    what changed (a project event)."""
    from engine.details import edit_details

    if partners and no_partners:
        raise click.UsageError("give --partner or --no-partners, not both")
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title
    if budget is not None:
        changes["budget"] = budget
    if currency is not None:
        changes["currency"] = currency.strip().upper()
    if funding_instrument is not None:
        changes["funding_instrument"] = funding_instrument.strip() or None
    if partners or no_partners:
        changes["partners"] = list(partners)
    if dates:
        changes["dates"] = _dates(dates)
    out = edit_details(
        s.engine(), code, changes, actor=s.who(), now=now(), expect_version=expect_version
    )
    said = [f"{out.code}: details changed; version {out.version}"]
    print_outcome(out, as_json, "\n".join(said + changed_lines(out.data["changes"])))
