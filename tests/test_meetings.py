"""Meeting calendars: a stage decided at a body's meeting (`decided_at`) is due at the
first meeting the organisation lists on or after its preparation deadline, with a
reminder at the documents cut-off; past the last listed meeting it keeps its plain
deadline; loading warns about a body with no listed meetings; `shema calendar show`
lists the year's meetings.

The engine tests run on SQLite and PostgreSQL (the `engine` fixture); time is passed in."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import COORDINATOR, shipped_text
from sqlalchemy import select

import cli
from engine.deadlines import plan_entry
from engine.loading import load_org, meeting_warnings
from engine.service import Engine
from schemes import shipped
from storage.tables import deadlines, projects, timers
from workflow.calendar import national_calendar
from workflow.loader import load_org_text, load_scheme, load_scheme_text
from workflow.org import Meetings
from workflow.scheme import Duration

CAL = national_calendar()
SCHEME = load_scheme(str(shipped("unified.yaml")))
ORG = load_org_text(shipped_text("ogre.yaml"), "ogre.yaml")
LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
UNIT = "krapes_pagasts"
# Entered on Tuesday 3 February 2026: 20 working days of preparation end on Tuesday 3 March.
ENTERED = dt.datetime(2026, 2, 3, 10, 0, tzinfo=dt.UTC)


def end_of(day: str) -> dt.datetime:
    return CAL.end_of(dt.date.fromisoformat(day))


def start_of(day: str) -> dt.datetime:
    return CAL.start_of(dt.date.fromisoformat(day))


# -- the plan (pure) -----------------------------------------------------------------------


def test_the_preparation_deadline_of_the_example_is_3_march() -> None:
    assert plan_entry(SCHEME, "investment_plan", ENTERED, CAL, {})[0].due_at == end_of("2026-03-03")


def test_a_stage_prepared_by_3_march_is_due_at_the_council_meeting_of_26_march() -> None:
    [plan] = plan_entry(SCHEME, "investment_plan", ENTERED, CAL, {}, meetings=ORG.meetings)
    assert plan.due_at == end_of("2026-03-26")
    fire = {s.step: s.fire_at for s in plan.steps}
    # The cut-off, 5 working days before the meeting, is the stage's first reminder.
    assert fire["reminder0"] == start_of("2026-03-19")
    assert fire["reminder1"] == start_of("2026-03-25")
    assert fire["overdue"] == end_of("2026-03-26")
    assert fire["escalation0"] == end_of("2026-03-31")


def test_a_cut_off_unlike_any_reminder_adds_one() -> None:
    body = Meetings(
        title={"lv": "Domes sēde", "en": "Council meeting"},
        cutoff=Duration(working_days=3),
        dates=[dt.date(2026, 3, 26)],
    )
    [plan] = plan_entry(SCHEME, "investment_plan", ENTERED, CAL, {}, meetings={"council": body})
    reminders = sorted(s.fire_at for s in plan.steps if s.step.startswith("reminder"))
    assert reminders == [start_of("2026-03-19"), start_of("2026-03-23"), start_of("2026-03-25")]


def test_a_meeting_on_the_preparation_deadline_itself_decides_it() -> None:
    body = Meetings(title={"lv": "Dome", "en": "Council"}, dates=[dt.date(2026, 3, 3)])
    [plan] = plan_entry(SCHEME, "investment_plan", ENTERED, CAL, {}, meetings={"council": body})
    assert plan.due_at == end_of("2026-03-03")


def test_the_cofinancing_stage_waits_for_the_finance_committee() -> None:
    [plan] = plan_entry(SCHEME, "cofinancing", ENTERED, CAL, {}, meetings=ORG.meetings)
    assert plan.due_at == end_of("2026-03-19")


def test_a_stage_past_the_last_listed_meeting_keeps_its_plain_deadline() -> None:
    late = dt.datetime(2027, 12, 20, 10, 0, tzinfo=dt.UTC)
    plain = plan_entry(SCHEME, "investment_plan", late, CAL, {})
    assert plan_entry(SCHEME, "investment_plan", late, CAL, {}, meetings=ORG.meetings) == plain
    assert plain[0].due_at > end_of("2027-12-30")


def test_meeting_days_are_listed_once() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        Meetings(title={"lv": "Dome"}, dates=[dt.date(2026, 3, 26), dt.date(2026, 3, 26)])


def test_a_stage_decided_at_a_meeting_needs_a_deadline() -> None:
    source = shipped_text("unified.yaml").replace(
        "    deadline: {working_days: 20}\n    # Due at the first council",
        "    # Due at the first council",
    )
    with pytest.raises(Exception, match="preparation deadline"):
        load_scheme_text(source, "unified.yaml")


# -- loading warns -------------------------------------------------------------------------


def test_the_shipped_files_list_every_body_the_scheme_names() -> None:
    assert meeting_warnings(ORG, SCHEME) == []


def test_a_body_without_listed_meetings_is_a_warning() -> None:
    bare = ORG.model_copy(update={"meetings": {}})
    warnings = meeting_warnings(bare, SCHEME)
    assert len(warnings) == 2
    assert any("'investment_plan'" in w and "'council'" in w for w in warnings)


def test_loading_an_organisation_without_meetings_warns_and_loads(engine: Engine) -> None:
    source = shipped_text("ogre.yaml").replace("meetings:\n  council:", "unused:\n  council:")
    source = source[: source.index("unused:")] + source[source.index("# Funding instruments") :]
    now = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
    loaded = load_org(engine, source, "ogre.yaml", actor=COORDINATOR, now=now)
    assert loaded.created
    assert any("'finance_committee'" in w for w in loaded.warnings)


# -- the engine (SQLite and PostgreSQL) -------------------------------------------------------


def stage_clock(engine: Engine, code: str) -> tuple[Any, dict[str, Any]]:
    """The project's open stage deadline and its timers by step."""
    with engine.db.read() as conn:
        row = conn.execute(
            select(deadlines)
            .join(projects, projects.c.id == deadlines.c.project_id)
            .where(projects.c.code == code, deadlines.c.kind == "stage")
            .where(deadlines.c.closed_at.is_(None))
        ).one()
        steps = conn.execute(select(timers).where(timers.c.deadline_id == row.id))
        return row, {s.step: s for s in steps}


def utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_entering_the_investment_plan_is_due_at_the_next_council_meeting(engine: Engine) -> None:
    code = engine.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=ENTERED).code
    engine.force(code, "investment_plan", reason="test", actor=COORDINATOR, now=ENTERED)
    row, steps = stage_clock(engine, code)
    assert utc(row.due_at) == end_of("2026-03-26")
    assert utc(steps["reminder0"].fire_at) == start_of("2026-03-19")


def test_entering_past_the_last_meeting_keeps_the_plain_deadline(engine: Engine) -> None:
    late = dt.datetime(2027, 12, 20, 10, 0, tzinfo=dt.UTC)
    code = engine.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=late).code
    engine.force(code, "investment_plan", reason="test", actor=COORDINATOR, now=late)
    row, _ = stage_clock(engine, code)
    assert utc(row.due_at) == plan_entry(SCHEME, "investment_plan", late, CAL, {})[0].due_at


# -- shema calendar show ----------------------------------------------------------------------


def shema(url: str, *args: str) -> str:
    env = {"SHEMA_DB": url, "SHEMA_USER": None, "SHEMA_LANG": None, "SHEMA_DEBUG": None}
    result = CliRunner().invoke(cli.main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_calendar_show_lists_the_years_meetings(engine: Engine) -> None:
    shown = json.loads(shema(engine.db.url, "calendar", "show", "--year", "2026", "--json"))
    meetings = {(e["date"], e["name"]): e for e in shown if e["kind"] == "meeting"}
    assert meetings[("2026-03-26", "Domes sēde")]["cutoff"] == "2026-03-19"
    assert ("2026-03-19", "Finanšu komitejas sēde") in meetings
    assert len(meetings) == 24
    assert any(e["date"] == "2026-01-01" and e["kind"] == "day_off" for e in shown)


def test_calendar_show_names_the_meetings_in_the_table(engine: Engine) -> None:
    out = shema(engine.db.url, "--lang", "en", "calendar", "show", "--year", "2027")
    line = next(x for x in out.splitlines() if x.startswith("2027-03-25"))
    assert "Council meeting" in line and "meeting" in line


def test_calendar_show_without_a_database_lists_no_meetings(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"
    shown = json.loads(shema(url, "calendar", "show", "--year", "2026", "--json"))
    assert not [e for e in shown if e["kind"] == "meeting"]
