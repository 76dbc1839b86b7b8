"""The service API end to end: one project's whole life through the unified scheme, project
codes, refusals that change nothing, scheme versions, force, hold, comments, all-or-nothing
writes, and who a CLI call acts as.

Tests about what the database must keep (the life cycle, codes, atomic writes, versions)
run on SQLite and PostgreSQL through the `engine` fixture; tests of the rules alone run
on a copy of one prepared SQLite database (`sqlite_engine`), which is much faster.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from conftest import COORDINATOR, T0, shipped_text
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from engine import audit, planning, work
from engine.loading import load_org, load_scheme
from engine.permissions import OrgIndex
from engine.service import Engine, Outcome, resolve_actor
from engine.views import Event, ProjectView
from storage import projects as stored_projects
from storage.database import Database
from storage.tables import checklist, deadlines, handoffs, outbox, projects, timers
from workflow.cba import YearFlow
from workflow.errors import Conflict, NotAllowed, NotFound, UsageError
from workflow.loader import load_org_text, load_scheme_text

# People of the shipped Ogres novads organisation (schemes/ogre.yaml).
LIGA = "liga.ozolina"  # parish_specialist and parish_coordinator, Krapes pagasts
ZANE = "zane.roze"  # parish_specialist, Suntažu pagasts
ARNIS = "arnis.dzenis"  # parish_head and asset_holder, Krapes pagasta pārvalde
JANIS = "janis.ozols"  # project_manager
DACE = "dace.liepina"  # development_head
KRISTAPS = "kristaps.lacis"  # lawyer
SANDRA = "sandra.jansone"  # finance_head
GUNTA = "gunta.eglite"  # procurement_specialist
VIJA = "vija.abele"  # accountant
UNIT = "krapes_pagasts"
SCHEME = load_scheme_text(shipped_text("unified.yaml"), "unified.yaml")
TITLE = "Krapes tautas nama jumta atjaunošana"


class Clock:
    """Explicit `now` values an hour apart from T0: the tests never read the clock."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self._next = start

    def __call__(self) -> dt.datetime:
        now, self._next = self._next, self._next + dt.timedelta(hours=1)
        return now


@pytest.fixture
def clock() -> Clock:
    return Clock()


# -- helpers ------------------------------------------------------------------------------


# Every table a write on a project may touch, besides the project row and its history.
PROJECT_TABLES = (checklist, handoffs, deadlines, timers, outbox)


@dataclass(frozen=True)
class Snapshot:
    """Everything a write may touch on one project."""

    view: ProjectView
    history: list[Event]
    rows: dict[str, list[tuple[Any, ...]]]


def snapshot(engine: Engine, code: str) -> Snapshot:
    view = engine.project(code, actor=COORDINATOR, now=T0)  # deadline figures as at T0
    events = engine.history(code, actor=COORDINATOR)
    with engine.db.read() as conn:
        rows = {
            table.name: [
                tuple(r)
                for r in conn.execute(
                    select(table)
                    .where(table.c.project_id == view.id)
                    .order_by(*table.primary_key.columns)
                )
            ]
            for table in PROJECT_TABLES
        }
    return Snapshot(view, events, rows)


def refused(engine: Engine, code: str, error: type[Exception], call: Callable[[], object]) -> str:
    """Run `call`, expect `error`, check the project is exactly as before; the message."""
    before = snapshot(engine, code)
    with pytest.raises(error) as caught:
        call()
    after = snapshot(engine, code)
    assert after.view.version == before.view.version
    assert len(after.history) == len(before.history)
    assert after == before
    return str(caught.value)


def tick(engine: Engine, code: str, actor: str, clock: Clock, *items: str) -> None:
    for item in items:
        engine.check(code, item, actor=actor, now=clock())


def new_idea(engine: Engine, clock: Clock, unit: str = UNIT) -> str:
    return engine.create_project(title=TITLE, unit=unit, actor=LIGA, now=clock()).code


def submitted_idea(engine: Engine, clock: Clock) -> str:
    """A project handed over to central staff, not yet acknowledged."""
    code = new_idea(engine, clock)
    tick(engine, code, LIGA, clock, "problem_statement", "estimated_cost")
    engine.advance(code, "submit_idea", actor=LIGA, now=clock())
    return code


def in_pre_assessment(engine: Engine, clock: Clock) -> str:
    """A submitted idea the project manager has acknowledged."""
    code = submitted_idea(engine, clock)
    engine.acknowledge(code, actor=JANIS, now=clock())
    return code


