"""The rules of a project's life, one `decide` function per verb.

Each builder returns what `Work.change` calls inside the transaction: it checks the
rules against the locked project (a `Context`) and returns the `Change` to write, or
raises a refusal with a code and its parameters, and then nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from engine import timekeeping
from engine.gates import missing_gates
from engine.moves import enter
from engine.notify import recipients
from engine.work import Change, Context
from storage import projects as stored
from workflow.errors import NotAllowed, NotFound
from workflow.scheme import COORDINATOR

Decide = Callable[[Connection, Context], Change]


def _refused(ctx: Context, action: str, message: str, code: str, **params: Any) -> NotAllowed:
    return NotAllowed(
        f"{ctx.actor} may not take {action!r} on {ctx.code}: {message}",
        code=code,
        actor=ctx.actor,
        project=ctx.code,
        action=action,
        **params,
    )


def _check_action(ctx: Context, action: str) -> str:
    """The stage `action` leads to from here, if the actor may take it at all."""
    target = ctx.scheme.target(ctx.stage, action)
    scheme = ctx.scheme.scheme
    if target is None:
        known = ctx.scheme.actions_from[ctx.stage]
        if action not in scheme.actions:
            what, code = "is not an action of this scheme", "advance.unknown_action"
        else:
            what, code = f"does not leave stage {ctx.stage}", "advance.not_from_stage"
        raise _refused(
            ctx,
            action,
            f"it {what} (actions here: {', '.join(known) or 'none'})",
            code,
            stage=ctx.stage,
            known=known,
        )
    spec = scheme.actions[action]
    if not ctx.roles.intersection(spec.by):
        raise _refused(
            ctx,
            action,
            f"it needs {' or '.join(spec.by)} for unit {ctx.row.unit_id}; {ctx.actor} acts "
            f"there as {', '.join(sorted(ctx.roles))}",
            "advance.needs_role",
            needs=list(spec.by),
            unit=ctx.row.unit_id,
            roles=sorted(ctx.roles),
        )
    ctx.refuse_during_handoff(f"take {action!r}")
    if ctx.row.hold_since is not None:
        # On hold only resuming and comments are possible; resuming is its own event.
        raise _refused(
            ctx,
            action,
            f"it is on hold since {ctx.row.hold_since:%Y-%m-%d} ({ctx.row.hold_reason}); "
            "resume it first",
            "advance.on_hold",
            since=ctx.row.hold_since.date(),
            reason=ctx.row.hold_reason,
        )
    return target


def _check_ready(conn: Connection, ctx: Context, action: str, comment: str | None) -> None:
    """Required checklist items, gates and comment of `action`."""
    spec = ctx.scheme.scheme.actions[action]
    if spec.requires:
        done = stored.checked(conn, ctx.row.id)
        missing = [i for i in spec.requires if i not in done]
        if missing:
            raise _refused(
                ctx,
                action,
                f"checklist items not ticked: {', '.join(missing)}",
                "advance.unticked",
                items=missing,
            )
    if spec.gates:
        unmet = missing_gates(conn, ctx.row.id, spec.gates)
        if unmet:
            raise _refused(ctx, action, "; ".join(unmet), "advance.gates", gates=unmet)
    if spec.comment == "required" and not (comment and comment.strip()):
        raise NotAllowed(
            f"{ctx.actor} may not take {action!r} on {ctx.code} without a comment",
            code="advance.comment_required",
            actor=ctx.actor,
            project=ctx.code,
            action=action,
        )


def advance(action: str, now: dt.datetime, comment: str | None, refs: Sequence[str]) -> Decide:
    """Move the project by `action`."""

    def decide(conn: Connection, ctx: Context) -> Change:
        target = _check_action(ctx, action)
        _check_ready(conn, ctx, action, comment)
        return enter(ctx, now, "advanced", target, action=action, comment=comment, refs=refs)

    return decide


def acknowledge(now: dt.datetime) -> Decide:
    """The receiving side takes over a handed-off project."""

    def decide(conn: Connection, ctx: Context) -> Change:
        since = ctx.row.handoff_since
        if since is None:
            raise NotAllowed(
                f"{ctx.actor} may not acknowledge {ctx.code}: no handoff is waiting",
                code="ack.nothing_waiting",
                actor=ctx.actor,
                project=ctx.code,
            )
        owner = ctx.scheme.scheme.stages[ctx.stage].owner
        receivers = recipients.handoff(ctx.org, owner, ctx.row.unit_id, ctx.scheme.levels).people
        if owner not in ctx.roles and ctx.actor not in receivers:
            raise NotAllowed(
                f"{ctx.actor} may not acknowledge {ctx.code}: the handoff goes to {owner} "
                f"for unit {ctx.row.unit_id}",
                code="ack.not_receiver",
                actor=ctx.actor,
                project=ctx.code,
                owner=owner,
                unit=ctx.row.unit_id,
            )
        values: dict[str, Any] = {"handoff_since": None}
        if ctx.row.responsible_id is None:
            values["responsible_id"] = ctx.actor
        pid = ctx.row.id

        def then(c: Connection) -> None:
            timekeeping.close(c, pid, now, kinds=("handoff",))
            stored.acknowledge_handoffs(c, pid, now, ctx.actor)

        return Change(
            "acknowledged",
            values,
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"waited_seconds": int((now - since).total_seconds())},
            audit={"responsible": values.get("responsible_id", ctx.row.responsible_id)},
            then=then,
        )

    return decide


def check(item: str, now: dt.datetime, checked: bool) -> Decide:
    """Tick (or untick) a checklist item of the current stage."""

    def decide(conn: Connection, ctx: Context) -> Change:
        stage = ctx.scheme.scheme.stages[ctx.stage]
        verb = "tick" if checked else "untick"
        if item not in stage.checklist:
            raise NotFound(
                f"{ctx.actor} may not {verb} {item!r} on {ctx.code}: stage {ctx.stage} has "
                f"no such checklist item (items: {', '.join(stage.checklist) or 'none'})",
                code="check.unknown_item",
                actor=ctx.actor,
                project=ctx.code,
                item=item,
                stage=ctx.stage,
                items=list(stage.checklist),
            )
        ctx.require_stage_role(f"{verb} {item!r}")
        ctx.refuse_during_handoff(f"{verb} {item!r}")
        ctx.refuse_during_hold(f"{verb} {item!r}")
        if (item in stored.checked(conn, ctx.row.id)) == checked:
            raise NotAllowed(
                f"{ctx.actor} may not {verb} {item!r} on {ctx.code}: it is already "
                f"{'ticked' if checked else 'not ticked'}",
                code="check.already_ticked" if checked else "check.not_ticked",
                actor=ctx.actor,
                project=ctx.code,
                item=item,
            )
        pid = ctx.row.id

        def then(c: Connection) -> None:
            if checked:
                stored.tick(c, pid, item, now, ctx.actor)
            else:
                stored.untick(c, pid, item)

        kind = "checked" if checked else "unchecked"
        return Change(
            kind, {}, from_stage=ctx.stage, to_stage=ctx.stage, data={"item": item}, then=then
        )

    return decide


def assign(person: str) -> Decide:
    """Make `person` responsible; they must work on the current stage for the unit."""

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("assign a responsible person")
        ctx.refuse_during_handoff("assign a responsible person")
        ctx.refuse_during_hold("assign a responsible person")
        if person not in ctx.org.org.people:
            raise NotFound(
                f"no person {person!r} in the organisation",
                code="person.unknown",
                actor=ctx.actor,
                person=person,
            )
        stage = ctx.scheme.scheme.stages[ctx.stage]
        theirs = ctx.org.acting_roles(
            person, ctx.row.unit_id, ctx.scheme.levels, ctx.scheme.version_id
        )
        if not theirs & {stage.owner, *stage.participants}:
            raise NotAllowed(
                f"{ctx.actor} may not assign {person} to {ctx.code}: {person} does not work "
                f"on stage {ctx.stage} for unit {ctx.row.unit_id}",
                code="assign.not_stage_worker",
                actor=ctx.actor,
                project=ctx.code,
                person=person,
                stage=ctx.stage,
                unit=ctx.row.unit_id,
            )
        return Change(
            "assigned",
            {"responsible_id": person},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"person": person, "previous": ctx.row.responsible_id},
        )

    return decide


def comment(body: str, refs: Sequence[str]) -> Decide:
    """A comment, with document references; anyone who sees the project may."""

    def decide(conn: Connection, ctx: Context) -> Change:
        return Change(
            "commented", {}, from_stage=ctx.stage, to_stage=ctx.stage, comment=body, refs=refs
        )

    return decide


def hold(reason: str, now: dt.datetime) -> Decide:
    """Pause the project (waiting for an external body): its clocks stop."""

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("put on hold")
        ctx.refuse_during_handoff("put on hold")
        if ctx.row.hold_since is not None:
            raise NotAllowed(
                f"{ctx.actor} may not put {ctx.code} on hold: it is already on hold since "
                f"{ctx.row.hold_since:%Y-%m-%d}",
                code="hold.already",
                actor=ctx.actor,
                project=ctx.code,
                since=ctx.row.hold_since.date(),
            )
        pid, cal = ctx.row.id, ctx.cal
        return Change(
            "held",
            {"hold_since": now, "hold_reason": reason},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            comment=reason,
            then=lambda c: timekeeping.pause(c, pid, now, cal),
        )

    return decide


def resume(now: dt.datetime) -> Decide:
    """End a hold: the clocks run on with the time held added."""

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("resume")
        ctx.refuse_during_handoff("resume")
        since = ctx.row.hold_since
        if since is None:
            raise NotAllowed(
                f"{ctx.actor} may not resume {ctx.code}: it is not on hold",
                code="resume.not_held",
                actor=ctx.actor,
                project=ctx.code,
            )
        pid, cal, scheme = ctx.row.id, ctx.cal, ctx.scheme.scheme
        return Change(
            "resumed",
            {"hold_since": None, "hold_reason": None},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"held_seconds": int((now - since).total_seconds())},
            then=lambda c: timekeeping.resume(c, pid, scheme, now, cal),
        )

    return decide


def _check_force(ctx: Context, stage: str) -> None:
    params = {"actor": ctx.actor, "project": ctx.code, "stage": stage}
    if COORDINATOR not in ctx.roles:
        raise NotAllowed(
            f"{ctx.actor} may not force {ctx.code}: only coordinators may",
            code="force.coordinators_only",
            **params,
        )
    if stage not in ctx.scheme.scheme.stages:
        raise NotFound(
            f"{ctx.actor} may not force {ctx.code} to {stage!r}: scheme "
            f"{ctx.scheme.name} v{ctx.scheme.version} has no such stage",
            code="force.unknown_stage",
            scheme=ctx.scheme.name,
            version=ctx.scheme.version,
            **params,
        )
    if stage == ctx.stage:
        raise NotAllowed(
            f"{ctx.actor} may not force {ctx.code} to {stage}: it is already there",
            code="force.already_there",
            **params,
        )


def force(stage: str, reason: str, now: dt.datetime) -> Decide:
    """A coordinator moves the project to any stage, with a recorded reason; a waiting
    handoff is closed and a hold lifted."""

    def decide(conn: Connection, ctx: Context) -> Change:
        _check_force(ctx, stage)
        waiting = ctx.row.handoff_since is not None
        change = enter(
            ctx,
            now,
            "forced",
            stage,
            action=None,
            comment=reason,
            refs=(),
            data={"pending_handoff_closed": waiting, "hold_lifted": ctx.row.hold_since is not None},
        )
        if waiting:
            change.values.setdefault("handoff_since", None)
            first, pid = change.then, ctx.row.id

            def then(c: Connection) -> None:
                stored.acknowledge_handoffs(c, pid, now, ctx.actor)
                if first is not None:
                    first(c)

            change.then = then
        return change

    return decide
