"""The clocks of a migrated project (engine/migration.py surveys the rest).

`clocks` rebuilds every open deadline of the project from the new version's stage spec
with the functions entering a stage uses (engine/deadlines.py): kept as it is when
nothing of it changes, its due date counted again from the stage's entry time when the
request recomputes, closed when the new stage has no such clock; the new stage's clocks
the old one did not run are opened. What changes goes into the draft's plan (clocks and
timers, for the dry run) and its lists of deadlines to close and plans to open (for the
write). A step that fired on the old deadline is not planned to fire again at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from engine.deadlines import (
    Plan,
    due_at,
    external_plan,
    ladder_of,
    plan_duty,
    plan_external,
    plan_recurring,
    replan,
    steps_for,
)
from engine.machines import CompiledScheme
from engine.migration_plan import ClockChange, Draft, Request, TimerChange
from engine.work import Context
from storage import deadlines as stored_deadlines
from storage import migration as stored
from storage.deadlines import DeadlineRecord
from storage.migration import TimerRecord


def clocks(
    conn: Connection, ctx: Context, target: CompiledScheme, draft: Draft, req: Request
) -> None:
    """Every open deadline rebuilt from the new stage's spec (kept as it is when nothing
    of it changes), the new stage's clocks the old one did not run opened, the others
    closed; the timers that move, appear or go listed."""
    row, p, cal = ctx.row, draft.plan, draft.cal
    assert cal is not None
    new = p.stage_after or ""
    spec = target.scheme.stages[new]
    open_now = stored_deadlines.open_deadlines_by_id(conn, row.id)
    timers = stored.timers_of(conn, [d.id for d in open_now])
    by_deadline: dict[int, list[TimerRecord]] = {}
    for t in timers:
        by_deadline.setdefault(t.deadline_id, []).append(t)
    has_stage, has_external, duties = False, False, set()
    for d in open_now:
        old = by_deadline.get(d.id, [])
        if d.kind == "stage":
            has_stage = True
        if d.kind == "external":
            has_external = True
        if d.kind == "duty" and d.action:
            duties.add(d.action)
        rebuilt = _rebuild(ctx, target, d, draft, req)
        if rebuilt is None:
            p.clocks.append(ClockChange(d.kind, new, d.action, "closed", d.due_at, None))
            p.timers += [_gone(d.kind, t) for t in old if t.fired_at is None]
            draft.close.append(d.id)
            continue
        mode, fresh = rebuilt
        fresh = _unrepeated(fresh, old, req.now)
        p.clocks.append(ClockChange(d.kind, new, d.action, mode, d.due_at, fresh.due_at))
        moved = _timer_changes(d.kind, old, fresh)
        if moved or d.stage != new or fresh.due_at != d.due_at:
            p.timers += moved
            draft.close.append(d.id)
            draft.plans.append(fresh)
            draft.replaced.append(d.id)
    dates = row.date_values
    if not has_stage and spec.deadline is not None:
        due = due_at(spec.deadline, row.stage_entered_at, cal, dates)
        if due is not None:
            _opened(draft, Plan("stage", new, None, due, steps_for(spec, due, req.now, cal)))
    for name, action in target.scheme.actions.items():
        periodic = action.deadline is not None and action.opened_by is None
        if periodic and action.to == new and new in action.source and name not in duties:
            for fresh in plan_duty(target.scheme, name, req.now, cal, dates):
                _opened(draft, fresh)
    if not has_external:  # the new version makes the stage wait on an outside body
        for fresh in plan_external(target.scheme, new, row.stage_entered_at, cal, dates):
            _opened(draft, fresh)
    for name in spec.recurring:  # a recurring duty the new version adds to the stage
        if name not in duties:
            after = cal.local_date(req.now)
            for fresh in plan_recurring(target.scheme, new, name, after, req.now, cal, dates):
                _opened(draft, fresh)


def _opened(draft: Draft, fresh: Plan) -> None:
    p = draft.plan
    p.clocks.append(
        ClockChange(fresh.kind, fresh.stage, fresh.action, "opened", None, fresh.due_at)
    )
    p.timers += [TimerChange(fresh.kind, s.step, s.role, None, s.fire_at) for s in fresh.steps]
    draft.plans.append(fresh)
    draft.replaced.append(None)


def _rebuild(
    ctx: Context, target: CompiledScheme, d: DeadlineRecord, draft: Draft, req: Request
) -> tuple[str, Plan] | None:
    """The deadline `d` under the new stage's spec (mode and plan), or None when the new
    version has no such clock."""
    row, cal, new = ctx.row, draft.cal, draft.plan.stage_after or ""
    assert cal is not None
    spec = target.scheme.stages[new]
    due, mode = d.due_at, "kept"
    if d.kind == "stage":
        if spec.deadline is None:
            return None
        if req.recompute:
            found = due_at(spec.deadline, row.stage_entered_at, cal, row.date_values)
            if found is None:
                return None
            due, mode = found, "recomputed"
    elif d.kind == "external":  # the outside body's clock: kept while the stage waits on it
        if spec.waits_on is None:
            return None
        return mode, external_plan(new, due)
    elif d.kind == "duty":
        action = target.scheme.actions.get(d.action or "")
        recurring = (d.action or "") in spec.recurring
        if action is None or (action.deadline is None and not recurring) or action.to != new:
            return None
    owner = spec.owner if d.kind == "handoff" else None
    ladder = ladder_of(target.scheme, new, d.action) if d.kind == "duty" else spec
    if d.paused_at is not None:
        left = d.remaining_days or 0
        if due != d.due_at:  # recomputed while on hold: the change adds to what was left
            left = max(
                0, left + cal.working_days_between(cal.local_date(d.due_at), cal.local_date(due))
            )
        return mode, replan(d.kind, ladder, new, d.action, left, req.now, cal)
    steps = steps_for(ladder, due, req.now, cal, notify_role=owner)
    return mode, Plan(d.kind, new, d.action, due, steps)


def _unrepeated(fresh: Plan, old: list[TimerRecord], now: dt.datetime) -> Plan:
    """`fresh` without the steps that fired on the old deadline and would fire again at
    once (their message went out already)."""
    fired = {t.step for t in old if t.fired_at is not None}
    steps = [s for s in fresh.steps if not (s.step in fired and s.fire_at <= now)]
    return Plan(fresh.kind, fresh.stage, fresh.action, fresh.due_at, steps)


def _timer_changes(kind: str, old: list[TimerRecord], fresh: Plan) -> list[TimerChange]:
    before = {t.step: t for t in old if t.fired_at is None}
    after = {s.step: s for s in fresh.steps}
    out = []
    for step in sorted(before.keys() | after.keys()):
        b, a = before.get(step), after.get(step)
        if b is not None and a is not None and (b.fire_at, b.role) == (a.fire_at, a.role):
            continue
        role = a.role if a is not None else b.role if b is not None else None
        out.append(
            TimerChange(kind, step, role, b.fire_at if b else None, a.fire_at if a else None)
        )
    return out


def _gone(kind: str, t: TimerRecord) -> TimerChange:
    return TimerChange(kind, t.step, t.role, t.fire_at, None)
