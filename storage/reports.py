"""The aggregates behind the portfolio report, and the running deadlines behind the
iCalendar export.

Every figure is computed by the database (GROUP BY, and a window function over the
history for stage times): no project row is loaded into Python, so the number of
statements does not grow with the number of projects.

Every function runs in the caller's transaction (`Database.read()`) and commits
nothing; several calls in one transaction see one snapshot only as far as the
database's isolation level promises it (PostgreSQL's default READ COMMITTED does not;
SQLite's read transaction does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Numeric,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)

from storage.projects import NEXT_DUE
from storage.tables import deadlines, history, projects, scheme_versions
from workflow.money import LVL_PER_EUR

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class PortfolioScope:
    """Which projects the figures count, and the instants that classify deadlines.

    `visible` and `within` are unit ids a project's unit must be among (None: any unit);
    `terminal` are the stage keys that make a project no longer active; a running
    deadline before `now` is overdue, one from `now` to `soon` (inclusive) is due soon.
    """

    visible: Sequence[str] | None
    within: Sequence[str] | None
    terminal: Sequence[str]
    now: dt.datetime
    soon: dt.datetime


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """The projects sharing one value of a column (a unit, a funding instrument), or all
    of them. `key` is None for projects with no value; `budget_eur` sums the budgets in
    euro or lats (converted), 0 when there are none."""

    key: str | None
    projects: int
    active: int
    overdue: int
    due_soon: int
    budget_eur: Decimal


@dataclass(frozen=True, slots=True)
class StageCounts:
    """The projects now in one stage of one scheme."""

    scheme: str
    stage: str
    projects: int
    overdue: int
    due_soon: int


@dataclass(frozen=True, slots=True)
class StageTime:
    """The finished visits of one stage of one scheme: how many, and their average and
    longest length in seconds (None when the database gives no figure)."""

    scheme: str
    stage: str
    visits: int
    avg_seconds: float | None
    max_seconds: float | None


@dataclass(frozen=True, slots=True)
class RunningDeadline:
    """An open deadline that is not paused, with the project it belongs to."""

    id: int
    kind: str  # stage | duty | handoff
    stage: str
    action: str | None
    due_at: dt.datetime
    code: str
    title: str
    unit_id: str
    responsible_id: str | None
    scheme_version_id: int


# -- the portfolio ------------------------------------------------------------------------


def scheme_versions_in_use(conn: Connection) -> list[int]:
    """The scheme versions that any project (whoever may see it) is on, each once, in no
    particular order; [] when there are no projects."""
    return list(conn.execute(select(projects.c.scheme_version_id).distinct()).scalars())


def _where(scope: PortfolioScope) -> ColumnElement[bool]:
    cond: list[ColumnElement[bool]] = []
    if scope.visible is not None:
        cond.append(projects.c.unit_id.in_(list(scope.visible)))
    if scope.within is not None:
        cond.append(projects.c.unit_id.in_(list(scope.within)))
    return and_(true(), *cond)


_DUE = NEXT_DUE.subquery()


def _measures(scope: PortfolioScope) -> tuple[Any, ...]:
    """The figures of a group of projects (joined to their earliest running deadline)."""
    eur = case(
        # Typed, or the rate is bound as Numeric(14, 2) like the column: 0.70.
        (
            projects.c.budget_currency == "LVL",
            projects.c.budget_amount / literal(LVL_PER_EUR, Numeric(12, 6)),
        ),
        (projects.c.budget_currency == "EUR", projects.c.budget_amount),
        else_=None,
    )
    due_at = _DUE.c.due_at
    return (
        func.count().label("projects"),
        func.sum(case((projects.c.stage.in_(list(scope.terminal)), 0), else_=1)).label("active"),
        func.sum(case((due_at < scope.now, 1), else_=0)).label("overdue"),
        func.sum(case((and_(due_at >= scope.now, due_at <= scope.soon), 1), else_=0)).label(
            "due_soon"
        ),
        func.sum(eur, type_=Numeric(20, 6)).label("budget_eur"),
    )


def _group(key: str | None, r: Any) -> GroupCounts:
    return GroupCounts(
        key,
        int(r.projects),
        int(r.active or 0),
        int(r.overdue or 0),
        int(r.due_soon or 0),
        Decimal(r.budget_eur) if r.budget_eur is not None else Decimal(0),
    )


def _grouped(conn: Connection, scope: PortfolioScope, column: Any) -> list[GroupCounts]:
    stmt = (
        select(column.label("key"), *_measures(scope))
        .select_from(projects)
        .outerjoin(_DUE, _DUE.c.project_id == projects.c.id)
        .where(_where(scope))
        .group_by(column)
    )
    return [_group(r.key, r) for r in conn.execute(stmt)]


def counts_by_unit(conn: Connection, scope: PortfolioScope) -> list[GroupCounts]:
    """The figures of the projects in `scope`, one record per unit that has any, in no
    particular order; [] when there are none."""
    return _grouped(conn, scope, projects.c.unit_id)


def counts_by_instrument(conn: Connection, scope: PortfolioScope) -> list[GroupCounts]:
    """The figures of the projects in `scope`, one record per funding instrument (key None:
    projects with none), in no particular order; [] when there are no projects."""
    return _grouped(conn, scope, projects.c.funding_instrument)


def counts_by_stage(conn: Connection, scope: PortfolioScope) -> list[StageCounts]:
    """The projects in `scope` now in each stage, per scheme name (two schemes may both
    have an `idea` stage), in no particular order; [] when there are none."""
    stmt = (
        select(
            scheme_versions.c.name.label("scheme"),
            projects.c.stage.label("key"),
            *_measures(scope),
        )
        .select_from(projects)
        .join(scheme_versions, scheme_versions.c.id == projects.c.scheme_version_id)
        .outerjoin(_DUE, _DUE.c.project_id == projects.c.id)
        .where(_where(scope))
        .group_by(scheme_versions.c.name, projects.c.stage)
    )
    return [
        StageCounts(r.scheme, r.key, int(r.projects), int(r.overdue or 0), int(r.due_soon or 0))
        for r in conn.execute(stmt)
    ]


def _seconds(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """`end - start` in seconds, in this database's dialect."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * DAY_SECONDS
    return func.extract("epoch", end - start)


