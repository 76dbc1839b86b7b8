"""Editing a project's details (engine/details.py, `shema project edit`): the changed
columns and one chained `details_changed` event listing each old → new; refusals
(nothing changed, bad values, wrong people, a pending handoff, a stale version) write
nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0, copy_sqlite

import cli
from engine.audit import verify
from engine.details import COLUMNS, edit_details, people_who_see, project_dates
from engine.service import Engine
from storage.database import Database
from workflow.errors import Conflict, NotAllowed, NotVisible, ShemaError, UsageError

SPECIALIST = "liga.ozolina"  # parish_specialist in krapes_pagasts: works on the idea stage
OTHER_SPECIALIST = "zane.roze"  # parish_specialist in suntazu_pagasts
MANAGER = "janis.ozols"  # project_manager, central: sees the project, not on the idea stage
NOW = T0 + dt.timedelta(hours=1)


def _project(engine: Engine) -> str:
    return engine.create_project(
        title="Krapes tautas nama jumts", unit="krapes_pagasts", actor=SPECIALIST, now=T0
    ).code


def _state(engine: Engine, code: str) -> tuple[Any, ...]:
    p = engine.project(code, actor=COORDINATOR)
    history = engine.history(code, actor=COORDINATOR)
    return (
        p.version,
        p.title,
        p.budget_amount,
        p.budget_currency,
        p.funding_instrument,
        p.partners,
        p.dates,
        len(history),
    )


def _proposed_step(said: Any, ev: Any, data: dict[str, Any], _: Any) -> None:
    """The replay step `details_changed` needs in engine/audit/replay.py: each changed
    column takes its new value."""
    changes = data.get("changes")
    if isinstance(changes, dict):
        for name, change in changes.items():
            if name in COLUMNS and isinstance(change, list) and len(change) == 2:
                said.set(name, change[1], ev.seq)


# -- the engine -----------------------------------------------------------------------------


def test_an_edit_writes_the_columns_and_one_event_listing_old_and_new(
    sqlite_engine: Engine,
) -> None:
    code = _project(sqlite_engine)
    changes = {
        "title": "  Krapes tautas nama jumta atjaunošana ",
        "budget": "125 000,50",
        "funding_instrument": "erdf",
        "partners": ["Ogres novada pašvaldība", " "],
        "dates": {"call_deadline": "2026-03-31"},
    }

    out = edit_details(sqlite_engine, code, changes, actor=SPECIALIST, now=NOW, expect_version=1)

    assert (out.kind, out.version) == ("details_changed", 2)
    p = sqlite_engine.project(code, actor=SPECIALIST)
    assert p.title == "Krapes tautas nama jumta atjaunošana"
    assert p.budget_amount == Decimal("125000.50")
    assert (p.funding_instrument, p.partners) == ("erdf", ["Ogres novada pašvaldība"])
    assert p.dates == {"call_deadline": "2026-03-31"}
    event = sqlite_engine.history(code, actor=SPECIALIST)[-1]
    assert event.kind == "details_changed" and event.actor == SPECIALIST
    assert event.data["changes"] == {
        "title": ["Krapes tautas nama jumts", "Krapes tautas nama jumta atjaunošana"],
        "budget_amount": [None, "125000.50"],
        "funding_instrument": [None, "erdf"],
        "partners": [[], ["Ogres novada pašvaldība"]],
        "dates": [{}, {"call_deadline": "2026-03-31"}],
    }


def test_dates_merge_and_an_empty_one_is_removed(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)
    both = {"call_deadline": dt.date(2026, 3, 31), "implementation_end": "2027-12-31"}
    edit_details(sqlite_engine, code, {"dates": both}, actor=SPECIALIST, now=NOW)

    out = edit_details(
        sqlite_engine, code, {"dates": {"call_deadline": ""}}, actor=SPECIALIST, now=NOW
    )

    assert sqlite_engine.project(code, actor=SPECIALIST).dates == {
        "implementation_end": "2027-12-31"
    }
    assert list(out.data["changes"]) == ["dates"]
    titles = {
        d.name: d.title for d in project_dates(sqlite_engine, code, actor=SPECIALIST, lang="lv")
    }
    assert titles["call_deadline"] == "Projektu iesniegumu pieņemšanas beigu datums"


def test_a_coordinator_may_edit_and_the_budget_may_be_cleared(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)
    edit_details(sqlite_engine, code, {"budget": Decimal("10")}, actor=SPECIALIST, now=NOW)

    out = edit_details(
        sqlite_engine, code, {"budget": "", "currency": "LVL"}, actor=COORDINATOR, now=NOW
    )

    assert out.data["changes"] == {
        "budget_amount": ["10.00", None],
        "budget_currency": ["EUR", "LVL"],
    }


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": "Krapes tautas nama jumts"}, "details.unchanged"),
        ({}, "details.nothing_to_change"),
        ({"colour": "red"}, "details.unknown_field"),
        ({"title": "   "}, "project.no_title"),
        ({"title": "x" * 301}, "limit.length"),
        ({"budget": "-1"}, "domain.money"),
        ({"budget": "1.005"}, "domain.money"),
        ({"budget": "daudz"}, "domain.money"),
        ({"currency": "USD"}, "project.currency"),
        ({"funding_instrument": "no_such_fund"}, "project.unknown_instrument"),
        ({"dates": {"opening_day": "2026-05-01"}}, "project.unknown_date"),
        ({"dates": {"call_deadline": "31.03.2026"}}, "details.bad_date"),
        ({"dates": {"call_deadline": "1900-01-01"}}, "domain.date"),
        ({"partners": ["x" * 201]}, "limit.length"),
    ],
)
def test_a_refused_edit_names_its_reason_and_changes_nothing(
    sqlite_engine: Engine, changes: dict[str, Any], code: str
) -> None:
    project = _project(sqlite_engine)
    before = _state(sqlite_engine, project)

    with pytest.raises(UsageError) as refused:
        edit_details(sqlite_engine, project, changes, actor=SPECIALIST, now=NOW)

    assert refused.value.code == code
    assert _state(sqlite_engine, project) == before


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        (MANAGER, NotAllowed, "project.not_stage_worker"),
        (OTHER_SPECIALIST, NotVisible, "project.not_visible"),
    ],
)
def test_only_those_who_work_on_the_stage_may_edit(
    sqlite_engine: Engine, who: str, error: type[ShemaError], code: str
) -> None:
    project = _project(sqlite_engine)
    before = _state(sqlite_engine, project)

    with pytest.raises(error) as refused:
        edit_details(sqlite_engine, project, {"title": "Cits"}, actor=who, now=NOW)

    assert refused.value.code == code
    assert _state(sqlite_engine, project) == before


def test_a_stale_version_is_refused_and_changes_nothing(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)
    sqlite_engine.comment(code, "Sākam", actor=SPECIALIST, now=NOW)
    before = _state(sqlite_engine, code)

    with pytest.raises(Conflict) as refused:
        edit_details(
            sqlite_engine, code, {"title": "Cits"}, actor=SPECIALIST, now=NOW, expect_version=1
        )

    assert refused.value.code == "project.stale"
    assert _state(sqlite_engine, code) == before


def test_details_may_be_edited_on_hold_but_not_during_a_handoff(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)
    sqlite_engine.hold(code, reason="Gaida VARAM", actor=SPECIALIST, now=NOW)
    edit_details(sqlite_engine, code, {"title": "Apturēts, bet labots"}, actor=SPECIALIST, now=NOW)
    sqlite_engine.resume(code, actor=SPECIALIST, now=NOW)
    for item in ("problem_statement", "estimated_cost"):
        sqlite_engine.check(code, item, actor=SPECIALIST, now=NOW)
    sqlite_engine.advance(code, "submit_idea", actor=SPECIALIST, now=NOW)  # a handoff
    before = _state(sqlite_engine, code)

    with pytest.raises(NotAllowed) as refused:
        edit_details(sqlite_engine, code, {"title": "Cits"}, actor=COORDINATOR, now=NOW)

    assert refused.value.code == "project.handoff_pending"
    assert _state(sqlite_engine, code) == before


def test_the_people_offered_as_owners_are_those_who_see_the_unit(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)

    ids = {p.id for p in people_who_see(sqlite_engine, code, actor=SPECIALIST)}

    assert {SPECIALIST, MANAGER, COORDINATOR} <= ids
    assert OTHER_SPECIALIST not in ids


def test_the_edit_keeps_the_hash_chain_whole(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)
    edit_details(sqlite_engine, code, {"title": "Cits", "budget": "5"}, actor=SPECIALIST, now=NOW)

    report = verify(sqlite_engine.db)

    # No break of the chain; what the replay does not know yet is the edited columns.
    assert all(b.get("field") in COLUMNS for b in report.broken), report.broken


def test_with_the_proposed_replay_step_audit_verify_accepts_the_edit(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        import_module("engine.audit.replay")._STEPS, "details_changed", _proposed_step
    )
    code = _project(sqlite_engine)
    changes = {
        "title": "Cits",
        "budget": "5",
        "partners": ["A"],
        "dates": {"call_deadline": "2026-03-31"},
    }
    edit_details(sqlite_engine, code, changes, actor=SPECIALIST, now=NOW)

    assert verify(sqlite_engine.db).broken == []


def test_audit_verify_accepts_an_edit(sqlite_engine: Engine) -> None:
    code = _project(sqlite_engine)
    edit_details(sqlite_engine, code, {"title": "Cits"}, actor=SPECIALIST, now=NOW)

    assert verify(sqlite_engine.db).broken == []


# -- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def url(tmp_path: Path, prepared_sqlite: Path) -> str:
    copy_sqlite(prepared_sqlite, tmp_path / "cli.db")
    return f"sqlite:///{tmp_path / 'cli.db'}"


def shema(url: str, *args: str, who: str = SPECIALIST) -> Result:
    env = {"SHEMA_DB": url, "SHEMA_USER": None, "SHEMA_LANG": None, "SHEMA_DEBUG": None}
    result = CliRunner().invoke(cli.main, ["--as", who, *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _cli_project(url: str) -> str:
    result = shema(url, "project", "new", "--title", "Jumts", "--unit", "krapes_pagasts", "--json")
    code: str = json.loads(result.stdout)["code"]
    return code


def test_project_edit_prints_what_changed(url: str) -> None:
    code = _cli_project(url)

    result = shema(
        url,
        "project",
        "edit",
        code,
        "--title",
        "Jauns jumts",
        "--budget",
        "1200.5",
        "--partner",
        "Ogres novads",
        "--partner",
        "Biedrība",
        "--date",
        "call_deadline=2026-03-31",
        "--instrument",
        "erdf",
        "--expect-version",
        "1",
    )

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{code}: details changed; version 2"
    assert "  title: 'Jumts' → 'Jauns jumts'" in lines
    assert "  budget_amount: - → '1200.50'" in lines
    assert '  partners: [] → ["Ogres novads", "Biedrība"]' in lines
    shown = json.loads(shema(url, "project", "show", code, "--json").stdout)
    assert shown["partners"] == ["Ogres novads", "Biedrība"]
    assert shown["dates"] == {"call_deadline": "2026-03-31"}


def test_project_edit_json_and_no_partners(url: str) -> None:
    code = _cli_project(url)
    shema(url, "project", "edit", code, "--partner", "A")

    result = shema(url, "project", "edit", code, "--no-partners", "--json")

    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["kind"], out["version"], out["changes"]) == (
        "details_changed",
        3,
        {"partners": [["A"], []]},
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--title", "Jumts"], "already are like that; nothing changed"),
        ([], "say what to change"),
        (["--date", "call_deadline"], "expected NAME=YYYY-MM-DD"),
        (["--date", "opening=2026-01-01"], "has no project date 'opening'"),
        (["--budget", "-3"], "cannot be negative"),
        (["--title", "Cits", "--expect-version", "7"], "changed since you looked"),
    ],
)
def test_project_edit_refusals_change_nothing(url: str, args: list[str], said: str) -> None:
    code = _cli_project(url)
    before = shema(url, "project", "history", code, "--json").stdout

    result = shema(url, "project", "edit", code, *args)

    assert result.exit_code in (1, 2) and said in result.stderr, result.stderr
    assert shema(url, "project", "history", code, "--json").stdout == before


def test_project_edit_by_someone_off_the_stage_is_refused(url: str) -> None:
    code = _cli_project(url)

    result = shema(url, "project", "edit", code, "--title", "Cits", who=MANAGER)

    assert result.exit_code == 1 and "may not edit the project details" in result.stderr


def test_audit_verify_still_finds_the_chain_whole_after_a_cli_edit(url: str) -> None:
    code = _cli_project(url)
    shema(url, "project", "edit", code, "--title", "Cits")

    report = verify(Database(url))

    assert all(b.get("field") in COLUMNS for b in report.broken), report.broken
