"""The portfolio report: projects by unit, stage and funding instrument, overdue and
due-soon counts, and how long projects spend in each stage.

Every figure is an aggregate computed by the database (storage/reports.py); no project
row is loaded into Python. A person sees the projects they may see: everything with a
central role, else the units below the ones where they hold their parish roles. The
report is data; render/portfolio.py writes it as CSV or text tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from engine.ideas import count_by_status
from engine.permissions import OrgIndex
from engine.service import Engine
from engine.views import View
from engine.work import person as person_of
from storage import reports
from storage.reports import DAY_SECONDS, GroupCounts, PortfolioScope, StageCounts, StageTime
from workflow import instruments as catalogue
from workflow.errors import NotAllowed, NotFound, UsageError
from workflow.labels import text
from workflow.money import cents
from workflow.scheme import Level, Scheme

DEFAULT_SOON_DAYS = 5
NONE_KEY = "-"


@dataclass(frozen=True)
class Group(View):
    """Projects sharing a unit or a funding instrument."""

    key: str
    name: str
    projects: int
    active: int
    overdue: int
    due_soon: int
    budget_eur: Decimal


@dataclass(frozen=True)
class StageRow(View):
    """A stage of one scheme: projects in it now, and the time finished visits took."""

    scheme: str
    key: str
    name: str
    projects: int
    overdue: int
    due_soon: int
    visits: int
    avg_days: float | None
    max_days: float | None
    deadline: str | None


@dataclass(frozen=True)
class Portfolio(View):
    generated_at: dt.datetime
    due_soon_until: dt.datetime
    scope: str
    totals: dict[str, int | str]
    ideas: dict[str, int]
    by_unit: list[Group] = field(default_factory=list)
    by_stage: list[StageRow] = field(default_factory=list)
    by_instrument: list[Group] = field(default_factory=list)


# -- who sees what --------------------------------------------------------------------------


def _visible(org: OrgIndex, person: str, levels: dict[str, Level]) -> list[str] | None:
    """The units whose projects `person` may see; None for all of them."""
    units: set[str] = set()
    for role, unit in org.assignments.get(person, ()):
        if role not in levels:
            continue
        if levels[role] is Level.central:
            return None
        units.update(org.subtree(unit))
    if not units:
        raise NotAllowed(
            f"{person} may not see the portfolio: they hold no role",
            code="report.no_role",
            actor=person,
        )
    return sorted(units)


def _within(org: OrgIndex, unit: str | None) -> list[str] | None:
    """`unit` and the units below it; None for no unit filter."""
    if unit is None:
        return None
    if unit not in org.org.units:
        raise NotFound(f"no unit {unit!r}", code="unit.unknown", unit=unit)
    return org.subtree(unit)


def _terminal_stages(engine: Engine, conn: Connection) -> list[str]:
    """The terminal stage keys of every scheme version a project is on."""
    used = [engine.compiled(conn, v).scheme for v in reports.scheme_versions_in_use(conn)]
    return sorted({s for sc in used for s, st in sc.stages.items() if st.terminal})


# -- figures into views ---------------------------------------------------------------------


def _key(c: GroupCounts) -> str:
    return c.key if c.key is not None else NONE_KEY


def _group(c: GroupCounts, name: str) -> Group:
    return Group(_key(c), name, c.projects, c.active, c.overdue, c.due_soon, cents(c.budget_eur))


def _by_unit(counts: Sequence[GroupCounts], org: OrgIndex, lang: str) -> list[Group]:
    """Units with most projects first."""

    def unit_name(key: str) -> str:
        u = org.org.units.get(key)
        return text(u.name if u else None, lang, key)

    groups = (_group(c, unit_name(_key(c))) for c in counts)
    return sorted(groups, key=lambda g: (-g.projects, g.key))


def _by_instrument(counts: Sequence[GroupCounts], org: OrgIndex, lang: str) -> list[Group]:
    """Instruments with most projects first; projects with none last."""
    none = "(nav)" if lang == "lv" else "(none)"
    groups = (_group(c, catalogue.title(c.key, org.org, lang) if c.key else none) for c in counts)
    return sorted(groups, key=lambda g: (g.key == NONE_KEY, -g.projects, g.key))


def _days(seconds: float | None) -> float | None:
    return round(seconds / DAY_SECONDS, 1) if seconds is not None else None


def _by_stage(
    counts: Sequence[StageCounts],
    times: Sequence[StageTime],
    schemes: dict[str, Scheme],
    lang: str,
) -> list[StageRow]:
    """Schemes by name, then each scheme's stages in its newest version's order; a stage
    only an older version has comes after them."""
    now_in = {(c.scheme, c.stage): c for c in counts}
    timing = {(t.scheme, t.stage): t for t in times}

    def place(key: tuple[str, str]) -> tuple[str, int, str]:
        name, stage = key
        order = list(schemes[name].stages) if name in schemes else []
        return name, order.index(stage) if stage in order else len(order), stage

    rows = []
    for key in sorted(set(now_in) | set(timing), key=place):
        c, t = now_in.get(key), timing.get(key)
        name, s = key
        newest = schemes.get(name)
        spec = newest.stages.get(s) if newest else None
        rows.append(
            StageRow(
                name,
                s,
                newest.stage_title(s, lang) if newest else s,
                c.projects if c else 0,
                c.overdue if c else 0,
                c.due_soon if c else 0,
                t.visits if t else 0,
                _days(t.avg_seconds) if t else None,
                _days(t.max_seconds) if t else None,
                spec.deadline.describe(lang) if spec and spec.deadline else None,
            )
        )
    return rows


def _totals(c: GroupCounts) -> dict[str, int | str]:
    return {
        "projects": c.projects,
        "active": c.active,
        "overdue": c.overdue,
        "due_soon": c.due_soon,
        "budget_eur": f"{cents(c.budget_eur):.2f}",
    }


# -- the report -----------------------------------------------------------------------------


def portfolio(
    engine: Engine,
    *,
    actor: str | None,
    now: dt.datetime,
    unit: str | None = None,
    soon_days: int = DEFAULT_SOON_DAYS,
    lang: str = "lv",
) -> Portfolio:
    """The portfolio as `actor` may see it at `now`; "due soon" means a running deadline
    from now to the end of the `soon_days`-th working day from today."""
    if soon_days < 0:
        raise UsageError(
            "the number of working days for 'due soon' must be 0 or more",
            code="report.soon_days",
            days=soon_days,
        )
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        person = person_of(org, actor)
        schemes = {cs.name: cs.scheme for cs in engine.loaded_schemes(conn)}
        visible = _visible(org, person, engine.role_levels(conn)[1])
        within = _within(org, unit)
        cal = engine.calendar(org)
        soon = cal.end_of(cal.add_working_days(cal.local_date(now), soon_days))
        scope = PortfolioScope(visible, within, _terminal_stages(engine, conn), now, soon)
        by_unit = reports.counts_by_unit(conn, scope)
        by_instrument = reports.counts_by_instrument(conn, scope)
        by_stage = reports.counts_by_stage(conn, scope)
        times = reports.stage_times(conn, scope)
        total = reports.total_counts(conn, scope)
        idea_counts = count_by_status(conn)
    return Portfolio(
        generated_at=now,
        due_soon_until=soon,
        scope="all units" if visible is None and unit is None else (unit or "own units"),
        totals=_totals(total),
        ideas=idea_counts,
        by_unit=_by_unit(by_unit, org, lang),
        by_stage=_by_stage(by_stage, times, schemes, lang),
        by_instrument=_by_instrument(by_instrument, org, lang),
    )
