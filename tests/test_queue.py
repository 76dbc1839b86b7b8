"""What asks something of a person ("Mani darbi", `project list --mine`) against what
the engine itself accepts from them, for every person and every demo project; and the
rule that a project on hold can only be resumed or commented on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import COORDINATOR

from cli import main
from engine import lifecycle
from engine.demo import run_demo
from engine.service import Engine
from storage import projects as stored
from storage.database import Database
from workflow.errors import NotAllowed, NotVisible, ShemaError

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
# Refusals a person can clear themselves (tick the list, enter the data, write a comment).
COMPLETABLE = {"advance.unticked", "advance.gates", "advance.comment_required"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    where = tmp_path_factory.mktemp("queue-demo")
    run_demo(where, now=NOW, echo=lambda _: None)
    return Engine(Database(f"sqlite:///{where / 'shema.db'}")), where


def _accepted(conn: object, ctx: object, decide: lifecycle.Decide) -> str | None:
    """None when the engine accepts `decide`, else the refusal's code."""
    try:
        decide(conn, ctx)  # type: ignore[arg-type]
    except ShemaError as exc:
        return exc.code or "refused"
    return None


def engine_answer(eng: Engine, code: str, person: str) -> set[str]:
    """What the engine would let `person` do on `code` now, found by trying each verb's
    own decision (nothing is written)."""
    with eng.db.read() as conn:
        row = eng.work.load(conn, code)
        try:
            ctx = eng.work.context(conn, row, person)
        except NotVisible:
            return set()
        stage = ctx.scheme.scheme.stages[ctx.stage]
        works_on = row.responsible_id == person or bool(
            ctx.roles & {stage.owner, *stage.participants}
        )
        can: set[str] = set()
        if row.id in stored.escalated_to(conn, person):
            can.add("escalation")
        if _accepted(conn, ctx, lifecycle.acknowledge(NOW)) is None:
            can.add("acknowledge")
        if works_on and _accepted(conn, ctx, lifecycle.resume(NOW)) is None:
            can.add("resume")
        for action in ctx.scheme.actions_from[ctx.stage]:
            refused = _accepted(conn, ctx, lifecycle.advance(action, NOW, "c", ()))
            if refused is None or refused in COMPLETABLE:
                can.add("decide" if works_on else "may_decide")
        ticked = stored.checked(conn, row.id)
        for item in stage.checklist:
            tickable = item not in ticked and works_on
            if tickable and _accepted(conn, ctx, lifecycle.check(item, NOW, True)) is None:
                can.add("checklist")
        return can


def people(eng: Engine) -> list[str]:
    with eng.db.read() as conn:
        return sorted(eng.org_index(conn).org.people)


def codes(eng: Engine) -> list[str]:
    return [p.code for p in eng.list_projects(actor=COORDINATOR)]


def test_everyones_queue_is_exactly_what_the_engine_lets_them_do(
    demo: tuple[Engine, Path],
) -> None:
    eng, _ = demo
    everyone, projects = people(eng), codes(eng)
    asked_somebody = set()
    for person in everyone:
        queue = {
            p.code: {a.kind for a in p.asks}
            for p in eng.list_projects(actor=person, mine=True, now=NOW)
        }
        expected = {c: k for c in projects if (k := engine_answer(eng, c, person))}
        assert queue == expected, person
        asked_somebody |= queue.keys()
    # The demo is a real test of the rule: most of its running projects ask something.
    assert len(asked_somebody) >= len(projects) // 2


def test_the_development_head_finds_the_investment_plan_decisions(
    demo: tuple[Engine, Path],
) -> None:
    eng, _ = demo
    mine = eng.list_projects(actor="dace.liepina", mine=True, now=NOW)
    decisions = [a for p in mine for a in p.asks if a.kind == "decide"]
    assert decisions, "the development head decides on the investment plan"
    assert all(a.title for a in decisions)  # each says what is to be decided


def test_the_queue_is_most_urgent_first(demo: tuple[Engine, Path]) -> None:
    eng, _ = demo
    for person in people(eng):
        rows = eng.list_projects(actor=person, mine=True, now=NOW)
        keys = [(0 if p.overdue else 1 if p.days_left is not None else 2) for p in rows]
        assert keys == sorted(keys), person
        timed = [p.days_left for p in rows if p.days_left is not None and not p.overdue]
        assert timed == sorted(timed), person


def test_the_cli_lists_the_same_queue(demo: tuple[Engine, Path]) -> None:
    eng, where = demo
    url = f"sqlite:///{where / 'shema.db'}"
    for person in ("janis.ozols", "dace.liepina", "liga.ozolina", COORDINATOR):
        result = CliRunner().invoke(
            main, ["--db", url, "--as", person, "project", "list", "--mine", "--json"]
        )
        assert result.exit_code == 0, result.output
        listed = [p["code"] for p in json.loads(result.stdout)]
        # The CLI counts working days from the real clock; the set is the same.
        engine_now = dt.datetime.now(dt.UTC)
        expected = [p.code for p in eng.list_projects(actor=person, mine=True, now=engine_now)]
        assert sorted(listed) == sorted(expected), person


def test_on_hold_only_resuming_and_comments_are_possible(sqlite_engine: Engine) -> None:
    eng, who = sqlite_engine, "liga.ozolina"
    code = eng.create_project(title="Tilts", unit="krapes_pagasts", actor=who, now=NOW).code
    eng.hold(code, reason="Gaida CFLA", actor=who, now=NOW)
    before = eng.project(code, actor=who)
    item = before.checklist[0].item if before.checklist else ""
    action = eng.actions(code, actor=who)[0]
    assert action.why[0].kind == "on_hold"  # the page says why it cannot be taken
    attempts = {
        "check": lambda: eng.check(code, item, actor=who, now=NOW),
        "assign": lambda: eng.assign(code, who, actor=who, now=NOW),
        "advance": lambda: eng.advance(code, action.action, actor=who, now=NOW, comment="c"),
    }
    for verb, attempt in attempts.items():
        with pytest.raises(NotAllowed) as refused:
            attempt()
        assert refused.value.code in {"project.on_hold", "advance.on_hold"}, verb
    assert eng.project(code, actor=who) == before  # nothing changed
    can = eng.controls(code, actor=who, now=NOW)
    assert "resume" in can and not {"check", "assign", "hold"} & can.allowed
    eng.comment(code, "Zvanīju uz CFLA", actor=who, now=NOW)
    eng.resume(code, actor=who, now=NOW)
    assert "check" in eng.controls(code, actor=who, now=NOW)


def test_search_ignores_case_and_diacritics_and_sorting_orders(demo: tuple[Engine, Path]) -> None:
    eng, _ = demo
    found = eng.list_projects(actor=COORDINATOR, search="IKSKILES gajeju", now=NOW)
    assert [p.title for p in found] == ["Ikšķiles gājēju ietve gar Rīgas ielu"]
    assert eng.list_projects(actor=COORDINATOR, search="OGR-2026-000", now=NOW)
    by_deadline = eng.list_projects(actor=COORDINATOR, sort="deadline", now=NOW)
    dues = [p.due_at for p in by_deadline if p.due_at is not None]
    assert dues == sorted(dues) and by_deadline[: len(dues)] == [
        p for p in by_deadline if p.due_at is not None
    ]
    by_unit = [p.unit_name for p in eng.list_projects(actor=COORDINATOR, sort="unit", now=NOW)]
    assert by_unit == sorted(by_unit, key=str.casefold)
    with pytest.raises(ShemaError) as refused:
        eng.list_projects(actor=COORDINATOR, sort="colour")
    assert refused.value.code == "list.unknown_sort"
