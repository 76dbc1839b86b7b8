"""Projects and what belongs to one project alone: its row, its hash-chained history,
its checklist ticks and its handoffs.

Every function runs in the caller's transaction (`Database.write()` or `.read()`); none
commits. Rows come back as typed records with JSON columns decoded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import (
    checklist,
    code_counters,
    deadlines,
    handoffs,
    history,
    org_versions,
    outbox,
    projects,
)
from workflow.labels import folded


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A project row, with the organisation version current when it was read (caches
    are keyed by it, so a process sees an `org load` made elsewhere) and, in lists, the
    earliest running deadline."""

    id: int
    code: str
    title: str
    unit_id: str
    scheme_version_id: int
    stage: str
    stage_entered_at: dt.datetime
    version: int
    responsible_id: str | None
    budget_amount: Decimal | None
    budget_currency: str
    funding_instrument: str | None
    partners: list[str]
    dates: dict[str, str]  # name -> ISO date
    handoff_since: dt.datetime | None
    hold_since: dt.datetime | None
    hold_reason: str | None
    created_at: dt.datetime
    created_by: str | None
    head_seq: int
    head_hash: str
    idea_id: int | None
    org_version: int | None
    next_due: dt.datetime | None = None

    @property
    def date_values(self) -> dict[str, dt.date]:
        return {k: dt.date.fromisoformat(v) for k, v in self.dates.items()}


@dataclass(frozen=True, slots=True)
class Tick:
    item: str
    checked_at: dt.datetime
    checked_by: str | None


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    project_id: int
    action: str
    from_stage: str
    to_stage: str
    from_level: str
    to_level: str
    sent_at: dt.datetime
    sent_by: str | None


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    at: dt.datetime
    actor_id: str | None
    kind: str
    action: str | None
    from_stage: str | None
    to_stage: str | None
    comment: str | None
    refs: list[str]
    data: dict[str, Any]
    hash: str


ORG_VERSION = select(func.max(org_versions.c.id)).scalar_subquery().label("org_version")
_SELECT = select(projects, ORG_VERSION).where(projects.c.code == bindparam("code"))
# SQLAlchemy leaves FOR UPDATE out on SQLite, where BEGIN IMMEDIATE already serialises.
_SELECT_LOCKED = _SELECT.with_for_update(of=projects)
_SELECT_BY_ID = select(projects, ORG_VERSION).where(projects.c.id == bindparam("pid"))
_CAS = update(projects).where(
    and_(projects.c.id == bindparam("pid"), projects.c.version == bindparam("old_version"))
)
_SET_HEAD = (
    update(projects).where(projects.c.id == bindparam("pid")).values(head_hash=bindparam("head"))
)
# The earliest running deadline of each project (paused ones do not run); reports and
# status join it too.
NEXT_DUE = (
    select(deadlines.c.project_id, func.min(deadlines.c.due_at).label("due_at"))
    # An outside body's clock (kind external) never makes a project overdue or due.
    .where(
        and_(
            deadlines.c.closed_at.is_(None),
            deadlines.c.paused_at.is_(None),
            deadlines.c.kind != "external",
        )
    )
    .group_by(deadlines.c.project_id)
)
_PENDING = select(handoffs).where(handoffs.c.acknowledged_at.is_(None))
_CHECKED = select(checklist.c.item).where(checklist.c.project_id == bindparam("pid"))
_NEXT_NUMBER: dict[str, Any] = {}


def record(row: Any) -> ProjectRecord:
    """A ProjectRecord from a row of `projects` (plus `org_version`, `next_due`)."""
    return ProjectRecord(
        id=row.id,
        code=row.code,
        title=row.title,
        unit_id=row.unit_id,
        scheme_version_id=row.scheme_version_id,
        stage=row.stage,
        stage_entered_at=row.stage_entered_at,
        version=row.version,
        responsible_id=row.responsible_id,
        budget_amount=row.budget_amount,
        budget_currency=row.budget_currency,
        funding_instrument=row.funding_instrument,
        partners=json.loads(row.partners),
        dates=json.loads(row.dates),
        handoff_since=row.handoff_since,
        hold_since=row.hold_since,
        hold_reason=row.hold_reason,
        created_at=row.created_at,
        created_by=row.created_by,
        head_seq=row.head_seq,
        head_hash=row.head_hash,
        idea_id=row.idea_id,
        org_version=getattr(row, "org_version", None),
        next_due=getattr(row, "next_due", None),
    )


