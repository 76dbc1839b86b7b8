"""The read side of the service API: what a person may see of a project, lists, the
actions open to them, history, and who the CLI acts as."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sqlalchemy import Connection

from engine import listing, views
from engine.controls import Controls, controls
from engine.gates import GATE_MESSAGES, unmet_gates
from engine.listing import PAGE_SIZE, Filters, ProjectPage
from engine.machines import CompiledScheme
from engine.permissions import OrgIndex
from engine.versions import Versions
from engine.views import (
    ActionView,
    Ask,
    Blocked,
    ChecklistItem,
    DeadlineView,
    Event,
    Handoff,
    ProjectView,
)
from engine.work import Work, person
from storage import deadlines as stored_deadlines
from storage import listing as stored_listing
from storage import projects as stored
from storage.database import Database
from storage.projects import HandoffRecord, ProjectRecord
from workflow.calendar import WorkingCalendar
from workflow.errors import NotAllowed
from workflow.labels import text
from workflow.scheme import COORDINATOR, Stage

Listed = tuple[ProjectRecord, CompiledScheme, list[Ask]]


class Reader:
    """Reads over one database, with the unit of work's way of finding a project and
    the person's roles on it, and the shared caches of stored versions."""

    def __init__(self, db: Database, versions: Versions, work: Work) -> None:
        self.db = db
        self.versions = versions
        self.work = work

    def project(
        self, code: str, *, actor: str | None, lang: str = "lv", now: dt.datetime | None = None
    ) -> ProjectView:
        """A snapshot of one project as `actor` may see it (deadline figures as at `now`)."""
        with self.db.read() as conn:
            ctx = self.work.context(conn, self.work.load(conn, code), actor, now)
            return self.view(conn, ctx.row, ctx.scheme, ctx.org, lang, full=True, now=now)

    def view(
        self,
        conn: Connection,
        row: ProjectRecord,
        cs: CompiledScheme,
        org: OrgIndex,
        lang: str,
        *,
        full: bool = False,
        now: dt.datetime | None = None,
        pending: dict[int, HandoffRecord] | None = None,
    ) -> ProjectView:
        """The view of one project row; `full` adds its checklist and every running clock.
        `pending`, when given, holds the waiting handoff rows of a whole list by project."""
        scheme = cs.scheme
        stage = scheme.stages[row.stage]
        handoff = self._handoff(conn, row, cs, org, pending)
        holder_kind, holder_id, holder, since = _holder(row, cs, stage, handoff, lang)
        unit = org.org.units.get(row.unit_id)
        next_due = row.next_due if pending is not None else stored.next_due(conn, row.id)
        cal = self.versions.calendar(org, cs.scheme.calendar.timezone)
        days_left = None
        if next_due is not None and now is not None:
            days_left = cal.working_days_between(cal.local_date(now), cal.local_date(next_due))
        return ProjectView(
            id=row.id,
            code=row.code,
            title=row.title,
            unit=row.unit_id,
            unit_name=text(unit.name if unit else None, lang, row.unit_id),
            scheme=cs.name,
            scheme_version=cs.version,
            stage=row.stage,
            stage_title=scheme.stage_title(row.stage, lang),
            stage_owner=stage.owner,
            stage_entered_at=row.stage_entered_at,
            version=row.version,
            responsible=row.responsible_id,
            holder=holder,
            holder_kind=holder_kind,
            holder_id=holder_id,
            unstaffed=(
                not stage.terminal
                and row.responsible_id is None
                and stage.owner is not None
                and not org.staffed(stage.owner, row.unit_id, cs.levels)
            ),
            holder_since=since,
            handoff=handoff,
            hold_since=row.hold_since,
            hold_reason=row.hold_reason,
            created_at=row.created_at,
            created_by=row.created_by,
            budget_amount=row.budget_amount,
            budget_currency=row.budget_currency,
            funding_instrument=row.funding_instrument,
            partners=list(row.partners),
            dates=dict(row.dates),
            terminal=stage.terminal,
            checklist=_checklist(conn, row, stage, lang) if full else [],
            deadlines=_clocks(conn, row, cs, cal, lang, now) if full else [],
            due_at=next_due,
            days_left=days_left,
            overdue=next_due is not None and now is not None and next_due < now,
            idea_id=row.idea_id,
        )

    @staticmethod
    def _handoff(
        conn: Connection,
        row: ProjectRecord,
        cs: CompiledScheme,
        org: OrgIndex,
        pending: dict[int, HandoffRecord] | None,
    ) -> Handoff | None:
        if row.handoff_since is None:
            return None
        h = pending.get(row.id) if pending is not None else stored.pending_handoff(conn, row.id)
        if h is None:
            return None
        owner = cs.scheme.stages[row.stage].owner
        receivers, _ = org.recipients(owner or COORDINATOR, row.unit_id, cs.levels)
        return Handoff(
            h.action,
            h.from_stage,
            h.to_stage,
            h.from_level,
            h.to_level,
            h.sent_at,
            h.sent_by,
            receivers,
        )

    def list_projects(
        self,
        *,
        actor: str | None,
        unit: str | None = None,
        stage: str | None = None,
        assignee: str | None = None,
        mine: bool = False,
        overdue_at: dt.datetime | None = None,
        search: str | None = None,
        finished: bool = False,
        sort: str = "code",
        lang: str = "lv",
        now: dt.datetime | None = None,
    ) -> list[ProjectView]:
        """Projects `actor` may see, filtered (see `Filters`), all of them; finished ones
        only with `finished`; `mine` keeps what asks something of `actor`, most urgent
        first, each with what it asks."""
        f = Filters(unit, stage, assignee, overdue_at, search, finished, mine)
        return list(self.iter_projects(actor=actor, filters=f, sort=sort, lang=lang, now=now))

    def page_of_projects(
        self,
        *,
        actor: str | None,
        filters: Filters,
        sort: str = "code",
        page: int = 1,
        size: int = PAGE_SIZE,
        lang: str = "lv",
        now: dt.datetime | None = None,
    ) -> ProjectPage:
        """One page of the list (`page` counts from 1) and the list's total."""
        page = max(1, page)
        start = (page - 1) * size
        with self.db.read() as conn:
            org = self.versions.org_index(conn)
            who = person(org, actor)
            if filters.mine:
                found = self._waiting(conn, org, who, filters, sort, lang, now)
                total, chosen = len(found), found[start : start + size]
            else:
                schemes = listing.schemes(self.versions, conn)
                sel = listing.selection(schemes, org, who, filters)
                order = listing.order(sort, schemes, org, lang)
                total = stored_listing.count(conn, sel)
                rows = stored_listing.page(conn, sel, order, offset=start, limit=size)
                chosen = self._with_schemes(conn, rows)
            views = self._views(conn, org, chosen, lang, now or filters.overdue_at)
        return ProjectPage(views, total, page, size)

    def iter_projects(
        self,
        *,
        actor: str | None,
        filters: Filters,
        sort: str = "code",
        lang: str = "lv",
        now: dt.datetime | None = None,
        chunk: int = 500,
    ) -> Iterator[ProjectView]:
        """The whole list, built a chunk at a time (for output that streams)."""
        when = now or filters.overdue_at
        with self.db.read() as conn:
            org = self.versions.org_index(conn)
            who = person(org, actor)
            if filters.mine:
                found = self._waiting(conn, org, who, filters, sort, lang, now)
                for start in range(0, len(found), chunk):
                    yield from self._views(conn, org, found[start : start + chunk], lang, when)
                return
            schemes = listing.schemes(self.versions, conn)
            sel = listing.selection(schemes, org, who, filters)
            order = listing.order(sort, schemes, org, lang)
            for rows in stored_listing.stream(conn, sel, order, chunk=chunk):
                yield from self._views(conn, org, self._with_schemes(conn, rows), lang, when)

    def _with_schemes(self, conn: Connection, rows: list[ProjectRecord]) -> list[Listed]:
        return [(r, self.versions.compiled(conn, r.scheme_version_id), []) for r in rows]

    def _waiting(
        self,
        conn: Connection,
        org: OrgIndex,
        who: str,
        filters: Filters,
        sort: str,
        lang: str,
        now: dt.datetime | None,
    ) -> list[Listed]:
        found = listing.waiting(conn, self.versions, org, who, filters, lang, now)
        if sort in ("code", "urgency", "deadline"):
            return found  # already most urgent first
        listing.order(sort, [], org, lang)  # refuses an unknown order
        rank = SORTS[sort]
        views = self._views(conn, org, found, lang, now)
        keyed = sorted(zip(views, found, strict=True), key=lambda pair: rank(pair[0]))
        return [entry for _, entry in keyed]

    def _views(
        self,
        conn: Connection,
        org: OrgIndex,
        chosen: list[Listed],
        lang: str,
        now: dt.datetime | None,
    ) -> list[ProjectView]:
        pending = stored.pending_handoffs(
            conn, [row.id for row, _, _ in chosen if row.handoff_since is not None]
        )
        return [
            dataclasses.replace(
                self.view(conn, row, cs, org, lang, now=now, pending=pending), asks=asked
            )
            for row, cs, asked in chosen
        ]

    def controls(self, code: str, *, actor: str | None, now: dt.datetime) -> Controls:
        """Which forms `actor` may use on the project now (engine/controls.py)."""
        with self.db.read() as conn:
            ctx = self.work.context(conn, self.work.load(conn, code), actor, now)
            return controls(conn, ctx, now)

    def actions(
        self, code: str, *, actor: str | None, lang: str = "lv", now: dt.datetime | None = None
    ) -> list[ActionView]:
        """The actions `actor` may take on the project from its current stage (as a
        deputy too, at `now`), each with what still blocks it."""
        with self.db.read() as conn:
            ctx = self.work.context(conn, self.work.load(conn, code), actor, now)
            checked = stored.checked(conn, ctx.row.id)
            scheme = ctx.scheme.scheme
            out = []
            for name in ctx.scheme.actions_from[ctx.stage]:
                action = scheme.actions[name]
                if not ctx.roles.intersection(action.by):
                    continue
                missing = [i for i in action.requires if i not in checked]
                why = [Blocked("unticked", {"item": i}) for i in missing]
                blocked = [f"missing checklist item {i}" for i in missing]
                if action.gates:
                    unmet = unmet_gates(conn, ctx.row.id, action.gates)
                    why += [Blocked("gate", {"gate": g}) for g in unmet]
                    blocked += [GATE_MESSAGES[g] for g in unmet]
                if ctx.row.hold_since is not None:
                    why.insert(0, Blocked("on_hold", {"since": ctx.row.hold_since.date()}))
                    blocked.insert(0, "the project is on hold")
                if ctx.row.handoff_since is not None:
                    why.insert(0, Blocked("handoff", {}))
                    blocked.insert(0, "the handoff is not acknowledged yet")
                out.append(
                    ActionView(
                        action=name,
                        title=scheme.action_title(name, lang),
                        to=action.to,
                        to_title=scheme.stage_title(action.to, lang),
                        handoff=scheme.handoff_source_level(name, ctx.stage) is not None,
                        comment=action.comment,
                        requires=list(action.requires),
                        missing=missing,
                        ready=not blocked,
                        blocked_by=blocked,
                        why=why,
                    )
                )
            return out

    def history(
        self, code: str, *, actor: str | None, now: dt.datetime | None = None
    ) -> list[Event]:
        """The project's events in order."""
        with self.db.read() as conn:
            ctx = self.work.context(conn, self.work.load(conn, code), actor, now)
            return [
                Event(
                    r.seq,
                    r.at,
                    r.actor_id,
                    r.kind,
                    r.action,
                    r.from_stage,
                    r.to_stage,
                    r.comment,
                    r.refs,
                    r.data,
                    r.hash,
                )
                for r in stored.events(conn, ctx.row.id)
            ]


