"""A permission matrix generated from the shipped scheme and organisation.

For every role (the built-in coordinator too), a representative holder of it tries a set
of operations on a project in a unit the role covers and in another parish. What should
happen is derived from the rules, not from a table:

- a parish-level role acts on projects of the unit it is held in and of the units below;
  a central-level role acts everywhere;
- anyone whose roles cover the project's unit sees it and may comment on it;
- a project is created by whoever works on the initial stage (owner or participant)
  there, or by any central role;
- an action may be taken by the roles in its `by` list;
- checklist items are ticked by the owner and participants of the stage, and coordinators;
- only coordinators force a project to another stage.

The matrix runs on SQLite only (each test on a private copy of one prepared database);
the storage behaviour under these rules is exercised on both backends elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import COORDINATOR, T0, shipped_text

from engine.service import Engine
from workflow.errors import NotAllowed
from workflow.loader import load_org_text, load_scheme_text
from workflow.scheme import COORDINATOR as COORDINATOR_ROLE
from workflow.scheme import Level

SCHEME = load_scheme_text(shipped_text("unified.yaml"), "unified.yaml")
ORG = load_org_text(shipped_text("ogre.yaml"), "ogre.yaml", SCHEME)
LEVELS = {name: role.level for name, role in SCHEME.all_roles.items()}
INITIAL = SCHEME.stages[SCHEME.initial_stage]
PARISH_KINDS = ("parish", "town", "city")
REASON = "Matricas sagatavošana"


# -- the rules, from the shipped data ------------------------------------------------------


def roles_at(person: str, unit: str) -> frozenset[str]:
    """The roles `person` acts with on a project of `unit`."""
    above = set(ORG.ancestors(unit))
    return frozenset(
        a.role
        for a in ORG.people[person].roles
        if LEVELS[a.role] is Level.central or a.unit in above
    )


def all_roles(person: str) -> set[str]:
    return {a.role for a in ORG.people[person].roles}


def representative(role: str) -> str:
    """The holder of `role` with the fewest other roles (the first such in the file)."""
    holders = [pid for pid, p in ORG.people.items() if any(a.role == role for a in p.roles)]
    assert holders, f"nobody in ogre.yaml holds {role}"
    return min(holders, key=lambda pid: len(all_roles(pid)))


def own_unit(person: str, role: str) -> str:
    """A unit the role covers: for a parish role, the first parish or town under the unit
    it is held in (else that unit); for a central role, the unit it is held in."""
    where = next(a.unit for a in ORG.people[person].roles if a.role == role)
    if LEVELS[role] is Level.central:
        return where
    below = [u for u in ORG.units if where in ORG.ancestors(u)]
    return next((u for u in below if ORG.units[u].kind.value in PARISH_KINDS), where)


def other_unit(person: str) -> str:
    """The first parish or town none of the person's parish roles covers."""
    return next(
        u
        for u, unit in ORG.units.items()
        if unit.kind.value in PARISH_KINDS
        and not any(LEVELS[r] is Level.parish for r in roles_at(person, u))
    )


def action_naming(role: str) -> str | None:
    """The first action whose `by` includes `role`."""
    return next((name for name, a in SCHEME.actions.items() if role in a.by), None)


def action_not_naming(person: str) -> str:
    """The first action whose `by` includes none of the person's roles."""
    mine = all_roles(person)
    return next(name for name, a in SCHEME.actions.items() if not mine & set(a.by))


def stage_worked_on_by(role: str) -> str:
    """The first stage `role` owns, else the first it takes part in, else the initial one."""
    stages = SCHEME.stages
    return (
        next((s for s, st in stages.items() if st.owner == role), None)
        or next((s for s, st in stages.items() if role in st.participants), None)
        or SCHEME.initial_stage
    )


