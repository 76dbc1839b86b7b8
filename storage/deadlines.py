"""Deadlines (the clocks of stages, duties and handoffs) and their timers (reminders,
overdue notices, escalation steps).

Functions run in the caller's transaction; none commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, or_, select, update

from storage.tables import deadlines, projects, timers


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
    return [_record(d) for d in conn.execute(_OPEN_OF, {"pid": project_id})]


# -- opening, closing, pausing -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewTimer:
    """A timer to store: a reminder, overdue notice or escalation step of a deadline."""

    step: str  # reminder0 | overdue | escalation1 …
    role: str | None  # None: the responsible person, else the owner
    fire_at: dt.datetime


INSERT_DEADLINE = deadlines.insert().returning(deadlines.c.id)
INSERT_TIMER = timers.insert()
_OPEN_OF_KINDS = and_(
    deadlines.c.project_id == bindparam("pid"),
    deadlines.c.closed_at.is_(None),
    deadlines.c.kind.in_(bindparam("kinds", expanding=True)),
)


def open_duty_actions(conn: Connection, project_id: int, actions: Sequence[str | None]) -> set[str]:
    """Which of the duties `actions` have an open deadline on the project (empty when
    none)."""
    return set(
        conn.execute(
            select(deadlines.c.action).where(_OPEN_OF_KINDS, deadlines.c.action.in_(actions)),
            {"pid": project_id, "kinds": ["duty"]},
        ).scalars()
    )


def insert_deadline(
    conn: Connection,
    project_id: int,
    *,
    kind: str,
    stage: str,
    action: str | None,
    opened_at: dt.datetime,
    due_at: dt.datetime,
    steps: Sequence[NewTimer] = (),
) -> int:
    """Store one open deadline and its timers; returns the deadline's id."""
    did: int = conn.execute(
        INSERT_DEADLINE,
        {
            "project_id": project_id,
            "kind": kind,
            "stage": stage,
            "action": action,
            "opened_at": opened_at,
            "due_at": due_at,
        },
    ).scalar_one()
    if steps:
        conn.execute(
            INSERT_TIMER,
            [
                {
                    "deadline_id": did,
                    "project_id": project_id,
                    "step": s.step,
                    "role": s.role,
                    "fire_at": s.fire_at,
                }
                for s in steps
            ],
        )
    return did


_OPEN = and_(deadlines.c.project_id == bindparam("pid"), deadlines.c.closed_at.is_(None))
_OPEN_OF_ACTION = and_(_OPEN_OF_KINDS, deadlines.c.action == bindparam("duty_action"))
_UNFIRED = and_(timers.c.project_id == bindparam("pid"), timers.c.fired_at.is_(None))
DROP_TIMERS = delete(timers).where(
    and_(_UNFIRED, timers.c.deadline_id.in_(select(deadlines.c.id).where(_OPEN_OF_KINDS)))
)
DROP_ACTION_TIMERS = delete(timers).where(
    and_(_UNFIRED, timers.c.deadline_id.in_(select(deadlines.c.id).where(_OPEN_OF_ACTION)))
)
CLOSE_ALL = update(deadlines).where(_OPEN).values(closed_at=bindparam("now"))
CLOSE = update(deadlines).where(_OPEN_OF_KINDS).values(closed_at=bindparam("now"))
CLOSE_ACTION = update(deadlines).where(_OPEN_OF_ACTION).values(closed_at=bindparam("now"))


def close_all(conn: Connection, project_id: int, now: dt.datetime) -> int:
    """Close every open deadline of the project in one statement (their unfired timers
    are left to `prune`); returns how many were closed."""
    return conn.execute(CLOSE_ALL, {"pid": project_id, "now": now}).rowcount


def close_kinds(
    conn: Connection,
    project_id: int,
    now: dt.datetime,
    *,
    kinds: Sequence[str],
    action: str | None = None,
) -> int:
    """Close the project's open deadlines of `kinds` (of the one duty `action`, when
    given) and delete their timers that have not fired; returns how many were closed."""
    params = {"pid": project_id, "kinds": list(kinds), "now": now, "duty_action": action}
    if action is None:
        conn.execute(DROP_TIMERS, params)
        return conn.execute(CLOSE, params).rowcount
    conn.execute(DROP_ACTION_TIMERS, params)
    return conn.execute(CLOSE_ACTION, params).rowcount


_OPEN_BY_ID = select(deadlines).where(_OPEN).order_by(deadlines.c.id)


def open_deadlines_by_id(conn: Connection, project_id: int) -> list[DeadlineRecord]:
    """The project's open deadlines (paused ones included) in the order they were opened."""
    return [_record(d) for d in conn.execute(_OPEN_BY_ID, {"pid": project_id})]


