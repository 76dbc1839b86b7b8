"""The portfolio in pictures: what the timeline, the stage counts and the time charts
draw (render/charts.py turns it into SVG).

The figures over every visible project come from the portfolio report's database
aggregates (engine/report.py): projects and overdue ones per stage, and how long the
finished visits of each stage took. What needs a project's own history — its stages on
a timeline and how long its handoffs waited to be acknowledged — is read for one page of
projects only: the running projects the person may see with the nearest deadlines first
(`engine/listing.py` decides who sees what), at most `limit` of them. So the cost grows
with the page, never with the archive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine import listing
from engine.listing import Filters
from engine.machines import CompiledScheme
from engine.report import Portfolio, StageRow, portfolio
from engine.service import Engine
from engine.views import View
from engine.work import person as person_of
from storage import listing as stored_listing
from storage import projects as stored
from storage.projects import EventRecord, ProjectRecord
from workflow.calendar import WorkingCalendar
from workflow.scheme import Duration, Level

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A planned stage whose deadline counts back from a project date the project has not
# got yet is drawn this many working days wide: a rough placement, said so in its span.
UNKNOWN_SPAN = Duration(working_days=5)
DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class Visit(View):
    """A stage the project was (or is) in, from the event that entered it to the next
    move; `end` is None while the project is still there."""

    stage: str
    title: str
    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True)
class Planned(View):
    """A stage ahead on the scheme's path, placed roughly: one after another from the
    current stage's deadline, each as wide as its own deadline."""

    stage: str
    title: str
    start: dt.date
    end: dt.date
    deadline: str | None  # the scheme's deadline as text, e.g. "10 d.d."
    rough: bool  # the width is a guess (the deadline counts back from a date not set)


@dataclass(frozen=True)
class Lane(View):
    """One project on the timeline."""

    code: str
    title: str
    stage: str
    stage_title: str
    due_at: dt.datetime | None
    overdue: bool
    visits: list[Visit] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)


@dataclass(frozen=True)
class HandoffWait(View):
    """How long handoffs to one level waited to be acknowledged (days)."""

    to_level: str  # "central" or "parish": the side that acknowledged
    count: int
    avg_days: float
    max_days: float


@dataclass(frozen=True)
class Pictures(View):
    """Everything the pictures page and the printable report draw."""

    generated_at: dt.datetime
    report: Portfolio
    stages: list[StageRow]  # the report's stages that are not terminal
    lanes: list[Lane]
    running: int  # running projects the person may see (the lanes are the first of them)
    handoffs: list[HandoffWait]


def pictures(
    engine: Engine,
    *,
    actor: str | None,
    now: dt.datetime,
    limit: int = DEFAULT_LIMIT,
    lang: str = "lv",
) -> Pictures:
    """The portfolio's figures (over every project `actor` may see) and the timeline of
    at most `limit` running projects, nearest deadline first, as at `now`."""
    report = portfolio(engine, actor=actor, now=now, lang=lang)
    limit = max(1, min(limit, MAX_LIMIT))
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        who = person_of(org, actor)
        schemes = listing.schemes(engine.versions, conn)
        sel = listing.selection(schemes, org, who, Filters())
        running = stored_listing.count(conn, sel)
        rows = stored_listing.page(conn, sel, stored_listing.Order("deadline"), limit=limit)
        cal = engine.calendar(org)
        ends = {
            (cs.name, s) for cs in schemes for s, spec in cs.scheme.stages.items() if spec.terminal
        }
        lanes, waits = [], []
        for row in rows:
            cs = engine.compiled(conn, row.scheme_version_id)
            events = stored.events(conn, row.id)
            lanes.append(lane(row, cs, events, cal, now, lang))
            waits += handoff_waits(cs, events)
    stages = [s for s in report.by_stage if (s.scheme, s.key) not in ends]
    return Pictures(now, report, stages, lanes, running, summarise(waits))