def handoff_rows(engine: Engine, code: str) -> list[Any]:
    with engine.db.read() as conn:
        return list(
            conn.execute(
                select(handoffs)
                .join(projects)
                .where(projects.c.code == code)
                .order_by(handoffs.c.id)
            )
        )


def handed_over_to_monitoring(engine: Engine, clock: Clock) -> str:
    """A project the project manager has just handed over to the parish for monitoring."""
    code = new_idea(engine, clock)
    engine.force(
        code, "closure", reason="Ievadīts vēsturisks projekts", actor=COORDINATOR, now=clock()
    )
    engine.acknowledge(code, actor=JANIS, now=clock())
    items = ("final_report_approved", "final_payment_received", "asset_handover")
    tick(engine, code, JANIS, clock, *items)
    engine.advance(code, "hand_over_to_monitoring", actor=JANIS, now=clock())
    return code


def ticked_items(engine: Engine, code: str) -> list[str]:
    return [i.item for i in engine.project(code, actor=COORDINATOR).checklist if i.checked]


# -- the whole life cycle -----------------------------------------------------------------


class Trail:
    """Follows one project's events: each must bump the version by exactly one."""

    def __init__(self, created: Outcome) -> None:
        assert (created.version, created.kind) == (1, "created")
        self.code, self.version, self.kinds = created.code, 1, ["created"]
        self.actions: list[str] = []

    def saw(self, out: Outcome, kind: str, stage: str) -> None:
        assert (out.code, out.kind, out.stage) == (self.code, kind, stage)
        assert out.version == self.version + 1
        self.version = out.version
        self.kinds.append(kind)


def test_a_project_goes_from_idea_to_completed_through_every_stage(
    engine: Engine, clock: Clock
) -> None:
    created = engine.create_project(
        title=TITLE,
        unit=UNIT,
        actor=LIGA,
        now=clock(),
        dates={"call_deadline": dt.date(2026, 9, 30)},
    )
    trail = Trail(created)
    code = trail.code

    def ticks(actor: str, *items: str) -> None:
        for item in items:
            trail.saw(
                engine.check(code, item, actor=actor, now=clock()),
                "checked",
                engine.project(code, actor=COORDINATOR).stage,
            )

    def take(actor: str, action: str, stage: str, comment: str | None = None) -> None:
        trail.saw(
            engine.advance(code, action, actor=actor, now=clock(), comment=comment),
            "advanced",
            stage,
        )
        trail.actions.append(action)

    def acknowledge(actor: str, stage: str) -> None:
        trail.saw(engine.acknowledge(code, actor=actor, now=clock()), "acknowledged", stage)

    ticks(LIGA, "problem_statement", "estimated_cost")
    take(LIGA, "submit_idea", "pre_assessment")
    waiting = engine.project(code, actor=JANIS).handoff
    assert waiting is not None
    assert (waiting.from_level, waiting.to_level) == ("parish", "central")
    acknowledge(JANIS, "pre_assessment")
    ticks(JANIS, "programme_fit", "funding_instrument")
    take(JANIS, "propose_for_plan", "investment_plan")
    ticks(DACE, "plan_entry", "plan_council_decision")
    take(DACE, "include_in_plan", "application")
    ticks(JANIS, "budget", "risk_assessment", "cost_benefit_analysis")
    ticks(KRISTAPS, "legal_review")
    ticks(LIGA, "parish_confirmation")
    # The gates on request_cofinancing check the data itself: a risk and a CBA.
    trail.saw(
        planning.add_risk(
            engine, code, title="Izmaksas", likelihood=3, impact=4, actor=JANIS, now=clock()
        ),
        "risk_added",
        "application",
    )
    flows = [YearFlow(2027, Decimal(1000), Decimal(0)), YearFlow(2028, Decimal(0), Decimal(1200))]
    trail.saw(
        planning.set_cba(engine, code, flows, actor=JANIS, now=clock()), "cba_set", "application"
    )
    take(JANIS, "request_cofinancing", "cofinancing")
    ticks(SANDRA, "finance_committee_opinion", "cofinancing_council_decision")
    take(SANDRA, "approve_cofinancing", "submission")
    ticks(JANIS, "final_review", "submitted_in_system")
    take(JANIS, "submit_application", "evaluation")
    ticks(JANIS, "approval_decision")
    take(JANIS, "record_approval", "contract")
    ticks(KRISTAPS, "contract_legal_review")
    ticks(JANIS, "contract_signed")
    take(JANIS, "sign_contract", "procurement")
    ticks(GUNTA, "tender_documents", "procurement_contracts")
    take(GUNTA, "complete_procurement", "implementation")
    take(LIGA, "report_progress", "implementation", comment="Marta progresa pārskats")
    take(JANIS, "request_payment", "payment_request")
    ticks(VIJA, "expenditure_documents", "accounting_check", "payment_request_submitted")
    take(VIJA, "submit_payment_request", "implementation")
    take(JANIS, "request_payment", "payment_request")
    assert ticked_items(engine, code) == []
    ticks(
        VIJA,
        "expenditure_documents",
        "accounting_check",
        "payment_request_submitted",
        "implementation_finished",
    )
    take(JANIS, "submit_final_payment_request", "closure")
    ticks(JANIS, "final_report_approved", "final_payment_received", "asset_handover")
    take(JANIS, "hand_over_to_monitoring", "monitoring")
    waiting = engine.project(code, actor=ARNIS).handoff
    assert waiting is not None
    assert (waiting.from_level, waiting.to_level, waiting.receivers) == (
        "central",
        "parish",
        [ARNIS],
    )
    acknowledge(ARNIS, "monitoring")
    take(ARNIS, "submit_monitoring_report", "monitoring")
    ticks(ARNIS, "monitoring_period_ended", "durability_confirmed")
    take(ARNIS, "complete", "completed")

    view = engine.project(code, actor=COORDINATOR)
    events = engine.history(code, actor=COORDINATOR)
    assert (view.stage, view.terminal, view.version) == ("completed", True, trail.version)
    assert view.dates == {"call_deadline": "2026-09-30"}
    assert [e.kind for e in events] == trail.kinds
    assert [e.seq for e in events] == list(range(1, trail.version + 1))
    assert [e.action for e in events if e.kind == "advanced"] == trail.actions
    report = audit.verify(engine.db)
    assert report.ok, report.broken
    assert report.events == trail.version


