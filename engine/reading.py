"""The read side of the service API: caches keyed by stored versions, what a person may
see of a project, lists, actions, history, and who the CLI acts as. Writes live in
engine/service.py, whose Engine extends the Reader here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, select

from engine import views
from engine.machines import CompiledScheme, compile_scheme
from engine.permissions import OrgIndex
from engine.views import ActionView, ChecklistItem, DeadlineView, Event, Handoff, ProjectView
from storage import queries as q
from storage.database import Database
from storage.tables import (
    checklist,
    deadlines,
    handoffs,
    history,
    org_versions,
    projects,
    scheme_versions,
)
from workflow.calendar import WorkingCalendar
from workflow.errors import EnvironmentProblem, NotAllowed, NotFound, NotVisible, UsageError
from workflow.labels import text
from workflow.org import Organisation
from workflow.scheme import COORDINATOR, Level, Scheme


@dataclass
class Context:
    """One project as seen by one person inside one transaction."""

    row: Row[Any]
    scheme: CompiledScheme
    org: OrgIndex
    actor: str
    roles: frozenset[str]

    @property
    def code(self) -> str:
        return str(self.row.code)

    @property
    def stage(self) -> str:
        return str(self.row.stage)


class Reader:
    """The read side of the service API over one database, and the caches both sides use
    (compiled schemes, the organisation, calendars), keyed by versions stored in it."""

    def __init__(self, db: Database, *, web_url: str | None = None) -> None:
        self.db = db
        self.web_url = web_url.rstrip("/") if web_url else None  # where messages link to
        self._schemes: dict[int, CompiledScheme] = {}
        self._org: OrgIndex | None = None
        self._calendars: dict[int, WorkingCalendar] = {}

    @staticmethod
    def org_version_column() -> Any:
        """The current organisation version, as a column expression."""
        from sqlalchemy import func

        return func.max(org_versions.c.id)

    def calendar(self, org: OrgIndex) -> WorkingCalendar:
        """The working-day calendar of an organisation version (national + its overrides)."""
        found = self._calendars.get(org.version_id)
        if found is None:
            found = self._calendars[org.version_id] = WorkingCalendar(
                org.org.calendar, compiled=org.calendar
            )
        return found

    # -- caches ---------------------------------------------------------------------

    def compiled(self, conn: Connection, version_id: int) -> CompiledScheme:
        """The compiled scheme of a stored version (built once per process)."""
        found = self._schemes.get(version_id)
        if found is None:
            row = conn.execute(q.SCHEME_BY_ID, {"id": version_id}).one()
            scheme = Scheme.model_validate_json(row.compiled)
            found = compile_scheme(version_id, row.version, scheme)
            self._schemes[version_id] = found
        return found

    def org_index(self, conn: Connection, version_id: int | None = None) -> OrgIndex:
        """The organisation as last loaded; rebuilt only when its version changed."""
        if version_id is None:
            version_id = conn.execute(
                select(org_versions.c.id).order_by(org_versions.c.id.desc()).limit(1)
            ).scalar()
        if version_id is None:
            raise EnvironmentProblem("no organisation is loaded: run `shema org load FILE`")
        if self._org is None or self._org.version_id != version_id:
            found = conn.execute(
                select(org_versions.c.compiled, org_versions.c.calendar).where(
                    org_versions.c.id == version_id
                )
            ).one()
            calendar = json.loads(found.calendar) if found.calendar else None
            self._org = OrgIndex.build(
                version_id, Organisation.model_validate_json(found.compiled), calendar
            )
        return self._org

    def loaded_schemes(self, conn: Connection) -> list[CompiledScheme]:
        """The newest version of every loaded scheme, by name."""
        newest = select(func.max(scheme_versions.c.id)).group_by(scheme_versions.c.name)
        found = [self.compiled(conn, vid) for vid in conn.execute(newest).scalars()]
        return sorted(found, key=lambda cs: cs.name)

    def role_levels(self, conn: Connection) -> tuple[int, dict[str, Level]]:
        """Every role of every loaded scheme with its level (a role name means one level
        in all of them), and a key that changes whenever a scheme is loaded: what decides
        where a person acts outside any one project (ideas, the report, forms)."""
        schemes = self.loaded_schemes(conn)
        levels: dict[str, Level] = {}
        for cs in schemes:
            levels.update(cs.levels)
        return -max((cs.version_id for cs in schemes), default=0), levels

    def scheme_for_new(self, conn: Connection, name: str | None) -> CompiledScheme:
        """The scheme a new project follows: the newest version of `name`; without a name,
        the only loaded scheme (with several, the choice must be made)."""
        if name is not None:
            return self.latest_scheme(conn, name)
        schemes = self.loaded_schemes(conn)
        if len(schemes) > 1:
            names = ", ".join(cs.name for cs in schemes)
            raise UsageError(
                f"several schemes are loaded ({names}): say which one the project follows",
                schemes=[cs.name for cs in schemes],
            )
        return self.latest_scheme(conn)

    def latest_scheme(self, conn: Connection, name: str | None = None) -> CompiledScheme:
        """The newest version of scheme `name` (of the last loaded scheme when None)."""
        stmt = select(scheme_versions.c.id).order_by(scheme_versions.c.id.desc()).limit(1)
        if name is not None:
            stmt = stmt.where(scheme_versions.c.name == name)
        version_id = conn.execute(stmt).scalar()
        if version_id is None:
            if name is None:
                raise EnvironmentProblem("no scheme is loaded: run `shema scheme load FILE`")
            raise NotFound(f"no scheme named {name!r} is loaded", scheme=name)
        return self.compiled(conn, version_id)

    # -- reading --------------------------------------------------------------------

    def _row(self, conn: Connection, code: str, *, lock: bool = False) -> Row[Any]:
        """The project row; with `lock` (writes on PostgreSQL) the row is locked, so the
        version check and every later read see the latest committed state."""
        stmt = q.SELECT_PROJECT_FOR_UPDATE if lock and not self.db.is_sqlite else q.SELECT_PROJECT
        row = conn.execute(stmt, {"code": code}).first()
        if row is None:
            raise NotFound(f"no project {code!r}", project=code)
        return row

    def _person(self, org: OrgIndex, actor: str | None) -> str:
        if not actor:
            raise UsageError("say who you are: --as PERSON (or SHEMA_USER)")
        if actor not in org.org.people:
            raise NotFound(f"no person {actor!r} in the organisation", actor=actor)
        return actor

    def _ctx(self, conn: Connection, row: Row[Any], actor: str | None) -> Context:
        org = self.org_index(conn, row.org_version)
        person = self._person(org, actor)
        scheme = self.compiled(conn, row.scheme_version_id)
        roles = org.acting_roles(person, row.unit_id, scheme.levels, scheme.version_id)
        if not roles:
            raise NotVisible(
                f"{person} may not see project {row.code}: none of their roles covers "
                f"unit {row.unit_id}",
                actor=person,
                project=row.code,
            )
        return Context(row, scheme, org, person, roles)

    def project(
        self, code: str, *, actor: str | None, lang: str = "lv", now: dt.datetime | None = None
    ) -> ProjectView:
        """A snapshot of one project as `actor` may see it (deadline figures as at `now`)."""
        with self.db.read() as conn:
            ctx = self._ctx(conn, self._row(conn, code), actor)
            return self._view(
                conn, ctx.row, ctx.scheme, ctx.org, lang, with_checklist=True, now=now
            )

    def _view(
        self,
        conn: Connection,
        row: Row[Any],
        cs: CompiledScheme,
        org: OrgIndex,
        lang: str,
        *,
        with_checklist: bool = False,
        now: dt.datetime | None = None,
        pending: dict[int, Any] | None = None,
    ) -> ProjectView:
        """`pending`, when given, holds the waiting handoff rows of a whole list by project."""
        scheme = cs.scheme
        stage = scheme.stages[row.stage]
        handoff = None
        if row.handoff_since is not None:
            if pending is not None:
                h = pending.get(row.id)
            else:
                h = conn.execute(q.PENDING_HANDOFFS.where(handoffs.c.project_id == row.id)).first()
            if h is not None:
                receivers, _ = org.recipients(stage.owner or COORDINATOR, row.unit_id, cs.levels)
                handoff = Handoff(
                    h.action,
                    h.from_stage,
                    h.to_stage,
                    h.from_level,
                    h.to_level,
                    h.sent_at,
                    h.sent_by,
                    receivers,
                )
        items: list[ChecklistItem] = []
        if with_checklist:
            checked: dict[str, Any] = {
                r.item: r
                for r in conn.execute(select(checklist).where(checklist.c.project_id == row.id))
            }
            for item, label in stage.checklist.items():
                c = checked.get(item)
                items.append(
                    ChecklistItem(
                        item,
                        text(label, lang, item),
                        c is not None,
                        c.checked_by if c else None,
                        c.checked_at if c else None,
                    )
                )
        holder_kind, holder_id = "nobody", None
        if handoff is not None:
            holder_kind, holder_id, since = "handoff", handoff.to_level, handoff.sent_at
            holder = views.waiting_handoff(handoff.to_level, lang)
        else:
            since = row.stage_entered_at
            if row.responsible_id:
                holder = holder_id = row.responsible_id
                holder_kind = "person"
            elif stage.owner:
                holder_kind, holder_id = "role", stage.owner
                holder = scheme.role_title(stage.owner, lang)
            else:
                holder = "-"
        unstaffed = (
            not stage.terminal
            and row.responsible_id is None
            and stage.owner is not None
            and not org.staffed(stage.owner, row.unit_id, cs.levels)
        )
        unit = org.org.units.get(row.unit_id)
        if "next_due" in row._fields:
            next_due = row.next_due
        else:
            next_due = conn.execute(q.NEXT_DUE.where(deadlines.c.project_id == row.id)).first()
            next_due = next_due.due_at if next_due else None
        days_left = None
        cal = self.calendar(org)
        if next_due is not None and now is not None:
            days_left = cal.working_days_between(cal.local_date(now), cal.local_date(next_due))
        clocks: list[DeadlineView] = []
        if with_checklist:
            for d in conn.execute(q.OPEN_DEADLINES_OF, {"pid": row.id}):
                paused = d.paused_at is not None
                title = (
                    scheme.action_title(d.action, lang)
                    if d.kind == "duty" and d.action
                    else scheme.stage_title(d.stage, lang)
                )
                left = None
                if not paused and now is not None:
                    left = cal.working_days_between(cal.local_date(now), cal.local_date(d.due_at))
                overdue = not paused and now is not None and d.due_at < now
                clocks.append(
                    DeadlineView(d.kind, d.action, title, d.due_at, left, overdue, paused)
                )
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
            unstaffed=unstaffed,
            holder_since=since,
            handoff=handoff,
            hold_since=row.hold_since,
            hold_reason=row.hold_reason,
            created_at=row.created_at,
            created_by=row.created_by,
            budget_amount=row.budget_amount,
            budget_currency=row.budget_currency,
            funding_instrument=row.funding_instrument,
            partners=json.loads(row.partners),
            dates=json.loads(row.dates),
            terminal=stage.terminal,
            checklist=items,
            deadlines=clocks,
            due_at=next_due,
            days_left=days_left,
            overdue=next_due is not None and now is not None and next_due < now,
            idea_id=row.idea_id,
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
        lang: str = "lv",
        now: dt.datetime | None = None,
    ) -> list[ProjectView]:
        """Projects `actor` may see, filtered; `mine` keeps those waiting for `actor`
        (stages they own or hold, handoffs to acknowledge, escalations addressed to them);
        `overdue_at` keeps those with a running deadline past that instant."""
        with self.db.read() as conn:
            org = self.org_index(conn)
            person = self._person(org, actor)
            due = q.NEXT_DUE.subquery()
            stmt = (
                select(
                    projects,
                    q.SELECT_PROJECT.selected_columns.org_version,
                    due.c.due_at.label("next_due"),
                )
                .outerjoin(due, due.c.project_id == projects.c.id)
                .order_by(projects.c.id)
            )
            if overdue_at is not None:
                stmt = stmt.where(due.c.due_at < overdue_at)
            escalated: set[int] = set()
            if mine:
                escalated = set(conn.execute(q.ESCALATED_TO, {"person": person}).scalars())
            if unit is not None:
                if unit not in org.org.units:
                    raise NotFound(f"no unit {unit!r}", unit=unit)
                stmt = stmt.where(projects.c.unit_id.in_(org.subtree(unit)))
            if stage is not None:
                stmt = stmt.where(projects.c.stage == stage)
            if assignee is not None:
                stmt = stmt.where(projects.c.responsible_id == assignee)
            chosen = []
            for row in conn.execute(stmt):
                cs = self.compiled(conn, row.scheme_version_id)
                roles = org.acting_roles(person, row.unit_id, cs.levels, cs.version_id)
                if not roles:
                    continue
                if mine and not (self._waits_for(row, cs, person, roles) or row.id in escalated):
                    continue
                chosen.append((row, cs))
            waiting = [row.id for row, _ in chosen if row.handoff_since is not None]
            pending = (
                {
                    h.project_id: h
                    for h in conn.execute(
                        q.PENDING_HANDOFFS.where(handoffs.c.project_id.in_(waiting))
                    )
                }
                if waiting
                else {}
            )
            out = [
                self._view(conn, row, cs, org, lang, now=now or overdue_at, pending=pending)
                for row, cs in chosen
            ]
            return out

    @staticmethod
    def _waits_for(row: Row[Any], cs: CompiledScheme, person: str, roles: frozenset[str]) -> bool:
        stage = cs.scheme.stages[row.stage]
        if stage.terminal:
            return False
        if row.handoff_since is not None:
            return stage.owner in roles
        if row.responsible_id is not None:
            return bool(row.responsible_id == person)
        return stage.owner in roles

    def actions(self, code: str, *, actor: str | None, lang: str = "lv") -> list[ActionView]:
        """The actions `actor` may take on the project from its current stage, each with
        what still blocks it."""
        with self.db.read() as conn:
            ctx = self._ctx(conn, self._row(conn, code), actor)
            checked = set(conn.execute(q.SELECT_CHECKED, {"pid": ctx.row.id}).scalars())
            scheme = ctx.scheme.scheme
            out = []
            for name in ctx.scheme.actions_from[ctx.stage]:
                action = scheme.actions[name]
                if not ctx.roles.intersection(action.by):
                    continue
                missing = [i for i in action.requires if i not in checked]
                blocked = [f"missing checklist item {i}" for i in missing]
                if action.gates:
                    from engine.planning import missing_gates

                    blocked += missing_gates(conn, ctx.row.id, action.gates)
                if ctx.row.handoff_since is not None:
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
                    )
                )
            return out

    def history(self, code: str, *, actor: str | None) -> list[Event]:
        """The project's events in order."""
        with self.db.read() as conn:
            ctx = self._ctx(conn, self._row(conn, code), actor)
            rows = conn.execute(
                select(history).where(history.c.project_id == ctx.row.id).order_by(history.c.seq)
            )
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
                    json.loads(r.refs),
                    json.loads(r.data),
                    r.hash,
                )
                for r in rows
            ]


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
            actor=requested,
        )
    if requested and requested != mapped and not org.is_coordinator(mapped):
        raise NotAllowed(
            f"the account {os_account!r} belongs to {mapped} and may not act as {requested}",
            actor=requested,
        )
    return requested or mapped


def identify(engine: Reader, requested: str | None, os_account: str | None) -> str | None:
    """`resolve_actor` against the organisation stored in `engine`'s database."""
    with engine.db.read() as conn:
        return resolve_actor(engine.org_index(conn), requested, os_account)
