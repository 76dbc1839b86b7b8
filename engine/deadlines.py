"""Planning deadlines: when a stage, a periodic duty, a handoff or an outside body's
answer (an `external` clock) is due, and when its reminders and escalation steps fire.
Pure functions; the engine stores the result in the same transaction as the move that
caused it.

Times: a deadline falls at the end of its day in local time; a reminder fires at the
start of the working day; an escalation step at the end of its day. All in UTC.

A stage decided at a body's meeting (`decided_at`) is due at the first meeting the
organisation lists on or after its preparation deadline, with one more reminder at that
meeting's documents cut-off; past the last listed meeting it keeps its plain deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]

from engine import recurring
from workflow.calendar import WorkingCalendar
from workflow.org import Meetings
from workflow.scheme import (
    ENTRY,
    Deadline,
    Duration,
    EscalationStep,
    Period,
    Reminder,
    Scheme,
)

DEFAULT_HANDOFF = Duration(working_days=2)
FOLLOW_UP = "followup"
"""The one step of an external clock: remind the stage's people to follow up."""


@dataclass(frozen=True)
class Step:
    """One timer of a deadline: `reminder0`, `overdue`, `escalation1`…; `role` None means
    the project's responsible person, else the stage owner."""

    step: str
    role: str | None
    fire_at: dt.datetime


@dataclass(frozen=True)
class Plan:
    """A deadline to store: what is due, when, and its timers."""

    kind: str  # stage | duty | handoff | external
    stage: str
    action: str | None
    due_at: dt.datetime
    steps: list[Step] = field(default_factory=list)
    remaining_note: str | None = None


class Ladder(Protocol):
    """What a clock's timers come from: a stage, or a stage's recurring duty."""

    @property
    def reminders(self) -> Sequence[Reminder]: ...

    @property
    def escalation(self) -> Sequence[EscalationStep]: ...


def ladder_of(scheme: Scheme, stage: str, action: str | None) -> Ladder:
    """The reminders and escalation of a clock: a recurring duty's own, else its stage's."""
    spec = scheme.stages[stage]
    return spec.recurring.get(action or "") or spec


def steps_for(
    stage: Ladder,
    due_at: dt.datetime,
    after: dt.datetime,
    cal: WorkingCalendar,
    *,
    notify_role: str | None = None,
) -> list[Step]:
    """Reminders before `due_at` (skipping those already past at `after`), the overdue
    notice at `due_at`, and the escalation ladder after it."""
    due_day = cal.local_date(due_at)
    out: list[Step] = []
    for i, reminder in enumerate(stage.reminders):
        at = cal.start_of(cal.add(due_day, reminder.before, sign=-1))
        if at > after:
            out.append(Step(f"reminder{i}", notify_role, at))
    out.append(Step("overdue", notify_role, due_at))
    for i, rung in enumerate(stage.escalation):
        out.append(Step(f"escalation{i}", rung.to, cal.end_of(cal.add(due_day, rung.after))))
    return out


def due_at(
    deadline: Deadline, entered: dt.datetime, cal: WorkingCalendar, dates: dict[str, dt.date]
) -> dt.datetime | None:
    """When a deadline is due for a stage entered at `entered`; None when it counts from
    a project date that is not set."""
    if deadline.before:
        date = dates.get(deadline.before)
        if date is None:
            return None
        return cal.end_of(cal.add(date, deadline, sign=-1))
    return cal.due(entered, deadline)


@dataclass(frozen=True)
class MeetingLadder:
    """A stage's reminders with one more at its meeting's documents cut-off (unless a
    reminder of the stage already falls then), and its escalation."""

    reminders: Sequence[Reminder]
    escalation: Sequence[EscalationStep]


def meeting_plan(
    stage_name: str,
    stage: Ladder,
    body: Meetings,
    prepared: dt.datetime,
    entered: dt.datetime,
    cal: WorkingCalendar,
) -> Plan | None:
    """The clock of a stage decided at `body`'s meeting: due at the end of the first
    listed meeting on or after the day of `prepared` (its preparation deadline), reminded
    at the cut-off too; None when no listed meeting falls that late."""
    day = body.first_on_or_after(cal.local_date(prepared))
    if day is None:
        return None
    reminders = list(stage.reminders)
    if all(r.before != body.cutoff for r in reminders):
        reminders.append(Reminder(before=body.cutoff))
    due = cal.end_of(day)
    ladder = MeetingLadder(reminders, stage.escalation)
    return Plan("stage", stage_name, None, due, steps_for(ladder, due, entered, cal))


def stage_plan(
    scheme: Scheme,
    stage_name: str,
    deadline: Deadline,
    entered: dt.datetime,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
    meetings: Mapping[str, Meetings],
) -> Plan | None:
    """The stage's own clock: its deadline, or the meeting that decides it after that."""
    stage = scheme.stages[stage_name]
    due = due_at(deadline, entered, cal, dates)
    if due is None:
        return None
    body = meetings.get(stage.decided_at) if stage.decided_at else None
    if body is not None and (found := meeting_plan(stage_name, stage, body, due, entered, cal)):
        return found
    return Plan("stage", stage_name, None, due, steps_for(stage, due, entered, cal))