# -- project codes --------------------------------------------------------------------------


def test_project_codes_are_numbered_from_0001_in_the_order_of_creation(
    engine: Engine, clock: Clock
) -> None:
    codes = [new_idea(engine, clock) for _ in range(3)]

    assert codes == ["OGR-2026-0001", "OGR-2026-0002", "OGR-2026-0003"]


def test_a_project_created_at_2230_utc_on_new_years_eve_gets_next_years_code(
    engine: Engine,
) -> None:
    riga_new_year = dt.datetime(2026, 12, 31, 22, 30, tzinfo=dt.UTC)  # 00:30 in Riga

    out = engine.create_project(title=TITLE, unit=UNIT, actor=LIGA, now=riga_new_year)

    assert out.code == "OGR-2027-0001"


def test_each_riga_year_numbers_its_codes_from_0001(engine: Engine) -> None:
    late_2026 = dt.datetime(2026, 12, 31, 21, 30, tzinfo=dt.UTC)  # 23:30 in Riga
    early_2027 = dt.datetime(2026, 12, 31, 22, 30, tzinfo=dt.UTC)  # 00:30 in Riga

    codes = [
        engine.create_project(title=TITLE, unit=UNIT, actor=LIGA, now=now).code
        for now in (late_2026, early_2027, late_2026, early_2027)
    ]

    assert codes == ["OGR-2026-0001", "OGR-2027-0001", "OGR-2026-0002", "OGR-2027-0002"]


# -- refusals change nothing and say who, what and why --------------------------------------


def test_a_lawyer_cannot_submit_the_idea(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)
    tick(sqlite_engine, code, LIGA, clock, "problem_statement", "estimated_cost")

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(code, "submit_idea", actor=KRISTAPS, now=clock()),
    )

    assert KRISTAPS in message and code in message and "'submit_idea'" in message
    assert "parish_specialist or parish_head" in message and "lawyer" in message


def test_a_parish_specialist_of_another_parish_cannot_submit_the_idea(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    tick(sqlite_engine, code, LIGA, clock, "problem_statement", "estimated_cost")

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(code, "submit_idea", actor=ZANE, now=clock()),
    )

    assert ZANE in message and code in message and UNIT in message


def test_an_action_the_scheme_does_not_know_is_refused(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(code, "launch_rocket", actor=LIGA, now=clock()),
    )

    assert LIGA in message and code in message
    assert "'launch_rocket'" in message and "not an action of this scheme" in message
    assert "submit_idea" in message  # what may be taken instead


