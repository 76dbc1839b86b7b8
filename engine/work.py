"""The unit of work: the one way a project changes.

A writer gives `Work.change` the project's code, who acts, the time and a `decide`
function. Inside one transaction the project row is loaded and locked, the actor's
roles for the project's unit are found (a `Context`), `decide` checks the rules and
returns a `Change` (or raises a refusal, and nothing is written), and `Work.append`
compares-and-sets the row on its version, appends the hash-chained history event and
runs the change's extra statements. Writers that must do more in the same transaction
(promoting an idea creates the project and links the idea) use `Work.transaction` and
`Work.change_in`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from engine import absence
from engine.failpoints import failpoint
from engine.history import dumps, event_hash
from engine.machines import CompiledScheme
from engine.permissions import OrgIndex
from engine.versions import Versions
from storage import projects as stored
from storage.database import Database
from storage.projects import ProjectRecord
from workflow import limits
from workflow.calendar import WorkingCalendar
from workflow.errors import Conflict, NotAllowed, NotFound, NotVisible, UsageError
from workflow.scheme import COORDINATOR


@dataclass(frozen=True)
class Outcome:
    """What a write left behind: enough for a script to chain the next call."""

    code: str
    version: int
    stage: str
    seq: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "stage": self.stage,
            "event": self.seq,
            "kind": self.kind,
            **self.data,
        }


@dataclass
class Change:
    """What `decide` wants written: new column values, the event, and extra statements
    (`then`) run after the event in the same transaction."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    comment: str | None = None
    refs: Sequence[str] = ()
    data: dict[str, Any] = field(default_factory=dict)
    then: Callable[[Connection], object] | None = None
    # Recorded in the event beside `data` but not returned in the Outcome: the state after
    # the change that `audit verify` replays and compares with the rows (engine/audit/).
    audit: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """One project as seen by one person inside one transaction."""

    row: ProjectRecord
    scheme: CompiledScheme
    org: OrgIndex
    actor: str
    roles: frozenset[str]
    cal: WorkingCalendar
    web_url: str | None = None  # where messages link to
    # The absent people whose roles or project the actor uses here as their deputy
    # (engine/absence.py); each event they write says so (`acting_for`).
    acting_for: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def stage(self) -> str:
        return self.row.stage

    def refuse_during_handoff(self, what: str) -> None:
        """Refuse `what` while a handoff waits to be acknowledged."""
        if self.row.handoff_since is not None:
            owner = self.scheme.scheme.stages[self.stage].owner
            raise NotAllowed(
                f"{self.actor} may not {what} on {self.code}: the handoff to {owner} is not "
                "acknowledged yet",
                code="project.handoff_pending",
                actor=self.actor,
                project=self.code,
                what=what,
                owner=owner,
            )

    def refuse_during_hold(self, what: str) -> None:
        """Refuse `what` while the project is on hold: only resuming and comments are."""
        since = self.row.hold_since
        if since is not None:
            raise NotAllowed(
                f"{self.actor} may not {what} on {self.code}: it is on hold since "
                f"{since:%Y-%m-%d} ({self.row.hold_reason}); resume it first",
                code="project.on_hold",
                actor=self.actor,
                project=self.code,
                what=what,
                since=since.date(),
                reason=self.row.hold_reason,
            )

    def require_stage_role(self, what: str) -> None:
        """Refuse `what` unless the actor works on the current stage (its owner or a
        participant, the responsible person, or a coordinator)."""
        stage = self.scheme.scheme.stages[self.stage]
        allowed = {stage.owner, *stage.participants, COORDINATOR}
        if self.row.responsible_id in (self.actor, *self.acting_for) or self.roles & allowed:
            return
        need = [r for r in [stage.owner, *stage.participants] if r]
        raise NotAllowed(
            f"{self.actor} may not {what} on {self.code}: stage {self.stage} is worked on by "
            f"{', '.join(need) or 'nobody'}; {self.actor} acts there as "
            f"{', '.join(sorted(self.roles))}",
            code="project.not_stage_worker",
            actor=self.actor,
            project=self.code,
            what=what,
            stage=self.stage,
            needs=need,
            roles=sorted(self.roles),
        )


