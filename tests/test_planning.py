"""Planning tools on a project: the risk register, the cost-benefit analysis, and the gates
that make leaving `application` depend on them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import COORDINATOR, T0, shipped_text
from sqlalchemy import func, select

import cli
from engine import audit
from engine.planning import add_risk, list_risks, set_cba, show_cba, update_risk
from engine.service import Engine
from storage.tables import history, projects, risks
from workflow.cba import YearFlow
from workflow.errors import Conflict, NotAllowed, NotFound, SchemeError, UsageError
from workflow.loader import load_scheme_text

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
JANIS = "janis.ozols"  # project_manager
DACE = "dace.liepina"  # development_head
KRISTAPS = "kristaps.lacis"  # lawyer
GUNTA = "gunta.eglite"  # procurement_specialist: central, but not in `application`
ZANE = "zane.roze"  # parish_specialist, Suntažu pagasts: cannot see Krapes projects
TEXTBOOK = [
    YearFlow(2027, Decimal(1000), Decimal(0)),
    YearFlow(2028, Decimal(0), Decimal(300)),
    YearFlow(2029, Decimal(0), Decimal(400)),
    YearFlow(2030, Decimal(0), Decimal(500)),
]


class Clock:
    """Explicit `now` values an hour apart: the tests never read the clock."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self._next = start

    def __call__(self) -> dt.datetime:
        now, self._next = self._next, self._next + dt.timedelta(hours=1)
        return now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def in_application(engine: Engine, clock: Clock) -> str:
    """A Krapes project walked into `application` with every checklist item ticked."""
    code = engine.create_project(
        title="Krapes tautas nama jumts", unit="krapes_pagasts", actor=LIGA, now=clock()
    ).code
    steps: list[tuple[str, str]] = [
        (LIGA, "problem_statement"),
        (LIGA, "estimated_cost"),
        (LIGA, "!submit_idea"),
        (JANIS, "?ack"),
        (JANIS, "programme_fit"),
        (JANIS, "funding_instrument"),
        (JANIS, "!propose_for_plan"),
        (DACE, "plan_entry"),
        (DACE, "plan_council_decision"),
        (DACE, "!include_in_plan"),
        (JANIS, "budget"),
        (JANIS, "risk_assessment"),
        (JANIS, "cost_benefit_analysis"),
        (KRISTAPS, "legal_review"),
        (LIGA, "parish_confirmation"),
    ]
    for who, step in steps:
        if step.startswith("!"):
            engine.advance(code, step[1:], actor=who, now=clock())
        elif step == "?ack":
            engine.acknowledge(code, actor=who, now=clock())
        else:
            engine.check(code, step, actor=who, now=clock())
    assert engine.project(code, actor=COORDINATOR).stage == "application"
    return code


@pytest.fixture
def code(engine: Engine, clock: Clock) -> str:
    return in_application(engine, clock)


def snapshot(engine: Engine, code: str) -> tuple[Any, ...]:
    with engine.db.read() as conn:
        row = conn.execute(select(projects).where(projects.c.code == code)).one()
        events = conn.execute(
            select(func.count()).select_from(history).where(history.c.project_id == row.id)
        ).scalar_one()
    return (row.stage, row.version, row.head_seq, row.head_hash, events)


# -- gates ------------------------------------------------------------------------------------


def test_leaving_application_without_a_risk_register_is_refused_with_a_clear_message(
    engine: Engine, code: str, clock: Clock
) -> None:
    before = snapshot(engine, code)

    with pytest.raises(NotAllowed) as refused:
        engine.advance(code, "request_cofinancing", actor=JANIS, now=clock())

    message = str(refused.value)
    assert message.startswith(f"{JANIS} may not take 'request_cofinancing' on {code}: ")
    assert "the risk register has no assessed risk" in message
    assert "no cost-benefit analysis has been computed" in message
    assert snapshot(engine, code) == before


def test_an_unassessed_risk_does_not_open_the_gate(engine: Engine, code: str, clock: Clock) -> None:
    add_risk(engine, code, title="Izmaksas pārsniedz tāmi", actor=JANIS, now=clock())
    set_cba(engine, code, TEXTBOOK, actor=JANIS, now=clock())
    before = snapshot(engine, code)

    with pytest.raises(NotAllowed, match="the risk register has no assessed risk") as refused:
        engine.advance(code, "request_cofinancing", actor=JANIS, now=clock())

    assert "cost-benefit" not in str(refused.value)
    assert snapshot(engine, code) == before