def plan_entry(
    scheme: Scheme,
    stage_name: str,
    entered: dt.datetime,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
    *,
    via: str | None = None,
    meetings: Mapping[str, Meetings] | None = None,
) -> list[Plan]:
    """Deadlines opened by entering `stage_name` (via action `via`): the stage's own (at
    the meeting of `meetings` that decides it, if any), and one per periodic duty (a
    self-loop with a deadline) leaving it. A duty done on request (`opened_by`) waits for
    its opening action instead."""
    stage = scheme.stages[stage_name]
    plans: list[Plan] = []
    deadline = stage.deadline
    if (
        via is not None
        and scheme.actions[via].deadline is not None
        and scheme.actions[via].to != stage_name
    ):
        deadline = scheme.actions[via].deadline
    if deadline is not None:
        own = stage_plan(scheme, stage_name, deadline, entered, cal, dates, meetings or {})
        if own is not None:
            plans.append(own)
    for name, action in scheme.actions.items():
        if (
            action.deadline is not None
            and action.to == stage_name
            and stage_name in action.source
            and action.opened_by in (None, via)
        ):
            plans.extend(plan_duty(scheme, name, entered, cal, dates))
    for name in stage.recurring:
        plans.extend(
            plan_recurring(scheme, stage_name, name, cal.local_date(entered), entered, cal, dates)
        )
    plans.extend(plan_external(scheme, stage_name, entered, cal, dates))
    return plans


def period_end(period: Period, start: dt.date, cal: WorkingCalendar) -> dt.date:
    """The day an outside body's period counted from `start` ends: months and calendar
    days that end on a day off move on to the next working day, as administrative
    deadlines do; working days count the organisation's calendar."""
    if period.months is not None:
        day: dt.date = start + relativedelta(months=period.months)
        return cal.next_working_day(day)
    span = Duration(working_days=period.working_days, calendar_days=period.calendar_days)
    return cal.add(start, span)


def external_plan(stage_name: str, due: dt.datetime) -> Plan:
    """An external clock due at `due`: one follow-up reminder then, no escalation."""
    return Plan("external", stage_name, None, due, [Step(FOLLOW_UP, None, due)])


def plan_external(
    scheme: Scheme,
    stage_name: str,
    entered: dt.datetime,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
) -> list[Plan]:
    """The clock of the outside body a stage waits on (`waits_on`), counted from the day
    the stage is entered (`entry`) or from a project date; none when that date is not
    set or the stage waits on nobody."""
    clock = scheme.stages[stage_name].waits_on
    if clock is None:
        return []
    start = cal.local_date(entered) if clock.starts == ENTRY else dates.get(clock.starts)
    if start is None:
        return []
    return [external_plan(stage_name, cal.end_of(period_end(clock.period, start, cal)))]


def plan_recurring(
    scheme: Scheme,
    stage_name: str,
    duty: str,
    after: dt.date,
    now: dt.datetime,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
) -> list[Plan]:
    """The occurrence of a recurring duty that falls due first after the day `after`
    (none past the duty's end); reminders already past at `now` are left out."""
    spec = scheme.stages[stage_name].recurring[duty]
    day = recurring.next_due(spec, after, cal, dates)
    if day is None:
        return []
    due = cal.end_of(day)
    return [Plan("duty", stage_name, duty, due, steps_for(spec, due, now, cal))]


def plan_opened(
    scheme: Scheme, opener: str, at: dt.datetime, cal: WorkingCalendar, dates: dict[str, dt.date]
) -> list[Plan]:
    """The duties done on request whose clock the action `opener` starts (a request for
    clarification recorded …)."""
    plans: list[Plan] = []
    for name, action in scheme.actions.items():
        if action.opened_by == opener and action.deadline is not None:
            plans.extend(plan_duty(scheme, name, at, cal, dates))
    return plans


def plan_duty(
    scheme: Scheme, action: str, done: dt.datetime, cal: WorkingCalendar, dates: dict[str, dt.date]
) -> list[Plan]:
    """The next occurrence of a periodic duty, due its span after `done`."""
    spec = scheme.actions[action]
    assert spec.deadline is not None
    due = due_at(spec.deadline, done, cal, dates)
    if due is None:
        return []
    stage = scheme.stages[spec.to]
    return [Plan("duty", spec.to, action, due, steps_for(stage, due, done, cal))]


def plan_handoff(scheme: Scheme, stage_name: str, sent: dt.datetime, cal: WorkingCalendar) -> Plan:
    """The acknowledgement deadline of a handoff into `stage_name`: the receivers are
    reminded when it is due, then the stage's escalation ladder applies."""
    stage = scheme.stages[stage_name]
    due = cal.due(sent, scheme.handoff_deadline or DEFAULT_HANDOFF)
    return Plan(
        "handoff", stage_name, None, due, steps_for(stage, due, sent, cal, notify_role=stage.owner)
    )


def replan(
    plan_kind: str,
    stage: Ladder,
    stage_name: str,
    action: str | None,
    remaining_working_days: int,
    resumed: dt.datetime,
    cal: WorkingCalendar,
) -> Plan:
    """A paused deadline restarted with the working days it had left."""
    due = cal.end_of(cal.add_working_days(cal.local_date(resumed), remaining_working_days))
    if plan_kind == "external":
        return external_plan(stage_name, due)
    notify = getattr(stage, "owner", None) if plan_kind == "handoff" else None
    return Plan(
        plan_kind, stage_name, action, due, steps_for(stage, due, resumed, cal, notify_role=notify)
    )
