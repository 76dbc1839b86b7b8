"""What entering a stage changes: the row's columns, the checklist, the clocks, a handoff
across levels and the notices it sends. Shared by advancing and forcing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from engine import timekeeping
from engine.deadlines import Plan, plan_duty, plan_entry, plan_handoff, plan_opened
from engine.notify import notices, recipients
from engine.work import Change, Context
from storage import projects as stored
from workflow.calendar import WorkingCalendar

Step = Callable[[Connection], object]


@dataclass
class Entry:
    """A stage being entered (a self-loop re-enters it), built up step by step."""

    ctx: Context
    now: dt.datetime
    kind: str
    target: str
    action: str | None
    cal: WorkingCalendar
    web_url: str | None
    values: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def leaves(self) -> bool:
        return self.target != self.ctx.stage


def enter(
    ctx: Context,
    now: dt.datetime,
    kind: str,
    target: str,
    *,
    action: str | None,
    comment: str | None,
    refs: Sequence[str],
    data: dict[str, Any] | None = None,
) -> Change:
    """The change for entering `target` by `action` (None when forced)."""
    cal = ctx.cal
    e = Entry(ctx, now, kind, target, action, cal, ctx.web_url, {"stage": target}, dict(data or {}))
    _columns(e)
    _clocks(e)
    handoff = _handoff(e)
    _notify(e, comment)
    _open(e, handoff)
    row = ctx.row
    if e.steps and row.hold_since is not None and not e.leaves:
        # A duty done while on hold: its next occurrence waits for the resume too.
        pid = row.id
        e.steps.append(lambda c: timekeeping.pause(c, pid, now, cal))
    if e.notices:
        rows = e.notices
        e.steps.append(lambda c: notices.enqueue(c, rows))
    steps = e.steps

    def then(conn: Connection) -> None:
        for step in steps:
            step(conn)

    return Change(
        kind,
        e.values,
        action=action,
        from_stage=ctx.stage,
        to_stage=target,
        comment=comment,
        refs=refs,
        data=e.data,
        then=then if steps else None,
        # Entering another stage may drop the responsible person: say who it is now.
        audit=(
            {"responsible": e.values.get("responsible_id", row.responsible_id)} if e.leaves else {}
        ),
    )


def _columns(e: Entry) -> None:
    """Entering anew resets the stage's clock and hold, and drops a responsible person
    who does not work on the new stage."""
    row, cs = e.ctx.row, e.ctx.scheme
    if not e.leaves:
        return
    e.values.update(stage_entered_at=e.now, hold_since=None, hold_reason=None)
    new_stage = cs.scheme.stages[e.target]
    if row.responsible_id is not None:
        keep = {new_stage.owner, *new_stage.participants}
        theirs = e.ctx.org.acting_roles(row.responsible_id, row.unit_id, cs.levels, cs.version_id)
        if not theirs & keep:
            e.values["responsible_id"] = None


def _clocks(e: Entry) -> None:
    """The checklist and the deadlines that entering (or doing a duty) starts and ends."""
    row, scheme, now, cal = e.ctx.row, e.ctx.scheme.scheme, e.now, e.cal
    pid, dates, action = row.id, row.date_values, e.action
    new_stage = scheme.stages[e.target]
    if e.leaves:
        if new_stage.checklist:
            # Entering a stage anew (a later payment request, a revision) starts its
            # checklist afresh: old ticks must not pass for new work.
            items = list(new_stage.checklist)
            e.steps.append(lambda c: stored.clear_ticks(c, pid, items))
        meetings = e.ctx.org.org.meetings
        e.plans = plan_entry(scheme, e.target, now, cal, dates, via=action, meetings=meetings)
        e.steps.append(lambda c: timekeeping.close(c, pid, now))
        return
    spec = scheme.actions[action] if action is not None else None
    if spec is not None and spec.deadline is not None:
        # A periodic duty done starts its next occurrence; one done on request
        # waits for the next request.
        if spec.opened_by is None:
            e.plans = plan_duty(scheme, action or "", now, cal, dates)
        e.steps.append(lambda c: timekeeping.close(c, pid, now, kinds=("duty",), action=action))
    if action is not None and action in new_stage.recurring:
        # A recurring duty ticked off: its schedule, not the day of the tick, says when
        # the next occurrence falls due.
        stage = e.target
        e.steps.append(lambda c: timekeeping.tick(c, pid, scheme, stage, action, now, cal, dates))
    if action is not None and (requested := plan_opened(scheme, action, now, cal, dates)):
        # A second request while the first is open keeps the earlier clock.
        e.steps.append(lambda c: timekeeping.open_plans(c, pid, requested, now, fresh=True))


def _handoff(e: Entry) -> tuple[Plan, list[dict[str, Any]]] | None:
    """A move between parish and central levels waits to be acknowledged: the handoff
    row, its deadline and the notices to its receivers."""
    ctx, scheme = e.ctx, e.ctx.scheme.scheme
    src, dst = scheme.level_of_stage(ctx.stage), scheme.level_of_stage(e.target)
    if src is None or dst is None or src == dst:
        return None
    row = ctx.row
    e.values["handoff_since"] = e.now
    to = recipients.handoff(ctx.org, scheme.stages[e.target].owner, row.unit_id, ctx.scheme.levels)
    receivers, why = to.people, to.why
    plan = plan_handoff(scheme, e.target, e.now, e.cal)
    e.plans.append(plan)
    e.data["handoff"] = {"from": src.value, "to": dst.value, "receivers": receivers, "why": why}
    handoff = {
        "project_id": row.id,
        "action": e.action or e.kind,
        "from_stage": ctx.stage,
        "to_stage": e.target,
        "from_level": src.value,
        "to_level": dst.value,
        "sent_at": e.now,
        "sent_by": ctx.actor,
    }
    e.steps.append(lambda c: stored.send_handoff(c, handoff))
    sent = notices.project_notices(
        ctx,
        "handoff",
        f"handoff:{row.id}:{row.head_seq + 1}",
        receivers,
        e.now,
        stage=e.target,
        due_at=plan.due_at,
        cal=e.cal,
        web_url=e.web_url,
    )
    e.notices += sent
    return plan, sent


def _notify(e: Entry, comment: str | None) -> None:
    """The notices an action's `notify` roles receive."""
    if e.action is None:
        return
    ctx, scheme, row = e.ctx, e.ctx.scheme.scheme, e.ctx.row
    for role in scheme.actions[e.action].notify:
        people = recipients.notified(ctx.org, role, row.unit_id, ctx.scheme.levels).people
        e.notices += notices.project_notices(
            ctx,
            "notify",
            f"notify:{row.id}:{row.head_seq + 1}:{role}",
            people,
            e.now,
            stage=e.target,
            due_at=None,
            cal=e.cal,
            web_url=e.web_url,
            extra={"action": scheme.action_title(e.action)},
            comment=comment,
        )


def _open(e: Entry, handoff: tuple[Plan, list[dict[str, Any]]] | None) -> None:
    """Open the planned deadlines; the handoff notices live only as long as its own."""
    if not e.plans:
        return
    pid, plans, now = e.ctx.row.id, e.plans, e.now

    def open_deadlines(c: Connection) -> None:
        ids = timekeeping.open_plans(c, pid, plans, now)
        if handoff is not None:
            plan, sent = handoff
            for notice in sent:
                notice["deadline_id"] = ids[plans.index(plan)]

    e.steps.append(open_deadlines)