def _urgency(p: ProjectView) -> tuple[int, int, str]:
    """Overdue first, then by working days left, then those without a deadline."""
    if p.days_left is None:
        return (2, 0, p.code)
    return (0 if p.overdue else 1, p.days_left, p.code)


def _by_deadline(p: ProjectView) -> tuple[bool, dt.datetime, str]:
    """The earliest running deadline first; projects without one last."""
    return (p.due_at is None, p.due_at or dt.datetime.max.replace(tzinfo=dt.UTC), p.code)


SORTS: dict[str, Callable[[ProjectView], Any]] = {
    "code": lambda p: p.code,
    "urgency": _urgency,
    "deadline": _by_deadline,
    "stage": lambda p: (p.stage_title.casefold(), p.code),
    "unit": lambda p: (p.unit_name.casefold(), p.code),
}


def _holder(
    row: ProjectRecord, cs: CompiledScheme, stage: Stage, handoff: Handoff | None, lang: str
) -> tuple[str, str | None, str, dt.datetime]:
    """Who holds the project (kind, id, display text) and since when."""
    if handoff is not None:
        return (
            "handoff",
            handoff.to_level,
            views.waiting_handoff(handoff.to_level, lang),
            handoff.sent_at,
        )
    since = row.stage_entered_at
    if row.responsible_id:
        return "person", row.responsible_id, row.responsible_id, since
    if stage.owner:
        return "role", stage.owner, cs.scheme.role_title(stage.owner, lang), since
    return "nobody", None, "-", since


