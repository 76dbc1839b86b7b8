"""Deadline rows in the database: opened when a stage is entered, closed when it is left,
paused while a project is on hold. Every function runs inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from engine.deadlines import Plan, ladder_of, plan_recurring, replan
from storage import deadlines as stored
from storage.deadlines import NewTimer
from workflow.calendar import WorkingCalendar
from workflow.scheme import Scheme


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
        running = stored.open_duty_actions(conn, project_id, [p.action for p in plans])
        plans = [p for p in plans if p.action not in running]
    return [
        stored.insert_deadline(
            conn,
            project_id,
            kind=plan.kind,
            stage=plan.stage,
            action=plan.action,
            opened_at=now,
            due_at=plan.due_at,
            steps=[NewTimer(s.step, s.role, s.fire_at) for s in plan.steps],
        )
        for plan in plans
    ]


ALL_KINDS = ("stage", "duty", "handoff", "external")


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
        return stored.close_all(conn, project_id, now)
    return stored.close_kinds(conn, project_id, now, kinds=kinds, action=action)


def pause(conn: Connection, project_id: int, now: dt.datetime, cal: WorkingCalendar) -> int:
    """Stop the clock of every open deadline that runs, remembering the working days left
    (a deadline paused already keeps what it had left). An outside body's clock runs on:
    the municipality's hold does not stop CFLA's period."""
    today = cal.local_date(now)
    n = 0
    for row in stored.open_deadlines_by_id(conn, project_id):
        if row.paused_at is not None or row.kind == "external":
            continue
        left = max(0, cal.working_days_between(today, cal.local_date(row.due_at)))
        stored.pause_deadline(conn, row.id, now, left)
        n += 1
    return n


def resume(
    conn: Connection, project_id: int, scheme: Scheme, now: dt.datetime, cal: WorkingCalendar
) -> list[Plan]:
    """Restart paused deadlines with the working days they had left: each paused one is
    closed and replaced by a new one (so its steps fire afresh); returns the new plans."""
    paused = [r for r in stored.open_deadlines_by_id(conn, project_id) if r.paused_at is not None]
    plans = [
        replan(
            r.kind,
            ladder_of(scheme, r.stage, r.action),
            r.stage,
            r.action,
            r.remaining_days or 0,
            now,
            cal,
        )
        for r in paused
    ]
    if paused:
        stored.close_with_timers(conn, [r.id for r in paused], now)
        open_plans(conn, project_id, plans, now)
    return plans


def tick(
    conn: Connection,
    project_id: int,
    scheme: Scheme,
    stage: str,
    duty: str,
    now: dt.datetime,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
) -> None:
    """Tick off the earliest open occurrence of a recurring duty; when no later one is
    open yet, open the occurrence after it (after today when none was open)."""
    running = sorted(_occurrences(conn, project_id, duty), key=lambda r: r.due_at)
    if running:
        stored.close_with_timers(conn, [running[0].id], now)
    if len(running) > 1:
        return
    after = cal.local_date(running[0].due_at if running else now)
    open_plans(conn, project_id, plan_recurring(scheme, stage, duty, after, now, cal, dates), now)


def lapsed(
    conn: Connection,
    project_id: int,
    scheme: Scheme,
    stage: str,
    duty: str,
    due_at: dt.datetime,
    now: dt.datetime,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
) -> None:
    """An occurrence of a recurring duty fell overdue: the schedule goes on, so the next
    occurrence opens beside it (unless it is open already)."""
    if scheme.stages[stage].recurring.get(duty) is None:
        return
    if any(r.due_at > due_at for r in _occurrences(conn, project_id, duty)):
        return
    after = cal.local_date(due_at)
    open_plans(conn, project_id, plan_recurring(scheme, stage, duty, after, now, cal, dates), now)


def _occurrences(conn: Connection, project_id: int, duty: str) -> list[stored.DeadlineRecord]:
    return [
        r
        for r in stored.open_deadlines_by_id(conn, project_id)
        if r.kind == "duty" and r.action == duty
    ]


def prune(conn: Connection, now: dt.datetime) -> int:
    """Drop timers that fell due after their deadline was closed (they will never fire),
    so the sweep's index scan stays proportional to live work."""
    return stored.prune(conn, now)
