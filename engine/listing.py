"""Project lists as pages: what a person may see, filtered, ordered and counted in the
database, and what asks something of them ("Mani darbi").

The engine turns the organisation and the schemes into a `storage.listing.Selection`
(for each scheme version, the stages that count and the units the person sees in each),
so the database finds the rows; views are built only for the page asked for. Finished
projects (in a terminal stage) are left out unless asked for.

"Mani darbi" narrows the selection to the places where the person's roles could be
asked something (stages whose owner, participants or actions they hold, handoffs they
could receive, projects they hold or escalations to them), then applies the exact rule
of engine/queue.py to those candidates only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from engine import absence, queue
from engine.machines import CompiledScheme
from engine.permissions import OrgIndex
from engine.versions import Versions
from engine.views import Ask, ProjectView
from storage import listing
from storage import projects as stored
from storage import versions as stored_versions
from storage.projects import ProjectRecord
from workflow.errors import NotFound, UsageError
from workflow.labels import folded, text
from workflow.scheme import COORDINATOR

PAGE_SIZE = 50
ORDERS = ("code", "deadline", "stage", "unit", "urgency")


@dataclass(frozen=True)
class Filters:
    """What a list asks for (all optional)."""

    unit: str | None = None
    stage: str | None = None
    assignee: str | None = None
    overdue_at: dt.datetime | None = None
    search: str | None = None
    finished: bool = False  # include projects in a terminal stage
    mine: bool = False  # only what asks something of the person


@dataclass(frozen=True)
class ProjectPage:
    """One page of a list and how many projects the whole list holds."""

    rows: list[ProjectView]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def schemes(versions: Versions, conn: Connection) -> list[CompiledScheme]:
    """Every stored scheme version, compiled (projects may follow any of them)."""
    return [versions.compiled(conn, v) for v in stored_versions.scheme_version_ids(conn)]


def selection(
    schemes: list[CompiledScheme], org: OrgIndex, who: str, f: Filters
) -> listing.Selection:
    """The places (version, stage, units) whose projects `who` may see and `f` keeps."""
    if f.unit is not None and f.unit not in org.org.units:
        raise NotFound(f"no unit {f.unit!r}", code="unit.unknown", unit=f.unit)
    wanted = set(org.subtree(f.unit)) if f.unit is not None else None
    allowed: dict[int, dict[str, list[str]]] = {}
    handoffs: dict[int, dict[str, list[str]]] = {}  # coordinators receive unstaffed ones
    for cs in schemes:
        roles = {
            u: r
            for u in org.org.units
            if (wanted is None or u in wanted)
            and (r := org.acting_roles(who, u, cs.levels, cs.version_id))
        }
        stages: dict[str, list[str]] = {}
        waiting: dict[str, list[str]] = {}
        for name, spec in cs.scheme.stages.items():
            if (f.stage is not None and name != f.stage) or (spec.terminal and not f.finished):
                continue
            units = list(roles)
            if f.mine:
                waiting[name] = [u for u in units if COORDINATOR in roles[u]]
                units = [u for u in units if _could_ask(cs, name, roles[u])]
            if units:
                stages[name] = units
        if stages:
            allowed[cs.version_id] = stages
        if any(waiting.values()):
            handoffs[cs.version_id] = waiting
    return listing.Selection(
        allowed,
        handoffs=handoffs,
        responsible=f.assignee,
        due_before=f.overdue_at,
        search=folded(f.search) if f.search else None,
    )


def _could_ask(cs: CompiledScheme, stage: str, roles: frozenset[str]) -> bool:
    """Whether a project in `stage` could ask something of someone acting with `roles`:
    they own or take part in it, or may take one of its actions. (A coordinator also
    receives a waiting handoff when nobody holds the owner's role: `Selection.handoffs`.)"""
    spec = cs.scheme.stages[stage]
    if spec.terminal:
        return False
    if roles & {spec.owner, *spec.participants}:
        return True
    actions = cs.scheme.actions
    return any(roles.intersection(actions[a].by) for a in cs.actions_from[stage])


def order(sort: str, schemes: list[CompiledScheme], org: OrgIndex, lang: str) -> listing.Order:
    """`sort` as the database orders it: stages and units by their titles in `lang`."""
    if sort not in ORDERS:
        raise UsageError(f"no sort order {sort!r}", code="list.unknown_sort", sort=sort)
    if sort == "stage":
        titles: dict[str, str] = {}
        for cs in schemes:
            for name in cs.scheme.stages:
                titles.setdefault(name, cs.scheme.stage_title(name, lang))
        return listing.Order("stage", _ranks(titles))
    if sort == "unit":
        names = {u: text(spec.name, lang, u) for u, spec in org.org.units.items()}
        return listing.Order("unit", _ranks(names))
    return listing.Order("deadline" if sort == "urgency" else sort)


def _ranks(titles: dict[str, str]) -> dict[str, int]:
    ordered = sorted(titles, key=lambda k: (titles[k].casefold(), k))
    return {key: rank for rank, key in enumerate(ordered)}


def _marked(
    row: ProjectRecord,
    cs: CompiledScheme,
    base: OrgIndex,
    who: str,
    absent: list[str],
    asked: list[Ask],
    ticked: set[str],
    lang: str,
) -> list[Ask]:
    """`asked` marked with the absent person it is asked for, when `who` would not be
    asked it with their own roles (or the project is the absent person's)."""
    for_person = next((p for p in absent if row.responsible_id == p), None)
    if for_person is None:
        own = base.acting_roles(who, row.unit_id, cs.levels, cs.version_id)
        mine = (
            {
                (a.kind, a.action)
                for a in queue.asks(
                    row, cs, base, who, own, ticked=ticked, escalated=False, lang=lang
                )
            }
            if own
            else set()
        )
        if all((a.kind, a.action) in mine for a in asked if a.kind != "escalation"):
            return asked
        for_person = next(
            (p for p in absent if base.own_roles(p, row.unit_id, cs.levels) - own), absent[0]
        )
    return [dataclasses.replace(a, for_person=for_person) for a in asked]


def waiting(
    conn: Connection,
    versions: Versions,
    org: OrgIndex,
    who: str,
    f: Filters,
    lang: str,
    now: dt.datetime | None = None,
) -> list[tuple[ProjectRecord, CompiledScheme, list[Ask]]]:
    """The projects that ask something of `who` now, most urgent first (overdue, then by
    deadline, then those without one), each with its scheme and what it asks. At `now`,
    a deputy's list holds the work of those they stand in for, each ask marked with
    whom it is for (`Ask.for_person`)."""
    base = org
    if now is not None:
        org = org.during(absence.today(conn, org, now))
    absent = [s.absent for s in org.standing_in(who)]
    all_schemes = schemes(versions, conn)
    by_id = {cs.version_id: cs for cs in all_schemes}
    places = selection(all_schemes, org, who, f)
    visible = selection(all_schemes, org, who, dataclasses.replace(f, mine=False))
    escalated = frozenset().union(*(stored.escalated_to(conn, p) for p in [who, *absent]))
    candidates = {
        r.id: r
        for sel in (
            dataclasses.replace(places, also=escalated),
            *(dataclasses.replace(visible, responsible=p) for p in [who, *absent]),
        )
        for r in listing.page(conn, sel, listing.Order("deadline"))
    }
    ticked = stored.checked_many(conn, list(candidates))
    roles_at: dict[tuple[str, int], frozenset[str]] = {}
    out = []
    for row in candidates.values():
        cs = by_id[row.scheme_version_id]
        key = (row.unit_id, cs.version_id)
        if key not in roles_at:
            roles_at[key] = org.acting_roles(who, row.unit_id, cs.levels, cs.version_id)
        roles = roles_at[key]
        if not roles:
            continue
        asked = queue.asks(
            row,
            cs,
            org,
            who,
            roles,
            ticked=ticked[row.id],
            escalated=row.id in escalated,
            lang=lang,
        )
        if asked and absent:
            asked = _marked(row, cs, base, who, absent, asked, ticked[row.id], lang)
        if asked:
            out.append((row, cs, asked))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    out.sort(key=lambda t: (t[0].next_due is None, t[0].next_due or far, t[0].code))
    return out
