"""The escalation sweep: fire due reminders, overdue notices and escalation steps.

Due timers are claimed set-based, a batch per transaction (PostgreSQL: ``FOR UPDATE …
SKIP LOCKED`` on the timer and its project, so several sweepers share the work and never
wait for each other or for an advance; SQLite: the batch runs under ``BEGIN IMMEDIATE``).
Each timer is marked fired in the same transaction that writes its outbox rows, and the
rows' keys are unique per (deadline, step, recipient): however many sweeps, restarts or
days of downtime, each message is created once. Downtime needs no special case: the
next sweep finds everything that fell due meanwhile.

Catching up sends what a person would want after downtime, not everything that fell
due: a reminder whose deadline has passed is not sent (the overdue notice covers it),
nor one overtaken by a later reminder of the same deadline; of the escalation steps of
one deadline due at once only the highest is sent, and its history event lists the
steps it caught up. Skipped timers are marked fired, so nothing is sent later either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from engine import timekeeping
from engine.failpoints import failpoint
from engine.notices import enqueue, message_rows, project_context
from engine.service import Change, Engine
from storage.projects import load_by_id
from storage.tables import deadlines, projects, timers
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


def _claim(conn: Connection, now: dt.datetime, batch: int) -> list[Any]:
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
    return list(conn.execute(stmt))


def sweep(engine: Engine, now: dt.datetime, *, batch: int = BATCH) -> SweepReport:
    """Fire every timer due at `now`; returns counts. Safe to run in several processes."""
    domains.moment("time of the sweep", now)
    report = SweepReport()
    caught_up: dict[int, list[str]] = {}  # deadline → escalation steps skipped so far
    with engine.db.write() as conn:
        timekeeping.prune(conn, now)
    while True:
        with engine.db.write() as conn:
            claimed = _claim(conn, now, batch)
            if not claimed:
                break
            report.batches += 1
            for timer in claimed:
                if _superseded(conn, timer, now):
                    conn.execute(
                        update(timers).where(timers.c.id == timer.timer_id).values(fired_at=now)
                    )
                    report.skipped += 1
                    if timer.step.startswith("escalation"):
                        caught_up.setdefault(timer.deadline_id, []).append(timer.step)
                    continue
                _fire(engine, conn, timer, now, report, caught_up.pop(timer.deadline_id, []))
            failpoint("sweep.before_commit")
        if len(claimed) < batch:
            break
    return report


def _superseded(conn: Connection, timer: Any, now: dt.datetime) -> bool:
    """Whether sending `timer` now would be stale: a reminder for a deadline already
    passed, or a step overtaken by a later step of its kind (reminder, escalation) of
    the same deadline that is due too."""
    step: str = timer.step
    if step == "overdue":
        return False
    if step.startswith("reminder") and timer.due_at <= now:
        return True
    kind = "reminder" if step.startswith("reminder") else "escalation"
    later = conn.execute(
        select(timers.c.id)
        .where(
            timers.c.deadline_id == timer.deadline_id,
            timers.c.fired_at.is_(None),
            timers.c.fire_at <= now,
            timers.c.step.startswith(kind),
            timers.c.id != timer.timer_id,
            or_(
                timers.c.fire_at > timer.fire_at,
                and_(timers.c.fire_at == timer.fire_at, timers.c.id > timer.timer_id),
            ),
        )
        .limit(1)
    ).first()
    return later is not None


def _fire(
    engine: Engine,
    conn: Connection,
    timer: Any,
    now: dt.datetime,
    report: SweepReport,
    caught_up: list[str],
) -> None:
    row = load_by_id(conn, timer.project_id)
    assert row is not None  # timers belong to projects, which are never deleted
    cs = engine.compiled(conn, row.scheme_version_id)
    org = engine.org_index(conn, row.org_version)
    cal = engine.calendar(org)
    scheme = cs.scheme
    stage = scheme.stages[timer.deadline_stage]
    step: str = timer.step
    escalation = step.startswith("escalation")
    if escalation:
        role = timer.role
        people, why = org.recipients(role, row.unit_id, cs.levels)
        kind = "escalation"
    elif timer.role is not None:  # a handoff's receivers
        role = timer.role
        people, why = org.recipients(role, row.unit_id, cs.levels)
        kind = "overdue" if step == "overdue" else "reminder"
    else:
        role = stage.owner or "coordinator"
        if row.responsible_id and row.responsible_id in org.org.people:
            people, why = [row.responsible_id], "the responsible person"
        else:
            people, why = org.recipients(role, row.unit_id, cs.levels)
        kind = "overdue" if step == "overdue" else "reminder"
    level = int(step.removeprefix("escalation")) + 1 if escalation else 0

    def context(lang: str) -> dict[str, Any]:
        base = project_context(
            scheme,
            org,
            row,
            lang,
            stage=timer.deadline_stage,
            due_at=timer.due_at,
            now=now,
            cal=cal,
            duty=timer.deadline_action if timer.deadline_kind == "duty" else None,
            web_url=engine.web_url,
        )
        return {
            **base,
            "kind": timer.deadline_kind,
            "level": level,
            "role": scheme.role_title(role, lang),
        }

    rows = message_rows(
        org,
        people,
        kind=kind,
        key=f"deadline:{timer.deadline_id}:{step}",
        project_id=row.id,
        now=now,
        deadline_id=timer.deadline_id,
        context_for=context,
    )
    report.messages += enqueue(conn, rows)
    conn.execute(update(timers).where(timers.c.id == timer.timer_id).values(fired_at=now))
    report.fired += 1
    if escalation:
        # The escalation and the choice of recipients belong to the project's history.
        change = Change(
            "escalated",
            {},
            from_stage=row.stage,
            to_stage=row.stage,
            data={
                "deadline": timer.deadline_kind,
                "stage": timer.deadline_stage,
                "action": timer.deadline_action,
                "step": step,
                "role": role,
                "recipients": people,
                "why": why,
                "due_at": timer.due_at.isoformat(),
                **({"caught_up": caught_up} if caught_up else {}),
            },
        )
        engine.append(conn, row, change, now, None)
        report.escalations += 1