def load(conn: Connection, code: str, *, lock: bool = False) -> ProjectRecord | None:
    """The project `code`, or None. With `lock` the row stays locked until the
    transaction ends (PostgreSQL `FOR UPDATE`; SQLite's writer already holds the
    database), so a version check and every later read see the latest committed state."""
    row = conn.execute(_SELECT_LOCKED if lock else _SELECT, {"code": code}).first()
    return None if row is None else record(row)


def load_by_id(conn: Connection, project_id: int) -> ProjectRecord | None:
    """The project with this id, or None (no lock: callers that write hold the writer's
    transaction, and `Work.append` compares and sets the version)."""
    row = conn.execute(_SELECT_BY_ID, {"pid": project_id}).first()
    return None if row is None else record(row)


def select_for_list(
    conn: Connection,
    *,
    units: Iterable[str] | None = None,
    stage: str | None = None,
    responsible: str | None = None,
    due_before: dt.datetime | None = None,
) -> Iterator[ProjectRecord]:
    """Projects matching every filter given, oldest first, each with its earliest
    running deadline (`next_due`, None when no clock runs)."""
    due = NEXT_DUE.subquery()
    stmt = (
        select(projects, ORG_VERSION, due.c.due_at.label("next_due"))
        .outerjoin(due, due.c.project_id == projects.c.id)
        .order_by(projects.c.id)
    )
    if due_before is not None:
        stmt = stmt.where(due.c.due_at < due_before)
    if units is not None:
        stmt = stmt.where(projects.c.unit_id.in_(list(units)))
    if stage is not None:
        stmt = stmt.where(projects.c.stage == stage)
    if responsible is not None:
        stmt = stmt.where(projects.c.responsible_id == responsible)
    for row in conn.execute(stmt):
        yield record(row)


def next_due(conn: Connection, project_id: int) -> dt.datetime | None:
    """The project's earliest running deadline, or None."""
    row = conn.execute(NEXT_DUE.where(deadlines.c.project_id == project_id)).first()
    return None if row is None else row.due_at


def escalated_to(conn: Connection, person: str) -> set[int]:
    """Projects with an escalation addressed to `person` whose deadline still runs."""
    stmt = (
        select(outbox.c.project_id)
        .join(deadlines, deadlines.c.id == outbox.c.deadline_id)
        .where(
            and_(
                outbox.c.recipient_id == person,
                outbox.c.kind == "escalation",
                deadlines.c.closed_at.is_(None),
            )
        )
        .distinct()
    )
    return set(conn.execute(stmt).scalars())


def next_code_number(conn: Connection, prefix: str, year: int) -> int:
    """Atomically take the next number of the (prefix, year) counter (an upsert on its
    row, never max()+1): two transactions never get the same number."""
    dialect = conn.dialect.name
    stmt = _NEXT_NUMBER.get(dialect)
    if stmt is None:
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _NEXT_NUMBER[dialect] = (
            insert(code_counters)
            .values(prefix=bindparam("prefix"), year=bindparam("year"), last_number=1)
            .on_conflict_do_update(
                index_elements=[code_counters.c.prefix, code_counters.c.year],
                set_={"last_number": code_counters.c.last_number + 1},
            )
            .returning(code_counters.c.last_number)
        )
    return int(conn.execute(stmt, {"prefix": prefix, "year": year}).scalar_one())


def insert(conn: Connection, values: dict[str, Any]) -> int:
    """A new project row (JSON columns given as text); returns its id. Its search text
    is written from its code and title."""
    values = {**values, "search_text": folded(f"{values['code']} {values['title']}")}
    return int(conn.execute(projects.insert().returning(projects.c.id), values).scalar_one())


def set_head(conn: Connection, project_id: int, head_hash: str) -> None:
    conn.execute(_SET_HEAD, {"pid": project_id, "head": head_hash})