@dataclass(frozen=True)
class Case:
    """One role, through one representative person, on a project of one unit."""

    role: str
    scope: str  # own_unit | other_unit
    person: str
    unit: str

    @property
    def roles(self) -> frozenset[str]:
        return roles_at(self.person, self.unit)

    @property
    def sees(self) -> bool:
        return bool(self.roles)

    def may_create(self) -> bool:
        works_on_initial = {INITIAL.owner, *INITIAL.participants}
        return bool(self.roles & works_on_initial) or any(
            LEVELS[r] is Level.central for r in self.roles
        )

    def may_take(self, action: str) -> bool:
        return bool(self.roles & set(SCHEME.actions[action].by))

    def may_tick_in(self, stage: str) -> bool:
        st = SCHEME.stages[stage]
        return bool(self.roles & {st.owner, *st.participants, COORDINATOR_ROLE})

    def may_force(self) -> bool:
        return COORDINATOR_ROLE in self.roles

    def id(self, op: str) -> str:
        return f"{self.role}-{LEVELS[self.role].value}-{self.scope}-{op}"


CASES = [
    Case(role, scope, person, own_unit(person, role) if scope == "own_unit" else other_unit(person))
    for role in SCHEME.all_roles
    for person in [representative(role)]
    for scope in ("own_unit", "other_unit")
]


def params(
    op: str,
    *,
    when: Callable[[Case], bool] = lambda c: True,
    marks: Callable[[Case], list[pytest.MarkDecorator]] = lambda c: [],
) -> list[Any]:
    return [pytest.param(c, id=c.id(op), marks=marks(c)) for c in CASES if when(c)]


def test_the_matrix_covers_every_role_of_the_scheme_in_both_scopes() -> None:
    assert {(c.role, c.scope) for c in CASES} == {
        (r, s) for r in SCHEME.all_roles for s in ("own_unit", "other_unit")
    }
    assert {LEVELS[c.role] for c in CASES} == {Level.parish, Level.central}
    # The own unit is covered and the other unit is not, for every parish role.
    for c in CASES:
        if LEVELS[c.role] is Level.parish:
            assert (c.role in c.roles) == (c.scope == "own_unit"), c


# -- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """The matrix runs on SQLite only (a copy of the prepared database per case)."""
    return sqlite_engine


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def project_in(
    engine: Engine, unit: str, stage: str, *, not_by: str, ticked: tuple[str, ...] = ()
) -> str:
    """A project of `unit` in `stage` with `ticked` items, set up by a coordinator. A
    handoff the move caused is acknowledged by a receiver other than `not_by` when there is
    one, so that `not_by` does not become responsible (and thereby allowed) unless they are
    the only receiver, which means they hold the stage's owner role anyway."""
    code = engine.create_project(
        title="Matricas projekts", unit=unit, actor=COORDINATOR, now=at(0)
    ).code
    if stage != SCHEME.initial_stage:
        engine.force(code, stage, reason=REASON, actor=COORDINATOR, now=at(1))
    waiting = engine.project(code, actor=COORDINATOR).handoff
    if waiting is not None:
        others = [p for p in waiting.receivers if p != not_by] or waiting.receivers
        engine.acknowledge(code, actor=others[0], now=at(2))
    for n, item in enumerate(ticked):
        engine.check(code, item, actor=COORDINATOR, now=at(3 + n))
    return code


def version(engine: Engine, code: str) -> int:
    return engine.project(code, actor=COORDINATOR).version


def attempt(
    engine: Engine, case: Case, code: str, allowed: bool, call: Callable[[], object]
) -> None:
    """`call` succeeds and bumps the version, or is refused naming who and which project
    and changes nothing."""
    before = version(engine, code)
    if allowed:
        call()
        assert version(engine, code) == before + 1
        return
    with pytest.raises(NotAllowed) as caught:
        call()
    assert case.person in str(caught.value) and code in str(caught.value)
    assert version(engine, code) == before


