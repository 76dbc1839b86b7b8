"""Deadline rows in the database: opened when a stage is entered, closed when it is left,
paused while a project is on hold. Every function runs inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, and_, bindparam, delete, select, update

from engine.deadlines import Plan, replan
from storage.tables import deadlines, timers
from workflow.calendar import WorkingCalendar
from workflow.scheme import Scheme

INSERT_DEADLINE = deadlines.insert().returning(deadlines.c.id)
INSERT_TIMER = timers.insert()
OPEN_DEADLINES = select(deadlines).where(
    and_(deadlines.c.project_id == bindparam("pid"), deadlines.c.closed_at.is_(None))
)


def open_plans(
    conn: Connection,
    project_id: int,
    plans: Sequence[Plan],
    now: dt.datetime,
    *,
    fresh: bool = False,
) -> list[int]:
    """Store deadlines and their timers (with `fresh`, only duties not open already);
    returns the new deadlines' ids, in the order of `plans`."""
    if fresh:
        running = set(
            conn.execute(
                select(deadlines.c.action).where(
                    _OPEN_OF_KINDS, deadlines.c.action.in_([p.action for p in plans])
                ),
                {"pid": project_id, "kinds": ["duty"]},
            ).scalars()
        )
        plans = [p for p in plans if p.action not in running]
    ids: list[int] = []
    for plan in plans:
        did = conn.execute(
            INSERT_DEADLINE,
            {
                "project_id": project_id,
                "kind": plan.kind,
                "stage": plan.stage,
                "action": plan.action,
                "opened_at": now,
                "due_at": plan.due_at,
            },
        ).scalar_one()
        ids.append(did)
        if plan.steps:
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
                    for s in plan.steps
                ],
            )
    return ids


ALL_KINDS = ("stage", "duty", "handoff")
_OPEN = and_(deadlines.c.project_id == bindparam("pid"), deadlines.c.closed_at.is_(None))
_OPEN_OF_KINDS = and_(
    deadlines.c.project_id == bindparam("pid"),
    deadlines.c.closed_at.is_(None),
    deadlines.c.kind.in_(bindparam("kinds", expanding=True)),
)
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


def close(
    conn: Connection,
    project_id: int,
    now: dt.datetime,
    *,
    kinds: Sequence[str] = ALL_KINDS,
    action: str | None = None,
) -> int:
    """Close the project's open deadlines of `kinds` (of one duty when `action` is given)
    and drop their timers that have not fired; returns how many were closed."""
    if action is None and tuple(kinds) == ALL_KINDS:
        # The hot path (every move to another stage): one statement. The timers of the
        # closed deadlines are left to `prune`, which the sweep runs.
        return conn.execute(CLOSE_ALL, {"pid": project_id, "now": now}).rowcount
    params = {"pid": project_id, "kinds": list(kinds), "now": now, "duty_action": action}
    if action is None:
        conn.execute(DROP_TIMERS, params)
        return conn.execute(CLOSE, params).rowcount
    conn.execute(DROP_ACTION_TIMERS, params)
    return conn.execute(CLOSE_ACTION, params).rowcount


def pause(conn: Connection, project_id: int, now: dt.datetime, cal: WorkingCalendar) -> int:
    """Stop the clock of every open deadline that runs, remembering the working days left
    (a deadline paused already keeps what it had left)."""
    today = cal.local_date(now)
    n = 0
    for row in conn.execute(OPEN_DEADLINES, {"pid": project_id}).all():
        if row.paused_at is not None:
            continue
        left = max(0, cal.working_days_between(today, cal.local_date(row.due_at)))
        conn.execute(
            update(deadlines)
            .where(deadlines.c.id == row.id)
            .values(paused_at=now, remaining_days=left)
        )
        n += 1
    return n


def resume(
    conn: Connection, project_id: int, scheme: Scheme, now: dt.datetime, cal: WorkingCalendar
) -> list[Plan]:
    """Restart paused deadlines with the working days they had left: each paused one is
    closed and replaced by a new one (so its steps fire afresh); returns the new plans."""
    plans = []
    paused = [
        r
        for r in conn.execute(OPEN_DEADLINES, {"pid": project_id}).all()
        if r.paused_at is not None
    ]
    for row in paused:
        stage = scheme.stages[row.stage]
        plans.append(
            replan(row.kind, stage, row.stage, row.action, row.remaining_days or 0, now, cal)
        )
    if paused:
        ids = [r.id for r in paused]
        conn.execute(update(deadlines).where(deadlines.c.id.in_(ids)).values(closed_at=now))
        conn.execute(
            delete(timers).where(timers.c.deadline_id.in_(ids), timers.c.fired_at.is_(None))
        )
        open_plans(conn, project_id, plans, now)
    return plans


PRUNE = delete(timers).where(
    and_(
        timers.c.fired_at.is_(None),
        timers.c.fire_at <= bindparam("now"),
        timers.c.deadline_id.in_(select(deadlines.c.id).where(deadlines.c.closed_at.is_not(None))),
    )
)


def prune(conn: Connection, now: dt.datetime) -> int:
    """Drop timers that fell due after their deadline was closed (they will never fire),
    so the sweep's index scan stays proportional to live work."""
    return conn.execute(PRUNE, {"now": now}).rowcount