def test_an_action_from_another_stage_is_refused(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(code, "propose_for_plan", actor=JANIS, now=clock()),
    )

    assert JANIS in message and code in message
    assert "'propose_for_plan'" in message and "does not leave stage idea" in message


def test_submitting_the_idea_with_an_item_unticked_is_refused_naming_that_item(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    tick(sqlite_engine, code, LIGA, clock, "problem_statement")

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(code, "submit_idea", actor=LIGA, now=clock()),
    )

    assert LIGA in message and code in message
    assert "not ticked: estimated_cost" in message and "problem_statement" not in message


@pytest.mark.parametrize("comment", [None, "", "   "], ids=["none", "empty", "blank"])
def test_returning_the_idea_without_a_comment_is_refused(
    sqlite_engine: Engine, clock: Clock, comment: str | None
) -> None:
    code = in_pre_assessment(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(
            code, "return_idea", actor=JANIS, now=clock(), comment=comment
        ),
    )

    assert JANIS in message and code in message and "without a comment" in message


def test_a_write_expecting_an_old_version_is_refused_as_a_conflict(
    sqlite_engine: Engine, clock: Clock
) -> None:
    engine = sqlite_engine
    code = new_idea(engine, clock)
    tick(engine, code, LIGA, clock, "problem_statement")  # version 2 now

    message = refused(
        engine,
        code,
        Conflict,
        lambda: engine.check(code, "estimated_cost", actor=LIGA, now=clock(), expect_version=1),
    )

    assert code in message and "version 2" in message and "expected 1" in message


def test_a_write_expecting_the_current_version_goes_through(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)

    out = sqlite_engine.check(code, "problem_statement", actor=LIGA, now=clock(), expect_version=1)

    assert out.version == 2


def test_an_unknown_project_is_not_found(sqlite_engine: Engine, clock: Clock) -> None:
    with pytest.raises(NotFound, match="no project 'OGR-2026-0999'"):
        sqlite_engine.advance("OGR-2026-0999", "submit_idea", actor=LIGA, now=clock())
    with pytest.raises(NotFound, match="no project 'OGR-2026-0999'"):
        sqlite_engine.project("OGR-2026-0999", actor=LIGA)


def test_no_action_is_taken_before_the_handoff_is_acknowledged(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = submitted_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(
            code, "return_idea", actor=JANIS, now=clock(), comment="Precizēt izmaksas"
        ),
    )

    assert JANIS in message and code in message and "not acknowledged yet" in message


def test_no_item_is_ticked_before_the_handoff_is_acknowledged(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = submitted_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.check(code, "programme_fit", actor=JANIS, now=clock()),
    )

    assert JANIS in message and code in message and "not acknowledged yet" in message


@pytest.mark.parametrize("actor", [LIGA, KRISTAPS], ids=["sender", "central_non_owner"])
def test_only_the_receiving_side_acknowledges_the_idea_handoff(
    sqlite_engine: Engine, clock: Clock, actor: str
) -> None:
    code = submitted_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.acknowledge(code, actor=actor, now=clock()),
    )

    assert actor in message and code in message and "goes to project_manager" in message