def aware(now: dt.datetime) -> dt.datetime:
    """`now` unchanged; a naive time is a programming error."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    return now


def person(org: OrgIndex, actor: str | None) -> str:
    """`actor` if the organisation knows them; else a refusal saying who is missing."""
    if not actor:
        raise UsageError("say who you are", code="actor.missing")
    if actor not in org.org.people:
        raise NotFound(
            f"no person {actor!r} in the organisation", code="person.unknown", person=actor
        )
    return actor


class Work:
    """Changes to projects, each in one transaction, through one door."""

    def __init__(self, db: Database, versions: Versions, *, web_url: str | None = None) -> None:
        self.db = db
        self.versions = versions
        self.web_url = web_url

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A writing transaction for a writer that changes more than one thing at once."""
        with self.db.write() as conn:
            yield conn

    def load(self, conn: Connection, code: str, *, lock: bool = False) -> ProjectRecord:
        """The project `code` (locked for writing with `lock`), or NotFound."""
        row = stored.load(conn, code, lock=lock)
        if row is None:
            raise NotFound(f"no project {code!r}", code="project.unknown", project=code)
        return row

    def context(
        self,
        conn: Connection,
        row: ProjectRecord,
        actor: str | None,
        now: dt.datetime | None = None,
    ) -> Context:
        """The project as `actor` sees it (at `now`: as a deputy too, with the roles of
        whom they stand in for); NotVisible when none of their roles covers the project's
        unit."""
        org = self.versions.org_index(conn, row.org_version)
        who = person(org, actor)
        if now is not None:
            org = org.during(absence.today(conn, org, now))
        scheme = self.versions.compiled(conn, row.scheme_version_id)
        roles = org.acting_roles(who, row.unit_id, scheme.levels, scheme.version_id)
        if not roles:
            raise NotVisible(
                f"{who} may not see project {row.code}: none of their roles covers "
                f"unit {row.unit_id}",
                code="project.not_visible",
                actor=who,
                project=row.code,
                unit=row.unit_id,
            )
        cal = self.versions.calendar(org, scheme.scheme.calendar.timezone)
        own = org.own_roles(who, row.unit_id, scheme.levels)
        acting_for = tuple(
            s.absent
            for s in org.standing_in(who)
            if s.absent == row.responsible_id
            or org.own_roles(s.absent, row.unit_id, scheme.levels) - own
        )
        return Context(row, scheme, org, who, roles, cal, self.web_url, acting_for)

    def change(
        self,
        code: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None,
        decide: Callable[[Connection, Context], Change],
    ) -> Outcome:
        """Change project `code` in a transaction of its own (see the module's doc)."""
        now = aware(now)
        with self.db.write() as conn:
            return self.change_in(conn, code, actor, now, expect_version, decide)

    def change_in(
        self,
        conn: Connection,
        code: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None,
        decide: Callable[[Connection, Context], Change],
    ) -> Outcome:
        """Change project `code` inside the caller's writing transaction. Conflict when
        `expect_version` is given and the project is elsewhere."""
        ctx = self.context(conn, self.load(conn, code, lock=True), actor, aware(now))
        row = ctx.row
        if expect_version is not None and expect_version != row.version:
            raise Conflict(
                f"project {row.code} changed since you looked: it is at version "
                f"{row.version}, you expected {expect_version}",
                code="project.stale",
                project=row.code,
                actor=ctx.actor,
                version=row.version,
                expected=expect_version,
            )
        change = decide(conn, ctx)
        if ctx.acting_for:
            change.data = {**change.data, "acting_for": list(ctx.acting_for)}
        return self.append(conn, row, change, aware(now), ctx.actor)

    def append(
        self,
        conn: Connection,
        row: ProjectRecord,
        change: Change,
        now: dt.datetime,
        actor: str | None,
    ) -> Outcome:
        """Apply `change` to the project `row` inside the caller's transaction: compare-and-set
        the row on its version, append the chained history event, run the change's extra
        statements. Raises Conflict if the row moved on since it was read, LimitExceeded
        if the comment or a document reference is longer than its bound."""
        limits.text("comment", change.comment)
        limits.texts("reference", tuple(change.refs))
        seq = row.head_seq + 1
        event = {
            "project_id": row.id,
            "seq": seq,
            "at": now,
            "actor_id": actor,
            "kind": change.kind,
            "action": change.action,
            "from_stage": change.from_stage,
            "to_stage": change.to_stage,
            "comment": change.comment,
            "refs": dumps(list(change.refs)),
            "data": dumps({**change.data, **change.audit} if change.audit else change.data),
            "prev_hash": row.head_hash,
        }
        event["hash"] = event_hash(event)
        values = {
            **change.values,
            "version": row.version + 1,
            "head_seq": seq,
            "head_hash": event["hash"],
        }
        if not stored.compare_and_set(conn, row.id, row.version, values):
            raise Conflict(
                f"project {row.code} was changed by someone else meanwhile; look again and retry",
                code="project.raced",
                project=row.code,
                actor=actor,
            )
        stored.append_event(conn, event)
        failpoint("advance.after_history")
        if change.then is not None:
            change.then(conn)
        failpoint("advance.after_outbox")
        stage = change.values.get("stage", row.stage)
        return Outcome(row.code, row.version + 1, stage, seq, change.kind, change.data)
