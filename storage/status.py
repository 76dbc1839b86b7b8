"""What `shema status` and the coordinators' page count: versions, projects, overdue
deadlines, and the outbox as operators see it (by status, the failed, the newest).

Read-only; functions run in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from storage.projects import NEXT_DUE
from storage.tables import outbox, projects, scheme_versions


@dataclass(frozen=True, slots=True)
class SchemeNewest:
    name: str
    version: int  # the newest version number loaded


@dataclass(frozen=True, slots=True)
class Counts:
    projects: int
    handoffs_waiting: int  # projects whose handoff nobody acknowledged yet
    overdue: int  # projects whose soonest running deadline is past


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An outbox row as operators list it (every column, in the table's order)."""

    id: int
    key: str
    project_id: int | None
    deadline_id: int | None
    recipient_id: str
    kind: str
    subject: str
    body: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None
    lease_owner: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class FailedMessage:
    id: int
    recipient_id: str
    subject: str
    last_error: str | None


def newest_schemes(conn: Connection) -> list[SchemeNewest]:
    """Each loaded scheme's newest version number (empty when none is loaded; the order
    is the database's)."""
    rows = conn.execute(
        select(
            scheme_versions.c.name, func.max(scheme_versions.c.version).label("version")
        ).group_by(scheme_versions.c.name)
    )
    return [SchemeNewest(r.name, int(r.version)) for r in rows]


def counts(conn: Connection, now: dt.datetime) -> Counts:
    """How many projects there are, wait for a handoff, and are overdue at `now`."""
    total = conn.execute(select(func.count()).select_from(projects)).scalar_one()
    waiting = conn.execute(
        select(func.count()).select_from(projects).where(projects.c.handoff_since.is_not(None))
    ).scalar_one()
    due = NEXT_DUE.subquery()
    overdue = conn.execute(
        select(func.count()).select_from(due).where(due.c.due_at < now)
    ).scalar_one()
    return Counts(int(total), int(waiting), int(overdue))


def outbox_by_status(conn: Connection) -> dict[str, int]:
    """The number of outbox messages in each status (statuses with none are absent)."""
    rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    return {status: int(n) for status, n in rows}


def failed_messages(conn: Connection, limit: int = 10) -> list[FailedMessage]:
    """The newest `limit` messages that failed for good, newest first."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.recipient_id, outbox.c.subject, outbox.c.last_error)
        .where(outbox.c.status == "failed")
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return [FailedMessage(r.id, r.recipient_id, r.subject, r.last_error) for r in rows]


def newest_messages(conn: Connection, limit: int, status: str | None = None) -> list[OutboxMessage]:
    """The newest `limit` outbox messages (of `status` only, when given), newest first."""
    stmt = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(outbox.c.status == status)
    return [OutboxMessage(*r) for r in conn.execute(stmt)]  # fields in column order