# -- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("create"))
def test_a_role_creates_a_project_exactly_where_the_rules_allow(engine: Engine, case: Case) -> None:
    def create() -> str:
        return engine.create_project(
            title="Jauna ideja", unit=case.unit, actor=case.person, now=at(10)
        ).code

    if case.may_create():
        code = create()
        assert engine.project(code, actor=COORDINATOR).created_by == case.person
        return
    with pytest.raises(NotAllowed) as caught:
        create()
    assert case.person in str(caught.value) and case.unit in str(caught.value)
    # Nothing was created, not even a number taken from the counter.
    assert engine.list_projects(actor=COORDINATOR) == []
    assert (
        engine.create_project(
            title="Jauna ideja", unit=case.unit, actor=COORDINATOR, now=at(11)
        ).code
        == "OGR-2026-0001"
    )


@pytest.mark.parametrize("case", params("see"))
def test_a_role_sees_a_project_exactly_where_it_covers_the_unit(engine: Engine, case: Case) -> None:
    code = project_in(engine, case.unit, SCHEME.initial_stage, not_by=case.person)

    if case.sees:
        assert engine.project(code, actor=case.person).code == code
        return
    with pytest.raises(NotAllowed) as caught:
        engine.project(code, actor=case.person)
    assert case.person in str(caught.value) and code in str(caught.value)


@pytest.mark.parametrize("case", params("advance", when=lambda c: bool(action_naming(c.role))))
def test_a_role_takes_an_action_naming_it_exactly_where_it_covers_the_unit(
    engine: Engine, case: Case
) -> None:
    action = action_naming(case.role)
    assert action is not None
    spec = SCHEME.actions[action]
    code = project_in(
        engine, case.unit, spec.source[0], not_by=case.person, ticked=tuple(spec.requires)
    )

    attempt(
        engine,
        case,
        code,
        case.sees and case.may_take(action),
        lambda: engine.advance(code, action, actor=case.person, now=at(30), comment=REASON),
    )


@pytest.mark.parametrize("case", params("advance_not_in_by"))
def test_a_role_never_takes_an_action_that_names_none_of_its_roles(
    engine: Engine, case: Case
) -> None:
    action = action_not_naming(case.person)
    spec = SCHEME.actions[action]
    code = project_in(
        engine, case.unit, spec.source[0], not_by=case.person, ticked=tuple(spec.requires)
    )
    assert not case.may_take(action)

    attempt(
        engine,
        case,
        code,
        False,
        lambda: engine.advance(code, action, actor=case.person, now=at(30), comment=REASON),
    )


@pytest.mark.parametrize("case", params("tick"))
def test_a_role_ticks_items_of_a_stage_it_works_on_exactly_where_it_covers_the_unit(
    engine: Engine, case: Case
) -> None:
    stage = stage_worked_on_by(case.role)
    item = next(iter(SCHEME.stages[stage].checklist))
    code = project_in(engine, case.unit, stage, not_by=case.person)

    attempt(
        engine,
        case,
        code,
        case.may_tick_in(stage),
        lambda: engine.check(code, item, actor=case.person, now=at(30)),
    )


@pytest.mark.parametrize("case", params("comment"))
def test_a_role_comments_exactly_where_it_sees_the_project(engine: Engine, case: Case) -> None:
    code = project_in(engine, case.unit, SCHEME.initial_stage, not_by=case.person)

    attempt(
        engine,
        case,
        code,
        case.sees,
        lambda: engine.comment(code, "Piezīme", actor=case.person, now=at(30)),
    )


@pytest.mark.parametrize("case", params("force"))
def test_only_a_coordinator_forces_a_project(engine: Engine, case: Case) -> None:
    code = project_in(engine, case.unit, SCHEME.initial_stage, not_by=case.person)

    attempt(
        engine,
        case,
        code,
        case.may_force(),
        lambda: engine.force(code, "pre_assessment", reason=REASON, actor=case.person, now=at(30)),
    )