def _record(d: Any) -> DeadlineRecord:
    return DeadlineRecord(
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


def pause_deadline(
    conn: Connection, deadline_id: int, now: dt.datetime, remaining_days: int
) -> None:
    """Stop a deadline's clock at `now`, remembering the working days it had left."""
    conn.execute(
        update(deadlines)
        .where(deadlines.c.id == deadline_id)
        .values(paused_at=now, remaining_days=remaining_days)
    )


def close_with_timers(conn: Connection, deadline_ids: Sequence[int], now: dt.datetime) -> None:
    """Close the deadlines `deadline_ids` and delete their timers that have not fired."""
    ids = list(deadline_ids)
    if not ids:
        return
    conn.execute(update(deadlines).where(deadlines.c.id.in_(ids)).values(closed_at=now))
    conn.execute(delete(timers).where(timers.c.deadline_id.in_(ids), timers.c.fired_at.is_(None)))


PRUNE = delete(timers).where(
    and_(
        timers.c.fired_at.is_(None),
        timers.c.fire_at <= bindparam("now"),
        timers.c.deadline_id.in_(select(deadlines.c.id).where(deadlines.c.closed_at.is_not(None))),
    )
)


def prune(conn: Connection, now: dt.datetime) -> int:
    """Delete timers due by `now` whose deadline was closed (they will never fire);
    returns how many."""
    return conn.execute(PRUNE, {"now": now}).rowcount


# -- the sweep -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A timer due to fire, with its deadline."""

    timer_id: int
    step: str
    role: str | None
    fire_at: dt.datetime
    deadline_id: int
    deadline_kind: str
    deadline_stage: str
    deadline_action: str | None
    due_at: dt.datetime
    project_id: int


def claim_due_timers(conn: Connection, now: dt.datetime, batch: int) -> list[DueTimer]:
    """Up to `batch` unfired timers due by `now` whose deadline is open and running,
    soonest first; [] when none. On PostgreSQL the timers and their projects are locked
    (``FOR UPDATE … SKIP LOCKED``: rows another sweeper or an advance holds are skipped);
    SQLite relies on the caller's ``BEGIN IMMEDIATE``."""
    stmt = (
        select(
            timers.c.id.label("timer_id"),
            timers.c.step,
            timers.c.role,
            timers.c.fire_at,
            deadlines.c.id.label("deadline_id"),
            deadlines.c.kind.label("deadline_kind"),
            deadlines.c.stage.label("deadline_stage"),
            deadlines.c.action.label("deadline_action"),
            deadlines.c.due_at,
            projects.c.id.label("project_id"),
        )
        .join(deadlines, deadlines.c.id == timers.c.deadline_id)
        .join(projects, projects.c.id == timers.c.project_id)
        .where(
            and_(
                timers.c.fired_at.is_(None),
                timers.c.fire_at <= now,
                deadlines.c.closed_at.is_(None),
                deadlines.c.paused_at.is_(None),
            )
        )
        .order_by(timers.c.fire_at, timers.c.id)
        .limit(batch)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=[timers, projects])
    return [
        DueTimer(
            r.timer_id,
            r.step,
            r.role,
            r.fire_at,
            r.deadline_id,
            r.deadline_kind,
            r.deadline_stage,
            r.deadline_action,
            r.due_at,
            r.project_id,
        )
        for r in conn.execute(stmt)
    ]


def later_step_due(conn: Connection, timer: DueTimer, now: dt.datetime, prefix: str) -> bool:
    """Whether another unfired timer of the same deadline whose step starts with `prefix`
    is due by `now` and comes after `timer` (later, or as late with a higher id)."""
    later = conn.execute(
        select(timers.c.id)
        .where(
            timers.c.deadline_id == timer.deadline_id,
            timers.c.fired_at.is_(None),
            timers.c.fire_at <= now,
            timers.c.step.startswith(prefix),
            timers.c.id != timer.timer_id,
            or_(
                timers.c.fire_at > timer.fire_at,
                and_(timers.c.fire_at == timer.fire_at, timers.c.id > timer.timer_id),
            ),
        )
        .limit(1)
    ).first()
    return later is not None


def mark_fired(conn: Connection, timer_ids: Sequence[int], now: dt.datetime) -> int:
    """Record that the timers `timer_ids` fired (or were skipped) at `now`, in one
    statement; returns how many (0 for none)."""
    ids = list(timer_ids)
    if not ids:
        return 0
    done: int = conn.execute(
        update(timers).where(timers.c.id.in_(ids)).values(fired_at=now)
    ).rowcount
    return done