def test_a_cba_of_zeros_is_not_a_computed_analysis(engine: Engine, code: str, clock: Clock) -> None:
    add_risk(engine, code, title="Risks", likelihood=2, impact=2, actor=JANIS, now=clock())
    zeros = [YearFlow(2027, Decimal(0), Decimal(0))]
    set_cba(engine, code, zeros, actor=JANIS, now=clock())

    with pytest.raises(NotAllowed, match="no cost-benefit analysis has been computed"):
        engine.advance(code, "request_cofinancing", actor=JANIS, now=clock())


def test_with_an_assessed_risk_and_a_cba_the_project_leaves_application(
    engine: Engine, code: str, clock: Clock
) -> None:
    add_risk(
        engine, code, title="Izmaksas pārsniedz tāmi", likelihood=3, impact=4,
        actor=JANIS, now=clock(),
    )  # fmt: skip
    set_cba(engine, code, TEXTBOOK, actor=JANIS, now=clock())

    out = engine.advance(code, "request_cofinancing", actor=JANIS, now=clock())

    assert out.stage == "cofinancing"
    assert audit.verify(engine.db).ok


def test_actions_list_the_unmet_gates_as_what_blocks(
    engine: Engine, code: str, clock: Clock
) -> None:
    def blocked() -> list[str]:
        found = {a.action: a for a in engine.actions(code, actor=JANIS)}
        return found["request_cofinancing"].blocked_by

    assert len(blocked()) == 2
    add_risk(engine, code, title="R", likelihood=1, impact=1, actor=JANIS, now=clock())
    assert blocked() == ["no cost-benefit analysis has been computed"]
    set_cba(engine, code, TEXTBOOK, actor=JANIS, now=clock())
    assert blocked() == []


def test_the_shipped_scheme_gates_leaving_application_forward_only() -> None:
    scheme = load_scheme_text(shipped_text("unified.yaml"), "unified.yaml")

    gated = {name: a.gates for name, a in scheme.actions.items() if a.gates}
    assert gated == {"request_cofinancing": ["risk_register", "cost_benefit"]}


@pytest.mark.parametrize(
    ("gates", "message"),
    [
        ("[risk_register, risk_register]", "gate risk_register is listed more than once"),
        ("[risks]", "input should be 'risk_register' or 'cost_benefit'"),
    ],
)
def test_a_scheme_with_a_bad_gate_is_refused_with_its_place(gates: str, message: str) -> None:
    text = (
        "scheme: x\nroles: {a: {level: parish}}\nstages:\n  s: {owner: a}\n"
        f"  e: {{terminal: true}}\nactions:\n  go: {{from: s, to: e, by: [a], gates: {gates}}}\n"
    )
    with pytest.raises(SchemeError) as refused:
        load_scheme_text(text, "x.yaml")

    assert "x.yaml:7:" in str(refused.value)
    assert "actions.go.gates" in str(refused.value)
    assert message in str(refused.value)


# -- risks ------------------------------------------------------------------------------------


def test_adding_a_risk_is_a_project_event_that_bumps_the_version(
    engine: Engine, code: str, clock: Clock
) -> None:
    version = engine.project(code, actor=JANIS).version

    out = add_risk(
        engine, code, title="Būvdarbi ziemā", likelihood=2, impact=3, owner=LIGA,
        mitigation="Darbus plānot vasarā", actor=JANIS, now=clock(),
    )  # fmt: skip

    assert (out.kind, out.version, out.data["risk"], out.data["score"]) == (
        "risk_added", version + 1, 1, 6)  # fmt: skip
    last = engine.history(code, actor=JANIS)[-1]
    assert (last.kind, last.actor, last.data["title"]) == ("risk_added", JANIS, "Būvdarbi ziemā")
    assert audit.verify(engine.db).ok


def test_the_register_scores_risks_and_lists_the_worst_first(
    engine: Engine, code: str, clock: Clock
) -> None:
    add_risk(engine, code, title="Mazs", likelihood=1, impact=2, actor=JANIS, now=clock())
    add_risk(engine, code, title="Nenovērtēts", actor=JANIS, now=clock())
    add_risk(engine, code, title="Liels", likelihood=5, impact=5, actor=JANIS, now=clock())

    listed = list_risks(engine, code, actor=LIGA)

    assert [(r.ref, r.score, r.level) for r in listed] == [
        ("R3", 25, "critical"),
        ("R1", 2, "low"),
        ("R2", None, None),
    ]


def test_updating_a_risk_records_what_changed(engine: Engine, code: str, clock: Clock) -> None:
    add_risk(engine, code, title="Partneris izstājas", actor=JANIS, now=clock())

    out = update_risk(
        engine, code, 1, {"likelihood": 2, "impact": 5, "status": "mitigating"},
        actor=JANIS, now=clock(),
    )  # fmt: skip

    assert out.kind == "risk_updated"
    assert out.data["changes"] == {
        "likelihood": [None, 2], "impact": [None, 5], "status": ["open", "mitigating"]}  # fmt: skip
    (risk,) = list_risks(engine, code, actor=JANIS)
    assert (risk.score, risk.status, risk.updated_by) == (10, "mitigating", JANIS)


