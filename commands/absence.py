"""`shema absence`: absence periods and deputies (who stands in while someone is away).

No reason is asked or stored: an absence says when, never why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from commands.base import Settings, ShemaGroup, echo_json, json_option, now, pass_settings, table


@click.group(cls=ShemaGroup)
def absence() -> None:
    """Absences and deputies: work goes to the deputy while someone is away."""


def _words(s: Settings) -> Any:
    from render.catalogue import words

    return words(s.lang)


def _lines(s: Settings, views: list[Any]) -> None:
    w = _words(s)
    rows = [
        (
            v.id,
            f"{v.person_name} ({v.person})",
            v.starts_on.isoformat(),
            v.ends_on.isoformat(),
            f"{v.deputy_name} ({v.deputy})" if v.deputy else "—",
            w["absence_now"] if v.current else w["absence_later"],
        )
        for v in views
    ]
    headers = (
        "#",
        w["absence_person"],
        w["absence_from"],
        w["absence_to"],
        w["absence_deputy"],
        w["absence_state"],
    )
    table(rows, headers)


@absence.command("add")
@click.option("--person", help="Whose absence (default: yourself).")
@click.option(
    "--from",
    "starts_on",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="The first day away (YYYY-MM-DD).",
)
@click.option(
    "--to",
    "ends_on",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="The last day away (YYYY-MM-DD).",
)
@click.option("--deputy", help="Who stands in (default: the organisation file's deputy).")
@json_option
@pass_settings
def add(
    s: Settings,
    person: str | None,
    starts_on: dt.datetime,
    ends_on: dt.datetime,
    deputy: str | None,
    as_json: bool,
) -> None:
    """Record an absence from --from to --to (no reason: none is stored)."""
    from engine import absence as rules

    actor = s.who() or ""
    v = rules.add(
        s.engine(),
        actor=actor,
        person=person or actor,
        starts_on=starts_on.date(),
        ends_on=ends_on.date(),
        deputy=deputy,
        now=now(),
    )
    if as_json:
        echo_json(v.to_json())
        return
    _lines(s, [v])
    w = _words(s)
    for note in v.notes:
        click.echo(w[note.replace(".", "_", 1)])


@absence.command("list")
@click.option("--person", help="Only this person's absences.")
@json_option
@pass_settings
def list_(s: Settings, person: str | None, as_json: bool) -> None:
    """Current and future absences you may see."""
    from engine import absence as rules

    views = rules.listed(s.engine(), actor=s.who() or "", now=now(), person=person)
    if as_json:
        echo_json([v.to_json() for v in views])
    elif views:
        _lines(s, views)
    else:
        click.echo(_words(s)["absence_none"])


@absence.command("end")
@click.argument("absence_id", type=click.IntRange(1, 2**31 - 1))
@json_option
@pass_settings
def end(s: Settings, absence_id: int, as_json: bool) -> None:
    """End absence ABSENCE_ID now: the person is back and their work returns to them."""
    from engine import absence as rules

    v = rules.end(s.engine(), actor=s.who() or "", absence_id=absence_id, now=now())
    if as_json:
        echo_json(v.to_json())
    else:
        click.echo(_words(s)["absence_ended"].format(name=v.person_name))