def test_the_project_manager_cannot_acknowledge_the_handover_to_the_asset_holder(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = handed_over_to_monitoring(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.acknowledge(code, actor=JANIS, now=clock()),
    )

    assert JANIS in message and code in message and "goes to asset_holder" in message


def test_the_asset_holder_of_the_projects_parish_acknowledges_the_handover(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = handed_over_to_monitoring(sqlite_engine, clock)

    out = sqlite_engine.acknowledge(code, actor=ARNIS, now=clock())

    assert (out.kind, out.stage) == ("acknowledged", "monitoring")
    assert sqlite_engine.project(code, actor=ARNIS).handoff is None


def test_acknowledging_when_no_handoff_waits_is_refused(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = in_pre_assessment(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.acknowledge(code, actor=JANIS, now=clock()),
    )

    assert JANIS in message and code in message and "no handoff is waiting" in message


def test_ticking_an_item_of_another_stage_is_refused_naming_the_stage_and_its_items(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotFound,
        lambda: sqlite_engine.check(code, "budget", actor=LIGA, now=clock()),
    )

    assert code in message and "stage idea" in message and "'budget'" in message
    assert "problem_statement" in message  # the items that can be ticked here


def test_refusing_a_tick_of_an_item_of_another_stage_says_who_was_refused(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)

    with pytest.raises(NotFound) as caught:
        sqlite_engine.check(code, "budget", actor=LIGA, now=clock())

    assert LIGA in str(caught.value)
    assert caught.value.context.get("actor") == LIGA


def test_ticking_an_item_twice_is_refused(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)
    tick(sqlite_engine, code, LIGA, clock, "problem_statement")

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.check(code, "problem_statement", actor=LIGA, now=clock()),
    )

    assert code in message and "already ticked" in message


# -- scheme versions and loading ------------------------------------------------------------


def _unified_v2() -> str:
    """The shipped scheme with a new English title for `idea` and submit_idea needing only
    the problem statement."""
    source = shipped_text("unified.yaml")
    changed = source.replace(
        "title: {lv: Ideja, en: Idea}", "title: {lv: Ideja, en: Project idea}", 1
    ).replace("requires: [problem_statement, estimated_cost]", "requires: [problem_statement]", 1)
    assert changed.count("Project idea") == 1 and changed != source
    return changed


def test_loading_a_changed_scheme_creates_version_2(sqlite_engine: Engine, clock: Clock) -> None:
    loaded = load_scheme(
        sqlite_engine, _unified_v2(), "unified.yaml", actor=COORDINATOR, now=clock()
    )

    assert (loaded.name, loaded.version, loaded.created) == ("unified", 2, True)


def test_a_project_stays_on_its_scheme_version_while_new_ones_start_on_the_newest(
    engine: Engine, clock: Clock
) -> None:
    old = new_idea(engine, clock)
    load_scheme(engine, _unified_v2(), "unified.yaml", actor=COORDINATOR, now=clock())
    new = new_idea(engine, clock)

    old_view = engine.project(old, actor=LIGA, lang="en")
    new_view = engine.project(new, actor=LIGA, lang="en")

    assert (old_view.scheme_version, old_view.stage_title) == (1, "Idea")
    assert (new_view.scheme_version, new_view.stage_title) == (2, "Project idea")


def test_a_project_keeps_the_rules_of_the_scheme_version_it_started_on(
    sqlite_engine: Engine, clock: Clock
) -> None:
    engine = sqlite_engine
    old = new_idea(engine, clock)
    load_scheme(engine, _unified_v2(), "unified.yaml", actor=COORDINATOR, now=clock())
    new = new_idea(engine, clock)
    for code in (old, new):
        tick(engine, code, LIGA, clock, "problem_statement")

    with pytest.raises(NotAllowed, match="not ticked: estimated_cost"):
        engine.advance(old, "submit_idea", actor=LIGA, now=clock())
    assert engine.advance(new, "submit_idea", actor=LIGA, now=clock()).stage == "pre_assessment"


def test_loading_the_same_scheme_again_creates_nothing(sqlite_engine: Engine, clock: Clock) -> None:
    engine = sqlite_engine
    again = load_scheme(
        engine, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=clock()
    )
    load_scheme(engine, _unified_v2(), "unified.yaml", actor=COORDINATOR, now=clock())
    v2_again = load_scheme(engine, _unified_v2(), "unified.yaml", actor=COORDINATOR, now=clock())

    code = new_idea(engine, clock)

    assert (again.version, again.created) == (1, False)
    assert (v2_again.version, v2_again.created) == (2, False)
    assert engine.project(code, actor=LIGA).scheme_version == 2


def test_a_non_coordinator_cannot_load_a_scheme(sqlite_engine: Engine, clock: Clock) -> None:
    with pytest.raises(NotAllowed, match=f"{JANIS} may not load schemes"):
        load_scheme(sqlite_engine, _unified_v2(), "unified.yaml", actor=JANIS, now=clock())

    code = new_idea(sqlite_engine, clock)
    assert sqlite_engine.project(code, actor=LIGA).scheme_version == 1


@pytest.mark.parametrize("actor", [JANIS, "anna.svesa"], ids=["not_a_coordinator", "not_in_file"])
def test_the_first_organisation_is_refused_unless_loaded_by_a_coordinator_it_names(
    db: Database, actor: str
) -> None:
    fresh = Engine(db)

    with pytest.raises(NotAllowed, match=f"{actor} may not load the first organisation"):
        load_org(fresh, shipped_text("ogre.yaml"), "ogre.yaml", actor=actor, now=T0)

    # Nothing was stored: a coordinator's first load is still the first version.
    assert (
        load_org(fresh, shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0).version
        == 1
    )


def test_a_coordinator_named_in_the_file_loads_the_first_organisation(db: Database) -> None:
    loaded = load_org(Engine(db), shipped_text("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)

    assert (loaded.kind, loaded.created) == ("organisation", True)


def test_once_an_organisation_is_loaded_only_coordinators_load_another(
    sqlite_engine: Engine, clock: Clock
) -> None:
    changed = shipped_text("ogre.yaml").replace("name: Jānis Ozols", "name: Jānis Ozols-Kalns")

    with pytest.raises(NotAllowed, match=f"{JANIS} may not load the organisation"):
        load_org(sqlite_engine, changed, "ogre.yaml", actor=JANIS, now=clock())
    assert load_org(sqlite_engine, changed, "ogre.yaml", actor="maris.berzins", now=clock()).created


# -- force -------------------------------------------------------------------------------------

OTHER_STAGES = [s for s in SCHEME.stages if s != SCHEME.initial_stage]


@pytest.mark.parametrize("stage", OTHER_STAGES)
def test_a_coordinator_forces_a_project_to_any_stage_with_the_reason_in_history(
    sqlite_engine: Engine, clock: Clock, stage: str
) -> None:
    code = new_idea(sqlite_engine, clock)

    out = sqlite_engine.force(
        code, stage, reason="Projekts pārņemts no papīra reģistra", actor=COORDINATOR, now=clock()
    )

    last = sqlite_engine.history(code, actor=COORDINATOR)[-1]
    assert (out.stage, out.version) == (stage, 2)
    assert sqlite_engine.project(code, actor=COORDINATOR).stage == stage
    assert (last.kind, last.actor, last.from_stage, last.to_stage, last.comment) == (
        "forced",
        COORDINATOR,
        "idea",
        stage,
        "Projekts pārņemts no papīra reģistra",
    )


@pytest.mark.parametrize("actor", [JANIS, DACE, ARNIS])
def test_nobody_but_a_coordinator_may_force_a_project(
    sqlite_engine: Engine, clock: Clock, actor: str
) -> None:
    code = new_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.force(
            code, "application", reason="Steidzami", actor=actor, now=clock()
        ),
    )

    assert actor in message and code in message and "only coordinators" in message


def test_forcing_a_project_closes_its_pending_handoff(sqlite_engine: Engine, clock: Clock) -> None:
    engine = sqlite_engine
    code = submitted_idea(engine, clock)

    forced_at = clock()

    engine.force(
        code, "investment_plan", reason="Dome jau lēmusi", actor=COORDINATOR, now=forced_at
    )

    view = engine.project(code, actor=COORDINATOR)
    last = engine.history(code, actor=COORDINATOR)[-1]
    assert view.handoff is None
    assert last.data["pending_handoff_closed"] is True
    closed = [(h.acknowledged_by, h.acknowledged_at) for h in handoff_rows(engine, code)]
    assert closed == [(COORDINATOR, forced_at)]
    assert engine.check(code, "plan_entry", actor=DACE, now=clock()).kind == "checked"


# -- hold, resume, comments ----------------------------------------------------------------


def test_a_hold_is_recorded_with_its_reason(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)
    at = clock()

    out = sqlite_engine.hold(code, reason="Gaidām zemes robežu plānu", actor=LIGA, now=at)

    view = sqlite_engine.project(code, actor=LIGA)
    last = sqlite_engine.history(code, actor=LIGA)[-1]
    assert (out.kind, out.version) == ("held", 2)
    assert (view.hold_since, view.hold_reason) == (at, "Gaidām zemes robežu plānu")
    assert (last.kind, last.comment) == ("held", "Gaidām zemes robežu plānu")


def test_resuming_ends_the_hold_and_records_how_long_it_lasted(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    sqlite_engine.hold(code, reason="Gaidām zemes robežu plānu", actor=LIGA, now=T0)

    out = sqlite_engine.resume(code, actor=LIGA, now=T0 + dt.timedelta(days=3))

    view = sqlite_engine.project(code, actor=LIGA)
    last = sqlite_engine.history(code, actor=LIGA)[-1]
    assert (out.kind, out.version) == ("resumed", 3)
    assert (view.hold_since, view.hold_reason) == (None, None)
    assert (last.kind, last.data) == ("resumed", {"held_seconds": 3 * 86400})


def test_advancing_a_held_project_is_refused_until_it_is_resumed(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    tick(sqlite_engine, code, LIGA, clock, "problem_statement", "estimated_cost")
    sqlite_engine.hold(code, reason="Gaidām zemes robežu plānu", actor=LIGA, now=clock())

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.advance(code, "submit_idea", actor=LIGA, now=clock()),
    )

    assert "on hold" in message and "resume it first" in message
    sqlite_engine.resume(code, actor=LIGA, now=clock())
    assert sqlite_engine.advance(code, "submit_idea", actor=LIGA, now=clock()).kind == "advanced"
    kinds = [e.kind for e in sqlite_engine.history(code, actor=LIGA)]
    assert kinds[-3:] == ["held", "resumed", "advanced"]


def test_forcing_a_held_project_records_that_the_hold_was_lifted(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    sqlite_engine.hold(code, reason="Gaidām", actor=LIGA, now=clock())

    sqlite_engine.force(
        code, "pre_assessment", reason="Vienojāmies", actor=COORDINATOR, now=clock()
    )

    last = sqlite_engine.history(code, actor=COORDINATOR)[-1]
    assert (last.kind, last.data["hold_lifted"]) == ("forced", True)
    assert sqlite_engine.project(code, actor=COORDINATOR).hold_since is None


def test_a_project_on_hold_cannot_be_held_again(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)
    sqlite_engine.hold(code, reason="Gaidām", actor=LIGA, now=clock())

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.hold(code, reason="Vēlreiz", actor=LIGA, now=clock()),
    )

    assert code in message and "already on hold" in message


def test_a_project_waiting_for_acknowledgement_cannot_be_put_on_hold(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = submitted_idea(sqlite_engine, clock)

    message = refused(
        sqlite_engine,
        code,
        NotAllowed,
        lambda: sqlite_engine.hold(code, reason="Gaidām", actor=JANIS, now=clock()),
    )

    assert "not acknowledged yet" in message


def test_a_comment_keeps_its_document_references_in_history(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    refs = ["DVS-2026/1432", "https://eis.gov.lv/EKEIS/Supplier/Procurement/12345"]

    out = sqlite_engine.comment(code, "Tāme pievienota", actor=LIGA, now=clock(), refs=refs)

    last = sqlite_engine.history(code, actor=JANIS)[-1]
    assert (out.kind, out.version) == ("commented", 2)
    assert (last.kind, last.actor, last.comment, last.refs) == (
        "commented",
        LIGA,
        "Tāme pievienota",
        refs,
    )


def test_an_empty_comment_is_refused(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)

    refused(
        sqlite_engine,
        code,
        UsageError,
        lambda: sqlite_engine.comment(code, "  ", actor=LIGA, now=clock()),
    )


# -- checklists start afresh ----------------------------------------------------------------


def test_returning_the_idea_starts_its_checklist_afresh(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = in_pre_assessment(sqlite_engine, clock)

    sqlite_engine.advance(
        code, "return_idea", actor=JANIS, now=clock(), comment="Precizēt izmaksas"
    )

    view = sqlite_engine.project(code, actor=LIGA)
    assert view.stage == "idea"
    assert [i.item for i in view.checklist] == [
        "problem_statement",
        "estimated_cost",
        "target_group",
        "site_ownership",
    ]
    assert ticked_items(sqlite_engine, code) == []


def test_a_second_payment_request_starts_with_an_empty_checklist(
    sqlite_engine: Engine, clock: Clock
) -> None:
    code = new_idea(sqlite_engine, clock)
    sqlite_engine.force(
        code, "implementation", reason="Īstenošana jau notiek", actor=COORDINATOR, now=clock()
    )
    sqlite_engine.acknowledge(code, actor=JANIS, now=clock())
    sqlite_engine.advance(code, "request_payment", actor=JANIS, now=clock())
    tick(
        sqlite_engine,
        code,
        VIJA,
        clock,
        "expenditure_documents",
        "accounting_check",
        "payment_request_submitted",
    )
    sqlite_engine.advance(code, "submit_payment_request", actor=VIJA, now=clock())

    sqlite_engine.advance(code, "request_payment", actor=JANIS, now=clock())

    assert ticked_items(sqlite_engine, code) == []


def test_a_self_loop_keeps_the_checklist(sqlite_engine: Engine, clock: Clock) -> None:
    code = new_idea(sqlite_engine, clock)
    sqlite_engine.force(
        code, "implementation", reason="Īstenošana jau notiek", actor=COORDINATOR, now=clock()
    )
    sqlite_engine.acknowledge(code, actor=JANIS, now=clock())
    tick(sqlite_engine, code, JANIS, clock, "publicity")

    sqlite_engine.advance(code, "report_progress", actor=LIGA, now=clock())

    assert ticked_items(sqlite_engine, code) == ["publicity"]


# -- all or nothing ----------------------------------------------------------------------------


def _fail_inserting_the_handoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # return_idea clears the idea's ticks and closes the stage's deadlines first.
    def send_handoff(conn: Connection, handoff: dict[str, Any]) -> None:
        conn.execute(text("INSERT INTO no_such_table (x) VALUES (1)"))

    monkeypatch.setattr(stored_projects, "send_handoff", send_handoff)


def _fail_after_the_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    # By then every statement of the advance has run: row, history, checklist, handoff,
    # deadlines, timers, outbox.
    def failpoint(name: str) -> None:
        if name == "advance.after_outbox":
            raise RuntimeError("power cut")

    monkeypatch.setattr(work, "failpoint", failpoint)


@pytest.mark.parametrize(
    "breakage",
    [_fail_inserting_the_handoff, _fail_after_the_outbox],
    ids=["handoff_insert_fails", "failure_after_outbox"],
)
def test_a_failure_in_the_middle_of_an_advance_leaves_the_project_exactly_as_before(
    engine: Engine,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    breakage: Callable[[pytest.MonkeyPatch], None],
) -> None:
    code = in_pre_assessment(engine, clock)
    before = snapshot(engine, code)
    assert [r[1] for r in before.rows["checklist"]] == ["estimated_cost", "problem_statement"]
    breakage(monkeypatch)

    with pytest.raises((DBAPIError, RuntimeError)):
        engine.advance(code, "return_idea", actor=JANIS, now=clock(), comment="Precizēt")

    assert snapshot(engine, code) == before
    assert audit.verify(engine.db).ok


def test_an_advance_that_failed_midway_can_be_taken_again(
    sqlite_engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = in_pre_assessment(sqlite_engine, clock)
    version = sqlite_engine.project(code, actor=JANIS).version
    _fail_after_the_outbox(monkeypatch)
    with pytest.raises(RuntimeError):
        sqlite_engine.advance(code, "return_idea", actor=JANIS, now=clock(), comment="Precizēt")
    monkeypatch.undo()

    out = sqlite_engine.advance(code, "return_idea", actor=JANIS, now=clock(), comment="Precizēt")

    assert (out.stage, out.version) == ("idea", version + 1)
    assert audit.verify(sqlite_engine.db).ok


# -- who a CLI call acts as -------------------------------------------------------------------


@functools.cache
def _org_index(*accounts: tuple[str, str]) -> OrgIndex:
    """The shipped organisation with OS accounts added ((account, person) pairs)."""
    source = shipped_text("ogre.yaml")
    for account, person in accounts:
        line = f"    email: {person}@ogresnovads.example\n"
        assert line in source
        source = source.replace(line, f"{line}    accounts: [{account}]\n", 1)
    return OrgIndex.build(1, load_org_text(source, "ogre.yaml"))


MAPPED = (("ikalnina", COORDINATOR), ("jozols", JANIS))


def test_without_account_mapping_the_requested_person_is_trusted() -> None:
    org = _org_index()

    assert resolve_actor(org, LIGA, "whoever") == LIGA
    assert resolve_actor(org, None, "whoever") is None


def test_with_account_mapping_an_unmapped_account_is_refused() -> None:
    with pytest.raises(NotAllowed, match="the account 'eve' is not mapped"):
        resolve_actor(_org_index(*MAPPED), JANIS, "eve")


def test_with_account_mapping_a_non_coordinators_account_cannot_act_as_someone_else() -> None:
    with pytest.raises(NotAllowed, match=f"belongs to {JANIS} and may not act as {LIGA}"):
        resolve_actor(_org_index(*MAPPED), LIGA, "jozols")


def test_with_account_mapping_a_coordinators_account_may_act_as_someone_else() -> None:
    assert resolve_actor(_org_index(*MAPPED), LIGA, "ikalnina") == LIGA


def test_with_account_mapping_an_account_acts_as_its_own_person_by_default() -> None:
    org = _org_index(*MAPPED)

    assert resolve_actor(org, None, "jozols") == JANIS
    assert resolve_actor(org, JANIS, "jozols") == JANIS
