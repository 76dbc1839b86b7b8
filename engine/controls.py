"""Which of a project's forms a person may use now, as the engine itself decides.

Each verb's `decide` (engine/lifecycle.py) is tried against the project as the person
sees it, inside a read transaction; nothing is written (a `Change` is only a value
until `Work` applies it). A front end draws a control when its trial passed and shows
the refusal's reason otherwise, so a control never refuses when used for a reason it
could have known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from engine import lifecycle
from engine.work import Context
from storage import projects as stored
from workflow.errors import ShemaError

TRIED = ("check", "hold", "resume", "assign", "ack")


@dataclass(frozen=True)
class Controls:
    """The verbs `actor` may use on the project now, why the others are refused, and
    who may be made responsible for its stage."""

    allowed: frozenset[str]
    refused: dict[str, ShemaError] = field(default_factory=dict)
    eligible: list[str] = field(default_factory=list)  # people who work on the stage

    def __contains__(self, verb: object) -> bool:
        return verb in self.allowed


def eligible(ctx: Context) -> list[str]:
    """The people who work on the current stage for the project's unit (its owner's or a
    participant's role), whom the stage may be assigned to."""
    stage = ctx.scheme.scheme.stages[ctx.stage]
    workers = {stage.owner, *stage.participants} - {None}
    unit, levels, version = ctx.row.unit_id, ctx.scheme.levels, ctx.scheme.version_id
    return sorted(
        pid
        for pid in ctx.org.org.people
        if ctx.org.acting_roles(pid, unit, levels, version) & workers
    )


def controls(conn: Connection, ctx: Context, now: dt.datetime) -> Controls:
    """Try every verb of TRIED against `ctx` (see the module's doc)."""
    people = eligible(ctx)
    ticked = stored.checked(conn, ctx.row.id)
    items = list(ctx.scheme.scheme.stages[ctx.stage].checklist)
    trials: dict[str, lifecycle.Decide] = {
        "hold": lifecycle.hold("?", now),
        "resume": lifecycle.resume(now),
        "ack": lifecycle.acknowledge(now),
        "assign": lifecycle.assign(people[0] if people else ctx.actor),
    }
    if items:
        unticked = [i for i in items if i not in ticked]
        item, tick = (unticked[0], True) if unticked else (items[0], False)
        trials["check"] = lifecycle.check(item, now, tick)
    allowed, refused = set(), {}
    for verb, decide in trials.items():
        try:
            decide(conn, ctx)
        except ShemaError as exc:
            refused[verb] = exc
        else:
            allowed.add(verb)
    return Controls(frozenset(allowed), refused, people)