def test_updating_a_missing_risk_is_not_found_and_changes_nothing(
    engine: Engine, code: str, clock: Clock
) -> None:
    before = snapshot(engine, code)

    with pytest.raises(NotFound, match=f"{code} has no risk R7"):
        update_risk(engine, code, 7, {"impact": 2}, actor=JANIS, now=clock())

    assert snapshot(engine, code) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"likelihood": 6}, "likelihood: input should be less than or equal to 5"),
        ({"impact": 0}, "impact: input should be greater than or equal to 1"),
        ({"title": "  "}, "title: string should have at least 1 character"),
        ({"status": "gone"}, "status: input should be"),
    ],
)
def test_invalid_risks_are_usage_errors(
    engine: Engine, code: str, clock: Clock, fields: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"title": "Risks", **fields}
    with pytest.raises(UsageError, match=message):
        add_risk(engine, code, actor=JANIS, now=clock(), **values)


def test_only_people_working_on_the_stage_may_add_risks(
    engine: Engine, code: str, clock: Clock
) -> None:
    before = snapshot(engine, code)

    with pytest.raises(NotAllowed, match=f"{GUNTA} may not add a risk on {code}: stage appl"):
        add_risk(engine, code, title="R", actor=GUNTA, now=clock())
    with pytest.raises(NotAllowed, match=f"{ZANE} may not see project {code}"):
        add_risk(engine, code, title="R", actor=ZANE, now=clock())

    assert snapshot(engine, code) == before
    # A participant of the stage may (the parish specialist works on the application).
    assert add_risk(engine, code, title="R", actor=LIGA, now=clock()).kind == "risk_added"


def test_a_risk_owner_must_be_a_person_of_the_organisation(
    engine: Engine, code: str, clock: Clock
) -> None:
    with pytest.raises(NotFound, match="no person 'nobody'"):
        add_risk(engine, code, title="R", owner="nobody", actor=JANIS, now=clock())


def test_a_risk_owner_must_be_someone_who_sees_the_project(
    engine: Engine, code: str, clock: Clock
) -> None:
    before = engine.project(code, actor=JANIS).version
    with pytest.raises(NotAllowed) as refused:  # another parish's specialist
        add_risk(engine, code, title="R", owner="zane.roze", actor=JANIS, now=clock())
    assert refused.value.code == "risk.owner_not_eligible"
    assert engine.project(code, actor=JANIS).version == before


def test_a_stale_version_is_a_conflict(engine: Engine, code: str, clock: Clock) -> None:
    version = engine.project(code, actor=JANIS).version

    with pytest.raises(Conflict, match=f"it is at version {version}, you expected 1"):
        add_risk(engine, code, title="R", actor=JANIS, now=clock(), expect_version=1)
    with engine.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(risks)).scalar_one() == 0


# -- cost-benefit analysis ------------------------------------------------------------------


def test_a_cba_with_textbook_flows_shows_the_textbook_npv_and_irr(
    engine: Engine, code: str, clock: Clock
) -> None:
    out = set_cba(engine, code, TEXTBOOK, discount_rate=Decimal("0.10"), actor=JANIS, now=clock())

    assert out.kind == "cba_set"
    assert out.data["npv"] == "-21.04"
    view = show_cba(engine, code, actor=LIGA)
    assert view is not None
    assert (view.npv, view.irr, view.irr_reason) == (Decimal("-21.04"), Decimal("0.0890"), None)
    assert (view.pv_costs, view.pv_benefits, view.bcr) == (
        Decimal("1000.00"), Decimal("978.96"), Decimal("0.98"))  # fmt: skip
    assert [y.present_value for y in view.years] == [
        Decimal("-1000.00"), Decimal("272.73"), Decimal("330.58"), Decimal("375.66")]  # fmt: skip


def test_a_cba_without_investment_says_why_irr_is_undefined(
    engine: Engine, code: str, clock: Clock
) -> None:
    gains = [YearFlow(2027, Decimal(100), Decimal(500)), YearFlow(2028, Decimal(0), Decimal(50))]
    set_cba(engine, code, gains, actor=JANIS, now=clock())

    view = show_cba(engine, code, actor=JANIS)
    assert view is not None
    assert view.irr is None
    assert view.irr_reason == (
        "IRR is undefined: benefits exceed costs in every year, so NPV is positive at any rate"
    )
    assert view.discount_rate == Decimal("0.04")