def compare_and_set(
    conn: Connection, project_id: int, old_version: int, values: dict[str, Any]
) -> bool:
    """Update the project only if it is still at `old_version`; False when it moved on
    (nothing is written then)."""
    params = {**values, "pid": project_id, "old_version": old_version}
    if "title" in values:  # the search text follows the title
        code = conn.execute(select(projects.c.code).where(projects.c.id == project_id)).scalar()
        params["search_text"] = folded(f"{code} {values['title']}")
    return bool(conn.execute(_CAS, params).rowcount == 1)


def append_event(conn: Connection, event: dict[str, Any]) -> None:
    """Insert one history event (its hash computed by the caller)."""
    conn.execute(history.insert(), event)


def events(conn: Connection, project_id: int) -> list[EventRecord]:
    """The project's history in order (empty for an unknown id)."""
    rows = conn.execute(
        select(history).where(history.c.project_id == project_id).order_by(history.c.seq)
    )
    return [
        EventRecord(
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


# -- checklist ------------------------------------------------------------------------


def checked(conn: Connection, project_id: int) -> set[str]:
    """The ticked checklist items of the project."""
    return set(conn.execute(_CHECKED, {"pid": project_id}).scalars())


def checked_many(conn: Connection, project_ids: list[int]) -> dict[int, set[str]]:
    """The ticked checklist items of each of `project_ids` (in chunks the drivers take)."""
    out: dict[int, set[str]] = {pid: set() for pid in project_ids}
    for start in range(0, len(project_ids), 500):
        chunk = project_ids[start : start + 500]
        stmt = select(checklist.c.project_id, checklist.c.item).where(
            checklist.c.project_id.in_(chunk)
        )
        for pid, item in conn.execute(stmt):
            out[pid].add(item)
    return out


def ticks(conn: Connection, project_id: int) -> dict[str, Tick]:
    """The ticked items with who ticked them and when."""
    rows = conn.execute(select(checklist).where(checklist.c.project_id == project_id))
    return {r.item: Tick(r.item, r.checked_at, r.checked_by) for r in rows}


def tick(conn: Connection, project_id: int, item: str, at: dt.datetime, by: str | None) -> None:
    conn.execute(
        checklist.insert(),
        {"project_id": project_id, "item": item, "checked_at": at, "checked_by": by},
    )


def untick(conn: Connection, project_id: int, item: str) -> None:
    conn.execute(
        checklist.delete().where(
            and_(checklist.c.project_id == project_id, checklist.c.item == item)
        )
    )


def clear_ticks(conn: Connection, project_id: int, items: Iterable[str]) -> None:
    """Remove the ticks of `items` (a stage entered anew starts its checklist afresh)."""
    conn.execute(
        checklist.delete().where(
            and_(checklist.c.project_id == project_id, checklist.c.item.in_(list(items)))
        )
    )


# -- handoffs -------------------------------------------------------------------------


def _handoff(row: Any) -> HandoffRecord:
    return HandoffRecord(
        row.project_id,
        row.action,
        row.from_stage,
        row.to_stage,
        row.from_level,
        row.to_level,
        row.sent_at,
        row.sent_by,
    )


def send_handoff(conn: Connection, handoff: dict[str, Any]) -> None:
    """Record a handoff waiting to be acknowledged."""
    conn.execute(handoffs.insert(), handoff)


def acknowledge_handoffs(
    conn: Connection, project_id: int, at: dt.datetime, by: str | None
) -> None:
    """Mark every waiting handoff of the project acknowledged (none waiting: no-op)."""
    conn.execute(
        update(handoffs)
        .where(and_(handoffs.c.project_id == project_id, handoffs.c.acknowledged_at.is_(None)))
        .values(acknowledged_at=at, acknowledged_by=by)
    )


def pending_handoff(conn: Connection, project_id: int) -> HandoffRecord | None:
    """The project's handoff waiting to be acknowledged, or None."""
    row = conn.execute(_PENDING.where(handoffs.c.project_id == project_id)).first()
    return None if row is None else _handoff(row)


def pending_handoffs(conn: Connection, project_ids: Iterable[int]) -> dict[int, HandoffRecord]:
    """The waiting handoffs of several projects at once, by project id."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = conn.execute(_PENDING.where(handoffs.c.project_id.in_(ids)))
    return {r.project_id: _handoff(r) for r in rows}