def _checklist(
    conn: Connection, row: ProjectRecord, stage: Stage, lang: str
) -> list[ChecklistItem]:
    ticks = stored.ticks(conn, row.id)
    items = []
    for item, label in stage.checklist.items():
        c = ticks.get(item)
        items.append(
            ChecklistItem(
                item,
                text(label, lang, item),
                c is not None,
                c.checked_by if c else None,
                c.checked_at if c else None,
            )
        )
    return items


def _clocks(
    conn: Connection,
    row: ProjectRecord,
    cs: CompiledScheme,
    cal: WorkingCalendar,
    lang: str,
    now: dt.datetime | None,
) -> list[DeadlineView]:
    scheme = cs.scheme
    out = []
    for d in stored_deadlines.open_deadlines(conn, row.id):
        paused = d.paused_at is not None
        title = (
            scheme.action_title(d.action, lang)
            if d.kind == "duty" and d.action
            else scheme.stage_title(d.stage, lang)
        )
        left = None
        if not paused and now is not None:
            left = cal.working_days_between(cal.local_date(now), cal.local_date(d.due_at))
        # An outside body's lapsed period is a follow-up, not the municipality's delay.
        overdue = not paused and now is not None and d.due_at < now and d.kind != "external"
        out.append(DeadlineView(d.kind, d.action, title, d.due_at, left, overdue, paused))
    return out