def test_setting_a_cba_again_replaces_it(engine: Engine, code: str, clock: Clock) -> None:
    set_cba(engine, code, TEXTBOOK, actor=JANIS, now=clock())
    set_cba(engine, code, TEXTBOOK[:2], discount_rate=Decimal("0.035"), actor=JANIS, now=clock())

    view = show_cba(engine, code, actor=JANIS)
    assert view is not None
    assert [y.year for y in view.years] == [2027, 2028]
    assert view.discount_rate == Decimal("0.035")
    kinds = [e.kind for e in engine.history(code, actor=JANIS)]
    assert kinds[-2:] == ["cba_set", "cba_set"]


def test_a_cba_in_lats_shows_its_npv_in_euro_too(engine: Engine, code: str, clock: Clock) -> None:
    flows = [YearFlow(2012, Decimal(0), Decimal(21828))]
    set_cba(engine, code, flows, currency="LVL", actor=JANIS, now=clock())

    view = show_cba(engine, code, actor=JANIS)
    assert view is not None
    assert (view.npv, view.currency, view.npv_eur) == (
        Decimal("21828.00"), "LVL", Decimal("31058.45"))  # fmt: skip
    assert view.bcr is None


def test_a_project_without_a_cba_shows_none(engine: Engine, code: str) -> None:
    assert show_cba(engine, code, actor=JANIS) is None


@pytest.mark.parametrize(
    ("flows", "rate", "message"),
    [
        ([YearFlow(2027, Decimal("1.005"), Decimal(0))], Decimal("0.04"), "whole cents"),
        ([], Decimal("0.04"), "at least one year"),
        (TEXTBOOK, Decimal("1.5"), "from 0 % to 100 %"),
    ],
)
def test_an_invalid_cba_is_a_usage_error_and_changes_nothing(
    engine: Engine, code: str, clock: Clock, flows: list[YearFlow], rate: Decimal, message: str
) -> None:
    before = snapshot(engine, code)

    with pytest.raises(UsageError, match=message):
        set_cba(engine, code, flows, discount_rate=rate, actor=JANIS, now=clock())

    assert snapshot(engine, code) == before


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


def test_the_cli_refuses_the_gate_with_exit_code_1_and_one_line(shema: Any, code: str) -> None:
    result = shema("project", "advance", code, "request_cofinancing", who=JANIS)

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "the risk register has no assessed risk" in result.stderr


def test_the_cli_takes_risks_and_a_cba_from_a_spreadsheet_file(
    shema: Any, code: str, tmp_path: Path
) -> None:
    sheet = tmp_path / "cba.csv"
    sheet.write_text(
        "\ufeffgads;izmaksas;ieguvumi\n2027;1000,00;0\n2028;0;300\n2029;0;400\n2030;0;500\n",
        encoding="utf-8",
    )
    added = shema(
        "project", "risk", "add", code, "--title", "Izmaksas pārsniedz tāmi",
        "--likelihood", "3", "--impact", "4", "--owner", JANIS, "--json", who=JANIS,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["kind"] == "risk_added"
    updated = shema("project", "risk", "update", code, "R1", "--status", "mitigating", who=JANIS)
    assert updated.exit_code == 0, updated.stderr
    listed = json.loads(shema("project", "risk", "list", code, "--json", who=LIGA).stdout)
    assert [(r["number"], r["score"], r["status"]) for r in listed] == [(1, 12, "mitigating")]

    cba = shema(
        "project", "cba", "set", code, "--file", str(sheet), "--discount-rate", "10%", who=JANIS
    )
    assert cba.exit_code == 0, cba.stderr
    assert "NPV -21.04 EUR" in cba.stdout and "IRR 8.90 %" in cba.stdout
    shown = json.loads(shema("project", "cba", "show", code, "--json", who=JANIS).stdout)
    assert (shown["npv"], shown["irr"], shown["discount_rate"]) == ("-21.04", "0.0890", "0.1")

    advanced = shema("project", "advance", code, "request_cofinancing", "--json", who=JANIS)
    assert advanced.exit_code == 0, advanced.stderr
    assert json.loads(advanced.stdout)["stage"] == "cofinancing"


def test_the_cli_takes_yearly_flows_as_options(shema: Any, code: str) -> None:
    result = shema(
        "project", "cba", "set", code, "--year", "2027", "1000", "0", "--year", "2028", "0",
        "1100", "--discount-rate", "4", who=JANIS,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr

    shown = shema("project", "cba", "show", code, who=JANIS)
    assert shown.exit_code == 0, shown.stderr
    assert "discount rate 4 %" in shown.stdout
    assert "IRR:             10.00 %" in shown.stdout


def test_the_cli_says_what_is_wrong_with_the_flows(shema: Any, code: str) -> None:
    result = shema("project", "cba", "set", code, "--year", "2027", "daudz", "0", who=JANIS)

    assert result.exit_code == 2
    assert "--year 2027 daudz 0: expected a year, a cost and a benefit" in result.stderr
