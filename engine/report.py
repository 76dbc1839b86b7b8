"""The portfolio report: projects by unit, stage and funding instrument, overdue and
due-soon counts, and how long projects spend in each stage.

Every figure is an aggregate computed by the database (GROUP BY, and a window function
over the history for stage times); no project row is loaded into Python. A person sees
the projects they may see: everything with a central role, else the units below the ones
where they hold their parish roles.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Numeric,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)

from engine.ideas import count_by_status
from engine.permissions import OrgIndex
from engine.service import Engine
from engine.views import _View
from storage.queries import NEXT_DUE
from storage.tables import history, projects, scheme_versions
from workflow import instruments as catalogue
from workflow.errors import NotAllowed, NotFound, UsageError
from workflow.labels import text
from workflow.money import LVL_PER_EUR, cents
from workflow.scheme import Level

DEFAULT_SOON_DAYS = 5
DAY_SECONDS = 86_400
NONE_KEY = "-"


@dataclass(frozen=True)
class Group(_View):
    """Projects sharing a unit or a funding instrument."""

    key: str
    name: str
    projects: int
    active: int
    overdue: int
    due_soon: int
    budget_eur: Decimal


@dataclass(frozen=True)
class StageRow(_View):
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
class Portfolio(_View):
    generated_at: dt.datetime
    due_soon_until: dt.datetime
    scope: str
    totals: dict[str, int | str]
    ideas: dict[str, int]
    by_unit: list[Group] = field(default_factory=list)
    by_stage: list[StageRow] = field(default_factory=list)
    by_instrument: list[Group] = field(default_factory=list)


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
        raise NotAllowed(f"{person} may not see the portfolio: they hold no role", actor=person)
    return sorted(units)


def _seconds(conn: Connection, start: Any, end: Any) -> ColumnElement[Any]:
    """`end - start` in seconds, in this database's dialect."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * DAY_SECONDS
    return func.extract("epoch", end - start)


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
        raise UsageError("--soon takes a number of working days, 0 or more")
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        person = engine._person(org, actor)
        schemes = {cs.name: cs for cs in engine.loaded_schemes(conn)}
        scope_units = _visible(org, person, engine.role_levels(conn)[1])
        cond: list[ColumnElement[bool]] = []
        if scope_units is not None:
            cond.append(projects.c.unit_id.in_(scope_units))
        if unit is not None:
            if unit not in org.org.units:
                raise NotFound(f"no unit {unit!r}", unit=unit)
            cond.append(projects.c.unit_id.in_(org.subtree(unit)))
        where = and_(true(), *cond)
        cal = engine.calendar(org)
        soon = cal.end_of(cal.add_working_days(cal.local_date(now), soon_days))

        versions = list(conn.execute(select(projects.c.scheme_version_id).distinct()).scalars())
        used = [engine.compiled(conn, v).scheme for v in versions]
        terminal = sorted({s for sc in used for s, st in sc.stages.items() if st.terminal})

        due = NEXT_DUE.subquery()
        eur = case(
            # Typed, or the rate is bound as Numeric(14, 2) like the column: 0.70.
            (
                projects.c.budget_currency == "LVL",
                projects.c.budget_amount / literal(LVL_PER_EUR, Numeric(12, 6)),
            ),
            (projects.c.budget_currency == "EUR", projects.c.budget_amount),
            else_=None,
        )
        measures = (
            func.count().label("projects"),
            func.sum(case((projects.c.stage.in_(terminal), 0), else_=1)).label("active"),
            func.sum(case((due.c.due_at < now, 1), else_=0)).label("overdue"),
            func.sum(case((and_(due.c.due_at >= now, due.c.due_at <= soon), 1), else_=0)).label(
                "due_soon"
            ),
            func.sum(eur, type_=Numeric(20, 6)).label("budget_eur"),
        )

        def grouped(column: Any) -> list[Any]:
            stmt = (
                select(column.label("key"), *measures)
                .select_from(projects)
                .outerjoin(due, due.c.project_id == projects.c.id)
                .where(where)
                .group_by(column)
            )
            return list(conn.execute(stmt))

        by_unit_rows = grouped(projects.c.unit_id)
        by_instrument_rows = grouped(projects.c.funding_instrument)
        # Stages are per scheme: two schemes may both have an `idea` stage.
        scheme_name = scheme_versions.c.name.label("scheme")
        by_stage_rows = {
            (r.scheme, r.key): r
            for r in conn.execute(
                select(scheme_name, projects.c.stage.label("key"), *measures)
                .select_from(projects)
                .join(scheme_versions, scheme_versions.c.id == projects.c.scheme_version_id)
                .outerjoin(due, due.c.project_id == projects.c.id)
                .where(where)
                .group_by(scheme_versions.c.name, projects.c.stage)
            )
        }

        # Stage visits: each entry into a stage (creation, or a move to another stage)
        # ends at the project's next entry; ongoing visits have no end yet.
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
                where,
                history.c.kind.in_(("created", "advanced", "forced")),
                or_(history.c.from_stage.is_(None), history.c.from_stage != history.c.to_stage),
            )
            .subquery()
        )
        seconds = _seconds(conn, entries.c.entered, entries.c.left)
        timing = {
            (r.scheme, r.stage): r
            for r in conn.execute(
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
        }
        totals_row = conn.execute(
            select(*measures)
            .select_from(projects)
            .outerjoin(due, due.c.project_id == projects.c.id)
            .where(where)
        ).one()
        idea_counts = count_by_status(conn)

    def group(r: Any, name: str) -> Group:
        budget = Decimal(r.budget_eur) if r.budget_eur is not None else Decimal(0)
        return Group(
            r.key if r.key is not None else NONE_KEY,
            name,
            int(r.projects),
            int(r.active or 0),
            int(r.overdue or 0),
            int(r.due_soon or 0),
            cents(budget),
        )

    def unit_name(key: str) -> str:
        u = org.org.units.get(key)
        return text(u.name if u else None, lang, key)

    none = "(nav)" if lang == "lv" else "(none)"
    by_unit = sorted(
        (group(r, unit_name(r.key)) for r in by_unit_rows), key=lambda g: (-g.projects, g.key)
    )
    by_instrument = sorted(
        (
            group(r, catalogue.title(r.key, org.org, lang) if r.key else none)
            for r in by_instrument_rows
        ),
        key=lambda g: (g.key == NONE_KEY, -g.projects, g.key),
    )

    def place(key: tuple[str, str]) -> tuple[str, int, str]:
        """Schemes by name, then each scheme's stages in its newest version's order."""
        name, stage = key
        order = list(schemes[name].scheme.stages) if name in schemes else []
        return name, order.index(stage) if stage in order else len(order), stage

    by_stage = []
    for key in sorted(set(by_stage_rows) | set(timing), key=place):
        now_row, t = by_stage_rows.get(key), timing.get(key)
        name, s = key
        newest = schemes[name].scheme if name in schemes else None
        spec = newest.stages.get(s) if newest else None
        by_stage.append(
            StageRow(
                name,
                s,
                newest.stage_title(s, lang) if newest else s,
                int(now_row.projects) if now_row else 0,
                int(now_row.overdue or 0) if now_row else 0,
                int(now_row.due_soon or 0) if now_row else 0,
                int(t.visits) if t else 0,
                round(t.avg_s / DAY_SECONDS, 1) if t and t.avg_s is not None else None,
                round(t.max_s / DAY_SECONDS, 1) if t and t.max_s is not None else None,
                spec.deadline.describe(lang) if spec and spec.deadline else None,
            )
        )
    tr = totals_row
    return Portfolio(
        generated_at=now,
        due_soon_until=soon,
        scope="all units" if scope_units is None and unit is None else (unit or "own units"),
        totals={
            "projects": int(tr.projects),
            "active": int(tr.active or 0),
            "overdue": int(tr.overdue or 0),
            "due_soon": int(tr.due_soon or 0),
            "budget_eur": f"{cents(Decimal(tr.budget_eur or 0)):.2f}",
        },
        ideas=idea_counts,
        by_unit=by_unit,
        by_stage=by_stage,
        by_instrument=by_instrument,
    )


# -- output -----------------------------------------------------------------------------

CSV_HEADER = [
    "section",
    "scheme",
    "key",
    "name",
    "projects",
    "active",
    "overdue",
    "due_soon",
    "budget_eur",
    "visits",
    "avg_days",
    "max_days",
    "deadline",
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def csv_rows(report: Portfolio) -> list[list[str]]:
    """The report as one flat table under CSV_HEADER: a `section` column says which
    breakdown a row belongs to (by_unit, by_stage, by_instrument, total)."""
    rows: list[list[Any]] = []
    for g in report.by_unit:
        rows.append(["by_unit", None, g.key, g.name, g.projects, g.active, g.overdue,
                     g.due_soon, g.budget_eur, None, None, None, None])  # fmt: skip
    for s in report.by_stage:
        rows.append(["by_stage", s.scheme, s.key, s.name, s.projects, None, s.overdue,
                     s.due_soon, None, s.visits, s.avg_days, s.max_days, s.deadline])  # fmt: skip
    for g in report.by_instrument:
        rows.append(["by_instrument", None, g.key, g.name, g.projects, g.active, g.overdue,
                     g.due_soon, g.budget_eur, None, None, None, None])  # fmt: skip
    t = report.totals
    rows.append(["total", None, "total", "", t["projects"], t["active"], t["overdue"],
                 t["due_soon"], t["budget_eur"], None, None, None, None])  # fmt: skip
    return [[_cell(c) for c in row] for row in rows]


def spreadsheet_csv(header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str) -> str:
    """CSV that spreadsheets open with Latvian letters intact: a UTF-8 byte-order mark
    first, CRLF line ends, fields quoted where needed. Encode the result as UTF-8."""
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise UsageError(f"a CSV delimiter is one character such as ',' or ';', not {delimiter!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


_TITLES: dict[str, dict[str, Any]] = {
    "lv": {
        "head": "Portfelis",
        "unit": "Pa struktūrvienībām",
        "stage": "Pa posmiem (laiks posmā: pabeigtie posmi, dienās)",
        "instrument": "Pa finansējuma instrumentiem",
        "cols": ["projekti", "aktīvi", "nokavēti", "drīz", "budžets EUR"],
        "stage_cols": ["tagad", "nokavēti", "drīz", "posmi", "vid. d.", "maks. d.", "termiņš"],
        "ideas": "Ideju burtnīca",
        "soon": "drīz = termiņš līdz",
    },
    "en": {
        "head": "Portfolio",
        "unit": "By unit",
        "stage": "By stage (time in stage: finished visits, in days)",
        "instrument": "By funding instrument",
        "cols": ["projects", "active", "overdue", "soon", "budget EUR"],
        "stage_cols": ["now", "overdue", "soon", "visits", "avg d", "max d", "deadline"],
        "ideas": "Ideas notebook",
        "soon": "soon = due by",
    },
}


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> list[str]:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def format_text(report: Portfolio, lang: str = "lv") -> str:
    """The report as aligned plain-text tables (no colour: pipes read it too)."""
    t = _TITLES[lang]
    tot = report.totals
    soon = report.due_soon_until.astimezone(ZoneInfo("Europe/Riga")).date().isoformat()
    lines: list[str] = [
        f"{t['head']}: {tot['projects']} / {tot['active']} / {tot['overdue']} / "
        f"{tot['due_soon']} ({', '.join(t['cols'][:4])}); {tot['budget_eur']} EUR; "
        f"{t['soon']} {soon}",
        "",
        t["unit"],
    ]
    group_rows = [
        (g.key, g.projects, g.active, g.overdue, g.due_soon, g.budget_eur, g.name)
        for g in report.by_unit
    ]
    lines += _table(group_rows, ["unit", *t["cols"], ""])
    lines += ["", t["stage"]]
    several = len({s.scheme for s in report.by_stage}) > 1
    stage_rows = [
        ((f"{s.scheme}: " if several else "") + s.key, s.projects, s.overdue, s.due_soon,
         s.visits, s.avg_days, s.max_days, s.deadline, s.name)
        for s in report.by_stage
    ]  # fmt: skip
    lines += _table(stage_rows, ["stage", *t["stage_cols"], ""])
    lines += ["", t["instrument"]]
    instrument_rows = [
        (g.key, g.projects, g.active, g.overdue, g.due_soon, g.budget_eur, g.name)
        for g in report.by_instrument
    ]
    lines += _table(instrument_rows, ["instrument", *t["cols"], ""])
    if report.ideas:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.ideas.items()))
        lines += ["", f"{t['ideas']}: {counts}"]
    return "\n".join(lines) + "\n"