def resolve_actor(org: OrgIndex, requested: str | None, os_account: str | None) -> str | None:
    """Who a CLI call acts as.

    Without an account mapping in the organisation file, `--as` is trusted (as far as the
    database credentials reach). With one, the OS account must map to a person, and only
    a coordinator's account may act for someone else.
    """
    if not org.accounts:
        return requested
    mapped = org.accounts.get(os_account or "")
    if mapped is None:
        raise NotAllowed(
            f"the account {os_account!r} is not mapped to a person in the "
            "organisation file (people.*.accounts)",
            code="actor.account_unmapped",
            actor=requested,
            account=os_account,
        )
    if requested and requested != mapped and not org.is_coordinator(mapped):
        raise NotAllowed(
            f"the account {os_account!r} belongs to {mapped} and may not act as {requested}",
            code="actor.account_not_theirs",
            actor=requested,
            account=os_account,
            mapped=mapped,
        )
    return requested or mapped


class _HasVersions(Protocol):
    db: Database
    versions: Versions


def identify(engine: _HasVersions, requested: str | None, os_account: str | None) -> str | None:
    """`resolve_actor` against the organisation stored in `engine`'s database."""
    with engine.db.read() as conn:
        return resolve_actor(engine.versions.org_index(conn), requested, os_account)
