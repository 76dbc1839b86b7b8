"""The escalation sweep: fire due reminders, overdue notices and escalation steps.

Due timers are claimed set-based, a batch per transaction (PostgreSQL: ``FOR UPDATE …
SKIP LOCKED`` on the timer and its project, so several sweepers share the work and never
wait for each other or for an advance; SQLite: the batch runs under ``BEGIN IMMEDIATE``).
Each timer is marked fired in the same transaction that writes its outbox rows, and the
rows' keys are unique per (deadline, step, recipient): however many sweeps, restarts or
days of downtime, each message is created once. Downtime needs no special case: the
next sweep finds everything that fell due meanwhile. A batch's outbox rows are written
in one batched INSERT and its timers marked fired in one UPDATE, both at the end of its
transaction (a sweep that dies before the commit leaves neither).

Catching up sends what a person would want after downtime, not everything that fell
due: a reminder whose deadline has passed is not sent (the overdue notice covers it),
nor one overtaken by a later reminder of the same deadline; of the escalation steps of
one deadline due at once only the highest is sent, and its history event lists the
steps it caught up. Skipped timers are marked fired, so nothing is sent later either.

An outside body's clock (kind `external`) has one step, `followup`: the stage's people
are reminded once to follow up, and nothing escalates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from engine import absence, timekeeping
from engine.deadlines import FOLLOW_UP
from engine.failpoints import failpoint
from engine.machines import CompiledScheme
from engine.notify import recipients
from engine.notify.context import About, deadline_context
from engine.notify.notices import enqueue, follow_up_context, message_rows
from engine.notify.recipients import Recipients
from engine.permissions import OrgIndex
from engine.service import Change, Engine
from storage import deadlines as stored
from storage.deadlines import DueTimer
from storage.projects import ProjectRecord, load_by_id
from workflow import domains

BATCH = 500


@dataclass
class SweepReport:
    """What one sweep did."""

    fired: int = 0
    messages: int = 0
    escalations: int = 0
    skipped: int = 0  # timers caught up without a message (see the module's docstring)
    batches: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(vars(self))


def sweep(engine: Engine, now: dt.datetime, *, batch: int = BATCH) -> SweepReport:
    """Fire every timer due at `now`; returns counts. Safe to run in several processes."""
    domains.moment("time of the sweep", now)
    report = SweepReport()
    caught_up: dict[int, list[str]] = {}  # deadline → escalation steps skipped so far
    with engine.db.write() as conn:
        timekeeping.prune(conn, now)
    while True:
        with engine.db.write() as conn:
            claimed = stored.claim_due_timers(conn, now, batch)
            if not claimed:
                break
            report.batches += 1
            queued: list[dict[str, Any]] = []
            orgs: dict[int, OrgIndex] = {}  # per organisation version, during today's absences
            for timer in claimed:
                if superseded(conn, timer, now):
                    report.skipped += 1
                    if timer.step.startswith("escalation"):
                        caught_up.setdefault(timer.deadline_id, []).append(timer.step)
                    continue
                queued += fire(
                    engine, conn, timer, now, report, caught_up.pop(timer.deadline_id, []), orgs
                )
            report.messages += enqueue(conn, queued)
            stored.mark_fired(conn, [t.timer_id for t in claimed], now)
            failpoint("sweep.before_commit")
        if len(claimed) < batch:
            break
    return report


def superseded(conn: Connection, timer: DueTimer, now: dt.datetime) -> bool:
    """Whether sending `timer` now would be stale: a reminder for a deadline already
    passed, or a step overtaken by a later step of its kind (reminder, escalation) of
    the same deadline that is due too."""
    step = timer.step
    if step in ("overdue", FOLLOW_UP):
        return False
    if step.startswith("reminder") and timer.due_at <= now:
        return True
    kind = "reminder" if step.startswith("reminder") else "escalation"
    return stored.later_step_due(conn, timer, now, kind)


def notice_kind(step: str) -> str:
    """The message a timer's step sends: escalation, overdue, reminder, or an external
    clock's follow-up."""
    if step == FOLLOW_UP:
        return FOLLOW_UP
    if step.startswith("escalation"):
        return "escalation"
    return "overdue" if step == "overdue" else "reminder"