def lane(
    row: ProjectRecord,
    cs: CompiledScheme,
    events: list[EventRecord],
    cal: WorkingCalendar,
    now: dt.datetime,
    lang: str,
) -> Lane:
    """The project's timeline: its visits from history, then the path ahead."""
    scheme = cs.scheme
    due = row.next_due
    start = cal.local_date(max(due, now) if due is not None else now)
    return Lane(
        code=row.code,
        title=row.title,
        stage=row.stage,
        stage_title=scheme.stage_title(row.stage, lang),
        due_at=due,
        overdue=due is not None and due < now,
        visits=visits(events, cs, lang),
        planned=planned(cs, row, start, cal, lang),
    )


def visits(events: list[EventRecord], cs: CompiledScheme, lang: str) -> list[Visit]:
    """Each entry into a stage (creation, or an event that changed the stage) until the
    next one; the last has no end."""
    entries = [
        e for e in events if e.to_stage and (e.from_stage is None or e.from_stage != e.to_stage)
    ]
    out = []
    for i, e in enumerate(entries):
        stage = e.to_stage or ""
        end = entries[i + 1].at if i + 1 < len(entries) else None
        out.append(Visit(stage, cs.scheme.stage_title(stage, lang), e.at, end))
    return out


def path_ahead(cs: CompiledScheme, stage: str) -> list[str]:
    """The stages after `stage` on the scheme's way forward: from each stage the first
    action (in file order) to a later, not terminal stage, until there is none."""
    order = list(cs.scheme.stages)
    out: list[str] = []
    here = stage
    while len(out) < len(order):
        ahead = [
            to
            for a in cs.actions_from.get(here, [])
            if (to := cs.scheme.actions[a].to) in cs.scheme.stages
            and order.index(to) > order.index(here)
            and not cs.scheme.stages[to].terminal
        ]
        if not ahead:
            break
        here = ahead[0]
        out.append(here)
    return out


def planned(
    cs: CompiledScheme, row: ProjectRecord, start: dt.date, cal: WorkingCalendar, lang: str
) -> list[Planned]:
    """The path ahead placed from `start`, each stage as wide as its deadline (a stage
    due before a project date ends on that date's deadline when the date is set)."""
    dates = row.date_values
    out = []
    for stage in path_ahead(cs, row.stage):
        spec = cs.scheme.stages[stage].deadline
        rough = spec is None or (spec.before is not None and spec.before not in dates)
        if spec is not None and spec.before is not None and not rough:
            end = max(start, cal.add(dates[spec.before], spec, sign=-1))
        else:
            end = cal.add(start, UNKNOWN_SPAN if rough or spec is None else spec)
        text = spec.describe(lang) if spec is not None else None
        out.append(Planned(stage, cs.scheme.stage_title(stage, lang), start, end, text, rough))
        start = end
    return out


def handoff_waits(cs: CompiledScheme, events: list[EventRecord]) -> list[tuple[str, float]]:
    """(the acknowledging side's level, seconds waited) of each acknowledged handoff."""
    out = []
    for e in events:
        seconds = e.data.get("waited_seconds") if e.kind == "acknowledged" else None
        stage = e.to_stage or e.from_stage
        if not isinstance(seconds, int | float) or stage not in cs.scheme.stages:
            continue
        level = cs.scheme.level_of_stage(stage)
        if level is not None:
            out.append((level.value, float(seconds)))
    return out


def summarise(waits: list[tuple[str, float]]) -> list[HandoffWait]:
    """Average and longest wait per receiving side, parish → central first."""
    out = []
    for level in (Level.central.value, Level.parish.value):
        seconds = [s for lvl, s in waits if lvl == level]
        if seconds:
            avg = sum(seconds) / len(seconds) / DAY_SECONDS
            out.append(
                HandoffWait(
                    level, len(seconds), round(avg, 2), round(max(seconds) / DAY_SECONDS, 2)
                )
            )
    return out
