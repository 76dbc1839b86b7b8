"""Migrating running projects to another version of their scheme (engine/migration.py):
the dry run says what would change and writes nothing; applying moves every mappable
project in its own transaction, refuses the rest with a reason, keeps `audit verify`
whole and is harmless to repeat; two coordinators at once never migrate a project
twice; and afterwards the project's next advance and its reminders follow the new
version."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from conftest import COORDINATOR, T0, keep_up, shipped_text
from sqlalchemy import MetaData, select
from test_web import Site, csrf_of, signed_in_client, site  # noqa: F401  (the web fixture)

from engine import audit, migration
from engine.loading import load_scheme
from engine.migration import CURRENT, MIGRATE, REFUSED, ProjectPlan
from engine.service import Engine
from storage.database import Database
from workflow.errors import NotAllowed

LIGA, JANIS, ARNIS = "liga.ozolina", "janis.ozols", "arnis.dzenis"
UNIT = "krapes_pagasts"
DAY = dt.timedelta(days=1)
T1 = T0 + 10 * DAY  # when version 2 is loaded and the projects migrated
MAP = {"pre_assessment": "assessment", "investment_plan": "application"}


def _sub(pattern: str, new: str, text: str, count: int = 0) -> str:
    """`text` with `pattern` replaced; the edit must match."""
    out, n = re.subn(pattern, new, text, count=count, flags=re.MULTILINE)
    assert n, pattern
    return out


def version_two() -> str:
    """The shipped scheme edited: pre_assessment renamed to assessment, investment_plan
    removed, the idea stage's checklist with a new required item (and without
    site_ownership) and a longer deadline, monitoring owned centrally (so a handoff into
    it would change sides)."""
    text = shipped_text("unified.yaml")
    text = _sub(r"\bpre_assessment\b", "assessment", text)
    text = _sub(r"^  # 3\n  investment_plan:\n(?:(?:    .*)?\n)+?(?=  # 4)", "", text)
    for action in ("include_in_plan", "return_pre_assessment", "return_investment_plan"):
        text = _sub(rf"^  {action}:\n(?:    .*\n)+", "", text)
    text = _sub(r"^  reject_plan_inclusion:\n(?:    .*\n)+", "", text)
    text = _sub(
        r"(propose_for_plan:\n(?:    .*\n)*?    to: )investment_plan", r"\1application", text
    )
    text = _sub(r"investment_plan, ", "", text)
    text = _sub(r"^      site_ownership: .*\n", "      sketch: {lv: Skice, en: Sketch}\n", text, 1)
    text = _sub(
        r"requires: \[problem_statement, estimated_cost\]",
        "requires: [problem_statement, estimated_cost, sketch]",
        text,
    )
    text = _sub(r"deadline: \{working_days: 5\}", "deadline: {working_days: 10}", text, 1)
    text = _sub(
        r"(monitoring:\n(?:    .*\n)*?    owner: )asset_holder", r"\1development_head", text
    )
    assert "investment_plan" not in text
    return text


def load_two(engine: Engine) -> None:
    loaded = load_scheme(engine, version_two(), "unified.yaml", actor=COORDINATOR, now=T1)
    assert loaded.version == 2


def projects(engine: Engine) -> dict[str, str]:
    """Demo-like projects on version 1, by what each shows."""

    def new(title: str, days: float) -> str:
        return engine.create_project(title=title, unit=UNIT, actor=LIGA, now=T0 + days * DAY).code

    made: dict[str, str] = {}
    idea = made["idea"] = new("Jumta atjaunošana", 1)
    for item in ("problem_statement", "site_ownership"):
        engine.check(idea, item, actor=LIGA, now=T0 + 1.1 * DAY)
    sent = made["sent"] = new("Sporta laukums", 2)
    for item in ("problem_statement", "estimated_cost"):
        engine.check(sent, item, actor=LIGA, now=T0 + 2.1 * DAY)
    engine.advance(sent, "submit_idea", actor=LIGA, now=T0 + 2.2 * DAY)
    plan = made["plan"] = new("Ceļu apgaismojums", 3)
    engine.force(plan, "investment_plan", reason="tests", actor=COORDINATOR, now=T0 + 3 * DAY)
    held = made["held"] = new("Gājēju ietve", 3)
    engine.force(held, "application", reason="tests", actor=COORDINATOR, now=T0 + 3 * DAY)
    engine.acknowledge(held, actor=JANIS, now=T0 + 3.1 * DAY)
    engine.hold(held, reason="Gaida VARAM", actor=JANIS, now=T0 + 4 * DAY)
    watch = made["watch"] = new("Rotaļu laukums", 4)
    engine.force(watch, "closure", reason="tests", actor=COORDINATOR, now=T0 + 4 * DAY)
    engine.force(watch, "monitoring", reason="tests", actor=COORDINATOR, now=T0 + 4.5 * DAY)
    done = made["done"] = new("Atsaukts", 5)
    engine.force(done, "withdrawn", reason="tests", actor=COORDINATOR, now=T0 + 5 * DAY)
    return made


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    meta = MetaData()
    with db.read() as conn:
        meta.reflect(conn)
        return {
            name: sorted((tuple(map(repr, r)) for r in conn.execute(select(table))), key=repr)
            for name, table in meta.tables.items()
        }


def by_code(plans: list[ProjectPlan]) -> dict[str, ProjectPlan]:
    return {p.code: p for p in plans}


def run(engine: Engine, *, write: bool, **kw: Any) -> dict[str, ProjectPlan]:
    how = migration.apply if write else migration.plan
    args: dict[str, Any] = {"from_version": 1, "to_version": 2, "stage_map": MAP}
    return by_code(
        how(
            engine,
            **{**args, **kw, "actor": kw.get("actor", COORDINATOR), "now": kw.get("now", T1)},
        )
    )


def test_the_dry_run_lists_each_effect_and_writes_nothing(engine: Engine) -> None:
    made = projects(engine)
    load_two(engine)
    before = dump(engine.db)

    plans = run(engine, write=False, recompute_deadlines=True)

    assert dump(engine.db) == before
    idea = plans[made["idea"]]
    assert idea.status == MIGRATE and idea.stage_after == "idea"
    assert (idea.ticks_kept, idea.ticks_dropped) == (["problem_statement"], ["site_ownership"])
    assert idea.items_added == ["sketch"]
    [clock] = idea.clocks
    assert clock.mode == "recomputed" and clock.after is not None and clock.before is not None
    assert clock.after > clock.before
    assert {t.step for t in idea.timers} >= {"overdue", "reminder0"}
    sent = plans[made["sent"]]
    assert (sent.stage_before, sent.stage_after) == ("pre_assessment", "assessment")
    assert sent.handoff is not None and sent.handoff.survives
    assert {(c.kind, c.stage, c.mode) for c in sent.clocks} == {
        ("handoff", "assessment", "kept"),
        ("stage", "assessment", "recomputed"),
    }
    plan = plans[made["plan"]]
    assert (plan.stage_after, plan.status) == ("application", MIGRATE)
    assert ("request_cofinancing", "risk_register") in plan.gates_unmet
    assert plans[made["watch"]].refusal == "migration.handoff_sides"
    done = plans[made["done"]]  # finished: left as it is, not refused
    assert (done.status, done.refusal) == (CURRENT, "migration.finished")
    assert plans[made["held"]].status == MIGRATE
    into_end = run(engine, write=False, stage_map={**MAP, "idea": "withdrawn"})
    assert into_end[made["idea"]].refusal == "migration.target_terminal"  # became terminal
    kept = run(engine, write=False)[made["idea"]]
    assert [c.mode for c in kept.clocks] == ["kept"]


def test_a_stage_without_a_mapping_is_refused(engine: Engine) -> None:
    made = projects(engine)
    load_two(engine)

    plans = run(engine, write=False, stage_map={})

    assert plans[made["sent"]].refusal == "migration.unmapped_stage"
    assert plans[made["plan"]].refusal == "migration.unmapped_stage"
    assert plans[made["idea"]].status == MIGRATE


def test_apply_migrates_refuses_verifies_and_repeats_harmlessly(engine: Engine) -> None:
    made = projects(engine)
    load_two(engine)

    plans = run(engine, write=True, recompute_deadlines=True)

    migrated = {c for c, p in plans.items() if p.applied}
    assert migrated == {made[k] for k in ("idea", "sent", "plan", "held")}
    assert (plans[made["watch"]].status, plans[made["done"]].status) == (REFUSED, CURRENT)
    with engine.db.read() as conn:
        for key in ("watch", "done"):
            row = engine.work.load(conn, made[key])
            assert engine.compiled(conn, row.scheme_version_id).version == 1
        sent = engine.work.load(conn, made["sent"])
        assert sent.stage == "assessment" and sent.handoff_since is not None
    for full in (False, True):
        report = audit.verify(engine.db, full=full, now=T1 + DAY)
        assert report.ok, report.broken
    events = [e for e in engine.history(made["idea"], actor=COORDINATOR) if e.kind == "migrated"]
    assert len(events) == 1
    before = dump(engine.db)

    again = run(engine, write=True, recompute_deadlines=True)
    named = run(engine, write=True, from_version=None, codes=list(made.values()))

    assert set(again) == {made["watch"], made["done"]}
    assert (again[made["watch"]].status, again[made["done"]].status) == (REFUSED, CURRENT)
    assert {named[c].status for c in migrated} == {CURRENT}
    assert dump(engine.db) == before
    assert audit.verify(engine.db, full=True).ok


def test_only_coordinators_migrate(engine: Engine) -> None:
    projects(engine)
    load_two(engine)
    with pytest.raises(NotAllowed) as refused:
        run(engine, write=True, actor=JANIS)
    assert refused.value.code == "migration.not_coordinator"


def test_a_migrated_project_advances_and_is_reminded_under_the_new_version(
    engine: Engine,
) -> None:
    made = projects(engine)
    load_two(engine)
    run(engine, write=True, recompute_deadlines=True)
    idea = made["idea"]
    engine.check(idea, "estimated_cost", actor=LIGA, now=T1 + DAY)

    with pytest.raises(NotAllowed) as unticked:
        engine.advance(idea, "submit_idea", actor=LIGA, now=T1 + DAY)
    assert unticked.value.code == "advance.unticked"
    assert unticked.value.params["items"] == ["sketch"]
    # The old 5-working-day deadline (T0+1 → 8 Feb) would be overdue by now; the new
    # one (10 working days) is not, and its reminder comes the day before.
    keep_up(engine, T0 + 14 * DAY)
    assert all(e.kind != "escalated" for e in engine.history(idea, actor=COORDINATOR))
    keep_up(engine, T0 + 25 * DAY)
    escalated = [e for e in engine.history(idea, actor=COORDINATOR) if e.kind == "escalated"]
    assert escalated and escalated[0].at > T0 + 14 * DAY
    engine.check(idea, "sketch", actor=LIGA, now=T0 + 26 * DAY)
    out = engine.advance(idea, "submit_idea", actor=LIGA, now=T0 + 26 * DAY)
    assert out.stage == "assessment"
    assert audit.verify(engine.db, full=True).ok


def test_two_coordinators_at_once_never_migrate_a_project_twice(engine: Engine) -> None:
    made = projects(engine)
    load_two(engine)
    results: dict[str, dict[str, ProjectPlan]] = {}
    codes = list(made.values())  # by code: a project migrated by one is still asked of the other

    def migrate(who: str) -> None:
        other = Engine(Database(engine.db.url))
        results[who] = run(other, write=True, actor=who, from_version=None, codes=codes)
        other.db.dispose()

    people = (COORDINATOR, "maris.berzins")
    threads = [threading.Thread(target=migrate, args=(who,)) for who in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert set(results) == set(people)
    for code in (made[k] for k in ("idea", "sent", "plan", "held")):
        applied = [r[code].applied for r in results.values()]
        assert sorted(applied) == [False, True], code
        assert {r[code].status for r in results.values()} == {MIGRATE, CURRENT}
        kinds = [e.kind for e in engine.history(code, actor=COORDINATOR)]
        assert kinds.count("migrated") == 1
    assert audit.verify(engine.db, full=True).ok


def test_many_projects_migrate_a_batch_at_a_time(engine: Engine) -> None:
    n = 300  # a full batch and a part of one: enough to cross a batch boundary
    assert migration.BATCH < n < 2 * migration.BATCH
    for i in range(n):
        engine.create_project(
            title=f"P{i}", unit=UNIT, actor=LIGA, now=T0 + dt.timedelta(seconds=i)
        )
    load_two(engine)
    seen = 0

    def each(p: ProjectPlan) -> None:
        nonlocal seen
        seen += 1

    done = migration.apply(
        engine, from_version=1, to_version=2, actor=COORDINATOR, now=T1, each=each
    )

    assert seen == n and all(p.applied for p in done)
    assert migration.count(engine, from_version=1) == 0
    assert migration.count(engine, from_version=2) == n


def test_the_coordinators_page_previews_and_applies(site: Site) -> None:  # noqa: F811
    made = projects(site.engine)
    load_two(site.engine)
    site.clock.now = T1 + DAY
    assert signed_in_client(site, JANIS).get("/coordinator/migrate").status_code == 404
    client = signed_in_client(site, COORDINATOR)
    query = "/coordinator/migrate?from=1&to=2&map=pre_assessment%3Dassessment&recompute=1"
    before = dump(site.engine.db)

    page = client.get(query)

    assert page.status_code == 200 and dump(site.engine.db) == before
    assert made["idea"] in page.text and 'data-label="Termiņi"' in page.text
    assert "site_ownership" in page.text and "migration.unmapped_stage" not in page.text
    answer = client.post(
        "/coordinator/migrate",
        data={
            "from": "1",
            "to": "2",
            "map": "pre_assessment=assessment",
            "csrf": csrf_of(page.text),
        },
    )
    assert answer.status_code == 303
    shown = client.get(answer.headers["location"]).text
    assert "Pārcelti: 3; atteikti: 2; jau jaunajā versijā: 1." in shown  # the finished one stays
    assert audit.verify(site.engine.db, full=True).ok


def test_a_recurring_duty_runs_on_after_migration(engine: Engine) -> None:
    end = (T0 + 400 * DAY).date()
    code = engine.create_project(
        title="Ceļa pārbūve", unit=UNIT, actor=LIGA, now=T0, dates={"implementation_end": end}
    ).code
    engine.force(code, "implementation", reason="Līgums parakstīts", actor=COORDINATOR, now=T0)

    def monthly() -> list[object]:
        view = engine.project(code, actor=COORDINATOR, now=T1)
        return [d.due_at for d in view.deadlines if d.action == "report_progress"]

    before = monthly()
    assert before  # the monthly report's occurrence runs
    load_two(engine)
    plans = run(engine, write=True, from_version=None, codes=[code])
    assert plans[code].applied
    assert monthly() == before  # kept: the same occurrence, now under version 2
    assert audit.verify(engine.db, full=True).ok