def addressed(org: OrgIndex, cs: CompiledScheme, row: ProjectRecord, timer: DueTimer) -> Recipients:
    """Who the timer's message goes to (engine/notify/recipients.py)."""
    if timer.step.startswith("escalation"):
        assert timer.role is not None  # escalation steps always name their role
        return recipients.escalation(org, timer.role, row.unit_id, cs.levels)
    return recipients.reminder(
        org,
        owner=cs.scheme.stages[timer.deadline_stage].owner,
        handoff_role=timer.role,
        responsible=row.responsible_id,
        unit=row.unit_id,
        levels=cs.levels,
    )


def fire(
    engine: Engine,
    conn: Connection,
    timer: DueTimer,
    now: dt.datetime,
    report: SweepReport,
    caught_up: list[str],
    orgs: dict[int, OrgIndex] | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows of the timer's messages, for the caller to write with the rest of
    its batch (and to mark the timer fired); for an escalation step, the escalation is
    appended to the project's history here. Recipients are resolved during the absences
    of `now`'s day (`orgs` keeps them per organisation version for the batch)."""
    row = load_by_id(conn, timer.project_id)
    assert row is not None  # timers belong to projects, which are never deleted
    cs = engine.compiled(conn, row.scheme_version_id)
    orgs = {} if orgs is None else orgs
    base = engine.org_index(conn, row.org_version)
    org = orgs.get(base.version_id)
    if org is None:
        org = orgs[base.version_id] = base.during(absence.today(conn, base, now))
    to = addressed(org, cs, row, timer)
    kind = notice_kind(timer.step)
    cal = engine.calendar(org, cs.scheme.calendar.timezone)
    if kind == "overdue" and timer.deadline_kind == "duty" and timer.deadline_action:
        # A recurring duty's schedule goes on past a missed occurrence.
        timekeeping.lapsed(
            conn,
            row.id,
            cs.scheme,
            timer.deadline_stage,
            timer.deadline_action,
            timer.due_at,
            now,
            cal,
            row.date_values,
        )
    about = About(
        cs.scheme,
        org,
        row,
        timer.deadline_stage,
        timer.due_at,
        now,
        cal,
        duty=timer.deadline_action if timer.deadline_kind == "duty" else None,
        web_url=engine.web_url,
    )
    level = int(timer.step.removeprefix("escalation")) + 1 if kind == "escalation" else 0
    context_for = deadline_context(about, kind=timer.deadline_kind, level=level, role=to.role)
    waits_on = cs.scheme.stages[timer.deadline_stage].waits_on
    if kind == FOLLOW_UP and waits_on is not None:
        context_for = follow_up_context(context_for, waits_on.body)
    rows = message_rows(
        org,
        to.people,
        kind=kind,
        key=f"deadline:{timer.deadline_id}:{timer.step}",
        project_id=row.id,
        now=now,
        deadline_id=timer.deadline_id,
        context_for=context_for,
        instead=to.instead,
    )
    report.fired += 1
    if kind == "escalation":
        engine.work.append(conn, row, escalated(row, timer, to, caught_up), now, None)
        report.escalations += 1
    return rows


def escalated(row: ProjectRecord, timer: DueTimer, to: Recipients, caught_up: list[str]) -> Change:
    """The history event of an escalation step: the step and the choice of recipients
    belong to the project's history."""
    return Change(
        "escalated",
        {},
        from_stage=row.stage,
        to_stage=row.stage,
        data={
            "deadline": timer.deadline_kind,
            "stage": timer.deadline_stage,
            "action": timer.deadline_action,
            "step": timer.step,
            "role": to.role,
            "recipients": to.people,
            "why": to.why,
            "due_at": timer.due_at.isoformat(),
            **({"caught_up": caught_up} if caught_up else {}),
            **({"deputies": {d: a for d, (a, _) in to.instead.items()}} if to.instead else {}),
        },
    )
