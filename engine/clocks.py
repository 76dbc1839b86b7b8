"""External clocks: a stage waiting on an outside body (CFLA, LAD, the Treasury) that
has its own period to answer in (`waits_on` in the scheme).

The clock is a deadline row of kind `external` (engine/deadlines.py `plan_external`);
when it lapses the stage's people are reminded once to follow up (engine/notify/sweep.py)
and nothing escalates. The body may extend its period once: `extend` records that as
the project event `external_extended`, with its reason, and moves the clock's due date
by the scheme's extension, counted from the day the period ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection

from engine import timekeeping
from engine.deadlines import external_plan, period_end
from engine.service import Engine
from engine.work import Change, Context, Outcome
from storage import deadlines as stored_deadlines
from storage import projects as stored_projects
from workflow.errors import NotAllowed, UsageError
from workflow.labels import LANGUAGES, text
from workflow.scheme import ExternalClock

EXTENDED = "external_extended"


def extend(
    engine: Engine,
    code: str,
    reason: str,
    *,
    actor: str | None,
    now: dt.datetime,
    expect_version: int | None = None,
) -> Outcome:
    """Record that the outside body extended its period on project `code` (why, in
    `reason`): the external clock's due date moves by the stage's extension, once."""
    return engine.work.change(code, actor, now, expect_version, decide_extend(reason, now))


def decide_extend(reason: str, now: dt.datetime) -> Callable[[Connection, Context], Change]:
    """The `decide` of an extension (see `extend`)."""

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("record an extension of the outside body's period")
        if not reason.strip():
            raise UsageError(
                f"say why {ctx.code}'s outside body extended its period",
                code="clocks.reason_required",
                project=ctx.code,
            )
        clock = _clock(ctx)
        running = [
            d
            for d in stored_deadlines.open_deadlines_by_id(conn, ctx.row.id)
            if d.kind == "external" and d.stage == ctx.stage
        ]
        if not running:
            raise _refused(ctx, "no outside body's clock runs", "clocks.not_running")
        if _extended_already(conn, ctx):
            raise _refused(ctx, "its period was extended already", "clocks.already_extended")
        assert clock.extension is not None  # _clock refuses a clock without one
        old = running[0]
        due = ctx.cal.end_of(period_end(clock.extension, ctx.cal.local_date(old.due_at), ctx.cal))
        pid, stage = ctx.row.id, ctx.stage

        def then(c: Connection) -> None:
            stored_deadlines.close_with_timers(c, [old.id], now)
            timekeeping.open_plans(c, pid, [external_plan(stage, due)], now)

        return Change(
            EXTENDED,
            {},
            from_stage=stage,
            to_stage=stage,
            comment=reason,
            data={
                "stage": stage,
                "body": {lang: text(clock.body, lang) for lang in LANGUAGES},
                "from": old.due_at.isoformat(),
                "to": due.isoformat(),
            },
            then=then,
        )

    return decide


def _clock(ctx: Context) -> ExternalClock:
    """The stage's external clock, if it has one that may be extended."""
    clock = ctx.scheme.scheme.stages[ctx.stage].waits_on
    if clock is None:
        raise _refused(ctx, f"stage {ctx.stage} waits on no outside body", "clocks.not_running")
    if clock.extension is None:
        raise _refused(ctx, "the outside body's period has no extension", "clocks.no_extension")
    return clock


def _extended_already(conn: Connection, ctx: Context) -> bool:
    """Whether the period of this stay in the stage was extended already."""
    entered = ctx.row.stage_entered_at
    return any(
        e.kind == EXTENDED and e.to_stage == ctx.stage and e.at >= entered
        for e in stored_projects.events(conn, ctx.row.id)
    )


def _refused(ctx: Context, why: str, code: str) -> NotAllowed:
    return NotAllowed(
        f"{ctx.actor} may not extend the outside body's period on {ctx.code}: {why}",
        code=code,
        actor=ctx.actor,
        project=ctx.code,
        stage=ctx.stage,
    )
