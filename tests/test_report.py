"""The portfolio report (SQL aggregates: by unit, stage and instrument, overdue and due-soon
counts, time in each stage) and the iCalendar export of deadlines. Runs on SQLite and
PostgreSQL; the CSV and .ics files are read back with the standard parsers."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0
from sqlalchemy import event, select

import cli
from engine.ical import upcoming
from engine.report import portfolio
from engine.service import Engine
from render.ical import escape, fold, to_ics
from render.portfolio import CSV_HEADER, csv_rows
from render.tables import spreadsheet_csv
from storage.tables import deadlines, projects
from workflow.errors import NotFound

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
ZANE = "zane.roze"  # parish_specialist, Suntažu pagasts
SANTA = "santa.graudina"  # parish_specialist, Lielvārdes pagasts
OSKARS = "oskars.lapins"  # parish_specialist, Birzgales pagasts
JANIS = "janis.ozols"  # project_manager
DAY = dt.timedelta(days=1)


def submit(engine: Engine, code: str, who: str, at: dt.datetime) -> None:
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=who, now=at - dt.timedelta(hours=1))
    engine.advance(code, "submit_idea", actor=who, now=at)


@pytest.fixture
def portfolio_codes(engine: Engine) -> dict[str, str]:
    """Four projects: two that left `idea` after exactly 2 and 4 days, two still in it;
    one with an ERDF budget in lats."""
    new = engine.create_project
    roof = new(title="Krapes jumts", unit="krapes_pagasts", actor=LIGA, now=T0).code
    court = new(title="Suntažu laukums", unit="suntazu_pagasts", actor=ZANE, now=T0).code
    lights = new(title="Apgaismojums", unit="lielvardes_pagasts", actor=SANTA, now=T0 + DAY).code
    park = new(
        title="Birzgales parks", unit="birzgales_pagasts", actor=OSKARS, now=T0 + DAY,
        funding_instrument="erdf", budget=Decimal("21828.00"), currency="LVL",
    ).code  # fmt: skip
    submit(engine, roof, LIGA, T0 + 2 * DAY)
    engine.acknowledge(roof, actor=JANIS, now=T0 + 2 * DAY + dt.timedelta(hours=1))
    submit(engine, court, ZANE, T0 + 4 * DAY)
    return {"roof": roof, "court": court, "lights": lights, "park": park}


# -- figures ----------------------------------------------------------------------------------


def test_projects_are_counted_by_unit_stage_and_instrument(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    report = portfolio(engine, actor=COORDINATOR, now=T0 + 5 * DAY, lang="en")

    assert {g.key: g.projects for g in report.by_unit} == {
        "krapes_pagasts": 1, "suntazu_pagasts": 1, "lielvardes_pagasts": 1,
        "birzgales_pagasts": 1}  # fmt: skip
    stages = {s.key: s.projects for s in report.by_stage}
    assert stages == {"idea": 2, "pre_assessment": 2}
    assert [(g.key, g.projects, g.budget_eur) for g in report.by_instrument] == [
        ("erdf", 1, Decimal("31058.45")),
        ("-", 3, Decimal("0.00")),
    ]
    assert report.by_instrument[0].name == "European Regional Development Fund (ERDF)"
    assert report.totals["projects"] == report.totals["active"] == 4
    assert report.totals["budget_eur"] == "31058.45"


def test_time_in_each_stage_is_averaged_over_finished_visits_from_the_history(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    report = portfolio(engine, actor=COORDINATOR, now=T0 + 30 * DAY)

    idea = next(s for s in report.by_stage if s.key == "idea")
    assert (idea.visits, idea.avg_days, idea.max_days) == (2, 3.0, 4.0)
    assert idea.deadline == "5 d.d."
    pre = next(s for s in report.by_stage if s.key == "pre_assessment")
    assert (pre.visits, pre.avg_days, pre.max_days) == (0, None, None)


@pytest.mark.parametrize("days_later", [0, 3, 6, 12, 40])
def test_overdue_and_due_soon_agree_with_each_projects_own_deadline(
    engine: Engine, portfolio_codes: dict[str, str], days_later: int
) -> None:
    now = T0 + days_later * DAY + dt.timedelta(hours=5)
    report = portfolio(engine, actor=COORDINATOR, now=now, soon_days=3)

    views = engine.list_projects(actor=COORDINATOR, now=now)
    due = [v.due_at for v in views if v.due_at is not None]
    expected_overdue = sum(d < now for d in due)
    expected_soon = sum(now <= d <= report.due_soon_until for d in due)
    assert (report.totals["overdue"], report.totals["due_soon"]) == (
        expected_overdue, expected_soon)  # fmt: skip
    assert sum(g.overdue for g in report.by_unit) == expected_overdue
    assert sum(s.due_soon for s in report.by_stage) == expected_soon


def test_due_soon_ends_with_the_nth_working_day(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    friday = dt.datetime(2026, 2, 6, 10, 0, tzinfo=dt.UTC)

    report = portfolio(engine, actor=COORDINATOR, now=friday, soon_days=1)

    # One working day after Friday 6 Feb is Monday 9 Feb, to its end in Riga.
    assert report.due_soon_until == dt.datetime(2026, 2, 9, 21, 59, 59, tzinfo=dt.UTC)


def test_a_parish_person_sees_only_their_own_units(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    report = portfolio(engine, actor=LIGA, now=T0 + 5 * DAY)

    assert [g.key for g in report.by_unit] == ["krapes_pagasts"]
    assert report.totals["projects"] == 1
    assert report.scope == "own units"


def test_a_unit_filter_takes_the_units_below(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    report = portfolio(engine, actor=COORDINATOR, now=T0, unit="bij_ogres_novads")

    assert sorted(g.key for g in report.by_unit) == ["krapes_pagasts", "suntazu_pagasts"]
    with pytest.raises(NotFound, match="no unit 'atlantis'"):
        portfolio(engine, actor=COORDINATOR, now=T0, unit="atlantis")


def test_the_report_runs_the_same_queries_however_many_projects_there_are(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine.db.engine, "before_cursor_execute", count)
        try:
            portfolio(engine, actor=COORDINATOR, now=T0 + 5 * DAY)
        finally:
            event.remove(engine.db.engine, "before_cursor_execute", count)
        return len(seen)

    few = statements()
    for n in range(6):
        engine.create_project(title=f"P{n}", unit="tomes_pagasts", actor=JANIS, now=T0)
    assert statements() == few


def test_the_report_csv_has_one_row_per_group_under_the_header(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    report = portfolio(engine, actor=COORDINATOR, now=T0 + 5 * DAY)

    rows = csv_rows(report)

    assert all(len(r) == len(CSV_HEADER) for r in rows)
    sections = [r[0] for r in rows]
    assert sections.count("by_unit") == 4 and sections.count("by_stage") == 2
    assert sections[-1] == "total"


def test_a_csv_delimiter_is_one_character() -> None:
    from workflow.errors import UsageError

    with pytest.raises(UsageError, match="one character"):
        spreadsheet_csv(["a"], [], ";;")


# -- iCalendar --------------------------------------------------------------------------------


def test_lines_are_folded_at_75_octets_without_splitting_a_letter() -> None:
    line = "SUMMARY:" + escape("Līdzfinansējuma lēmums, Ķeguma; Ģērbtuves\n" * 6)

    folded = fold(line)

    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_the_ics_has_every_open_deadline_as_an_all_day_event_on_its_due_date(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    events = upcoming(engine, actor=COORDINATOR)
    text = to_ics(events, now=T0, name="Shēma: termiņi")

    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    parsed = icalendar.Calendar.from_ical(text.encode("utf-8"))
    found = {str(e["UID"]): e for e in parsed.walk("VEVENT")}
    with engine.db.read() as conn:
        rows = conn.execute(
            select(deadlines.c.id, deadlines.c.due_at, projects.c.code)
            .join(projects, projects.c.id == deadlines.c.project_id)
            .where(deadlines.c.closed_at.is_(None))
        ).all()
    assert len(rows) == len(found) >= 4
    riga = ZoneInfo("Europe/Riga")
    for row in rows:
        vevent = found[f"deadline-{row.id}@ogr.shema"]
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        assert not isinstance(start, dt.datetime)  # a date: an all-day event
        assert start == row.due_at.astimezone(riga).date()
        assert end == start + dt.timedelta(days=1)
        assert str(vevent["SUMMARY"]).startswith(f"{row.code}: ")
        assert "shema project" not in str(vevent["DESCRIPTION"])  # no command line
        assert "URL" not in vevent  # no web address known: no link


def test_the_ics_links_each_deadline_to_its_project_page_when_the_web_address_is_known(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    linked = Engine(engine.db, web_url="https://shema.ogresnovads.example/")

    events = upcoming(linked, actor=COORDINATOR)
    parsed = icalendar.Calendar.from_ical(to_ics(events, now=T0, name="x").encode("utf-8"))

    assert events
    for vevent, deadline in zip(parsed.walk("VEVENT"), events, strict=True):
        page = f"https://shema.ogresnovads.example/projects/{deadline.code}"
        assert str(vevent["URL"]) == page
        assert str(vevent["DESCRIPTION"]).endswith(page)


def test_the_ics_keeps_only_the_deadlines_waiting_for_a_person(
    engine: Engine, portfolio_codes: dict[str, str]
) -> None:
    mine = upcoming(engine, actor=COORDINATOR, person=ZANE)
    suntazi = upcoming(engine, actor=COORDINATOR, unit="suntazu_parvalde")

    # Zane's project waits at the handoff for central staff; nothing waits for her.
    assert mine == []
    assert {e.code for e in suntazi} == {portfolio_codes["court"]}
    assert {e.kind for e in suntazi} == {"stage", "handoff"}
    lights = upcoming(engine, actor=COORDINATOR, person=SANTA)
    assert [(e.code, e.kind) for e in lights] == [(portfolio_codes["lights"], "stage")]
    assert upcoming(engine, actor=LIGA) == upcoming(engine, actor=LIGA, unit="krapes_pagasts")


# -- through the CLI --------------------------------------------------------------------------


@pytest.fixture
def shema(engine: Engine) -> Iterator[Any]:
    """`shema` bound to the engine's database."""

    def run(*args: str, who: str | None = None) -> Result:
        argv = (["--as", who] if who else []) + list(args)
        env = {"SHEMA_DB": engine.db.url, "SHEMA_USER": None, "SHEMA_LANG": None}
        result = CliRunner().invoke(cli.main, argv, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    yield run
    gc.collect()


def test_report_csv_is_utf8_with_a_bom_and_keeps_latvian_letters(
    shema: Any, portfolio_codes: dict[str, str]
) -> None:
    result = shema("report", "--format", "csv", "--delimiter", ";", who=COORDINATOR)

    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig")), delimiter=";"))
    assert list(rows[0]) == CSV_HEADER
    names = {(r["section"], r["key"]): r["name"] for r in rows}
    assert names[("by_unit", "suntazu_pagasts")] == "Suntažu pagasts"
    assert names[("by_stage", "pre_assessment")] == "Priekšizvērtējums"
    total = next(r for r in rows if r["section"] == "total")
    assert total["projects"] == "4"


def test_report_csv_to_a_file_reads_back_with_utf_8_sig(
    shema: Any, portfolio_codes: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "portfelis.csv"

    result = shema("report", "--format", "csv", "-o", str(out), who=COORDINATOR)

    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CSV_HEADER
    name = CSV_HEADER.index("name")
    assert any(r[name] == "Eiropas Reģionālās attīstības fonds (ERAF)" for r in rows)


def test_report_json_and_table(shema: Any, portfolio_codes: dict[str, str]) -> None:
    data = json.loads(shema("report", "--json", who=COORDINATOR).stdout)
    assert set(data) >= {"totals", "by_unit", "by_stage", "by_instrument", "ideas"}
    assert data["totals"]["projects"] == 4
    assert json.loads(shema("report", "--format", "json", who=COORDINATOR).stdout) | {
        "generated_at": None} == data | {"generated_at": None}  # fmt: skip

    table = shema("--lang", "en", "report", who=COORDINATOR)
    assert table.exit_code == 0, table.stderr
    assert "By stage" in table.stdout and "pre_assessment" in table.stdout


def test_calendar_export_writes_an_ics_that_icalendar_parses(
    shema: Any, portfolio_codes: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "termini.ics"

    result = shema("calendar", "export", "--unit", "krapes_parvalde", "-o", str(out), who=JANIS)

    assert result.exit_code == 0, result.stderr
    parsed = icalendar.Calendar.from_ical(out.read_bytes())
    summaries = [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")]
    assert summaries and all(s.startswith(portfolio_codes["roof"]) for s in summaries)
    assert all(not isinstance(e.decoded("DTSTART"), dt.datetime) for e in parsed.walk("VEVENT"))
    both = shema("calendar", "export", "--unit", "x", "--person", "y", "-o", "-", who=JANIS)
    assert both.exit_code == 2
