"""`shema` commands: The portfolio report and the working-day calendar."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from commands.base import (
    Settings,
    ShemaGroup,
    csv_delimiter,
    echo_json,
    emit,
    json_option,
    now,
    pass_settings,
    table,
    write_file,
)
from workflow.errors import UsageError

# -- portfolio report ----------------------------------------------------------------


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
    show_default=True,
)  # fmt: skip
@click.option("--unit", default=None, help="Only this unit and the units below it.")
@click.option(
    "--soon",
    "soon_days",
    type=click.IntRange(0, 250),
    default=5,
    show_default=True,
    help="'Due soon' means within this many working days.",
)
@click.option("--delimiter", default=",", show_default=True, help="CSV: ',' or ';' (or 'tab').")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@json_option
@pass_settings
def report(
    s: Settings,
    fmt: str,
    unit: str | None,
    soon_days: int,
    delimiter: str,
    output: str | None,
    as_json: bool,
) -> None:
    """The portfolio: projects by unit, stage and funding instrument; overdue and due-soon
    counts; average and longest time in each stage."""
    from engine.report import portfolio
    from render.portfolio import CSV_HEADER, csv_rows, format_text
    from render.tables import spreadsheet_csv

    data = portfolio(
        s.engine(), actor=s.who(), now=now(), unit=unit, soon_days=soon_days, lang=s.lang
    )
    if as_json or fmt == "json":
        out = json.dumps(data.to_json(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        out = spreadsheet_csv(CSV_HEADER, csv_rows(data), csv_delimiter(delimiter))
    else:
        out = format_text(data, s.lang)
    emit(out, output)


# -- calendar ----------------------------------------------------------------------


@click.group(cls=ShemaGroup)
def calendar() -> None:
    """Latvian working days, with the municipality's own changes."""


def _calendar(s: Settings) -> Any:
    """The database's calendar when one is initialised with an organisation, else the
    national one."""
    from engine.calendars import stored_calendar
    from workflow.calendar import national_calendar

    found = stored_calendar(s.db_url)
    return found if found is not None else national_calendar()


def _meetings(s: Settings, year: int) -> list[tuple[dt.date, dt.date, str]]:
    """The meetings the stored organisation lists in `year`: (day, documents cut-off,
    body title); none when no organisation is loaded."""
    from engine.calendars import stored_calendar
    from workflow.labels import text

    cal = stored_calendar(s.db_url)
    if cal is None:
        return []
    engine = s.engine()
    with engine.db.read() as conn:
        org = engine.org_index(conn).org
    return sorted(
        (day, cal.add(day, body.cutoff, sign=-1), text(body.title, s.lang))
        for body in org.meetings.values()
        for day in body.dates
        if day.year == year
    )


@calendar.command("show")
@click.option("--year", type=int, required=True)
@json_option
@pass_settings
def calendar_show(s: Settings, year: int, as_json: bool) -> None:
    """Days off on weekdays and working days on weekends in YEAR, and the meetings the
    organisation lists in it (with their documents cut-off)."""
    from render import formats
    from render.catalogue import words
    from workflow import domains

    entries = _calendar(s).entries(domains.year("year", year), s.lang)
    meetings = _meetings(s, year)
    if as_json:
        days = [
            {"date": e.date.isoformat(), "kind": e.kind, "name": e.name, "source": e.source}
            for e in entries
        ]
        days += [
            {
                "date": d.isoformat(),
                "kind": "meeting",
                "name": body,
                "source": "organisation",
                "cutoff": c.isoformat(),
            }
            for d, c, body in meetings
        ]
        echo_json(sorted(days, key=lambda row: str(row["date"])))
        return
    w = words(s.lang)
    rows = [
        (e.date.isoformat(), e.date.strftime("%a"), e.kind.replace("_", " "), e.source, e.name)
        for e in entries
    ]
    rows += [
        (
            d.isoformat(),
            d.strftime("%a"),
            w["mtg_kind"],
            w["mtg_source"],
            w["mtg_row"].format(body=body, cutoff=formats.day(c, s.lang)),
        )
        for d, c, body in meetings
    ]
    table(sorted(rows, key=lambda row: row[0]), ["date", "", "kind", "source", "name"])


@calendar.command("add-days")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("n", type=int)
@click.option("--calendar-days", is_flag=True, help="Count calendar days, not working days.")
@pass_settings
def calendar_add_days(s: Settings, start: dt.datetime, n: int, calendar_days: bool) -> None:
    """Print the date N working days (or calendar days) after START, ISO; a negative N
    counts back (write `--` before it: add-days -- 2027-02-26 -5)."""
    from workflow import domains
    from workflow.scheme import Duration

    cal = _calendar(s)
    day = domains.date("date", start.date())
    days = abs(domains.days("number of days", n))
    span = Duration(calendar_days=days) if calendar_days else Duration(working_days=days)
    result = domains.date("resulting date", cal.add(day, span, sign=-1 if n < 0 else 1))
    click.echo(result.isoformat())


@calendar.command("export")
@click.option("--person", default=None, help="Only deadlines waiting for this person.")
@click.option("--unit", default=None, help="Only deadlines of this unit and the units below.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), required=True, help="FILE.ics, or -."
)
@json_option
@pass_settings
def calendar_export(
    s: Settings, person: str | None, unit: str | None, output: str, as_json: bool
) -> None:
    """Upcoming deadlines as an iCalendar file for calendar programs."""
    from engine.ical import upcoming
    from render.ical import to_ics

    if person and unit:
        raise UsageError(
            "give --person or --unit, not both",
            code="calendar.person_and_unit",
            person=person,
            unit=unit,
        )
    at = now()
    events = upcoming(s.engine(), actor=s.who(), person=person, unit=unit, lang=s.lang)
    name = "Shēma: " + (person or unit or ("termiņi" if s.lang == "lv" else "deadlines"))
    data = to_ics(events, now=at, name=name).encode("utf-8")
    if output == "-":
        click.echo(data, nl=False)
        return
    write_file(output, data)
    if as_json:
        echo_json({"file": output, "events": [e.to_json() for e in events]})
    else:
        click.echo(f"wrote {output}: {len(events)} deadlines")
