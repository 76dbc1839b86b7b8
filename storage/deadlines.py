"""Deadlines (the clocks of stages, duties and handoffs) and their timers (reminders,
overdue notices, escalation steps).

Functions run in the caller's transaction; none commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, select

from storage.tables import deadlines


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    id: int
    project_id: int
    kind: str  # stage | duty | handoff
    stage: str
    action: str | None  # the duty's action
    opened_at: dt.datetime
    due_at: dt.datetime
    closed_at: dt.datetime | None
    paused_at: dt.datetime | None
    remaining_days: int | None


_OPEN_OF = (
    select(deadlines)
    .where(and_(deadlines.c.project_id == bindparam("pid"), deadlines.c.closed_at.is_(None)))
    .order_by(deadlines.c.due_at, deadlines.c.id)
)


def open_deadlines(conn: Connection, project_id: int) -> list[DeadlineRecord]:
    """The project's open deadlines, soonest first (paused ones included)."""
    return [
        DeadlineRecord(
            d.id,
            d.project_id,
            d.kind,
            d.stage,
            d.action,
            d.opened_at,
            d.due_at,
            d.closed_at,
            d.paused_at,
            d.remaining_days,
        )
        for d in conn.execute(_OPEN_OF, {"pid": project_id})
    ]