def stage_times(conn: Connection, scope: PortfolioScope) -> list[StageTime]:
    """How long the finished visits of each stage took, per scheme name, over the
    history of the projects in `scope`; in no particular order; [] when none finished.

    A visit starts at each entry into a stage (creation, or a move to another stage) and
    ends at the project's next entry; ongoing visits have no end yet and are left out."""
    entries = (
        select(
            scheme_versions.c.name.label("scheme"),
            history.c.to_stage.label("stage"),
            history.c.at.label("entered"),
            func.lead(history.c.at)
            .over(partition_by=history.c.project_id, order_by=history.c.seq)
            .label("left"),
        )
        .join(projects, projects.c.id == history.c.project_id)
        .join(scheme_versions, scheme_versions.c.id == projects.c.scheme_version_id)
        .where(
            _where(scope),
            history.c.kind.in_(("created", "advanced", "forced")),
            or_(history.c.from_stage.is_(None), history.c.from_stage != history.c.to_stage),
        )
        .subquery()
    )
    seconds = _seconds(conn, entries.c.entered, entries.c.left)
    stmt = (
        select(
            entries.c.scheme,
            entries.c.stage,
            func.count().label("visits"),
            func.avg(seconds, type_=Float).label("avg_s"),
            func.max(seconds, type_=Float).label("max_s"),
        )
        .where(entries.c.left.is_not(None))
        .group_by(entries.c.scheme, entries.c.stage)
    )
    return [
        StageTime(r.scheme, r.stage, int(r.visits), r.avg_s, r.max_s) for r in conn.execute(stmt)
    ]


def total_counts(conn: Connection, scope: PortfolioScope) -> GroupCounts:
    """The figures of all the projects in `scope` (key None); zeros when there are none."""
    row = conn.execute(
        select(*_measures(scope))
        .select_from(projects)
        .outerjoin(_DUE, _DUE.c.project_id == projects.c.id)
        .where(_where(scope))
    ).one()
    return _group(None, row)


# -- the calendar export --------------------------------------------------------------------

_RUNNING: Select[Any] = (
    select(
        deadlines.c.id,
        deadlines.c.kind,
        deadlines.c.stage,
        deadlines.c.action,
        deadlines.c.due_at,
        projects.c.code,
        projects.c.title,
        projects.c.unit_id,
        projects.c.responsible_id,
        projects.c.scheme_version_id,
    )
    .join(projects, projects.c.id == deadlines.c.project_id)
    .where(and_(deadlines.c.closed_at.is_(None), deadlines.c.paused_at.is_(None)))
    .order_by(deadlines.c.due_at, deadlines.c.id)
)


def running_deadlines(
    conn: Connection, *, units: Sequence[str] | None = None
) -> list[RunningDeadline]:
    """Every open, unpaused deadline of every project (or only of projects in `units`),
    earliest due first, ties by id; [] when there are none. Nobody's permissions are
    applied here."""
    stmt = _RUNNING
    if units is not None:
        stmt = stmt.where(projects.c.unit_id.in_(list(units)))
    return [
        RunningDeadline(
            r.id,
            r.kind,
            r.stage,
            r.action,
            r.due_at,
            r.code,
            r.title,
            r.unit_id,
            r.responsible_id,
            r.scheme_version_id,
        )
        for r in conn.execute(stmt)
    ]
