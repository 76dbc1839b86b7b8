"""The service API: every front end (CLI, web, jobs) changes projects only through here.

`Engine` is the facade: reads go to the `Reader`, writes to the unit of work
(`engine/work.py`) with the rules of `engine/lifecycle.py`; each write is one
transaction and a refusal writes nothing. Time is a parameter: pass `now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from engine import lifecycle
from engine.controls import Controls
from engine.creation import NewProject, create_in
from engine.listing import Filters, ProjectPage
from engine.machines import CompiledScheme
from engine.permissions import OrgIndex
from engine.reading import Reader, identify, resolve_actor
from engine.versions import Versions
from engine.views import ActionView, Event, ProjectView
from engine.work import Change, Context, Outcome, Work, aware
from storage.database import Database
from workflow import limits
from workflow.calendar import WorkingCalendar
from workflow.errors import UsageError
from workflow.money import EUR
from workflow.scheme import Level


def _needs_text(value: str, what: str, field: str, code: str) -> None:
    if not value.strip():
        raise UsageError(f"{what}", code=code, field=field)
    limits.text(field, value)


class Engine:
    """The service API over one database."""

    def __init__(self, db: Database, *, web_url: str | None = None) -> None:
        self.db = db
        self.web_url = web_url.rstrip("/") if web_url else None  # where messages link to
        self.versions = Versions()
        self.work = Work(db, self.versions, web_url=self.web_url)
        self.reader = Reader(db, self.versions, self.work)

    # -- the stored versions, compiled -----------------------------------------------

    def calendar(self, org: OrgIndex, timezone: str | None = None) -> WorkingCalendar:
        return self.versions.calendar(org, timezone)

    def compiled(self, conn: Connection, version_id: int) -> CompiledScheme:
        return self.versions.compiled(conn, version_id)

    def org_index(self, conn: Connection, version_id: int | None = None) -> OrgIndex:
        return self.versions.org_index(conn, version_id)

    def loaded_schemes(self, conn: Connection) -> list[CompiledScheme]:
        return self.versions.loaded_schemes(conn)

    def role_levels(self, conn: Connection) -> tuple[int, dict[str, Level]]:
        return self.versions.role_levels(conn)

    def scheme_for_new(self, conn: Connection, name: str | None) -> CompiledScheme:
        return self.versions.scheme_for_new(conn, name)

    def latest_scheme(self, conn: Connection, name: str | None = None) -> CompiledScheme:
        return self.versions.latest_scheme(conn, name)

    # -- reads ------------------------------------------------------------------------

    def project(
        self, code: str, *, actor: str | None, lang: str = "lv", now: dt.datetime | None = None
    ) -> ProjectView:
        """A snapshot of one project as `actor` may see it (deadline figures as at `now`)."""
        return self.reader.project(code, actor=actor, lang=lang, now=now)

    def list_projects(self, *, actor: str | None, **filters: Any) -> list[ProjectView]:
        """Projects `actor` may see, filtered (see `Reader.list_projects`: unit, stage,
        assignee, mine, overdue_at, search, sort, lang, now)."""
        return self.reader.list_projects(actor=actor, **filters)

    def page_of_projects(self, *, actor: str | None, filters: Filters, **how: Any) -> ProjectPage:
        """One page of a list and its total (see `Reader.page_of_projects`)."""
        return self.reader.page_of_projects(actor=actor, filters=filters, **how)

    def iter_projects(
        self, *, actor: str | None, filters: Filters, **how: Any
    ) -> Iterator[ProjectView]:
        """The whole list, a chunk at a time (see `Reader.iter_projects`)."""
        return self.reader.iter_projects(actor=actor, filters=filters, **how)

    def controls(self, code: str, *, actor: str | None, now: dt.datetime) -> Controls:
        """Which forms `actor` may use on the project now, and why not the others."""
        return self.reader.controls(code, actor=actor, now=now)

    def actions(
        self, code: str, *, actor: str | None, lang: str = "lv", now: dt.datetime | None = None
    ) -> list[ActionView]:
        """The actions `actor` may take from the current stage, with what blocks each."""
        return self.reader.actions(code, actor=actor, lang=lang, now=now)

    def history(
        self, code: str, *, actor: str | None, now: dt.datetime | None = None
    ) -> list[Event]:
        """The project's events in order."""
        return self.reader.history(code, actor=actor, now=now)

    # -- writes -----------------------------------------------------------------------

    def append(
        self, conn: Connection, row: Any, change: Change, now: dt.datetime, actor: str | None
    ) -> Outcome:
        """`Work.append`: apply a change inside the caller's transaction."""
        return self.work.append(conn, row, change, now, actor)

    def advance(
        self,
        code: str,
        action: str,
        *,
        actor: str | None,
        now: dt.datetime,
        comment: str | None = None,
        refs: Sequence[str] = (),
        expect_version: int | None = None,
    ) -> Outcome:
        """Move the project by `action`; refused unless the action leaves the current stage,
        the actor holds an allowed role for the project's unit, no handoff is pending,
        required checklist items are ticked and a required comment is given."""
        decide = lifecycle.advance(action, now, comment, refs)
        return self.work.change(code, actor, now, expect_version, decide)

    def acknowledge(
        self, code: str, *, actor: str | None, now: dt.datetime, expect_version: int | None = None
    ) -> Outcome:
        """The receiving side takes over a handed-off project; the acknowledger becomes
        responsible unless someone already is."""
        return self.work.change(code, actor, now, expect_version, lifecycle.acknowledge(now))

    def check(
        self,
        code: str,
        item: str,
        *,
        actor: str | None,
        now: dt.datetime,
        checked: bool = True,
        expect_version: int | None = None,
    ) -> Outcome:
        """Tick (or untick) a checklist item of the current stage."""
        decide = lifecycle.check(item, now, checked)
        return self.work.change(code, actor, now, expect_version, decide)

    def assign(
        self,
        code: str,
        person: str,
        *,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None = None,
    ) -> Outcome:
        """Make `person` responsible for the project; they must be able to work on its
        current stage for the project's unit."""
        return self.work.change(code, actor, now, expect_version, lifecycle.assign(person))

    def comment(
        self,
        code: str,
        body: str,
        *,
        actor: str | None,
        now: dt.datetime,
        refs: Sequence[str] = (),
        expect_version: int | None = None,
    ) -> Outcome:
        """Add a comment (with optional document references); anyone who sees it may."""
        _needs_text(body, "a comment needs text", "comment", "comment.empty")
        decide = lifecycle.comment(body, refs)
        return self.work.change(code, actor, now, expect_version, decide)

    def hold(
        self,
        code: str,
        *,
        reason: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None = None,
    ) -> Outcome:
        """Pause the project (waiting for an external body)."""
        _needs_text(reason, "a hold needs a reason", "reason", "hold.no_reason")
        decide = lifecycle.hold(reason, now)
        return self.work.change(code, actor, now, expect_version, decide)

    def resume(
        self, code: str, *, actor: str | None, now: dt.datetime, expect_version: int | None = None
    ) -> Outcome:
        """End a hold."""
        return self.work.change(code, actor, now, expect_version, lifecycle.resume(now))

    def force(
        self,
        code: str,
        stage: str,
        *,
        reason: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None = None,
    ) -> Outcome:
        """A coordinator moves the project to any stage, with a recorded reason."""
        _needs_text(reason, "forcing a project needs a reason", "reason", "force.no_reason")
        decide = lifecycle.force(stage, reason, now)
        return self.work.change(code, actor, now, expect_version, decide)

    def create_project(
        self,
        *,
        title: str,
        unit: str,
        actor: str | None,
        now: dt.datetime,
        scheme: str | None = None,
        budget: Decimal | None = None,
        currency: str = EUR,
        funding_instrument: str | None = None,
        partners: Sequence[str] = (),
        dates: dict[str, dt.date] | None = None,
        responsible: str | None = None,
    ) -> Outcome:
        """A new project in the initial stage of the newest version of `scheme`, with a code
        PREFIX-YEAR-NNNN from the per-year counter."""
        now = aware(now)
        new = NewProject(
            title,
            unit,
            scheme,
            budget,
            currency,
            funding_instrument,
            tuple(partners),
            dict(dates or {}),
            responsible,
        ).checked()
        with self.work.transaction() as conn:
            return create_in(conn, self.versions, new, actor=actor, now=now)


__all__ = ["Change", "Context", "Engine", "Outcome", "Reader", "identify", "resolve_actor"]
